// Softmax, LogSoftmax, Hardmax, CumSum, TopK.
#include <cmath>

#include "ops/op_test_util.hpp"

namespace petrel::test {
namespace {

template <typename T> std::vector<T> values(const Value& v) {
  const Tensor& t = v.tensor;
  return std::vector<T>(t.as<T>(), t.as<T>() + t.numel());
}
Value f32(Shape s, std::vector<float> v) { return Value::of(make_tensor<float>(std::move(s), std::move(v))); }
Value i64(Shape s, std::vector<int64_t> v) { return Value::of(make_tensor<int64_t>(std::move(s), std::move(v))); }

void expect_near(const std::vector<float>& got, const std::vector<float>& want, float tol = 1e-5f) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "at " << i;
}

Result<std::vector<Value>> one(const char* op, Value x, std::vector<Attribute> attrs = {}, int opset = 17) {
  Node n = make_node(op, 1, 1, std::move(attrs));
  n.opset = opset;
  return run_kernel(n, {std::move(x)});
}

TEST(Softmax, DefaultAxis) {
  auto out = one("Softmax", f32({1, 3}, {-1, 0, 1}));
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  expect_near(values<float>((*out)[0]), {0.09003057f, 0.24472847f, 0.66524096f});
  out = one("LogSoftmax", f32({1, 3}, {-1, 0, 1}));
  ASSERT_TRUE(out.is_ok());
  expect_near(values<float>((*out)[0]), {-2.40760596f, -1.40760596f, -0.40760596f});
  out = one("Softmax", f32({2}, {1000, 1001}));  // max subtraction keeps it finite
  ASSERT_TRUE(out.is_ok());
  expect_near(values<float>((*out)[0]), {0.26894142f, 0.73105858f});
}

TEST(Softmax, AxisAndOldOpsetCoercion) {
  auto out = one("Softmax", f32({2, 2}, {1, 2, 1, 0}), {attr_i("axis", 0)});
  ASSERT_TRUE(out.is_ok());
  expect_near(values<float>((*out)[0]), {0.5f, 0.88079708f, 0.5f, 0.11920292f});
  // Opset 11: axis 1 of [1,2,2] flattens the last two dims into one row of 4.
  out = one("Softmax", f32({1, 2, 2}, {1, 2, 3, 4}), {attr_i("axis", 1)}, 11);
  ASSERT_TRUE(out.is_ok());
  expect_near(values<float>((*out)[0]), {0.0320586f, 0.08714432f, 0.23688282f, 0.64391426f});
  // Opset 11 default axis is 1 (here: the whole [2,2] tail); opset 13 works on axis 1 alone.
  out = one("Hardmax", f32({1, 2, 2}, {1, 4, 3, 2}), {}, 11);
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(values<float>((*out)[0]), (std::vector<float>{0, 1, 0, 0}));
  out = one("Hardmax", f32({1, 2, 2}, {1, 4, 3, 2}), {attr_i("axis", 1)}, 13);
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(values<float>((*out)[0]), (std::vector<float>{0, 1, 1, 0}));
  auto d = Value::of(make_tensor<double>({2}, {0.0, std::log(3.0)}));
  out = one("LogSoftmax", d);
  ASSERT_TRUE(out.is_ok());
  EXPECT_NEAR((*out)[0].tensor.as<double>()[0], std::log(0.25), 1e-12);
}

TEST(Softmax, HardmaxFirstMaxWins) {
  auto out = one("Hardmax", f32({2, 3}, {3, 1, 3, 0, 2, 1}));
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(values<float>((*out)[0]), (std::vector<float>{1, 0, 0, 0, 1, 0}));
}

TEST(Softmax, Errors) {
  EXPECT_FALSE(one("Softmax", i64({2}, {1, 2})).is_ok());
  EXPECT_FALSE(one("Softmax", f32({2}, {1, 2}), {attr_i("axis", 1)}).is_ok());
  EXPECT_FALSE(one("LogSoftmax", f32({2}, {1, 2}), {attr_s("axis", "x")}).is_ok());
}

Result<std::vector<Value>> cumsum(Value x, Value axis, std::vector<Attribute> attrs = {}) {
  return run_kernel(make_node("CumSum", 2, 1, std::move(attrs)), {std::move(x), std::move(axis)});
}

TEST(CumSum, Modes) {
  auto x = Value::of(make_tensor<double>({5}, {1, 2, 3, 4, 5}));
  auto ax = Value::of(make_tensor<int32_t>({}, {0}));
  auto out = cumsum(x, ax);
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  EXPECT_EQ(values<double>((*out)[0]), (std::vector<double>{1, 3, 6, 10, 15}));
  out = cumsum(x, ax, {attr_i("exclusive", 1)});
  EXPECT_EQ(values<double>((*out)[0]), (std::vector<double>{0, 1, 3, 6, 10}));
  out = cumsum(x, ax, {attr_i("reverse", 1)});
  EXPECT_EQ(values<double>((*out)[0]), (std::vector<double>{15, 14, 12, 9, 5}));
  out = cumsum(x, ax, {attr_i("reverse", 1), attr_i("exclusive", 1)});
  EXPECT_EQ(values<double>((*out)[0]), (std::vector<double>{14, 12, 9, 5, 0}));
  auto m = Value::of(make_tensor<int32_t>({2, 3}, {1, 2, 3, 4, 5, 6}));
  out = cumsum(m, i64({1}, {0}));
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(values<int32_t>((*out)[0]), (std::vector<int32_t>{1, 2, 3, 5, 7, 9}));
  out = cumsum(m, i64({}, {-1}));
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(values<int32_t>((*out)[0]), (std::vector<int32_t>{1, 3, 6, 4, 9, 15}));
}

TEST(CumSum, Errors) {
  auto x = f32({2}, {1, 2});
  EXPECT_FALSE(cumsum(x, i64({}, {1})).is_ok());
  EXPECT_FALSE(cumsum(x, f32({}, {0})).is_ok());
  EXPECT_FALSE(cumsum(x, i64({2}, {0, 0})).is_ok());
}

Result<std::vector<Value>> topk(Value x, int64_t k, std::vector<Attribute> attrs = {}) {
  return run_kernel(make_node("TopK", 2, 2, std::move(attrs)), {std::move(x), i64({1}, {k})});
}

TEST(TopK, LargestSmallestTies) {
  std::vector<float> v{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  auto out = topk(f32({3, 4}, v), 3);
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  EXPECT_EQ((*out)[0].tensor.shape, (Shape{3, 3}));
  EXPECT_EQ(values<float>((*out)[0]), (std::vector<float>{3, 2, 1, 7, 6, 5, 11, 10, 9}));
  EXPECT_EQ(values<int64_t>((*out)[1]), (std::vector<int64_t>{3, 2, 1, 3, 2, 1, 3, 2, 1}));
  out = topk(f32({3, 4}, {0, 1, 2, 3, 4, 5, 6, 7, 11, 10, 9, 8}), 3, {attr_i("largest", 0), attr_i("axis", 1)});
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(values<float>((*out)[0]), (std::vector<float>{0, 1, 2, 4, 5, 6, 8, 9, 10}));
  EXPECT_EQ(values<int64_t>((*out)[1]), (std::vector<int64_t>{0, 1, 2, 0, 1, 2, 3, 2, 1}));
  out = topk(f32({4}, {1, 3, 3, 2}), 2);
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(values<int64_t>((*out)[1]), (std::vector<int64_t>{1, 2}));
  out = topk(f32({4}, {1, 3, 3, 2}), 3, {attr_i("largest", 0)});
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(values<int64_t>((*out)[1]), (std::vector<int64_t>{0, 3, 1}));
  // Axis 0 of a [3,2] int64 tensor; NaN goes last.
  out = topk(i64({3, 2}, {5, 1, 7, 9, 6, 3}), 2, {attr_i("axis", 0)});
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(values<int64_t>((*out)[0]), (std::vector<int64_t>{7, 9, 6, 3}));
  EXPECT_EQ(values<int64_t>((*out)[1]), (std::vector<int64_t>{1, 1, 2, 2}));
  out = topk(f32({3}, {NAN, 1, 2}), 3);
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(values<int64_t>((*out)[1]), (std::vector<int64_t>{2, 1, 0}));
  out = topk(f32({3}, {1, 2, 3}), 0);
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ((*out)[0].tensor.shape, (Shape{0}));
}

TEST(TopK, Errors) {
  EXPECT_FALSE(topk(f32({3}, {1, 2, 3}), 4).is_ok());
  EXPECT_FALSE(topk(f32({3}, {1, 2, 3}), -1).is_ok());
  EXPECT_FALSE(topk(f32({3}, {1, 2, 3}), 1, {attr_i("axis", 1)}).is_ok());
}

}  // namespace
}  // namespace petrel::test
