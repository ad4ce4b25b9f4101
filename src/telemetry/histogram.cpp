#include "telemetry/histogram.hpp"

#include <algorithm>
#include <cmath>

namespace petrel::telemetry {

size_t bin_index(const double* edges, size_t num_edges, double v) {
  if (num_edges < 3 || std::isnan(v)) return 0;
  // Interior edges edges[1..k-1]: the bin is how many of them are <= v.
  const double* first = edges + 1;
  const double* last = edges + num_edges - 1;
  return size_t(std::upper_bound(first, last, v) - first);
}

double percentile_sorted(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  p = std::clamp(p, 0.0, 100.0);
  const double pos = p / 100.0 * double(sorted.size() - 1);
  const size_t lo = size_t(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double t = pos - double(lo);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * t;
}

Histogram quantile_histogram(std::vector<double> values, size_t k) {
  Histogram h;
  values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return std::isnan(v); }), values.end());
  if (values.empty() || k == 0) {
    h.edges = {0.0, 1.0};
    h.fractions = {0.0};
    return h;
  }
  std::sort(values.begin(), values.end());
  for (size_t i = 0; i <= k; ++i) {
    const double e = percentile_sorted(values, 100.0 * double(i) / double(k));
    if (h.edges.empty() || e > h.edges.back()) h.edges.push_back(e);
  }
  if (h.edges.size() == 1) h.edges.push_back(h.edges[0]);  // all values equal: one bin [v, v]
  std::vector<uint64_t> counts(h.edges.size() - 1, 0);
  for (double v : values) ++counts[bin_index(h.edges.data(), h.edges.size(), v)];
  for (uint64_t c : counts) h.fractions.push_back(double(c) / double(values.size()));
  return h;
}

double psi(const double* expected, const uint32_t* counts, size_t k, uint64_t total) {
  if (total == 0 || k == 0) return 0;
  const double norm = 1.0 + double(k) * kPsiEpsilon;
  double s = 0;
  for (size_t i = 0; i < k; ++i) {
    const double a = (double(counts[i]) / double(total) + kPsiEpsilon) / norm;
    const double e = (expected[i] + kPsiEpsilon) / norm;
    s += (a - e) * std::log(a / e);
  }
  return s;
}

}  // namespace petrel::telemetry
