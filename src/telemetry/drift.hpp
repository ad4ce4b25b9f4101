// Field monitoring against a calibration profile:
//  - DriftMonitor: a sliding window over the last N observed samples, and the population
//    stability index (PSI) of top-1 confidence (per score output) and of per-sample input means
//    (per input) against the profile's histograms.
//  - OodDetector: flags a sample whose energy is above (logits), or whose confidence is below
//    (probabilities), the profile's threshold.
// Both see only summaries (a bin index per sample); no input data is stored or sent anywhere.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "telemetry/profile.hpp"

namespace petrel::telemetry {

struct DriftOptions {
  size_t window = 1000;  // samples per tracked quantity (the oldest is dropped when full)
};

struct DriftSnapshot {
  struct Entry {
    std::string name;     // output or input name
    double psi = 0;
    size_t samples = 0;   // in the window
  };
  uint64_t observed = 0;                 // samples seen since creation (first tracked quantity)
  std::vector<Entry> output_confidence;  // one per profiled score output
  std::vector<Entry> input_mean;         // one per profiled input
  double max_psi = 0;                    // the drift score: the largest PSI above
};

class DriftMonitor {
 public:
  // Histograms with no bins, more than 65535, or edges that do not match them are not tracked.
  explicit DriftMonitor(const CalibrationProfile& profile, const DriftOptions& o = {});
  DriftMonitor(const DriftMonitor&) = delete;
  DriftMonitor& operator=(const DriftMonitor&) = delete;

  // Records one request: its inputs and outputs by name. Tensors the profile does not know,
  // or whose dtype/classes differ from it, are ignored; rows with non-finite values are
  // skipped. Thread-safe. Allocates nothing (windows are allocated at construction).
  void observe(const TensorRef* inputs, size_t num_inputs, const TensorRef* outputs, size_t num_outputs);

  DriftSnapshot snapshot() const;
  double drift_score() const;  // snapshot().max_psi without building the snapshot

 private:
  struct Track {
    std::string name;
    std::vector<double> edges, expected;
    std::vector<uint32_t> counts;
    std::vector<uint16_t> ring;  // bin of each sample in the window, oldest at `head` when full
    size_t head = 0, filled = 0;
    uint64_t seen = 0;
    ScoreKind kind = ScoreKind::kLogits;  // outputs only
    int64_t classes = 0;                  // outputs only
  };
  void push(Track& t, double value);  // caller holds mu_
  double psi_of(const Track& t) const;

  mutable std::mutex mu_;
  std::vector<Track> outputs_, inputs_;
};

// Per-sample OOD flag from a profiled score output.
class OodDetector {
 public:
  // `output`: the profile output to use (empty: the first). Error if the profile has none.
  static Result<OodDetector> create(const CalibrationProfile& profile, std::string_view output = {});

  struct Verdict {
    bool ood = false;
    int64_t top = -1;
    double confidence = 0, energy = 0;
  };
  // One row of scores (`classes` values, as the profile recorded). Non-finite scores are OOD.
  Verdict check(const float* row, int64_t classes) const;

  const std::string& output_name() const { return name_; }
  ScoreKind kind() const { return kind_; }
  int64_t classes() const { return classes_; }

 private:
  std::string name_;
  ScoreKind kind_ = ScoreKind::kLogits;
  int64_t classes_ = 0;
  double energy_threshold_ = 0, confidence_threshold_ = 0;
};

}  // namespace petrel::telemetry
