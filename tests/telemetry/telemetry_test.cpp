// Telemetry: histogram/percentile/PSI arithmetic against hand-computed values, score
// summaries, profile building and JSON, the drift monitor's sliding window (and that observe()
// does not allocate), the OOD detector.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <new>
#include <thread>

#include "telemetry/drift.hpp"
#include "telemetry/profile.hpp"

// The replaced operator new/delete pair malloc/free on purpose; GCC cannot see that they match.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
// Counts heap allocations made by this thread while `g_counting` is set.
static thread_local bool g_counting = false;
static std::atomic<int64_t> g_allocs{0};
void* operator new(size_t n) {
  if (g_counting) ++g_allocs;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

namespace petrel::telemetry {
namespace {

TEST(Histogram, BinIndexClampsOutsideValuesIntoEndBins) {
  const double e[] = {0.0, 1.0, 2.0, 3.0};
  EXPECT_EQ(bin_index(e, 4, -5), 0u);
  EXPECT_EQ(bin_index(e, 4, 0.5), 0u);
  EXPECT_EQ(bin_index(e, 4, 1.0), 1u);  // lower edge belongs to its bin
  EXPECT_EQ(bin_index(e, 4, 2.999), 2u);
  EXPECT_EQ(bin_index(e, 4, 3.0), 2u);  // the last bin holds its upper edge
  EXPECT_EQ(bin_index(e, 4, 99), 2u);
  EXPECT_EQ(bin_index(e, 4, NAN), 0u);
}

TEST(Histogram, PercentileInterpolatesLikeNumpy) {
  const std::vector<double> v{1, 2, 3, 4};
  EXPECT_DOUBLE_EQ(percentile_sorted(v, 50), 2.5);
  EXPECT_NEAR(percentile_sorted(v, 99), 3.97, 1e-12);  // numpy.percentile([1,2,3,4], 99)
  EXPECT_DOUBLE_EQ(percentile_sorted(v, 0), 1);
  EXPECT_DOUBLE_EQ(percentile_sorted(v, 100), 4);
}

TEST(Histogram, QuantileEdgesSplitDataEvenly) {
  std::vector<double> v;
  for (int i = 0; i < 100; ++i) v.push_back(i);
  Histogram h = quantile_histogram(v, 4);
  ASSERT_EQ(h.edges.size(), 5u);
  EXPECT_DOUBLE_EQ(h.edges[1], 24.75);
  EXPECT_DOUBLE_EQ(h.edges[2], 49.5);
  EXPECT_DOUBLE_EQ(h.edges[4], 99);
  for (double f : h.fractions) EXPECT_DOUBLE_EQ(f, 0.25);
  // Ties merge edges: 90 ones and ten twos leave two bins.
  std::vector<double> t(90, 1.0);
  t.insert(t.end(), 10, 2.0);
  Histogram ht = quantile_histogram(t, 10);
  // Percentiles 0..80 are all 1; the 90th interpolates ranks 89.1 -> 1.1; the 100th is 2.
  ASSERT_EQ(ht.edges.size(), 3u);
  EXPECT_DOUBLE_EQ(ht.edges[0], 1.0);
  EXPECT_NEAR(ht.edges[1], 1.1, 1e-12);
  EXPECT_DOUBLE_EQ(ht.edges[2], 2.0);
  EXPECT_DOUBLE_EQ(ht.fractions[0], 0.9);
  EXPECT_DOUBLE_EQ(ht.fractions[1], 0.1);
}

TEST(Psi, IdenticalDistributionIsZero) {
  const double e[] = {0.25, 0.25, 0.5};
  const uint32_t c[] = {25, 25, 50};
  EXPECT_NEAR(psi(e, c, 3, 100), 0.0, 1e-12);
  EXPECT_EQ(psi(e, c, 3, 0), 0.0);  // nothing observed yet
}

TEST(Psi, ShiftedDistributionHandComputed) {
  // Unsmoothed: (0.25-0.5)ln(0.25/0.5) + (0.75-0.5)ln(0.75/0.5) = 0.25 ln 2 + 0.25 ln 1.5 = 0.274653
  const double e[] = {0.5, 0.5};
  const uint32_t c[] = {25, 75};
  EXPECT_NEAR(psi(e, c, 2, 100), 0.25 * std::log(2.0) + 0.25 * std::log(1.5), 2e-4);
  // An empty bin: finite thanks to the epsilon. a = (0+eps)/(1+2eps), e = (0.5+eps)/(1+2eps), ...
  const uint32_t all_high[] = {0, 100};
  const double eps = kPsiEpsilon, n = 1 + 2 * eps;
  const double a0 = eps / n, e0 = (0.5 + eps) / n, a1 = (1 + eps) / n, e1 = (0.5 + eps) / n;
  const double want = (a0 - e0) * std::log(a0 / e0) + (a1 - e1) * std::log(a1 / e1);
  EXPECT_NEAR(want, 4.6043, 1e-3);
  EXPECT_NEAR(psi(e, all_high, 2, 100), want, 1e-12);
}

TEST(Scores, SoftmaxConfidenceAndEnergy) {
  const float logits[] = {0.0f, std::log(3.0f)};
  RowScores r = score_row(ScoreKind::kLogits, logits, 2);
  EXPECT_EQ(r.top, 1);
  EXPECT_NEAR(r.confidence, 0.75, 1e-6);       // 3 / (1 + 3)
  EXPECT_NEAR(r.energy, -std::log(4.0), 1e-6); // -ln(e^0 + e^ln3)
  const float probs[] = {0.1f, 0.7f, 0.2f};
  EXPECT_TRUE(looks_like_probabilities(probs, 3));
  EXPECT_FALSE(looks_like_probabilities(logits, 2));  // ln 3 > 1
  const float unnorm[] = {0.5f, 0.7f};
  EXPECT_FALSE(looks_like_probabilities(unnorm, 2));
  EXPECT_NEAR(score_row(ScoreKind::kProbabilities, probs, 3).confidence, 0.7, 1e-6);
  const float bad[] = {NAN, 1.0f};
  EXPECT_TRUE(std::isnan(score_row(ScoreKind::kLogits, bad, 2).confidence) ||
              std::isnan(score_row(ScoreKind::kLogits, bad, 2).energy));
}

// A probabilities profile by hand: 4 classes, confidence bins [0.25,0.5) and [0.5,1].
CalibrationProfile hand_profile() {
  CalibrationProfile p;
  p.samples = 100;
  OutputProfile o;
  o.name = "probs";
  o.kind = ScoreKind::kProbabilities;
  o.classes = 4;
  o.confidence = Histogram{{0.25, 0.5, 1.0}, {0.5, 0.5}};
  o.ood_percentile = 99;
  o.confidence_threshold = 0.3;
  p.outputs.push_back(o);
  InputProfile i;
  i.name = "x";
  i.mean = 0.5;
  i.std = 0.3;
  i.sample_mean = Histogram{{0.0, 0.5, 1.0}, {0.5, 0.5}};
  p.inputs.push_back(i);
  return p;
}

void observe_probs(DriftMonitor& m, float top, int times) {
  const float row[4] = {top, (1 - top) / 3, (1 - top) / 3, (1 - top) / 3};
  const int64_t dims[2] = {1, 4};
  TensorRef out{"probs", DataType::kFloat, dims, 2, row};
  for (int i = 0; i < times; ++i) m.observe(nullptr, 0, &out, 1);
}

TEST(Drift, WindowPsiFollowsTheDistribution) {
  DriftMonitor m(hand_profile(), DriftOptions{100});
  observe_probs(m, 0.4f, 50);
  observe_probs(m, 0.9f, 50);
  DriftSnapshot s = m.snapshot();
  ASSERT_EQ(s.output_confidence.size(), 1u);
  EXPECT_EQ(s.output_confidence[0].samples, 100u);
  EXPECT_NEAR(s.output_confidence[0].psi, 0.0, 1e-12);
  // 50 more high-confidence samples push the 50 oldest (low) out half way: 25 low, 75 high.
  observe_probs(m, 0.9f, 25);
  EXPECT_NEAR(m.snapshot().output_confidence[0].psi, 0.274531, 1e-5);
  // Everything high: the empty-bin case of the PSI test.
  observe_probs(m, 0.9f, 100);
  s = m.snapshot();
  EXPECT_EQ(s.output_confidence[0].samples, 100u);
  EXPECT_EQ(s.observed, 225u);  // 50 + 50 + 25 + 100
  EXPECT_NEAR(s.output_confidence[0].psi, 4.6043, 1e-3);
  EXPECT_DOUBLE_EQ(m.drift_score(), s.max_psi);
}

TEST(Drift, InputMeansPerBatchRow) {
  DriftMonitor m(hand_profile(), DriftOptions{1000});
  // A batch of two samples of 4 values: means 0.25 and 0.75, one per bin.
  const float x[8] = {0.25f, 0.25f, 0.25f, 0.25f, 0.5f, 1.0f, 0.5f, 1.0f};
  const int64_t dims[2] = {2, 4};
  TensorRef in{"x", DataType::kFloat, dims, 2, x};
  for (int i = 0; i < 10; ++i) m.observe(&in, 1, nullptr, 0);
  DriftSnapshot s = m.snapshot();
  ASSERT_EQ(s.input_mean.size(), 1u);
  EXPECT_EQ(s.input_mean[0].samples, 20u);
  EXPECT_NEAR(s.input_mean[0].psi, 0.0, 1e-12);
  // Brighter inputs (all means in the upper bin) drift.
  const float y[4] = {0.9f, 0.9f, 0.9f, 0.9f};
  const int64_t d1[2] = {1, 4};
  TensorRef bright{"x", DataType::kFloat, d1, 2, y};
  // 980 of them leave 10 dark and 990 bright samples in the window:
  // (0.01-0.5) ln(0.01/0.5) + (0.99-0.5) ln(0.99/0.5) = 0.49 ln 50 + 0.49 ln 1.98, less a little smoothing.
  for (int i = 0; i < 980; ++i) m.observe(&bright, 1, nullptr, 0);
  EXPECT_NEAR(m.snapshot().input_mean[0].psi, 0.49 * std::log(50.0) + 0.49 * std::log(1.98), 1e-2);
  // Unknown names and wrong dtypes are ignored, not counted.
  const int32_t ints[4] = {1, 2, 3, 4};
  TensorRef other{"nope", DataType::kInt32, d1, 2, ints};
  m.observe(&other, 1, nullptr, 0);
  EXPECT_EQ(m.snapshot().input_mean[0].samples, 1000u);
}

TEST(Drift, UnusableHistogramsAreNotTracked) {
  CalibrationProfile p = hand_profile();
  p.outputs[0].confidence = Histogram{};                 // no bins
  p.inputs[0].sample_mean.edges = {0.0, 0.5, 0.75, 1.0};  // 4 edges for 2 fractions
  DriftMonitor m(p);
  DriftSnapshot s = m.snapshot();
  EXPECT_TRUE(s.output_confidence.empty());
  EXPECT_TRUE(s.input_mean.empty());
  observe_probs(m, 0.9f, 3);  // ignored, no crash
  EXPECT_EQ(m.drift_score(), 0.0);
}

TEST(Drift, ObserveDoesNotAllocate) {
  DriftMonitor m(hand_profile(), DriftOptions{64});
  const float row[4] = {0.7f, 0.1f, 0.1f, 0.1f};
  const float x[4] = {0.1f, 0.2f, 0.3f, 0.4f};
  const int64_t dims[2] = {1, 4};
  TensorRef out{"probs", DataType::kFloat, dims, 2, row};
  TensorRef in{"x", DataType::kFloat, dims, 2, x};
  m.observe(&in, 1, &out, 1);
  g_allocs = 0;
  g_counting = true;
  for (int i = 0; i < 500; ++i) m.observe(&in, 1, &out, 1);
  g_counting = false;
  EXPECT_EQ(g_allocs.load(), 0);
  EXPECT_EQ(m.snapshot().output_confidence[0].samples, 64u);
}

TEST(Drift, ConcurrentObserversKeepCountsConsistent) {
  DriftMonitor m(hand_profile(), DriftOptions{10000});
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) ts.emplace_back([&, t] { observe_probs(m, t % 2 ? 0.9f : 0.4f, 1000); });
  for (auto& t : ts) t.join();
  DriftSnapshot s = m.snapshot();
  EXPECT_EQ(s.observed, 4000u);
  EXPECT_EQ(s.output_confidence[0].samples, 4000u);
  EXPECT_NEAR(s.output_confidence[0].psi, 0.0, 1e-12);  // 2000 low, 2000 high
}

TEST(Ood, EnergyThresholdForLogits) {
  ProfileBuilder b;
  const int64_t dims[2] = {1, 3};
  // Confident samples: one large logit. Energy = -logsumexp.
  for (int i = 0; i < 100; ++i) {
    const float logits[3] = {5.0f + 0.01f * float(i), 0.0f, 0.0f};
    TensorRef out{"logits", DataType::kFloat, dims, 2, logits};
    ASSERT_TRUE(b.add({}, {out}).is_ok());
  }
  auto p = b.finish(ProfileOptions{10, 99});
  ASSERT_TRUE(p.is_ok()) << p.status().to_string();
  ASSERT_EQ(p->outputs.size(), 1u);
  EXPECT_EQ(p->outputs[0].kind, ScoreKind::kLogits);
  // The 99th percentile of energy is near the least confident sample's energy.
  const float least[3] = {5.0f, 0.0f, 0.0f};
  const double e_least = -std::log(std::exp(5.0) + 2.0);
  EXPECT_GT(p->outputs[0].energy_threshold, e_least - 0.02);
  EXPECT_LE(p->outputs[0].energy_threshold, e_least + 1e-9);
  auto d = OodDetector::create(p.value());
  ASSERT_TRUE(d.is_ok());
  const float flat[3] = {0.1f, 0.0f, 0.05f};  // energy ~ -1.2: far above the threshold
  EXPECT_TRUE(d->check(flat, 3).ood);
  const float sure[3] = {9.0f, 0.0f, 0.0f};
  EXPECT_FALSE(d->check(sure, 3).ood);
  // The least confident calibration sample lies beyond the 99th percentile: flagged, as 1% must be.
  EXPECT_TRUE(d->check(least, 3).ood);
  const float typical[3] = {5.5f, 0.0f, 0.0f};
  EXPECT_FALSE(d->check(typical, 3).ood);
  const float nan_row[3] = {NAN, 0, 0};
  EXPECT_TRUE(d->check(nan_row, 3).ood);
  EXPECT_FALSE(OodDetector::create(p.value(), "other").is_ok());
}

TEST(Profile, BuildsDetectsProbabilitiesAndRoundTripsJson) {
  ProfileBuilder b;
  const int64_t od[2] = {1, 2}, id[2] = {1, 3};
  for (int i = 0; i < 10; ++i) {
    const float probs[2] = {0.1f * float(i % 5) + 0.5f, 0.5f - 0.1f * float(i % 5)};
    const uint8_t pix[3] = {uint8_t(i), uint8_t(i), uint8_t(i + 3)};
    ASSERT_TRUE(b.add({TensorRef{"img", DataType::kUInt8, id, 2, pix}}, {TensorRef{"p", DataType::kFloat, od, 2, probs}}).is_ok());
  }
  auto p = b.finish(ProfileOptions{4, 90});
  ASSERT_TRUE(p.is_ok()) << p.status().to_string();
  EXPECT_EQ(p->samples, 10);
  ASSERT_EQ(p->outputs.size(), 1u);
  EXPECT_EQ(p->outputs[0].kind, ScoreKind::kProbabilities);
  EXPECT_TRUE(p->outputs[0].energy.edges.empty());
  // Confidences 0.5..0.9 twice each; the 10th percentile is 0.5.
  EXPECT_NEAR(p->outputs[0].confidence_threshold, 0.5, 1e-6);
  ASSERT_EQ(p->inputs.size(), 1u);
  // Pixels: i, i, i+3 for i = 0..9 -> mean 4.5 + 1 = 5.5
  EXPECT_NEAR(p->inputs[0].mean, 5.5, 1e-12);
  EXPECT_GT(p->inputs[0].std, 0);
  const std::string js = profile_to_json(p.value());
  auto q = parse_profile(js);
  ASSERT_TRUE(q.is_ok()) << q.status().to_string();
  EXPECT_EQ(q->outputs[0].name, "p");
  EXPECT_EQ(q->outputs[0].confidence.edges, p->outputs[0].confidence.edges);
  EXPECT_EQ(q->inputs[0].sample_mean.fractions, p->inputs[0].sample_mean.fractions);
  EXPECT_DOUBLE_EQ(q->inputs[0].std, p->inputs[0].std);
}

TEST(Profile, RejectsMalformedJson) {
  const std::string good = profile_to_json(hand_profile());
  EXPECT_TRUE(parse_profile(good).is_ok());
  EXPECT_FALSE(parse_profile("{").is_ok());
  EXPECT_FALSE(parse_profile("[]").is_ok());
  EXPECT_FALSE(parse_profile(R"({"format":"x","version":1,"samples":1})").is_ok());
  auto bad = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    const size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    s.replace(at, from.size(), to);
    auto r = parse_profile(s);
    EXPECT_FALSE(r.is_ok()) << from << " -> " << to;
    return r.is_ok() ? std::string() : r.status().message();
  };
  EXPECT_NE(bad("\"version\": 1", "\"version\": 2").find("version"), std::string::npos);
  EXPECT_NE(bad("0.25,", "0.75,").find("ascending"), std::string::npos);  // edges [0.75, 0.5, 1]
  bad("\"probabilities\"", "\"softmax\"");
  bad("\"classes\": 4", "\"classes\": \"4\"");
  bad("\"name\": \"x\"", "\"name\": \"\"");
}

}  // namespace
}  // namespace petrel::telemetry
