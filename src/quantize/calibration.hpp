// Activation statistics and the range a calibration method picks from them.
//
// TensorStats keeps min/max and two 2048-bin histograms of |x| (one for x >= 0, one for x < 0)
// over [0, range]. When data exceed the range it doubles (possibly several times) and merges
// bins pairwise, which is an exact re-binning: the result equals binning everything at the final
// range, with at most 2x coarser bins than ideal. One pass over the data suffices.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.hpp"

namespace petrel::quant {

enum class CalibMethod { kMinMax, kPercentile, kEntropy };
Result<CalibMethod> parse_calib_method(const std::string& s);
const char* calib_method_name(CalibMethod m);

constexpr int kHistBins = 2048;

struct TensorStats {
  double min = 0, max = 0;
  int64_t count = 0;      // finite values seen
  int64_t nonfinite = 0;  // NaN/Inf values skipped
  double range = 0;       // histogram covers |x| in [0, range]
  std::vector<uint64_t> pos, neg;  // kHistBins each (allocated on the first add)

  void add(const float* x, int64_t n);
  // |x| histogram (pos + neg).
  std::vector<uint64_t> abs_hist() const;
};

struct Range {
  float lo = 0, hi = 0;
};

// Percentile thresholds. Symmetric: the p-th percentile of |x|, giving [-t, t] clipped to
// [min, max]. Otherwise each side on its own: hi = p-th percentile of the values >= 0,
// lo = -(p-th percentile of |x| over the values < 0).
Range percentile_range(const TensorStats& s, double percentile);
// Threshold t on a |x| histogram (bin width `width`) that keeps `percentile`% of the mass:
// the right edge of the first bin where the cumulative count reaches it.
double hist_percentile(const std::vector<uint64_t>& hist, double width, double percentile);

// TensorRT-style entropy calibration on a |x| histogram: for each candidate i in
// [levels, bins], P = hist[0:i] with the clipped tail added to its last bin, Q = hist[0:i]
// merged into `levels` groups and spread evenly over each group's non-empty bins; the i with
// the smallest KL(P || Q) wins and t = i * width. Returns the threshold.
double kl_threshold(const std::vector<uint64_t>& hist, double width, int levels);

struct CalibConfig {
  CalibMethod method = CalibMethod::kMinMax;
  double percentile = 99.99;
  bool unsigned_act = true;  // u8 activations (else s8)
  bool reduce_range = false; // 7-bit activations
};
// The range a method picks for one tensor (always contains 0; never wider than [min, max]
// beyond including 0).
Range choose_range(const TensorStats& s, const CalibConfig& c);

}  // namespace petrel::quant
