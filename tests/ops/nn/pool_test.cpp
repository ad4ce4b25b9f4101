#include <cmath>

#include "ops/op_test_util.hpp"

using namespace petrel;
using namespace petrel::test;

namespace {
template <typename T> std::vector<T> vec(const Value& v) {
  const Tensor& t = v.tensor;
  return std::vector<T>(t.as<T>(), t.as<T>() + t.numel());
}
std::vector<float> iota_f(int64_t n) {
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = float(i);
  return v;
}
}  // namespace

TEST(MaxPool, IndicesRowAndColumnMajor) {
  auto x = Value::of(make_tensor<float>({1, 1, 4, 4}, iota_f(16)));
  auto r = run_kernel(make_node("MaxPool", 1, 2, {attr_is("kernel_shape", {2, 2}), attr_is("strides", {2, 2})}), {x});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(vec<float>((*r)[0]), (std::vector<float>{5, 7, 13, 15}));
  EXPECT_EQ(vec<int64_t>((*r)[1]), (std::vector<int64_t>{5, 7, 13, 15}));
  // storage_order 1: index = h + w * H
  r = run_kernel(make_node("MaxPool", 1, 2, {attr_is("kernel_shape", {2, 2}), attr_is("strides", {2, 2}), attr_i("storage_order", 1)}), {x});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(vec<int64_t>((*r)[1]), (std::vector<int64_t>{5, 13, 7, 15}));
}

TEST(MaxPool, Int8PaddingDilationCeil) {
  // Padding never wins, even against negative values.
  auto r = run_kernel(make_node("MaxPool", 1, 1, {attr_is("kernel_shape", {1, 2}), attr_is("pads", {0, 1, 0, 1})}),
                      {Value::of(make_tensor<int8_t>({1, 1, 1, 3}, {-5, -3, -7}))});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(vec<int8_t>((*r)[0]), (std::vector<int8_t>{-5, -3, -3, -7}));
  // Dilation 2: taps i and i+2.
  r = run_kernel(make_node("MaxPool", 1, 1, {attr_is("kernel_shape", {2}), attr_is("dilations", {2})}),
                 {Value::of(make_tensor<float>({1, 1, 5}, {1, 5, 2, 4, 3}))});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(vec<float>((*r)[0]), (std::vector<float>{2, 5, 3}));
  // ceil_mode keeps the partial last window.
  r = run_kernel(make_node("MaxPool", 1, 1, {attr_is("kernel_shape", {2}), attr_is("strides", {2}), attr_i("ceil_mode", 1)}),
                 {Value::of(make_tensor<float>({1, 1, 5}, {1, 2, 3, 4, 5}))});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(vec<float>((*r)[0]), (std::vector<float>{2, 4, 5}));
}

TEST(AveragePool, CountIncludePadAndCeil) {
  auto x = Value::of(make_tensor<float>({1, 1, 3}, {1, 2, 3}));
  auto r = run_kernel(make_node("AveragePool", 1, 1, {attr_is("kernel_shape", {2}), attr_is("pads", {1, 0})}), {x});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(vec<float>((*r)[0]), (std::vector<float>{1, 1.5f, 2.5f}));
  r = run_kernel(make_node("AveragePool", 1, 1, {attr_is("kernel_shape", {2}), attr_is("pads", {1, 0}), attr_i("count_include_pad", 1)}), {x});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(vec<float>((*r)[0]), (std::vector<float>{0.5f, 1.5f, 2.5f}));
  r = run_kernel(make_node("AveragePool", 1, 1, {attr_is("kernel_shape", {2}), attr_is("strides", {2}), attr_i("ceil_mode", 1)}),
                 {Value::of(make_tensor<float>({1, 1, 5}, {1, 2, 3, 4, 5}))});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(vec<float>((*r)[0]), (std::vector<float>{1.5f, 3.5f, 5}));
  // SAME_UPPER on 3-D, 2x2x2 kernel over ones: every output averages valid cells only -> 1.
  r = run_kernel(make_node("AveragePool", 1, 1, {attr_is("kernel_shape", {2, 2, 2}), attr_s("auto_pad", "SAME_UPPER")}),
                 {Value::of(make_tensor<double>({1, 1, 2, 2, 2}, std::vector<double>(8, 1.0)))});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ((*r)[0].tensor.shape, (Shape{1, 1, 2, 2, 2}));
  EXPECT_EQ(vec<double>((*r)[0]), std::vector<double>(8, 1.0));
}

TEST(LpPool, P1AndP2) {
  auto x = Value::of(make_tensor<float>({1, 1, 2}, {3, -4}));
  auto r = run_kernel(make_node("LpPool", 1, 1, {attr_is("kernel_shape", {2})}), {x});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_NEAR(vec<float>((*r)[0])[0], 5.f, 1e-5);
  r = run_kernel(make_node("LpPool", 1, 1, {attr_is("kernel_shape", {2}), attr_i("p", 1)}), {x});
  ASSERT_TRUE(r.is_ok());
  EXPECT_NEAR(vec<float>((*r)[0])[0], 7.f, 1e-5);
}

TEST(GlobalPool, AverageMaxLp) {
  auto x = Value::of(make_tensor<float>({1, 2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8}));
  auto r = run_kernel(make_node("GlobalAveragePool", 1, 1), {x});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ((*r)[0].tensor.shape, (Shape{1, 2, 1, 1}));
  EXPECT_EQ(vec<float>((*r)[0]), (std::vector<float>{2.5f, 6.5f}));
  r = run_kernel(make_node("GlobalMaxPool", 1, 1), {x});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(vec<float>((*r)[0]), (std::vector<float>{4, 8}));
  r = run_kernel(make_node("GlobalLpPool", 1, 1), {x});
  ASSERT_TRUE(r.is_ok());
  EXPECT_NEAR(vec<float>((*r)[0])[0], std::sqrt(30.f), 1e-4);
  // Float16 global average.
  std::vector<Float16> h;
  for (float v : {1.f, 2.f, 3.f, 6.f}) h.push_back(Float16(v));
  r = run_kernel(make_node("GlobalAveragePool", 1, 1), {Value::of(make_tensor<Float16>({1, 1, 4}, h))});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(float((*r)[0].tensor.as<Float16>()[0]), 3.f);
}

TEST(Pool, Errors) {
  auto x = Value::of(make_tensor<float>({1, 1, 2, 2}, {1, 2, 3, 4}));
  EXPECT_FALSE(run_kernel(make_node("MaxPool", 1, 1), {x}).is_ok());  // kernel_shape required
  EXPECT_FALSE(run_kernel(make_node("MaxPool", 1, 1, {attr_is("kernel_shape", {3, 3})}), {x}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("AveragePool", 1, 1, {attr_is("kernel_shape", {2})}), {x}).is_ok());  // rank
  EXPECT_FALSE(run_kernel(make_node("MaxPool", 1, 1, {attr_is("kernel_shape", {1, 1}), attr_is("strides", {0, 1})}), {x}).is_ok());
  // int8 is MaxPool-only
  EXPECT_FALSE(run_kernel(make_node("AveragePool", 1, 1, {attr_is("kernel_shape", {1})}),
                          {Value::of(make_tensor<int8_t>({1, 1, 1}, {1}))}).is_ok());
}
