// Unary math ops and activations.
#include <cmath>
#include <limits>

#include "ops/op_test_util.hpp"

namespace petrel {
namespace {

using test::make_node;
using test::make_tensor;
using test::run_kernel;

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

std::vector<float> run_f(const std::string& op, std::vector<float> x, std::vector<Attribute> attrs = {}) {
  Shape s{int64_t(x.size())};
  auto r = run_kernel(make_node(op, 1, 1, std::move(attrs)), {Value::of(make_tensor<float>(s, x))});
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  if (!r) return {};
  const Tensor& t = (*r)[0].tensor;
  EXPECT_EQ(t.dtype, DataType::kFloat);
  return std::vector<float>(t.as<float>(), t.as<float>() + t.numel());
}

std::vector<float> values_of(const Tensor& t) { return std::vector<float>(t.as<float>(), t.as<float>() + t.numel()); }

void expect_near(const std::vector<float>& got, const std::vector<float>& want, float tol = 1e-6f) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(want[i])) {
      EXPECT_TRUE(std::isnan(got[i])) << i;
    } else if (std::isinf(want[i])) {
      EXPECT_EQ(got[i], want[i]) << i;
    } else {
      EXPECT_NEAR(got[i], want[i], tol * (1 + std::fabs(want[i]))) << "index " << i;
    }
  }
}

TEST(ElementwiseUnary, BasicMath) {
  expect_near(run_f("Abs", {-2, 0, 3.5f}), {2, 0, 3.5f});
  expect_near(run_f("Neg", {-2, 0, 3.5f}), {2, 0, -3.5f});
  expect_near(run_f("Reciprocal", {2, -4, 0}), {0.5f, -0.25f, kInf});
  expect_near(run_f("Floor", {-1.5f, 1.5f, 2}), {-2, 1, 2});
  expect_near(run_f("Ceil", {-1.5f, 1.5f, 2}), {-1, 2, 2});
  // Round half to even.
  expect_near(run_f("Round", {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 2.6f}), {0, 2, 2, -0, -2, 3});
  expect_near(run_f("Sign", {-3, 0, 7, kNaN}), {-1, 0, 1, kNaN});
  expect_near(run_f("Sqrt", {4, 0, 2.25f}), {2, 0, 1.5f});
  expect_near(run_f("Exp", {0, 1}), {1, 2.7182818f});
  expect_near(run_f("Log", {1, 2.7182818f, 0}), {0, 1, -kInf});
  expect_near(run_f("Erf", {0, 1, -1}), {0, 0.8427008f, -0.8427008f});
}

TEST(ElementwiseUnary, Trigonometric) {
  expect_near(run_f("Sin", {0, 1.5707964f}), {0, 1});
  expect_near(run_f("Cos", {0, 3.1415927f}), {1, -1});
  expect_near(run_f("Tan", {0, 0.7853982f}), {0, 1});
  expect_near(run_f("Asin", {0, 1}), {0, 1.5707964f});
  expect_near(run_f("Acos", {1, 0}), {0, 1.5707964f});
  expect_near(run_f("Atan", {0, 1}), {0, 0.7853982f});
  expect_near(run_f("Sinh", {0, 1}), {0, 1.1752012f});
  expect_near(run_f("Cosh", {0, 1}), {1, 1.5430806f});
  expect_near(run_f("Asinh", {0, 1.1752012f}), {0, 1});
  expect_near(run_f("Acosh", {1, 1.5430806f}), {0, 1});
  expect_near(run_f("Atanh", {0, 0.7615942f}), {0, 1});
}

TEST(ElementwiseUnary, IntegerAbsNegSign) {
  auto x = make_tensor<int32_t>({4}, {-5, 0, 7, std::numeric_limits<int32_t>::min()});
  auto abs = run_kernel(make_node("Abs", 1, 1), {Value::of(x)});
  ASSERT_TRUE(abs.is_ok());
  const int32_t* a = (*abs)[0].tensor.as<int32_t>();
  EXPECT_EQ(a[0], 5);
  EXPECT_EQ(a[1], 0);
  EXPECT_EQ(a[2], 7);
  EXPECT_EQ(a[3], std::numeric_limits<int32_t>::min());  // wraps like numpy, no UB
  auto sign = run_kernel(make_node("Sign", 1, 1), {Value::of(x)});
  ASSERT_TRUE(sign.is_ok());
  EXPECT_EQ((*sign)[0].tensor.as<int32_t>()[0], -1);
  EXPECT_EQ((*sign)[0].tensor.as<int32_t>()[2], 1);
  auto u = make_tensor<uint8_t>({2}, {0, 200});
  auto s2 = run_kernel(make_node("Sign", 1, 1), {Value::of(u)});
  ASSERT_TRUE(s2.is_ok());
  EXPECT_EQ((*s2)[0].tensor.as<uint8_t>()[1], 1);
  // Neg is not defined for unsigned types; Sqrt not for integers.
  EXPECT_FALSE(run_kernel(make_node("Neg", 1, 1), {Value::of(u)}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("Sqrt", 1, 1), {Value::of(x)}).is_ok());
}

TEST(ElementwiseUnary, NotIsNaNIsInfBitwiseNot) {
  auto b = make_tensor<bool>({3}, {true, false, true});
  auto r = run_kernel(make_node("Not", 1, 1), {Value::of(b)});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ((*r)[0].tensor.dtype, DataType::kBool);
  EXPECT_EQ((*r)[0].tensor.as<uint8_t>()[0], 0);
  EXPECT_EQ((*r)[0].tensor.as<uint8_t>()[1], 1);

  auto x = make_tensor<float>({4}, {1, kNaN, kInf, -kInf});
  auto nan = run_kernel(make_node("IsNaN", 1, 1), {Value::of(x)});
  ASSERT_TRUE(nan.is_ok());
  EXPECT_EQ((*nan)[0].tensor.dtype, DataType::kBool);
  const uint8_t* n = (*nan)[0].tensor.as<uint8_t>();
  EXPECT_EQ(n[0] + 2 * n[1] + 4 * n[2] + 8 * n[3], 2);
  auto inf = run_kernel(make_node("IsInf", 1, 1), {Value::of(x)});
  const uint8_t* i = (*inf)[0].tensor.as<uint8_t>();
  EXPECT_EQ(i[0] + 2 * i[1] + 4 * i[2] + 8 * i[3], 12);
  auto pos = run_kernel(make_node("IsInf", 1, 1, {test::attr_i("detect_negative", 0)}), {Value::of(x)});
  const uint8_t* p = (*pos)[0].tensor.as<uint8_t>();
  EXPECT_EQ(p[0] + 2 * p[1] + 4 * p[2] + 8 * p[3], 4);
  // Wrong attribute type is a model error.
  EXPECT_FALSE(run_kernel(make_node("IsInf", 1, 1, {test::attr_f("detect_negative", 0)}), {Value::of(x)}).is_ok());

  auto u = make_tensor<uint16_t>({2}, {0, 0x00ff});
  auto bn = run_kernel(make_node("BitwiseNot", 1, 1), {Value::of(u)});
  ASSERT_TRUE(bn.is_ok());
  EXPECT_EQ((*bn)[0].tensor.as<uint16_t>()[0], 0xffff);
  EXPECT_EQ((*bn)[0].tensor.as<uint16_t>()[1], 0xff00);
}

TEST(ElementwiseUnary, Float16AndEmpty) {
  auto x = make_tensor<Float16>({3}, {Float16(-1.5f), Float16(4.0f), Float16(0.25f)});
  auto r = run_kernel(make_node("Abs", 1, 1), {Value::of(x)});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ((*r)[0].tensor.dtype, DataType::kFloat16);
  EXPECT_EQ(float((*r)[0].tensor.as<Float16>()[0]), 1.5f);
  auto s = run_kernel(make_node("Sqrt", 1, 1), {Value::of(x)});
  EXPECT_EQ(float((*s)[0].tensor.as<Float16>()[1]), 2.0f);
  auto bf = make_tensor<BFloat16>({1}, {BFloat16(2.0f)});
  auto e = run_kernel(make_node("Reciprocal", 1, 1), {Value::of(bf)});
  EXPECT_EQ(float((*e)[0].tensor.as<BFloat16>()[0]), 0.5f);
  auto empty = run_kernel(make_node("Exp", 1, 1), {Value::of(make_tensor<float>({0, 3}, {}))});
  ASSERT_TRUE(empty.is_ok());
  EXPECT_EQ((*empty)[0].tensor.shape, (Shape{0, 3}));
}

TEST(ElementwiseActivation, Values) {
  expect_near(run_f("Relu", {-1, 0, 2}), {0, 0, 2});
  expect_near(run_f("LeakyRelu", {-1, 2}), {-0.01f, 2});
  expect_near(run_f("LeakyRelu", {-1, 2}, {test::attr_f("alpha", 0.5f)}), {-0.5f, 2});
  expect_near(run_f("Elu", {-1, 2}, {test::attr_f("alpha", 2)}), {2 * (std::exp(-1.f) - 1), 2});
  expect_near(run_f("Selu", {-1, 2}), {1.0507010f * 1.6732632f * (std::exp(-1.f) - 1), 2 * 1.0507010f});
  expect_near(run_f("Celu", {-1, 2}, {test::attr_f("alpha", 2)}), {2 * (std::exp(-0.5f) - 1), 2});
  expect_near(run_f("Sigmoid", {0, -100, 100, 1}), {0.5f, 3.7200760e-44f, 1, 0.7310586f}, 1e-5f);
  expect_near(run_f("HardSigmoid", {-10, 0, 1, 10}), {0, 0.5f, 0.7f, 1});
  expect_near(run_f("HardSwish", {-4, 0, 1, 4}), {0, 0, 1.f * (1.f / 6 + 0.5f), 4});
  expect_near(run_f("Softplus", {0, 100, -100}), {0.6931472f, 100, 3.7200760e-44f});
  expect_near(run_f("Softsign", {1, -3}), {0.5f, -0.75f});
  expect_near(run_f("Tanh", {0, 1}), {0, 0.7615942f});
  expect_near(run_f("ThresholdedRelu", {0.5f, 1, 2}), {0, 0, 2});
  expect_near(run_f("Shrink", {-2, -0.3f, 0.3f, 2}, {test::attr_f("bias", 0.5f), test::attr_f("lambd", 1)}),
              {-1.5f, 0, 0, 1.5f});
  expect_near(run_f("Gelu", {0, 1, -1}), {0, 0.8413447f, -0.1586553f}, 1e-5f);
  expect_near(run_f("Gelu", {1}, {test::attr_s("approximate", "tanh")}), {0.8411920f}, 1e-5f);
  expect_near(run_f("Mish", {0, 1}), {0, 0.8650984f}, 1e-5f);
}

TEST(ElementwiseActivation, IntegerAndErrors) {
  auto x = make_tensor<int8_t>({3}, {-3, 0, 5});
  auto r = run_kernel(make_node("Relu", 1, 1), {Value::of(x)});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ((*r)[0].tensor.as<int8_t>()[0], 0);
  EXPECT_EQ((*r)[0].tensor.as<int8_t>()[2], 5);
  auto s = run_kernel(make_node("Shrink", 1, 1, {test::attr_f("lambd", 1.5f), test::attr_f("bias", 1)}), {Value::of(x)});
  ASSERT_TRUE(s.is_ok());
  EXPECT_EQ((*s)[0].tensor.as<int8_t>()[0], -2);
  EXPECT_EQ((*s)[0].tensor.as<int8_t>()[1], 0);
  EXPECT_EQ((*s)[0].tensor.as<int8_t>()[2], 4);
  EXPECT_FALSE(run_kernel(make_node("Sigmoid", 1, 1), {Value::of(x)}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("Gelu", 1, 1, {test::attr_s("approximate", "erf")}), {Value::of(x)}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("Elu", 1, 1, {test::attr_s("alpha", "x")}), {Value::of(x)}).is_ok());
}

TEST(ElementwiseActivation, PRelu) {
  // slope [3] broadcasts over the last dim of [2,3].
  auto x = make_tensor<float>({2, 3}, {-1, -2, 3, 4, -5, -6});
  auto s = make_tensor<float>({3}, {0.1f, 0.2f, 0.3f});
  auto r = run_kernel(make_node("PRelu", 2, 1), {Value::of(x), Value::of(s)});
  ASSERT_TRUE(r.is_ok());
  const float* y = (*r)[0].tensor.as<float>();
  std::vector<float> want{-0.1f, -0.4f, 3, 4, -1.0f, -1.8f};
  for (int i = 0; i < 6; ++i) EXPECT_FLOAT_EQ(y[i], want[i]);
  // Channel slope [2,1] (per row).
  auto s2 = make_tensor<float>({2, 1}, {0.5f, 2});
  auto r2 = run_kernel(make_node("PRelu", 2, 1), {Value::of(x), Value::of(s2)});
  ASSERT_TRUE(r2.is_ok());
  EXPECT_FLOAT_EQ((*r2)[0].tensor.as<float>()[1], -1);
  EXPECT_FLOAT_EQ((*r2)[0].tensor.as<float>()[5], -12);
  // Opset 6: a 1-D slope of size C applies per channel (axis 1).
  Node old = make_node("PRelu", 2, 1);
  old.opset = 6;
  auto x3 = make_tensor<float>({1, 2, 2}, {-1, -1, -1, -1});
  auto r3 = run_kernel(old, {Value::of(x3), Value::of(make_tensor<float>({2}, {0.5f, 2}))});
  ASSERT_TRUE(r3.is_ok()) << r3.status().to_string();
  EXPECT_EQ(values_of((*r3)[0].tensor), (std::vector<float>{-0.5f, -0.5f, -2, -2}));
  // Slope must broadcast to X, not grow it.
  auto bad = make_tensor<float>({3, 2, 3}, std::vector<float>(18, 1));
  EXPECT_FALSE(run_kernel(make_node("PRelu", 2, 1), {Value::of(x), Value::of(bad)}).is_ok());
}

}  // namespace
}  // namespace petrel
