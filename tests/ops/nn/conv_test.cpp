#include <cmath>

#include "ops/op_test_util.hpp"

using namespace petrel;
using namespace petrel::test;

namespace {

std::vector<float> to_vec(const Value& v) {
  const Tensor& t = v.tensor;
  return std::vector<float>(t.as<float>(), t.as<float>() + t.numel());
}

std::vector<float> iota_f(int64_t n, float start = 0) {
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = start + float(i);
  return v;
}

// Naive direct 2-D convolution used to cross-check the GEMM path on odd sizes.
std::vector<float> naive_conv2d(const std::vector<float>& x, const std::vector<float>& w,
                                int64_t N, int64_t C, int64_t H, int64_t W, int64_t M, int64_t KH,
                                int64_t KW, int64_t G, int64_t s, int64_t p, int64_t d,
                                int64_t& OH, int64_t& OW) {
  OH = (H + 2 * p - ((KH - 1) * d + 1)) / s + 1;
  OW = (W + 2 * p - ((KW - 1) * d + 1)) / s + 1;
  const int64_t Cg = C / G, Mg = M / G;
  std::vector<float> y(N * M * OH * OW, 0.f);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          double acc = 0;
          const int64_t g = m / Mg;
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t kh = 0; kh < KH; ++kh)
              for (int64_t kw = 0; kw < KW; ++kw) {
                int64_t ih = oh * s - p + kh * d, iw = ow * s - p + kw * d;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                acc += x[((n * C + g * Cg + c) * H + ih) * W + iw] * w[((m * Cg + c) * KH + kh) * KW + kw];
              }
          y[((n * M + m) * OH + oh) * OW + ow] = float(acc);
        }
  return y;
}

}  // namespace

TEST(Conv, Basic2x2NoPad) {
  auto node = make_node("Conv", 2, 1);
  auto r = run_kernel(node, {Value::of(make_tensor<float>({1, 1, 3, 3}, iota_f(9))),
                             Value::of(make_tensor<float>({1, 1, 2, 2}, {1, 1, 1, 1}))});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ((*r)[0].tensor.shape, (Shape{1, 1, 2, 2}));
  EXPECT_EQ(to_vec((*r)[0]), (std::vector<float>{8, 12, 20, 24}));
}

TEST(Conv, PadsStridesBias) {
  // 3x3 input, 3x3 kernel of ones, pad 1, stride 2 -> corners of the padded sums, + bias 10.
  auto node = make_node("Conv", 3, 1, {attr_is("pads", {1, 1, 1, 1}), attr_is("strides", {2, 2})});
  auto r = run_kernel(node, {Value::of(make_tensor<float>({1, 1, 3, 3}, iota_f(9))),
                             Value::of(make_tensor<float>({1, 1, 3, 3}, std::vector<float>(9, 1.f))),
                             Value::of(make_tensor<float>({1}, {10}))});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ((*r)[0].tensor.shape, (Shape{1, 1, 2, 2}));
  // top-left: 0+1+3+4=8, top-right: 1+2+4+5=12, bottom-left: 3+4+6+7=20, bottom-right: 24
  EXPECT_EQ(to_vec((*r)[0]), (std::vector<float>{18, 22, 30, 34}));
}

TEST(Conv, AutoPadSameUpperAndLower) {
  // 1-D: x = [1,2,3,4], k = [1,1] (width 2), stride 1: SAME pads 1 total.
  for (auto [mode, expect] : {std::pair<const char*, std::vector<float>>{"SAME_UPPER", {3, 5, 7, 4}},
                              std::pair<const char*, std::vector<float>>{"SAME_LOWER", {1, 3, 5, 7}}}) {
    auto node = make_node("Conv", 2, 1, {attr_s("auto_pad", mode)});
    auto r = run_kernel(node, {Value::of(make_tensor<float>({1, 1, 4}, {1, 2, 3, 4})),
                               Value::of(make_tensor<float>({1, 1, 2}, {1, 1}))});
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_EQ(to_vec((*r)[0]), expect) << mode;
  }
}

TEST(Conv, MatchesNaiveOnOddSizes) {
  struct Case { int64_t N, C, H, W, M, K, G, s, p, d; };
  for (Case c : {Case{2, 3, 7, 9, 5, 3, 1, 1, 1, 1}, Case{1, 4, 11, 6, 6, 3, 2, 2, 1, 1},
                 Case{1, 6, 9, 9, 6, 3, 6, 1, 1, 2}, Case{1, 8, 5, 13, 9, 1, 1, 1, 0, 1},
                 Case{1, 3, 10, 10, 7, 5, 1, 3, 2, 1}, Case{1, 4, 8, 8, 8, 3, 4, 1, 1, 1},
                 Case{2, 5, 9, 7, 5, 3, 5, 2, 1, 1}, Case{1, 3, 6, 6, 3, 5, 3, 1, 2, 1}}) {
    std::vector<float> x(c.N * c.C * c.H * c.W), w(c.M * (c.C / c.G) * c.K * c.K);
    for (size_t i = 0; i < x.size(); ++i) x[i] = float((i * 7) % 13) - 6.f;
    for (size_t i = 0; i < w.size(); ++i) w[i] = float((i * 5) % 11) * 0.25f - 1.f;
    int64_t OH, OW;
    auto expect = naive_conv2d(x, w, c.N, c.C, c.H, c.W, c.M, c.K, c.K, c.G, c.s, c.p, c.d, OH, OW);
    auto node = make_node("Conv", 2, 1, {attr_i("group", c.G), attr_is("strides", {c.s, c.s}),
                                         attr_is("pads", {c.p, c.p, c.p, c.p}), attr_is("dilations", {c.d, c.d})});
    auto r = run_kernel(node, {Value::of(make_tensor<float>({c.N, c.C, c.H, c.W}, x)),
                               Value::of(make_tensor<float>({c.M, c.C / c.G, c.K, c.K}, w))});
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_EQ((*r)[0].tensor.shape, (Shape{c.N, c.M, OH, OW}));
    auto got = to_vec((*r)[0]);
    ASSERT_EQ(got.size(), expect.size());
    for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], expect[i], 1e-3) << i;
  }
}

TEST(Conv, Conv3dAndDouble) {
  // 2x2x2 input of ones, 2x2x2 kernel of ones -> 8.
  auto node = make_node("Conv", 2, 1);
  auto r = run_kernel(node, {Value::of(make_tensor<double>({1, 1, 2, 2, 2}, std::vector<double>(8, 1.0))),
                             Value::of(make_tensor<double>({1, 1, 2, 2, 2}, std::vector<double>(8, 1.0)))});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ((*r)[0].tensor.shape, (Shape{1, 1, 1, 1, 1}));
  EXPECT_EQ((*r)[0].tensor.as<double>()[0], 8.0);
}

TEST(Conv, Float16) {
  auto node = make_node("Conv", 2, 1);
  std::vector<Float16> x, w;
  for (int i = 0; i < 9; ++i) x.push_back(Float16(float(i)));
  for (int i = 0; i < 4; ++i) w.push_back(Float16(1.f));
  auto r = run_kernel(node, {Value::of(make_tensor<Float16>({1, 1, 3, 3}, x)),
                             Value::of(make_tensor<Float16>({1, 1, 2, 2}, w))});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(float((*r)[0].tensor.as<Float16>()[3]), 24.f);
}

TEST(Conv, Errors) {
  auto node = make_node("Conv", 2, 1);
  // channel mismatch
  auto r = run_kernel(node, {Value::of(make_tensor<float>({1, 2, 3, 3}, iota_f(18))),
                             Value::of(make_tensor<float>({1, 1, 2, 2}, {1, 1, 1, 1}))});
  EXPECT_FALSE(r.is_ok());
  // kernel larger than input
  r = run_kernel(node, {Value::of(make_tensor<float>({1, 1, 1, 1}, {1})),
                        Value::of(make_tensor<float>({1, 1, 2, 2}, {1, 1, 1, 1}))});
  EXPECT_FALSE(r.is_ok());
  // bad auto_pad value
  auto bad = make_node("Conv", 2, 1, {attr_s("auto_pad", "FOO")});
  EXPECT_FALSE(run_kernel(bad, {}).is_ok());
  // wrong attribute type
  auto bad2 = make_node("Conv", 2, 1, {attr_i("strides", 2)});
  EXPECT_FALSE(run_kernel(bad2, {}).is_ok());
}

TEST(ConvTranspose, Strides1d) {
  // x = [1, 2], w = [1, 1]: stride 1 overlaps, stride 2 tiles.
  auto x = Value::of(make_tensor<float>({1, 1, 2}, {1, 2}));
  auto w = Value::of(make_tensor<float>({1, 1, 2}, {1, 1}));
  auto r = run_kernel(make_node("ConvTranspose", 2, 1), {x, w});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(to_vec((*r)[0]), (std::vector<float>{1, 3, 2}));
  r = run_kernel(make_node("ConvTranspose", 2, 1, {attr_is("strides", {2})}), {x, w});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(to_vec((*r)[0]), (std::vector<float>{1, 1, 2, 2}));
  // output_padding adds a zero at the end; bias is added everywhere.
  r = run_kernel(make_node("ConvTranspose", 3, 1, {attr_is("strides", {2}), attr_is("output_padding", {1})}),
                 {x, w, Value::of(make_tensor<float>({1}, {10}))});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(to_vec((*r)[0]), (std::vector<float>{11, 11, 12, 12, 10}));
  // pads crop both ends.
  r = run_kernel(make_node("ConvTranspose", 2, 1, {attr_is("pads", {1, 1})}), {x, w});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(to_vec((*r)[0]), (std::vector<float>{3}));
  // output_shape larger than the natural size: zeros at the end.
  r = run_kernel(make_node("ConvTranspose", 2, 1, {attr_is("output_shape", {4})}), {x, w});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(to_vec((*r)[0]), (std::vector<float>{1, 3, 2, 0}));
}

TEST(ConvTranspose, GroupsAndErrors) {
  auto r = run_kernel(make_node("ConvTranspose", 2, 1, {attr_i("group", 2)}),
                      {Value::of(make_tensor<float>({1, 2, 1}, {1, 2})), Value::of(make_tensor<float>({2, 1, 1}, {3, 4}))});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ((*r)[0].tensor.shape, (Shape{1, 2, 1}));
  EXPECT_EQ(to_vec((*r)[0]), (std::vector<float>{3, 8}));
  // X channels must equal W.shape[0]
  r = run_kernel(make_node("ConvTranspose", 2, 1),
                 {Value::of(make_tensor<float>({1, 2, 1}, {1, 2})), Value::of(make_tensor<float>({1, 1, 1}, {3}))});
  EXPECT_FALSE(r.is_ok());
}

TEST(ConvInteger, ZeroPointAndPadding) {
  auto x = Value::of(make_tensor<uint8_t>({1, 1, 2, 2}, {1, 2, 3, 4}));
  auto w = Value::of(make_tensor<uint8_t>({1, 1, 1, 1}, {2}));
  auto zp = Value::of(make_tensor<uint8_t>({}, {1}));
  auto r = run_kernel(make_node("ConvInteger", 3, 1), {x, w, zp});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_EQ((*r)[0].tensor.dtype, DataType::kInt32);
  const int32_t* y = (*r)[0].tensor.as<int32_t>();
  EXPECT_EQ(std::vector<int32_t>(y, y + 4), (std::vector<int32_t>{0, 2, 4, 6}));
  // Padding behaves like the zero point: contributes 0. 2x2 kernel of 1s, pad 1 -> corner = x[0]-zp.
  auto w2 = Value::of(make_tensor<int8_t>({1, 1, 2, 2}, {1, 1, 1, 1}));
  r = run_kernel(make_node("ConvInteger", 3, 1, {attr_is("pads", {1, 1, 1, 1})}), {x, w2, zp});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ((*r)[0].tensor.shape, (Shape{1, 1, 3, 3}));
  y = (*r)[0].tensor.as<int32_t>();
  EXPECT_EQ(std::vector<int32_t>(y, y + 9), (std::vector<int32_t>{0, 1, 1, 2, 6, 4, 2, 5, 3}));
  // float input is rejected
  EXPECT_FALSE(run_kernel(make_node("ConvInteger", 2, 1), {Value::of(make_tensor<float>({1, 1, 1, 1}, {1})), w}).is_ok());
}

TEST(QLinearConv, RequantizeRoundSaturate) {
  auto x = Value::of(make_tensor<uint8_t>({1, 1, 1, 3}, {10, 20, 255}));
  auto xs = Value::of(make_tensor<float>({}, {0.5f}));
  auto xz = Value::of(make_tensor<uint8_t>({}, {10}));
  auto w = Value::of(make_tensor<uint8_t>({1, 1, 1, 1}, {3}));
  auto ws = Value::of(make_tensor<float>({1}, {1.f}));
  auto wz = Value::of(make_tensor<uint8_t>({1}, {1}));
  auto ys = Value::of(make_tensor<float>({}, {0.25f}));
  auto yz = Value::of(make_tensor<uint8_t>({}, {5}));
  auto b = Value::of(make_tensor<int32_t>({1}, {4}));
  // acc = (x - 10) * 2 + 4 = [4, 24, 494]; * 0.5 / 0.25 = [8, 48, 988]; + 5 -> [13, 53, 255 (saturated)]
  auto r = run_kernel(make_node("QLinearConv", 9, 1), {x, xs, xz, w, ws, wz, ys, yz, b});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  const uint8_t* y = (*r)[0].tensor.as<uint8_t>();
  EXPECT_EQ(std::vector<int>(y, y + 3), (std::vector<int>{13, 53, 255}));
  // Round half to even: acc 5 * 0.5 = 2.5 -> 2; acc 7 * 0.5 = 3.5 -> 4.
  auto x2 = Value::of(make_tensor<uint8_t>({1, 1, 1, 2}, {5, 7}));
  auto zero = Value::of(make_tensor<uint8_t>({}, {0}));
  auto one = Value::of(make_tensor<uint8_t>({1, 1, 1, 1}, {1}));
  auto s1 = Value::of(make_tensor<float>({}, {1.f}));
  r = run_kernel(make_node("QLinearConv", 8, 1), {x2, xs, zero, one, s1, zero, s1, zero});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  y = (*r)[0].tensor.as<uint8_t>();
  EXPECT_EQ(std::vector<int>(y, y + 2), (std::vector<int>{2, 4}));
  // a missing scale is an error
  EXPECT_FALSE(run_kernel(make_node("QLinearConv", 8, 1), {x2, Value{}, zero, one, s1, zero, s1, zero}).is_ok());
}
