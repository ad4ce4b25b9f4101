// Calibration profile: how a model's outputs and inputs are distributed on data it is known to
// handle, the reference for drift (PSI) and OOD flags in the field. `petrel profile` makes one;
// `petrel pack --calibration` ships it in a bundle's manifest (calibration_json). The JSON
// format is documented in docs/serving-telemetry.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"
#include "core/tensor.hpp"
#include "telemetry/histogram.hpp"
#include "telemetry/scores.hpp"

namespace petrel::telemetry {

inline constexpr const char* kProfileFormat = "petrel-calibration-profile";
inline constexpr int kProfileVersion = 1;

// One score output (a float32 tensor whose last dimension, the classes, is >= 2).
struct OutputProfile {
  std::string name;
  ScoreKind kind = ScoreKind::kLogits;
  int64_t classes = 0;
  Histogram confidence;           // top-1 confidence per sample
  Histogram energy;               // energy per sample; logits only (no bins for probabilities)
  double ood_percentile = 99;
  double energy_threshold = 0;    // logits: energy above it is OOD (the ood_percentile-th percentile)
  double confidence_threshold = 0;  // confidence below it is OOD (the (100-ood_percentile)-th percentile)
};

// One numeric input: statistics over all its elements, and the histogram of per-sample means.
struct InputProfile {
  std::string name;
  double mean = 0, std = 0;
  Histogram sample_mean;
};

struct CalibrationProfile {
  int64_t samples = 0;
  std::vector<OutputProfile> outputs;
  std::vector<InputProfile> inputs;
  const OutputProfile* find_output(std::string_view name) const;
};

std::string profile_to_json(const CalibrationProfile& p);
// Parses and validates (edges ascending, fractions in [0,1] and one per bin, bounded sizes).
Result<CalibrationProfile> parse_profile(std::string_view json);
Result<CalibrationProfile> read_profile_file(const std::string& path);

// A tensor as telemetry reads it: no ownership, no copy. `dims` has `rank` entries.
struct TensorRef {
  std::string_view name;
  DataType dtype = DataType::kUndefined;
  const int64_t* dims = nullptr;
  size_t rank = 0;
  const void* data = nullptr;
  int64_t numel() const;
};
inline TensorRef ref_of(std::string_view name, const Tensor& t) {
  return TensorRef{name, t.dtype, t.shape.data(), t.shape.size(), t.data};
}
// Samples in a tensor: an input's leading dimension when its rank is >= 2 (a batch), else 1.
// For score outputs the rows are numel / classes.
int64_t input_rows(const TensorRef& t);

struct ProfileOptions {
  size_t bins = 10;             // histogram bins (quantile edges; ties may merge some)
  double ood_percentile = 99;   // samples beyond this percentile of calibration data are OOD
};

// Collects per-sample summaries (a few doubles per sample; the data itself is not kept).
// Which outputs are profiled is fixed by the first add(): float32 outputs with >= 2 classes.
class ProfileBuilder {
 public:
  Status add(const std::vector<TensorRef>& inputs, const std::vector<TensorRef>& outputs);
  Result<CalibrationProfile> finish(const ProfileOptions& o) const;
  int64_t samples() const { return samples_; }

 private:
  struct Out {
    std::string name;
    int64_t classes = 0;
    bool all_probabilities = true;
    std::vector<double> conf_logits, conf_probs, energy;  // confidences read both ways
  };
  struct In {
    std::string name;
    double sum = 0, sumsq = 0;
    int64_t count = 0;
    std::vector<double> means;
  };
  bool started_ = false;
  int64_t samples_ = 0;
  std::vector<Out> outs_;
  std::vector<In> ins_;
};

}  // namespace petrel::telemetry
