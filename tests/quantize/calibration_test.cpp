// Calibration methods on distributions with known answers.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "quantize/calibration.hpp"

namespace petrel::quant {
namespace {

// Deterministic N(0,1) samples (splitmix64 + Box-Muller).
std::vector<float> gaussian(size_t n, uint64_t seed = 7) {
  auto next = [&] {
    uint64_t z = (seed += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return double((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
  };
  std::vector<float> v(n);
  for (size_t i = 0; i < n; i += 2) {
    const double u1 = std::max(next(), 1e-300), u2 = next();
    const double r = std::sqrt(-2 * std::log(u1));
    v[i] = float(r * std::cos(2 * M_PI * u2));
    if (i + 1 < n) v[i + 1] = float(r * std::sin(2 * M_PI * u2));
  }
  return v;
}

TEST(Calibration, PercentileOnUniformHistogram) {
  std::vector<uint64_t> h(kHistBins, 1);  // uniform over [0, 2048) with width 1
  EXPECT_DOUBLE_EQ(hist_percentile(h, 1.0, 99.0), 2028.0);  // 0.99 * 2048 = 2027.52 -> bin 2027's right edge
  EXPECT_DOUBLE_EQ(hist_percentile(h, 0.5, 50.0), 512.0);
  EXPECT_DOUBLE_EQ(hist_percentile(h, 1.0, 100.0), 2048.0);
  std::vector<uint64_t> empty(kHistBins, 0);
  EXPECT_DOUBLE_EQ(hist_percentile(empty, 1.0, 99.0), 0.0);
}

TEST(Calibration, HistogramGrowsByExactRebinning) {
  TensorStats s;
  const std::vector<float> a{0.1f, -0.2f, 0.9f, 1.0f}, b{3.5f, -0.7f, 2.0f, 0.0f};
  s.add(a.data(), int64_t(a.size()));
  const double r0 = s.range;
  EXPECT_NEAR(r0, 1.0, 1e-5);
  EXPECT_GT(r0, 1.0);
  s.add(b.data(), int64_t(b.size()));
  EXPECT_DOUBLE_EQ(s.range, 4 * r0);  // doubled twice
  EXPECT_FLOAT_EQ(float(s.min), -0.7f);
  EXPECT_FLOAT_EQ(float(s.max), 3.5f);
  EXPECT_EQ(s.count, 8);
  // Same as binning everything at the final range directly.
  std::vector<uint64_t> pos(kHistBins, 0), neg(kHistBins, 0);
  for (const auto* v : {&a, &b})
    for (float x : *v) {
      // a was binned at range r0 and merged 4:1, which equals binning at 4*r0.
      const int bin = std::min(kHistBins - 1, int(std::fabs(double(x)) * (kHistBins / s.range)));
      (x < 0 ? neg : pos)[size_t(bin)]++;
    }
  EXPECT_EQ(s.pos, pos);
  EXPECT_EQ(s.neg, neg);
}

TEST(Calibration, NonFiniteValuesAreSkipped) {
  TensorStats s;
  const std::vector<float> v{1.0f, NAN, INFINITY, -2.0f};
  s.add(v.data(), 4);
  EXPECT_EQ(s.count, 2);
  EXPECT_EQ(s.nonfinite, 2);
  EXPECT_DOUBLE_EQ(s.max, 1.0);
  EXPECT_DOUBLE_EQ(s.min, -2.0);
}

TEST(Calibration, PercentileOnGaussian) {
  auto v = gaussian(1 << 20);
  TensorStats s;
  s.add(v.data(), int64_t(v.size()));
  // P(|x| < t) = 0.9999 for N(0,1) at t = 3.8906; each sign side separately has the same quantile.
  Range r = percentile_range(s, 99.99);
  EXPECT_NEAR(r.hi, 3.8906, 0.1);
  EXPECT_NEAR(r.lo, -3.8906, 0.1);
  // 99% -> 2.5758.
  r = percentile_range(s, 99.0);
  EXPECT_NEAR(r.hi, 2.5758, 0.02);
  // minmax is the extreme sample (> 4.5 for 1M samples).
  CalibConfig c;
  r = choose_range(s, c);
  EXPECT_GT(r.hi, 4.5f);
}

TEST(Calibration, EntropyClipsAnOutlier) {
  auto v = gaussian(1 << 18);
  v.push_back(50.0f);  // one outlier sets the histogram range
  TensorStats s;
  s.add(v.data(), int64_t(v.size()));
  const double w = s.range / kHistBins;
  const double t = kl_threshold(s.abs_hist(), w, 127);
  // Candidates start at 127 bins (~3.1); beyond the Gaussian bulk (~5) the clipped outlier lands
  // on empty bins and loses. The minimum lies in between.
  EXPECT_GE(t, 127 * w - 1e-9);
  EXPECT_LE(t, 5.5);
  CalibConfig c;
  c.method = CalibMethod::kEntropy;
  Range r = choose_range(s, c);
  EXPECT_LE(r.hi, 5.5f);
  EXPECT_GE(r.lo, -5.5f);
  c.method = CalibMethod::kMinMax;
  EXPECT_FLOAT_EQ(choose_range(s, c).hi, 50.0f);
}

TEST(Calibration, EntropyIgnoresTheReluZeroSpike) {
  // ReLU(N(0,1)): half the values are exactly 0. The zero bin must not drag the threshold down
  // to a small fraction of the positive tail (it would with the raw histogram).
  auto v = gaussian(1 << 18);
  for (float& x : v) x = std::max(x, 0.0f);
  TensorStats s;
  s.add(v.data(), int64_t(v.size()));
  CalibConfig c;
  c.method = CalibMethod::kEntropy;
  const Range r = choose_range(s, c);
  EXPECT_EQ(r.lo, 0.0f);
  EXPECT_GT(r.hi, 2.5f);
  EXPECT_LE(r.hi, float(s.max));
}

TEST(Calibration, EntropyKeepsAFullUniformRange) {
  // A flat histogram is represented exactly at full range (KL = 0); any clip costs.
  std::vector<uint64_t> h(kHistBins, 100);
  EXPECT_DOUBLE_EQ(kl_threshold(h, 1.0, 128), 2048.0);
  // Data in fewer bins than levels: the threshold is the edge of the last non-empty bin.
  std::vector<uint64_t> few(kHistBins, 0);
  for (int b = 0; b < 100; ++b) few[size_t(b)] = 5;
  EXPECT_DOUBLE_EQ(kl_threshold(few, 0.5, 128), 50.0);
}

TEST(Calibration, RangesAlwaysContainZero) {
  TensorStats s;
  const std::vector<float> v{2.0f, 3.0f, 4.0f};
  s.add(v.data(), 3);
  for (auto m : {CalibMethod::kMinMax, CalibMethod::kPercentile, CalibMethod::kEntropy}) {
    CalibConfig c;
    c.method = m;
    Range r = choose_range(s, c);
    EXPECT_EQ(r.lo, 0.0f);
    EXPECT_GT(r.hi, 0.0f);
    EXPECT_LE(r.hi, 4.0f);
  }
  EXPECT_FALSE(parse_calib_method("kld").is_ok());
  EXPECT_TRUE(parse_calib_method("kl").is_ok());
}

}  // namespace
}  // namespace petrel::quant
