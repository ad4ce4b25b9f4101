#include <cmath>

#include "ops/op_test_util.hpp"

using namespace petrel;
using namespace petrel::test;

namespace {
template <typename T> std::vector<T> vec(const Value& v) {
  const Tensor& t = v.tensor;
  return std::vector<T>(t.as<T>(), t.as<T>() + t.numel());
}
void expect_near(const std::vector<float>& got, const std::vector<float>& want, float tol = 1e-4f) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "at " << i;
}
Value f(Shape s, std::vector<float> d) { return Value::of(make_tensor<float>(std::move(s), std::move(d))); }
}  // namespace

TEST(BatchNormalization, Inference) {
  // ch0: (x - 1) / 2 * 1 + 0; ch1: (x - 3) / 1 * 2 + 1
  auto r = run_kernel(make_node("BatchNormalization", 5, 1, {attr_f("epsilon", 0)}),
                      {f({1, 2, 1, 2}, {1, 2, 3, 4}), f({2}, {1, 2}), f({2}, {0, 1}), f({2}, {1, 3}), f({2}, {4, 1})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  expect_near(vec<float>((*r)[0]), {0, 0.5f, 1, 3});
  // 2-D input (N, C)
  r = run_kernel(make_node("BatchNormalization", 5, 1, {attr_f("epsilon", 0)}),
                 {f({2, 1}, {1, 5}), f({1}, {1}), f({1}, {0}), f({1}, {1}), f({1}, {4})});
  ASSERT_TRUE(r.is_ok());
  expect_near(vec<float>((*r)[0]), {0, 2});
}

TEST(BatchNormalization, TrainingRunningStats) {
  // batch mean 2, population var 1; running = 0.9 * old + 0.1 * batch
  auto r = run_kernel(make_node("BatchNormalization", 5, 3, {attr_f("epsilon", 0), attr_i("training_mode", 1)}),
                      {f({2, 1}, {1, 3}), f({1}, {1}), f({1}, {0}), f({1}, {0}), f({1}, {1})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  expect_near(vec<float>((*r)[0]), {-1, 1});
  expect_near(vec<float>((*r)[1]), {0.2f});
  expect_near(vec<float>((*r)[2]), {1.0f});
}

TEST(BatchNormalization, Errors) {
  auto r = run_kernel(make_node("BatchNormalization", 5, 1),
                      {f({1, 2, 1}, {1, 2}), f({3}, {1, 1, 1}), f({2}, {0, 0}), f({2}, {0, 0}), f({2}, {1, 1})});
  EXPECT_FALSE(r.is_ok());
}

TEST(InstanceNormalization, Basic) {
  auto r = run_kernel(make_node("InstanceNormalization", 3, 1, {attr_f("epsilon", 0)}),
                      {f({1, 1, 2}, {1, 3}), f({1}, {2}), f({1}, {1})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  expect_near(vec<float>((*r)[0]), {-1, 3});
}

TEST(GroupNormalization, PerGroupAndPerChannelScale) {
  auto x = f({1, 4, 1}, {1, 3, 5, 9});
  auto r = run_kernel(make_node("GroupNormalization", 3, 1, {attr_i("num_groups", 2), attr_f("epsilon", 0)}),
                      {x, f({2}, {1, 1}), f({2}, {0, 0})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  expect_near(vec<float>((*r)[0]), {-1, 1, -1, 1});
  r = run_kernel(make_node("GroupNormalization", 3, 1, {attr_i("num_groups", 2), attr_f("epsilon", 0)}),
                 {x, f({4}, {1, 2, 3, 4}), f({4}, {0, 0, 0, 1})});
  ASSERT_TRUE(r.is_ok());
  expect_near(vec<float>((*r)[0]), {-1, 2, -3, 5});
  // channels not divisible by groups; missing num_groups
  EXPECT_FALSE(run_kernel(make_node("GroupNormalization", 3, 1, {attr_i("num_groups", 3)}), {x, f({3}, {1, 1, 1}), f({3}, {0, 0, 0})}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("GroupNormalization", 3, 1), {x, f({2}, {1, 1}), f({2}, {0, 0})}).is_ok());
}

TEST(LayerNormalization, LastAxisWithStats) {
  auto r = run_kernel(make_node("LayerNormalization", 3, 3),
                      {f({2, 2}, {1, 3, 2, 2}), f({2}, {1, 1}), f({2}, {0, 1})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  const float s = 1.f / std::sqrt(1.f + 1e-5f);
  expect_near(vec<float>((*r)[0]), {-s, s + 1, 0, 1});
  EXPECT_EQ((*r)[1].tensor.shape, (Shape{2, 1}));
  EXPECT_EQ((*r)[1].tensor.dtype, DataType::kFloat);
  expect_near(vec<float>((*r)[1]), {2, 2});
  expect_near(vec<float>((*r)[2]), {s, 1.f / std::sqrt(1e-5f)}, 1e-2f);
}

TEST(LayerNormalization, Axis0BroadcastScaleAndErrors) {
  // Normalise everything; scale [1] broadcasts over [2, 2]; no bias.
  auto r = run_kernel(make_node("LayerNormalization", 2, 1, {attr_i("axis", 0), attr_f("epsilon", 0)}),
                      {f({2, 2}, {1, 3, 2, 2}), f({1}, {2})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  const float k = 2.f / std::sqrt(0.5f);
  expect_near(vec<float>((*r)[0]), {-k, k, 0, 0});
  EXPECT_FALSE(run_kernel(make_node("LayerNormalization", 2, 1, {attr_i("axis", 2)}), {f({2, 2}, {1, 3, 2, 2}), f({2}, {1, 1})}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("LayerNormalization", 2, 1), {f({2, 2}, {1, 3, 2, 2}), f({3}, {1, 1, 1})}).is_ok());
}

TEST(MeanVarianceNormalization, DefaultAxes) {
  // per channel: ch0 [1, 3] -> [-1, 1]; ch1 constant -> 0 (epsilon 1e-9 keeps it finite)
  auto r = run_kernel(make_node("MeanVarianceNormalization", 1, 1), {f({1, 2, 1, 2}, {1, 3, 10, 10})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  expect_near(vec<float>((*r)[0]), {-1, 1, 0, 0});
  EXPECT_FALSE(run_kernel(make_node("MeanVarianceNormalization", 1, 1), {f({2, 2}, {1, 2, 3, 4})}).is_ok());
}

TEST(LpNormalization, P1P2AndZero) {
  auto r = run_kernel(make_node("LpNormalization", 1, 1), {f({2, 2}, {3, 4, 0, 0})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  expect_near(vec<float>((*r)[0]), {0.6f, 0.8f, 0, 0});
  r = run_kernel(make_node("LpNormalization", 1, 1, {attr_i("p", 1), attr_i("axis", 0)}), {f({2, 1}, {3, 4})});
  ASSERT_TRUE(r.is_ok());
  expect_near(vec<float>((*r)[0]), {3.f / 7, 4.f / 7});
  EXPECT_FALSE(run_kernel(make_node("LpNormalization", 1, 1, {attr_i("p", 3)}), {f({1}, {1})}).is_ok());
}

TEST(LRN, AcrossChannels) {
  // size 2: window [c, c+1]; den = (1 + 2/2 * sumsq)^1
  auto r = run_kernel(make_node("LRN", 1, 1, {attr_i("size", 2), attr_f("alpha", 2), attr_f("beta", 1), attr_f("bias", 1)}),
                      {f({1, 2, 1, 1}, {1, 2})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  expect_near(vec<float>((*r)[0]), {1.f / 6, 2.f / 5});
  EXPECT_FALSE(run_kernel(make_node("LRN", 1, 1), {f({1, 2, 1, 1}, {1, 2})}).is_ok());  // size required
}
