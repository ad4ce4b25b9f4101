// QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear.
#include <cmath>

#include "core/int4.hpp"
#include "ops/op_test_util.hpp"

namespace petrel::test {
namespace {

template <typename T> std::vector<T> values(const Value& v) {
  const Tensor& t = v.tensor;
  return std::vector<T>(t.as<T>(), t.as<T>() + t.numel());
}
template <typename T> Value val(Shape s, std::vector<T> v) { return Value::of(make_tensor<T>(std::move(s), std::move(v))); }

TEST(QuantizeLinear, PerTensor) {
  auto x = val<float>({6}, {0, 2, 3, 1000, -254, -1000});
  auto out = run_kernel(make_node("QuantizeLinear", 3, 1), {x, val<float>({}, {2}), val<uint8_t>({}, {128})});
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  EXPECT_EQ((*out)[0].tensor.dtype, DataType::kUInt8);
  EXPECT_EQ(values<uint8_t>((*out)[0]), (std::vector<uint8_t>{128, 129, 130, 255, 1, 0}));  // 1.5 -> 2
  out = run_kernel(make_node("QuantizeLinear", 3, 1), {x, val<float>({}, {2}), val<int8_t>({}, {-1})});
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(values<int8_t>((*out)[0]), (std::vector<int8_t>{-1, 0, 1, 127, -128, -128}));
  // No zero point: uint8 with zero point 0; 2.5 rounds to even 2.
  out = run_kernel(make_node("QuantizeLinear", 2, 1), {val<float>({3}, {5, -3, 300}), val<float>({1}, {2})});
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(values<uint8_t>((*out)[0]), (std::vector<uint8_t>{2, 0, 150}));
}

TEST(QuantizeLinear, PerAxisAndBlocked) {
  auto x = val<float>({1, 2, 2}, {1, 2, 3, 4});
  auto out = run_kernel(make_node("QuantizeLinear", 3, 1),
                        {x, val<float>({2}, {1, 2}), val<uint8_t>({2}, {0, 10})});
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  EXPECT_EQ(values<uint8_t>((*out)[0]), (std::vector<uint8_t>{1, 2, 12, 12}));
  out = run_kernel(make_node("QuantizeLinear", 2, 1, {attr_i("axis", -1), attr_i("block_size", 2)}),
                   {val<float>({1, 4}, {1, 2, 3, 4}), val<float>({1, 2}, {1, 0.5f})});
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  EXPECT_EQ(values<uint8_t>((*out)[0]), (std::vector<uint8_t>{1, 2, 6, 8}));
}

TEST(DequantizeLinear, Cases) {
  auto out = run_kernel(make_node("DequantizeLinear", 3, 1),
                        {val<uint8_t>({4}, {0, 3, 128, 255}), val<float>({}, {2}), val<uint8_t>({}, {128})});
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  EXPECT_EQ((*out)[0].tensor.dtype, DataType::kFloat);
  EXPECT_EQ(values<float>((*out)[0]), (std::vector<float>{-256, -250, 0, 254}));
  out = run_kernel(make_node("DequantizeLinear", 2, 1), {val<int32_t>({2}, {-5, 7}), val<float>({}, {0.5f})});
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(values<float>((*out)[0]), (std::vector<float>{-2.5f, 3.5f}));
  out = run_kernel(make_node("DequantizeLinear", 3, 1, {attr_i("axis", 0)}),
                   {val<int8_t>({2, 2}, {-1, 2, 3, -4}), val<float>({2}, {1, 10}), val<int8_t>({2}, {1, -1})});
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(values<float>((*out)[0]), (std::vector<float>{-2, 1, 40, -30}));
}

// Packed 4-bit tensor from unpacked values (element 2k in the low nibble of byte k).
Value int4_val(DataType dt, Shape s, const std::vector<int32_t>& v) {
  auto t = Tensor::allocate(dt, std::move(s));
  EXPECT_TRUE(t.is_ok());
  for (size_t i = 0; i < v.size(); ++i) int4_set(t->as<uint8_t>(), int64_t(i), v[i]);
  return Value::of(std::move(t).value());
}

TEST(Int4, PackUnpackGolden) {
  // Bytes as ONNX stores [1, -2, 7, -8, 3]: 0xE1, 0x87, 0x03.
  Value v = int4_val(DataType::kInt4, {5}, {1, -2, 7, -8, 3});
  const uint8_t* b = v.tensor.as<uint8_t>();
  EXPECT_EQ(v.tensor.nbytes(), 3u);
  EXPECT_EQ(b[0], 0xE1);
  EXPECT_EQ(b[1], 0x87);
  EXPECT_EQ(b[2], 0x03);
  EXPECT_EQ(int4_get(b, 1, true), -2);
  EXPECT_EQ(int4_get(b, 1, false), 14);
  EXPECT_EQ(int4_get(b, 3, true), -8);
}

TEST(DequantizeLinear, Int4BlockedGolden) {
  // W [2, 5] int4, blocks of 2 along axis 1 -> scale [2, 3]; last block is partial.
  Value w = int4_val(DataType::kInt4, {2, 5}, {1, -2, 7, -8, 3, /**/ -1, 0, 2, 5, -7});
  Value sc = val<float>({2, 3}, {0.5f, 1, 2, /**/ 1, 0.25f, 4});
  auto out = run_kernel(make_node("DequantizeLinear", 2, 1, {attr_i("axis", 1), attr_i("block_size", 2)}), {w, sc});
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  EXPECT_EQ(values<float>((*out)[0]), (std::vector<float>{0.5f, -1, 7, -8, 6, -1, 0, 0.5f, 1.25f, -28}));
  // UINT4 with per-block zero points (packed like the data).
  Value u = int4_val(DataType::kUInt4, {1, 4}, {0, 15, 8, 9});
  Value zp = int4_val(DataType::kUInt4, {1, 2}, {8, 8});
  out = run_kernel(make_node("DequantizeLinear", 3, 1, {attr_i("axis", 1), attr_i("block_size", 2)}),
                   {u, val<float>({1, 2}, {1, 0.5f}), zp});
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  EXPECT_EQ(values<float>((*out)[0]), (std::vector<float>{-8, 7, 0, 0.5f}));
  // A blocked scale whose shape does not match the data is an error, not a crash.
  EXPECT_FALSE(run_kernel(make_node("DequantizeLinear", 2, 1, {attr_i("axis", 1), attr_i("block_size", 2)}),
                          {w, val<float>({2, 2}, {1, 1, 1, 1})}).is_ok());
}

TEST(QuantizeLinear, Int4SaturatesAndPacks) {
  auto x = val<float>({5}, {1, -3, 100, -100, 2.5f});
  auto out = run_kernel(make_node("QuantizeLinear", 3, 1), {x, val<float>({}, {1}), int4_val(DataType::kInt4, {}, {0})});
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  EXPECT_EQ(out->at(0).tensor.dtype, DataType::kInt4);
  const uint8_t* b = out->at(0).tensor.as<uint8_t>();
  std::vector<int32_t> got;
  for (int i = 0; i < 5; ++i) got.push_back(int4_get(b, i, true));
  EXPECT_EQ(got, (std::vector<int32_t>{1, -3, 7, -8, 2}));  // 2.5 rounds to even
}

TEST(Quantize, Errors) {
  auto x = val<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  // Scale of length 2 along axis 1 (length 3).
  EXPECT_FALSE(run_kernel(make_node("QuantizeLinear", 2, 1), {x, val<float>({2}, {1, 2})}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("QuantizeLinear", 3, 1), {x, val<float>({}, {1}), val<float>({}, {0})}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("DequantizeLinear", 3, 1),
                          {val<uint8_t>({1}, {1}), val<float>({}, {1}), val<int8_t>({}, {0})}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("DequantizeLinear", 2, 1), {x, val<float>({}, {1})}).is_ok());
}

TEST(DynamicQuantizeLinear, SpecExample) {
  auto out = run_kernel(make_node("DynamicQuantizeLinear", 1, 3), {val<float>({6}, {0, 2, -3, -2.5f, 1.34f, 0.5f})});
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  EXPECT_NEAR((*out)[1].tensor.as<float>()[0], 5.f / 255.f, 1e-7);
  EXPECT_EQ(values<uint8_t>((*out)[2]), (std::vector<uint8_t>{153}));
  EXPECT_EQ(values<uint8_t>((*out)[0]), (std::vector<uint8_t>{153, 255, 0, 26, 221, 179}));
  // All zeros: scale 0, no NaN leaks into the outputs.
  out = run_kernel(make_node("DynamicQuantizeLinear", 1, 3), {val<float>({2}, {0, 0})});
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(values<uint8_t>((*out)[0]), (std::vector<uint8_t>{0, 0}));
  EXPECT_FALSE(run_kernel(make_node("DynamicQuantizeLinear", 1, 3), {val<double>({1}, {1})}).is_ok());
}

}  // namespace
}  // namespace petrel::test
