// Histograms with explicit bin edges, percentiles and the population stability index (PSI):
// the arithmetic under calibration profiles and drift monitoring. No allocation except where a
// function returns a vector.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace petrel::telemetry {

// k bins given by k+1 ascending edges. Bin i holds [edges[i], edges[i+1]) and the last bin
// also holds its upper edge. Values below the first edge count in bin 0 and values above the
// last edge in bin k-1, so live data outside the calibration range still lands somewhere.
struct Histogram {
  std::vector<double> edges;
  std::vector<double> fractions;  // k values summing to 1 (all 0 for an empty histogram)
  size_t bins() const { return fractions.size(); }
};

// Bin of v for `edges` (k+1 values, k >= 1) as described above. NaN goes to bin 0.
size_t bin_index(const double* edges, size_t num_edges, double v);

// Percentile p (0..100) of `sorted` (ascending, non-empty) with linear interpolation between
// neighbouring ranks, the way numpy.percentile does by default.
double percentile_sorted(const std::vector<double>& sorted, double p);

// Edges at the quantiles 0, 1/k, ..., 1 of `values` (so calibration data fills the bins about
// equally, the usual choice for PSI), duplicate edges merged (ties can leave fewer bins), and
// the fractions of `values` in each bin. Empty `values`: one bin [0, 1] with fraction 0.
Histogram quantile_histogram(std::vector<double> values, size_t k);

// Smoothing added to every fraction before PSI, renormalised: q = (f + eps) / (1 + k*eps).
// Keeps ln(a/e) finite when a bin is empty on either side.
inline constexpr double kPsiEpsilon = 1e-4;

// PSI = sum_i (a_i - e_i) * ln(a_i / e_i) of actual fractions a (counts / total) against
// expected fractions e, both smoothed. 0 when total == 0. Rules of thumb: < 0.1 stable,
// 0.1..0.25 moderate shift, > 0.25 significant shift.
double psi(const double* expected, const uint32_t* counts, size_t k, uint64_t total);

}  // namespace petrel::telemetry
