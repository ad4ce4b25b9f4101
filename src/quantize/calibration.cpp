#include "quantize/calibration.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace petrel::quant {

Result<CalibMethod> parse_calib_method(const std::string& s) {
  if (s == "minmax") return CalibMethod::kMinMax;
  if (s == "percentile") return CalibMethod::kPercentile;
  if (s == "entropy" || s == "kl") return CalibMethod::kEntropy;
  return invalid_argument("calibration method '" + s + "' (expected minmax, percentile or entropy)");
}

const char* calib_method_name(CalibMethod m) {
  switch (m) {
    case CalibMethod::kMinMax: return "minmax";
    case CalibMethod::kPercentile: return "percentile";
    default: return "entropy";
  }
}

void TensorStats::add(const float* x, int64_t n) {
  double bmin = std::numeric_limits<double>::infinity(), bmax = -bmin, amax = 0;
  int64_t finite = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    if (!std::isfinite(v)) { ++nonfinite; continue; }
    ++finite;
    bmin = std::min(bmin, double(v));
    bmax = std::max(bmax, double(v));
  }
  if (finite == 0) return;
  amax = std::max(std::fabs(bmin), std::fabs(bmax));
  if (count == 0) { min = bmin; max = bmax; }
  else { min = std::min(min, bmin); max = std::max(max, bmax); }
  count += finite;
  if (pos.empty()) {
    pos.assign(kHistBins, 0);
    neg.assign(kHistBins, 0);
  }
  // The histogram covers [0, range) with range > every |x| seen, so no value sits on the upper
  // edge and doubling the range is an exact re-binning.
  if (amax >= range) {
    if (range == 0) {
      range = amax * (1 + 1e-6);  // everything so far was 0 and sits in bin 0 at any range
    } else {
      int shift = 0;
      double r = range;
      while (r <= amax && shift < 60) { r *= 2; ++shift; }
      for (auto* h : {&pos, &neg}) {
        std::vector<uint64_t> m(kHistBins, 0);
        for (int b = 0; b < kHistBins; ++b) m[size_t(shift >= 12 ? 0 : b >> shift)] += (*h)[size_t(b)];
        *h = std::move(m);
      }
      range = r;
    }
  }
  if (range == 0) {  // all zeros so far
    pos[0] += uint64_t(finite);
    return;
  }
  const double inv = kHistBins / range;
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    if (!std::isfinite(v)) continue;
    const double a = std::fabs(double(v));
    const int b = std::min(kHistBins - 1, int(a * inv));
    (v < 0 ? neg : pos)[size_t(b)]++;
  }
}

std::vector<uint64_t> TensorStats::abs_hist() const {
  std::vector<uint64_t> h(kHistBins, 0);
  for (size_t i = 0; i < pos.size(); ++i) h[i] = pos[i] + neg[i];
  return h;
}

double hist_percentile(const std::vector<uint64_t>& hist, double width, double percentile) {
  uint64_t total = 0;
  for (uint64_t c : hist) total += c;
  if (total == 0) return 0;
  const double want = double(total) * std::clamp(percentile, 0.0, 100.0) / 100.0;
  uint64_t cum = 0;
  for (size_t b = 0; b < hist.size(); ++b) {
    cum += hist[b];
    if (double(cum) >= want) return double(b + 1) * width;
  }
  return double(hist.size()) * width;
}

Range percentile_range(const TensorStats& s, double percentile) {
  Range r;
  if (s.count == 0) return r;
  const double w = s.range / kHistBins;
  const double hi = s.max > 0 ? std::min(s.max, hist_percentile(s.pos, w, percentile)) : s.max;
  const double lo = s.min < 0 ? std::max(s.min, -hist_percentile(s.neg, w, percentile)) : s.min;
  r.lo = float(std::min(0.0, lo));
  r.hi = float(std::max(0.0, hi));
  return r;
}

double kl_threshold(const std::vector<uint64_t>& hist, double width, int levels) {
  const int bins = int(hist.size());
  if (bins == 0) return 0;
  int last = bins;  // ignore empty bins at the top: they change nothing
  while (last > 0 && hist[size_t(last - 1)] == 0) --last;
  if (last <= levels) return double(std::max(last, 1)) * width;
  std::vector<double> p(static_cast<size_t>(bins)), q(static_cast<size_t>(bins));
  double best_kl = std::numeric_limits<double>::infinity();
  int best = last;
  // Suffix sums: the mass clipped into the last bin of each candidate.
  std::vector<double> tail(size_t(bins) + 1, 0.0);
  for (int b = bins - 1; b >= 0; --b) tail[size_t(b)] = tail[size_t(b) + 1] + double(hist[size_t(b)]);
  for (int i = levels; i <= last; ++i) {
    double psum = 0;
    for (int b = 0; b < i; ++b) p[size_t(b)] = double(hist[size_t(b)]);
    p[size_t(i - 1)] += tail[size_t(i)];
    for (int b = 0; b < i; ++b) psum += p[size_t(b)];
    // Q: merge hist[0:i] into `levels` groups, spread each group's mass over its non-empty bins.
    double qsum = 0;
    for (int g = 0; g < levels; ++g) {
      const int b0 = int(int64_t(g) * i / levels), b1 = int(int64_t(g + 1) * i / levels);
      double mass = 0;
      int nonzero = 0;
      for (int b = b0; b < b1; ++b) {
        mass += double(hist[size_t(b)]);
        nonzero += hist[size_t(b)] != 0;
      }
      for (int b = b0; b < b1; ++b) {
        q[size_t(b)] = (nonzero && hist[size_t(b)] != 0) ? mass / nonzero : 0.0;
        qsum += q[size_t(b)];
      }
    }
    if (psum <= 0 || qsum <= 0) continue;
    double kl = 0;
    for (int b = 0; b < i; ++b) {
      if (p[size_t(b)] <= 0) continue;
      const double pn = p[size_t(b)] / psum;
      // A bin P has and Q lacks (the clipped tail landing on an empty bin) costs as if Q held
      // a tiny epsilon there, which makes that candidate lose to any that represents it.
      const double qn = q[size_t(b)] > 0 ? q[size_t(b)] / qsum : 1e-12;
      kl += pn * std::log(pn / qn);
    }
    if (kl < best_kl) {
      best_kl = kl;
      best = i;
    }
  }
  return double(best) * width;
}

Range choose_range(const TensorStats& s, const CalibConfig& c) {
  Range r;
  if (s.count == 0) return r;
  switch (c.method) {
    case CalibMethod::kMinMax:
      r.lo = float(std::min(0.0, s.min));
      r.hi = float(std::max(0.0, s.max));
      return r;
    case CalibMethod::kPercentile:
      return percentile_range(s, c.percentile);
    case CalibMethod::kEntropy: {
      // Levels available in [0, t]: a non-negative tensor gets all of an unsigned type's,
      // a signed one half of them.
      const bool nonneg = s.min >= 0;
      const int bits = c.reduce_range ? 7 : 8;
      const int levels = nonneg && c.unsigned_act ? (1 << bits) - 1 : (1 << (bits - 1)) - 1;
      // Post-ReLU tensors hold a spike of exact zeros that would dominate both distributions
      // and push the threshold far down; bin 0 counts like its neighbour instead.
      std::vector<uint64_t> h = s.abs_hist();
      h[0] = std::min(h[0], h[1]);
      const double t = kl_threshold(h, s.range / kHistBins, levels);
      r.lo = float(std::min(0.0, std::max(s.min, -t)));
      r.hi = float(std::max(0.0, std::min(s.max, t)));
      return r;
    }
  }
  return r;
}

}  // namespace petrel::quant
