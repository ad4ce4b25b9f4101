// Binary arithmetic, comparisons, logic and bitwise ops with broadcasting.
#include <cmath>
#include <limits>

#include "ops/op_test_util.hpp"

namespace petrel {
namespace {

using test::make_node;
using test::make_tensor;
using test::run_kernel;

template <typename O, typename A, typename B>
std::vector<O> run2(const std::string& op, Shape sa, std::vector<A> a, Shape sb, std::vector<B> b,
                    Shape* out_shape = nullptr, std::vector<Attribute> attrs = {}) {
  auto r = run_kernel(make_node(op, 2, 1, std::move(attrs)),
                      {Value::of(make_tensor<A>(sa, a)), Value::of(make_tensor<B>(sb, b))});
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  if (!r) return {};
  const Tensor& t = (*r)[0].tensor;
  EXPECT_EQ(t.dtype, DataTypeOf<O>::value);
  if (out_shape) *out_shape = t.shape;
  const auto* p = static_cast<const std::conditional_t<std::is_same_v<O, bool>, uint8_t, O>*>(t.data);
  return std::vector<O>(p, p + t.numel());
}

Tensor strings(Shape shape, std::vector<std::string> v) {
  auto t = Tensor::allocate(DataType::kString, shape);
  EXPECT_TRUE(t.is_ok());
  for (size_t i = 0; i < v.size(); ++i) t->as<std::string>()[i] = v[i];
  return std::move(t).value();
}

TEST(ElementwiseArith, SameShapeAndScalar) {
  EXPECT_EQ(run2<float>("Add", {3}, std::vector<float>{1, 2, 3}, {3}, std::vector<float>{10, 20, 30}),
            (std::vector<float>{11, 22, 33}));
  EXPECT_EQ(run2<float>("Sub", {3}, std::vector<float>{1, 2, 3}, {}, std::vector<float>{1}),
            (std::vector<float>{0, 1, 2}));
  EXPECT_EQ(run2<float>("Mul", {1}, std::vector<float>{2}, {2, 2}, std::vector<float>{1, 2, 3, 4}),
            (std::vector<float>{2, 4, 6, 8}));
  EXPECT_EQ(run2<float>("Div", {2}, std::vector<float>{1, -1}, {2}, std::vector<float>{4, 0}),
            (std::vector<float>{0.25f, -std::numeric_limits<float>::infinity()}));
}

TEST(ElementwiseArith, GeneralBroadcast) {
  // [2,1,3] + [4,1] -> [2,4,3]
  std::vector<float> a{0, 1, 2, 100, 101, 102};
  std::vector<float> b{10, 20, 30, 40};
  Shape s;
  auto y = run2<float>("Add", {2, 1, 3}, a, {4, 1}, b, &s);
  ASSERT_EQ(s, (Shape{2, 4, 3}));
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 4; ++j)
      for (int k = 0; k < 3; ++k) EXPECT_EQ(y[(i * 4 + j) * 3 + k], a[i * 3 + k] + b[j]);
  // Bias add over channels: [1,3,2,2] + [3,1,1].
  std::vector<float> x(12);
  for (int i = 0; i < 12; ++i) x[i] = float(i);
  auto z = run2<float>("Add", {1, 3, 2, 2}, x, {3, 1, 1}, std::vector<float>{100, 200, 300}, &s);
  ASSERT_EQ(s, (Shape{1, 3, 2, 2}));
  for (int i = 0; i < 12; ++i) EXPECT_EQ(z[i], float(i) + 100.f * float(1 + i / 4));
  // Zero-size broadcast dim.
  auto e = run2<float>("Mul", {0, 3}, std::vector<float>{}, {3}, std::vector<float>{1, 2, 3}, &s);
  EXPECT_EQ(s, (Shape{0, 3}));
  EXPECT_TRUE(e.empty());
  // Incompatible shapes.
  auto bad = run_kernel(make_node("Add", 2, 1), {Value::of(make_tensor<float>({2, 3}, std::vector<float>(6))),
                                                 Value::of(make_tensor<float>({4}, std::vector<float>(4)))});
  EXPECT_FALSE(bad.is_ok());
  auto mixed = run_kernel(make_node("Add", 2, 1), {Value::of(make_tensor<float>({1}, {1})),
                                                   Value::of(make_tensor<int32_t>({1}, {1}))});
  EXPECT_FALSE(mixed.is_ok());
}

TEST(ElementwiseArith, LegacyAxisBroadcast) {
  // Opset < 7: broadcast=1, axis=1 aligns B [3] with A's dim 1 of [2,3,2].
  Node n = make_node("Add", 2, 1, {test::attr_i("broadcast", 1), test::attr_i("axis", 1)});
  n.opset = 6;
  auto r = run_kernel(n, {Value::of(make_tensor<float>({2, 3, 2}, std::vector<float>(12, 0))),
                          Value::of(make_tensor<float>({3}, {1, 2, 3}))});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  const float* y = (*r)[0].tensor.as<float>();
  for (int i = 0; i < 12; ++i) EXPECT_EQ(y[i], float(1 + (i / 2) % 3));
}

TEST(ElementwiseArith, Integers) {
  EXPECT_EQ(run2<uint8_t>("Add", {2}, std::vector<uint8_t>{250, 1}, {2}, std::vector<uint8_t>{10, 2}),
            (std::vector<uint8_t>{4, 3}));  // wraps
  EXPECT_EQ(run2<int32_t>("Div", {4}, std::vector<int32_t>{7, -7, 7, -7}, {4}, std::vector<int32_t>{2, 2, -2, -2}),
            (std::vector<int32_t>{3, -3, -3, 3}));  // truncates toward zero
  EXPECT_EQ(run2<int64_t>("Mul", {1}, std::vector<int64_t>{int64_t(1) << 62}, {1}, std::vector<int64_t>{4}),
            (std::vector<int64_t>{0}));
  auto dz = run_kernel(make_node("Div", 2, 1), {Value::of(make_tensor<int32_t>({2}, {1, 2})),
                                                Value::of(make_tensor<int32_t>({2}, {1, 0}))});
  EXPECT_FALSE(dz.is_ok());
  auto mz = run_kernel(make_node("Mod", 2, 1), {Value::of(make_tensor<int8_t>({1}, {1})),
                                                Value::of(make_tensor<int8_t>({1}, {0}))});
  EXPECT_FALSE(mz.is_ok());
}

TEST(ElementwiseArith, Mod) {
  std::vector<int32_t> x{-4, 7, 5, 4, -7, 8}, y{2, -3, 8, -2, 3, 5};
  // Python sign rule (sign of divisor) by default; C fmod with fmod=1.
  EXPECT_EQ(run2<int32_t>("Mod", {6}, x, {6}, y), (std::vector<int32_t>{0, -2, 5, 0, 2, 3}));
  EXPECT_EQ(run2<int32_t>("Mod", {6}, x, {6}, y, nullptr, {test::attr_i("fmod", 1)}),
            (std::vector<int32_t>{0, 1, 5, 0, -1, 3}));
  auto f = run2<float>("Mod", {2}, std::vector<float>{-4.5f, 7.5f}, {2}, std::vector<float>{2, -2}, nullptr,
                       {test::attr_i("fmod", 1)});
  EXPECT_FLOAT_EQ(f[0], -0.5f);
  EXPECT_FLOAT_EQ(f[1], 1.5f);
  auto g = run2<float>("Mod", {2}, std::vector<float>{-4.5f, 7.5f}, {2}, std::vector<float>{2, -2});
  EXPECT_FLOAT_EQ(g[0], 1.5f);
  EXPECT_FLOAT_EQ(g[1], -0.5f);
  EXPECT_EQ(run2<uint16_t>("Mod", {2}, std::vector<uint16_t>{9, 65535}, {}, std::vector<uint16_t>{4}),
            (std::vector<uint16_t>{1, 3}));
  EXPECT_FALSE(run_kernel(make_node("Mod", 2, 1, {test::attr_i("fmod", 2)}), {}).is_ok());
}

TEST(ElementwiseArith, PowMixedTypes) {
  EXPECT_EQ(run2<float>("Pow", {3}, std::vector<float>{1, 2, 3}, {3}, std::vector<int64_t>{4, 5, 6}),
            (std::vector<float>{1, 32, 729}));
  EXPECT_EQ(run2<int32_t>("Pow", {3}, std::vector<int32_t>{1, 2, 3}, {3}, std::vector<float>{4, 5, 0.5f}),
            (std::vector<int32_t>{1, 32, 1}));  // 3^0.5 truncates to 1
  EXPECT_EQ(run2<int64_t>("Pow", {4}, std::vector<int64_t>{2, -3, 2, -1}, {4}, std::vector<int64_t>{40, 3, -1, -3}),
            (std::vector<int64_t>{int64_t(1) << 40, -27, 0, -1}));
  auto f = run2<float>("Pow", {2}, std::vector<float>{4, 2}, {}, std::vector<float>{0.5f});
  EXPECT_FLOAT_EQ(f[0], 2);
  EXPECT_FLOAT_EQ(f[1], std::sqrt(2.f));
}

TEST(ElementwiseLogic, Comparisons) {
  std::vector<float> a{1, 2, 3}, b{2};
  EXPECT_EQ(run2<bool>("Equal", {3}, a, {1}, b), (std::vector<bool>{false, true, false}));
  EXPECT_EQ(run2<bool>("Less", {3}, a, {1}, b), (std::vector<bool>{true, false, false}));
  EXPECT_EQ(run2<bool>("Greater", {3}, a, {1}, b), (std::vector<bool>{false, false, true}));
  EXPECT_EQ(run2<bool>("LessOrEqual", {3}, a, {1}, b), (std::vector<bool>{true, true, false}));
  EXPECT_EQ(run2<bool>("GreaterOrEqual", {3}, a, {1}, b), (std::vector<bool>{false, true, true}));
  float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(run2<bool>("Equal", {1}, std::vector<float>{nan}, {1}, std::vector<float>{nan}), (std::vector<bool>{false}));
  // [2,1] vs [1,2] -> [2,2]
  EXPECT_EQ(run2<bool>("Less", {2, 1}, std::vector<int64_t>{1, 5}, {1, 2}, std::vector<int64_t>{3, 4}),
            (std::vector<bool>{true, true, false, false}));
  auto s = run_kernel(make_node("Equal", 2, 1),
                      {Value::of(strings({2}, {"a", "b"})), Value::of(strings({}, {"b"}))});
  ASSERT_TRUE(s.is_ok());
  EXPECT_EQ((*s)[0].tensor.as<uint8_t>()[0], 0);
  EXPECT_EQ((*s)[0].tensor.as<uint8_t>()[1], 1);
  auto strless = run_kernel(make_node("Less", 2, 1), {Value::of(strings({1}, {"a"})),
                                                      Value::of(strings({1}, {"b"}))});
  EXPECT_FALSE(strless.is_ok());
}

TEST(ElementwiseLogic, AndOrXor) {
  std::vector<bool> a{false, false, true, true}, b{false, true, false, true};
  EXPECT_EQ(run2<bool>("And", {4}, a, {4}, b), (std::vector<bool>{false, false, false, true}));
  EXPECT_EQ(run2<bool>("Or", {4}, a, {4}, b), (std::vector<bool>{false, true, true, true}));
  EXPECT_EQ(run2<bool>("Xor", {4}, a, {4}, b), (std::vector<bool>{false, true, true, false}));
  EXPECT_EQ(run2<bool>("And", {2, 2}, a, {2}, std::vector<bool>{true, false}),
            (std::vector<bool>{false, false, true, false}));
  auto bad = run_kernel(make_node("And", 2, 1), {Value::of(make_tensor<int32_t>({1}, {1})),
                                                 Value::of(make_tensor<int32_t>({1}, {1}))});
  EXPECT_FALSE(bad.is_ok());
}

TEST(ElementwiseLogic, BitShiftAndBitwise) {
  auto left = run2<uint8_t>("BitShift", {3}, std::vector<uint8_t>{16, 4, 1}, {3}, std::vector<uint8_t>{1, 2, 8}, nullptr,
                            {test::attr_s("direction", "LEFT")});
  EXPECT_EQ(left, (std::vector<uint8_t>{32, 16, 0}));  // shift by >= width gives 0
  auto right = run2<uint64_t>("BitShift", {3}, std::vector<uint64_t>{16, 4, 1}, {}, std::vector<uint64_t>{2}, nullptr,
                              {test::attr_s("direction", "RIGHT")});
  EXPECT_EQ(right, (std::vector<uint64_t>{4, 1, 0}));
  EXPECT_FALSE(run_kernel(make_node("BitShift", 2, 1, {test::attr_s("direction", "UP")}), {}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("BitShift", 2, 1), {}).is_ok());
  EXPECT_EQ(run2<int32_t>("BitwiseAnd", {2}, std::vector<int32_t>{12, -1}, {2}, std::vector<int32_t>{10, 7}),
            (std::vector<int32_t>{8, 7}));
  EXPECT_EQ(run2<int32_t>("BitwiseOr", {2}, std::vector<int32_t>{12, 0}, {2}, std::vector<int32_t>{10, 7}),
            (std::vector<int32_t>{14, 7}));
  EXPECT_EQ(run2<int32_t>("BitwiseXor", {2}, std::vector<int32_t>{12, 0}, {}, std::vector<int32_t>{10}),
            (std::vector<int32_t>{6, 10}));
}

}  // namespace
}  // namespace petrel
