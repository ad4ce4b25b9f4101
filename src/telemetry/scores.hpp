// Per-sample summaries of a classifier's score vector and of an input: top-1 confidence, the
// energy score and a sample's mean. Pure functions, no allocation; used by the profile builder,
// the drift monitor and the OOD detector alike so all three agree on every number.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/dtype.hpp"

namespace petrel::telemetry {

// How a score vector is read. Logits: confidence = max softmax(x), energy = -logsumexp(x).
// Probabilities (the model ends in a softmax): confidence = max p; energy is not defined
// (logsumexp(log p) is 0 for every sample), so OOD uses the confidence threshold instead.
enum class ScoreKind { kLogits, kProbabilities };
const char* score_kind_name(ScoreKind k);  // "logits", "probabilities"

// True when every value is in [0, 1] and they sum to 1 within 1e-3.
bool looks_like_probabilities(const float* x, int64_t n);

struct RowScores {
  int64_t top = -1;          // argmax (first index on ties); -1 for an empty row
  double confidence = 0;     // top-1 probability
  double energy = 0;         // -logsumexp(x) for logits; 0 for probabilities
};
// Non-finite logits give a NaN confidence/energy (callers skip such rows).
RowScores score_row(ScoreKind kind, const float* x, int64_t n);

// Numeric element i of raw tensor data as double (float32/64, float16, bfloat16, (u)int8/16/32/64,
// bool); NaN for other types.
double element_at(DataType dtype, const void* data, int64_t i);
bool is_numeric(DataType dtype);

// Mean of elements [begin, end) of raw tensor data.
double mean_of(DataType dtype, const void* data, int64_t begin, int64_t end);

}  // namespace petrel::telemetry
