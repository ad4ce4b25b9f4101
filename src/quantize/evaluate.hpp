// Classification accuracy of a model over a labelled dataset (petrel eval): top-1, top-k, and
// top-1 agreement with a reference model run on the same samples.
#pragma once

#include <functional>
#include <vector>

#include "core/graph.hpp"
#include "quantize/dataset.hpp"
#include "quantize/runner.hpp"

namespace petrel::quant {

struct EvalOptions {
  int top = 5;
  RunnerOptions runner;
  std::function<void(const char*, int64_t, int64_t)> progress;
};

struct EvalResult {
  int64_t samples = 0, classes = 0;
  int k = 5;
  int64_t top1 = 0, topk = 0;                  // correct counts
  bool has_reference = false;
  int64_t ref_top1 = 0, ref_topk = 0, agree = 0;  // reference accuracy, top-1 agreement
  double seconds = 0;
};

// Rank of class `label` in `scores` (0 = best): how many scores are larger, plus equal scores
// at lower indices (so rank 0 is exactly "argmax, first index on ties").
int64_t rank_of(const float* scores, int64_t n, int64_t label);
int64_t argmax(const float* scores, int64_t n);

// labels[i] is the class of sample i. The first output of each model is the score vector
// (shape [1, C] or [C]; logits or probabilities).
Result<EvalResult> evaluate(const Graph& model, const Graph* reference, Dataset& data, const std::vector<int64_t>& labels,
                            const EvalOptions& o);

}  // namespace petrel::quant
