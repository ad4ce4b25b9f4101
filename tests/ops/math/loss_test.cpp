// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss.
#include <cmath>

#include "ops/op_test_util.hpp"

namespace petrel::test {
namespace {

template <typename T> std::vector<T> values(const Value& v) {
  const Tensor& t = v.tensor;
  return std::vector<T>(t.as<T>(), t.as<T>() + t.numel());
}
template <typename T> Value val(Shape s, std::vector<T> v) { return Value::of(make_tensor<T>(std::move(s), std::move(v))); }

void expect_near(const std::vector<float>& got, const std::vector<float>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5) << "at " << i;
}

Result<std::vector<Value>> nll(std::vector<Value> in, std::vector<Attribute> attrs) {
  return run_kernel(make_node("NegativeLogLikelihoodLoss", int(in.size()), 1, std::move(attrs)), in);
}

TEST(NllLoss, Reductions) {
  auto x = val<float>({2, 3}, {-1, -2, -3, -0.5f, -1.5f, -2.5f});
  auto t = val<int64_t>({2}, {2, 0});
  auto out = nll({x, t}, {attr_s("reduction", "none")});
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  EXPECT_EQ((*out)[0].tensor.shape, (Shape{2}));
  expect_near(values<float>((*out)[0]), {3, 0.5f});
  out = nll({x, t}, {attr_s("reduction", "sum")});
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ((*out)[0].tensor.shape, (Shape{}));
  expect_near(values<float>((*out)[0]), {3.5f});
  out = nll({x, t}, {});
  expect_near(values<float>((*out)[0]), {1.75f});
  auto w = val<float>({3}, {1, 2, 0.5f});
  out = nll({x, t, w}, {attr_s("reduction", "none")});
  expect_near(values<float>((*out)[0]), {1.5f, 0.5f});
  out = nll({x, t, w}, {});
  expect_near(values<float>((*out)[0]), {2.f / 1.5f});
  out = nll({x, t}, {attr_i("ignore_index", 2)});
  ASSERT_TRUE(out.is_ok());
  expect_near(values<float>((*out)[0]), {0.5f});
  // Ignored targets may lie outside [0, C).
  out = nll({x, val<int32_t>({2}, {-7, 1})}, {attr_i("ignore_index", -7), attr_s("reduction", "none")});
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  expect_near(values<float>((*out)[0]), {0, 1.5f});
}

TEST(NllLoss, SpatialDims) {
  // input[0, c, d]: c0 = [-1, -2], c1 = [-3, -4]; targets [1, 0] pick -3 and -2.
  auto out = nll({val<float>({1, 2, 2}, {-1, -2, -3, -4}), val<int64_t>({1, 2}, {1, 0})}, {});
  ASSERT_TRUE(out.is_ok());
  expect_near(values<float>((*out)[0]), {2.5f});
}

TEST(NllLoss, Errors) {
  auto x = val<float>({2, 3}, {-1, -2, -3, -0.5f, -1.5f, -2.5f});
  EXPECT_FALSE(nll({x, val<int64_t>({2}, {3, 0})}, {}).is_ok());
  EXPECT_FALSE(nll({x, val<int64_t>({2}, {-1, 0})}, {}).is_ok());
  EXPECT_FALSE(nll({x, val<int64_t>({3}, {0, 0, 0})}, {}).is_ok());
  EXPECT_FALSE(nll({x, val<int64_t>({2}, {0, 0})}, {attr_s("reduction", "max")}).is_ok());
  EXPECT_FALSE(nll({x, val<int64_t>({2}, {0, 0}), val<float>({2}, {1, 1})}, {}).is_ok());
}

TEST(SoftmaxCrossEntropyLoss, WithLogProb) {
  auto node = make_node("SoftmaxCrossEntropyLoss", 2, 2, {attr_s("reduction", "none")});
  auto out = run_kernel(node, {val<float>({1, 3}, {1, 2, 3}), val<int64_t>({1}, {2})});
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  expect_near(values<float>((*out)[0]), {0.40760596f});
  EXPECT_EQ((*out)[1].tensor.shape, (Shape{1, 3}));
  expect_near(values<float>((*out)[1]), {-2.40760596f, -1.40760596f, -0.40760596f});
  // Mean over two rows, the second ignored; only one output requested.
  node = make_node("SoftmaxCrossEntropyLoss", 2, 1, {attr_i("ignore_index", 0)});
  out = run_kernel(node, {val<float>({2, 3}, {1, 2, 3, 5, 5, 5}), val<int64_t>({2}, {2, 0})});
  ASSERT_TRUE(out.is_ok());
  expect_near(values<float>((*out)[0]), {0.40760596f});
  EXPECT_FALSE(run_kernel(node, {val<float>({2, 3}, {1, 2, 3, 5, 5, 5}), val<int64_t>({2}, {2, 5})}).is_ok());
}

}  // namespace
}  // namespace petrel::test
