// Activation parameters, per-channel weights, int32 bias and INT4 blocks.
#include <gtest/gtest.h>

#include <cmath>

#include "core/int4.hpp"
#include "quantize/quant_params.hpp"

namespace petrel::quant {
namespace {

Tensor floats(Shape s, std::vector<float> v) {
  auto t = Tensor::allocate(DataType::kFloat, std::move(s));
  EXPECT_TRUE(t.is_ok());
  for (size_t i = 0; i < v.size(); ++i) t->as<float>()[i] = v[i];
  return std::move(t).value();
}

TEST(QuantParams, Activations) {
  QParams p = activation_params({-1.0f, 3.0f}, true, false);
  EXPECT_EQ(p.dtype, DataType::kUInt8);
  EXPECT_FLOAT_EQ(p.scale, 4.0f / 255);
  EXPECT_EQ(p.zero_point, 64);  // rint(1 / (4/255)) = rint(63.75)
  p = activation_params({-1.0f, 3.0f}, true, true);  // 7-bit
  EXPECT_FLOAT_EQ(p.scale, 4.0f / 127);
  EXPECT_EQ(p.zero_point, 32);
  p = activation_params({-1.0f, 3.0f}, false, false);
  EXPECT_EQ(p.dtype, DataType::kInt8);
  EXPECT_EQ(p.zero_point, -64);  // rint(-128 + 63.75)
  p = activation_params({0.0f, 0.0f}, true, false);  // empty range: a valid identity-ish scale
  EXPECT_EQ(p.scale, 1.0f);
  EXPECT_EQ(p.zero_point, 0);
  p = activation_params({0.0f, 2.55f}, true, false);  // post-ReLU: zero point 0
  EXPECT_EQ(p.zero_point, 0);
}

TEST(QuantParams, PerChannelSymmetricWeights) {
  Tensor w = floats({2, 3}, {1.0f, -2.0f, 0.5f, 0.0f, 0.0f, 0.0f});
  auto q = quantize_weight_int8(w, 0);
  ASSERT_TRUE(q.is_ok()) << q.status().to_string();
  ASSERT_EQ(q->scales.size(), 2u);
  EXPECT_FLOAT_EQ(q->scales[0], 2.0f / 127);
  EXPECT_FLOAT_EQ(q->scales[1], 1.0f);  // all-zero channel
  const int8_t* d = q->q.as<int8_t>();
  EXPECT_EQ(d[0], 64);   // 63.5 rounds half to even
  EXPECT_EQ(d[1], -127);
  EXPECT_EQ(d[2], 32);   // 31.75
  EXPECT_EQ(d[3], 0);
  // Axis 1 (Gemm B [K, N]): one scale per column.
  auto q1 = quantize_weight_int8(w, 1);
  ASSERT_TRUE(q1.is_ok());
  ASSERT_EQ(q1->scales.size(), 3u);
  EXPECT_FLOAT_EQ(q1->scales[1], 2.0f / 127);
  EXPECT_EQ(q1->q.as<int8_t>()[2], 127);
  // Per tensor.
  auto qt = quantize_weight_int8(w, -1);
  ASSERT_TRUE(qt.is_ok());
  EXPECT_EQ(qt->scales.size(), 1u);
  EXPECT_FALSE(quantize_weight_int8(w, 2).is_ok());
}

TEST(QuantParams, BiasInt32) {
  Tensor b = floats({2}, {1.0f, -0.5f});
  auto q = quantize_bias_int32(b, 0.1f, {0.5f, 0.25f});
  ASSERT_TRUE(q.is_ok());
  EXPECT_FLOAT_EQ(q->scales[0], 0.05f);
  EXPECT_FLOAT_EQ(q->scales[1], 0.025f);
  EXPECT_EQ(q->q.as<int32_t>()[0], 20);
  EXPECT_EQ(q->q.as<int32_t>()[1], -20);
  // Saturates instead of overflowing.
  Tensor big = floats({1}, {1e30f});
  auto s = quantize_bias_int32(big, 1e-6f, {1e-6f});
  ASSERT_TRUE(s.is_ok());
  EXPECT_EQ(s->q.as<int32_t>()[0], 2147483647);
  EXPECT_FALSE(quantize_bias_int32(b, 0.1f, {1, 2, 3}).is_ok());
}

TEST(QuantParams, Int4BlocksGolden) {
  // Blocks of 2 along axis 1: [7, -7] -> scale 1, [3.5, 0] -> 0.5, [1] -> 1/7.
  Tensor w = floats({1, 5}, {7.0f, -7.0f, 3.5f, 0.0f, 1.0f});
  auto q = quantize_blocked_int4(w, 1, 2);
  ASSERT_TRUE(q.is_ok()) << q.status().to_string();
  EXPECT_EQ(q->q.dtype, DataType::kInt4);
  EXPECT_EQ(q->scales.shape, (Shape{1, 3}));
  EXPECT_FLOAT_EQ(q->scales.as<float>()[0], 1.0f);
  EXPECT_FLOAT_EQ(q->scales.as<float>()[1], 0.5f);
  EXPECT_FLOAT_EQ(q->scales.as<float>()[2], 1.0f / 7);
  const uint8_t* p = q->q.as<uint8_t>();
  std::vector<int32_t> got;
  for (int i = 0; i < 5; ++i) got.push_back(int4_get(p, i, true));
  EXPECT_EQ(got, (std::vector<int32_t>{7, -7, 7, 0, 7}));
  EXPECT_EQ(p[0], 0x97);  // 7 | (-7 & 0xf) << 4
}

TEST(QuantParams, Int4ClipSearchBeatsAbsmax) {
  // One outlier per block: a clipped scale lowers the block's squared error.
  std::vector<float> v;
  for (int i = 0; i < 32; ++i) v.push_back(i == 0 ? 1.0f : 0.11f * float((i % 7) - 3));
  Tensor w = floats({32, 1}, v);
  auto q = quantize_blocked_int4(w, 0, 32);
  ASSERT_TRUE(q.is_ok());
  const float s = q->scales.as<float>()[0];
  EXPECT_LE(s, 1.0f / 7);
  double err = 0, err_absmax = 0;
  for (int i = 0; i < 32; ++i) {
    const float deq = float(int4_get(q->q.as<uint8_t>(), i, true)) * s;
    err += (deq - v[size_t(i)]) * (deq - v[size_t(i)]);
    const float a = std::nearbyint(v[size_t(i)] * 7) / 7;
    err_absmax += (a - v[size_t(i)]) * (a - v[size_t(i)]);
  }
  EXPECT_LE(err, err_absmax);
  EXPECT_FALSE(quantize_blocked_int4(w, 0, 0).is_ok());
}

TEST(QuantParams, ConstantsForAddMul) {
  Tensor c = floats({3}, {-1.0f, 0.0f, 3.0f});
  auto q = quantize_constant(c, true);
  ASSERT_TRUE(q.is_ok());
  EXPECT_EQ(q->q.dtype, DataType::kUInt8);
  EXPECT_EQ(q->q.as<uint8_t>()[1], uint8_t(q->p.zero_point));  // 0 is exact
  EXPECT_EQ(q->q.as<uint8_t>()[2], 255);
}

}  // namespace
}  // namespace petrel::quant
