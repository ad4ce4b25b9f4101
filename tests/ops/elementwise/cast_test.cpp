// Cast and CastLike.
#include <cmath>
#include <limits>

#include "ops/op_test_util.hpp"

namespace petrel {
namespace {

using test::make_node;
using test::make_tensor;
using test::run_kernel;

Result<std::vector<Value>> cast(const Tensor& x, DataType to) {
  return run_kernel(make_node("Cast", 1, 1, {test::attr_i("to", int64_t(to))}), {Value::of(x)});
}

Tensor strings(std::vector<std::string> v) {
  auto t = Tensor::allocate(DataType::kString, {int64_t(v.size())});
  for (size_t i = 0; i < v.size(); ++i) t->as<std::string>()[i] = v[i];
  return std::move(t).value();
}

std::vector<std::string> to_strings(const Tensor& x) {
  auto r = cast(x, DataType::kString);
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  if (!r) return {};
  const Tensor& t = (*r)[0].tensor;
  EXPECT_EQ(t.dtype, DataType::kString);
  return std::vector<std::string>(t.as<std::string>(), t.as<std::string>() + t.numel());
}

TEST(ElementwiseCast, FloatToInt) {
  auto x = make_tensor<float>({6}, {2.7f, -2.7f, 0.5f, -0.5f, 300.f, -1.f});
  auto r = cast(x, DataType::kInt32);
  ASSERT_TRUE(r.is_ok());
  const int32_t* p = (*r)[0].tensor.as<int32_t>();
  EXPECT_EQ(p[0], 2);
  EXPECT_EQ(p[1], -2);  // truncation toward zero
  EXPECT_EQ(p[2], 0);
  EXPECT_EQ(p[3], 0);
  EXPECT_EQ(p[4], 300);
  auto u8 = cast(x, DataType::kUInt8);
  ASSERT_TRUE(u8.is_ok());
  EXPECT_EQ((*u8)[0].tensor.as<uint8_t>()[4], 44);   // 300 mod 256, as numpy
  EXPECT_EQ((*u8)[0].tensor.as<uint8_t>()[5], 255);  // -1 wraps, as numpy
  // NaN / inf do not crash.
  auto odd = make_tensor<float>({2}, {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()});
  EXPECT_TRUE(cast(odd, DataType::kInt64).is_ok());
}

TEST(ElementwiseCast, BoolAndHalf) {
  auto x = make_tensor<float>({3}, {0.f, -2.f, 0.5f});
  auto b = cast(x, DataType::kBool);
  ASSERT_TRUE(b.is_ok());
  EXPECT_EQ((*b)[0].tensor.dtype, DataType::kBool);
  EXPECT_EQ((*b)[0].tensor.as<uint8_t>()[0], 0);
  EXPECT_EQ((*b)[0].tensor.as<uint8_t>()[1], 1);
  auto bf = cast((*b)[0].tensor, DataType::kFloat);
  EXPECT_EQ((*bf)[0].tensor.as<float>()[1], 1.0f);
  auto h = cast(x, DataType::kFloat16);
  ASSERT_TRUE(h.is_ok());
  EXPECT_EQ((*h)[0].tensor.as<Float16>()[1].bits, 0xc000);  // -2.0
  // float -> bfloat16 truncates (ONNX 1.12 reference): 1 + 3/512 would round up to 0x3f81.
  auto bb = cast(make_tensor<float>({2}, {1.0f + 3.0f / 512, -2.0f}), DataType::kBFloat16);
  EXPECT_EQ((*bb)[0].tensor.as<BFloat16>()[0].bits, 0x3f80);
  EXPECT_EQ((*bb)[0].tensor.as<BFloat16>()[1].bits, 0xc000);
  // Values of the official test_cast_FLOAT_to_BFLOAT16 case (stored there as uint16 bits).
  auto off = cast(make_tensor<float>({4}, {0.48033667f, 0.49968487f, std::numeric_limits<float>::quiet_NaN(),
                                           -std::numeric_limits<float>::infinity()}),
                  DataType::kBFloat16);
  const BFloat16* ob = (*off)[0].tensor.as<BFloat16>();
  EXPECT_EQ(ob[0].bits, 16117);
  EXPECT_EQ(ob[1].bits, 16127);
  EXPECT_EQ(ob[2].bits, 32704);
  EXPECT_EQ(ob[3].bits, 65408);
  auto d = cast((*h)[0].tensor, DataType::kDouble);
  EXPECT_EQ((*d)[0].tensor.as<double>()[2], 0.5);
  auto i = cast(make_tensor<int64_t>({2}, {-1, 257}), DataType::kUInt8);
  EXPECT_EQ((*i)[0].tensor.as<uint8_t>()[0], 255);
  EXPECT_EQ((*i)[0].tensor.as<uint8_t>()[1], 1);
}

TEST(ElementwiseCast, NumbersToStrings) {
  EXPECT_EQ(to_strings(make_tensor<float>({8}, {0.9767611f, 1.0f, 100.f, -0.0f, 0.1f, 1e-5f, 1e16f, 123456789.f})),
            (std::vector<std::string>{"0.9767611", "1.0", "100.0", "-0.0", "0.1", "1e-05", "1e+16", "123456790.0"}));
  EXPECT_EQ(to_strings(make_tensor<float>({4}, {0.039187793f, 3.4e38f, 1.5e-5f, 0.0001f})),
            (std::vector<std::string>{"0.039187793", "3.4e+38", "1.5e-05", "1e-04"}));
  float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(to_strings(make_tensor<float>({3}, {inf, -inf, std::numeric_limits<float>::quiet_NaN()})),
            (std::vector<std::string>{"inf", "-inf", "nan"}));
  EXPECT_EQ(to_strings(make_tensor<double>({2}, {0.1, 1.0 / 3})),
            (std::vector<std::string>{"0.1", "0.3333333333333333"}));
  EXPECT_EQ(to_strings(make_tensor<Float16>({2}, {Float16(0.1f), Float16(1e-5f)})),
            (std::vector<std::string>{"0.1", "1e-05"}));
  EXPECT_EQ(to_strings(make_tensor<int8_t>({2}, {-5, 100})), (std::vector<std::string>{"-5", "100"}));
  EXPECT_EQ(to_strings(make_tensor<bool>({2}, {true, false})), (std::vector<std::string>{"True", "False"}));
}

TEST(ElementwiseCast, StringsToNumbers) {
  auto r = cast(strings({"0.5", " -2 ", "INF", "+INF", "-inf", "NaN", "1e3"}), DataType::kFloat);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  const float* f = (*r)[0].tensor.as<float>();
  EXPECT_EQ(f[0], 0.5f);
  EXPECT_EQ(f[1], -2.f);
  EXPECT_EQ(f[2], std::numeric_limits<float>::infinity());
  EXPECT_EQ(f[3], std::numeric_limits<float>::infinity());
  EXPECT_EQ(f[4], -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(f[5]));
  EXPECT_EQ(f[6], 1000.f);
  auto i = cast(strings({"42", "-7", "+3"}), DataType::kInt64);
  ASSERT_TRUE(i.is_ok());
  EXPECT_EQ((*i)[0].tensor.as<int64_t>()[0], 42);
  EXPECT_EQ((*i)[0].tensor.as<int64_t>()[1], -7);
  EXPECT_EQ((*i)[0].tensor.as<int64_t>()[2], 3);
  EXPECT_FALSE(cast(strings({"abc"}), DataType::kFloat).is_ok());
  EXPECT_FALSE(cast(strings({"1.5x"}), DataType::kInt32).is_ok());
}

TEST(ElementwiseCast, CastLikeAndErrors) {
  auto x = make_tensor<double>({2}, {1.5, -3});
  auto like = make_tensor<int16_t>({0}, {});
  auto r = run_kernel(make_node("CastLike", 2, 1), {Value::of(x), Value::of(like)});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ((*r)[0].tensor.dtype, DataType::kInt16);
  EXPECT_EQ((*r)[0].tensor.as<int16_t>()[0], 1);
  EXPECT_EQ((*r)[0].tensor.as<int16_t>()[1], -3);
  // Opset < 6 names the type.
  Node legacy = make_node("Cast", 1, 1, {test::attr_s("to", "INT32")});
  auto l = run_kernel(legacy, {Value::of(x)});
  ASSERT_TRUE(l.is_ok()) << l.status().to_string();
  EXPECT_EQ((*l)[0].tensor.dtype, DataType::kInt32);
  EXPECT_EQ((*l)[0].tensor.as<int32_t>()[1], -3);
  // Missing / invalid / unsupported 'to'.
  EXPECT_FALSE(run_kernel(make_node("Cast", 1, 1), {Value::of(x)}).is_ok());
  EXPECT_FALSE(cast(x, DataType(99)).is_ok());
  EXPECT_FALSE(cast(x, DataType::kComplex64).is_ok());
}

}  // namespace
}  // namespace petrel
