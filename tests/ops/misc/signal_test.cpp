// DFT, STFT, window functions, MelWeightMatrix, NonMaxSuppression.
#include <cmath>

#include "ops/op_test_util.hpp"

namespace petrel::test {
namespace {

Value tf(Shape s, std::vector<float> v) { return Value::of(make_tensor<float>(std::move(s), std::move(v))); }
Value ti64(Shape s, std::vector<int64_t> v) { return Value::of(make_tensor<int64_t>(std::move(s), std::move(v))); }
std::vector<float> vals(const Value& v) {
  return std::vector<float>(v.tensor.as<float>(), v.tensor.as<float>() + v.tensor.numel());
}
void expect_near(const std::vector<float>& got, const std::vector<float>& want, float tol = 1e-5f) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "at " << i;
}

TEST(Dft, RealForwardOnesidedPaddingInverse) {
  // DFT of [1, 2, 3, 4] = [10, -2+2i, -2, -2-2i].
  auto x = tf({1, 4, 1}, {1, 2, 3, 4});
  auto a = run_kernel(make_node("DFT", 1, 1), {x});
  ASSERT_TRUE(a.is_ok()) << a.status().to_string();
  EXPECT_EQ((*a)[0].tensor.shape, Shape({1, 4, 2}));
  expect_near(vals((*a)[0]), {10, 0, -2, 2, -2, 0, -2, -2});
  auto o = run_kernel(make_node("DFT", 1, 1, {attr_i("onesided", 1)}), {x});
  ASSERT_TRUE(o.is_ok());
  expect_near(vals((*o)[0]), {10, 0, -2, 2, -2, 0});
  // Non-power-of-two length: [1, 2, 3] -> [6, -1.5+0.866i, -1.5-0.866i].
  auto n3 = run_kernel(make_node("DFT", 1, 1), {tf({1, 3, 1}, {1, 2, 3})});
  ASSERT_TRUE(n3.is_ok());
  expect_near(vals((*n3)[0]), {6, 0, -1.5f, 0.8660254f, -1.5f, -0.8660254f});
  // dft_length 2 truncates ([1, 2] -> [3, -1]); 6 zero-pads (bin 3 of [1,2,3,4,0,0] = 1-2+3-4 = -2).
  auto t = run_kernel(make_node("DFT", 2, 1), {x, ti64({}, {2})});
  ASSERT_TRUE(t.is_ok());
  expect_near(vals((*t)[0]), {3, 0, -1, 0});
  auto p = run_kernel(make_node("DFT", 2, 1), {x, ti64({}, {6})});
  ASSERT_TRUE(p.is_ok());
  EXPECT_EQ((*p)[0].tensor.shape, Shape({1, 6, 2}));
  EXPECT_NEAR(vals((*p)[0])[6], -2.0f, 1e-5f);
  // Inverse of the complex spectrum gives back the signal.
  auto inv = run_kernel(make_node("DFT", 1, 1, {attr_i("inverse", 1)}), {(*a)[0]});
  ASSERT_TRUE(inv.is_ok());
  expect_near(vals((*inv)[0]), {1, 0, 2, 0, 3, 0, 4, 0});
  // Transform along axis 2 of a [1, 2, 2, 1] tensor: rows [1, 2] and [3, 4] -> [3, -1], [7, -1].
  auto ax = run_kernel(make_node("DFT", 1, 1, {attr_i("axis", 2)}), {tf({1, 2, 2, 1}, {1, 2, 3, 4})});
  ASSERT_TRUE(ax.is_ok());
  expect_near(vals((*ax)[0]), {3, 0, -1, 0, 7, 0, -1, 0});
  // Opset-20 form: the axis comes as input 2.
  auto ax20 = run_kernel(make_node("DFT", 3, 1), {tf({1, 2, 2, 1}, {1, 2, 3, 4}), Value{}, ti64({}, {-2})});
  ASSERT_TRUE(ax20.is_ok()) << ax20.status().to_string();
  expect_near(vals((*ax20)[0]), {3, 0, -1, 0, 7, 0, -1, 0});
  // Errors: axis on the complex dimension, last dim not 1 or 2.
  EXPECT_FALSE(run_kernel(make_node("DFT", 1, 1, {attr_i("axis", 2)}), {x}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("DFT", 1, 1), {tf({1, 2, 3}, {1, 2, 3, 4, 5, 6})}).is_ok());
}

// Odd lengths take the chirp-z path: compare with the defining sum X_k = sum_j x_j e^{-2 pi i jk/n}.
TEST(Dft, OddLengthMatchesDefinition) {
  for (int n : {5, 7, 12}) {
    std::vector<float> x(size_t(2 * n));
    for (int j = 0; j < 2 * n; ++j) x[size_t(j)] = float((j * 37) % 11) - 5.0f;
    auto r = run_kernel(make_node("DFT", 1, 1), {tf({1, n, 2}, x)});
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    std::vector<float> want;
    for (int k = 0; k < n; ++k) {
      double sr = 0, si = 0;
      for (int j = 0; j < n; ++j) {
        const double a = -2 * M_PI * double(j) * double(k) / double(n);
        sr += x[size_t(2 * j)] * std::cos(a) - x[size_t(2 * j + 1)] * std::sin(a);
        si += x[size_t(2 * j)] * std::sin(a) + x[size_t(2 * j + 1)] * std::cos(a);
      }
      want.push_back(float(sr));
      want.push_back(float(si));
    }
    expect_near(vals((*r)[0]), want, 1e-4f);
  }
  EXPECT_FALSE(run_kernel(make_node("DFT", 1, 1), {Value{}}).is_ok());  // missing input
}

TEST(Stft, FramesAndWindow) {
  auto sig = tf({1, 8, 1}, {0, 1, 2, 3, 4, 5, 6, 7});
  // Frames [0..3] and [4..7], one-sided 3 bins: [6, -2+2i, -2] and [22, -2+2i, -2].
  auto a = run_kernel(make_node("STFT", 4, 1), {sig, ti64({}, {4}), Value{}, ti64({}, {4})});
  ASSERT_TRUE(a.is_ok()) << a.status().to_string();
  EXPECT_EQ((*a)[0].tensor.shape, Shape({1, 2, 3, 2}));
  expect_near(vals((*a)[0]), {6, 0, -2, 2, -2, 0, 22, 0, -2, 2, -2, 0});
  // Window [0, 1, 0, 0] keeps only the second sample of each frame: X_k = x1 * e^{-i pi k / 2}.
  auto w = run_kernel(make_node("STFT", 3, 1, {attr_i("onesided", 0)}), {sig, ti64({}, {4}), tf({4}, {0, 1, 0, 0})});
  ASSERT_TRUE(w.is_ok()) << w.status().to_string();
  EXPECT_EQ((*w)[0].tensor.shape, Shape({1, 2, 4, 2}));
  expect_near(vals((*w)[0]), {1, 0, 0, -1, -1, 0, 0, 1, 5, 0, 0, -5, -5, 0, 0, 5});
  // frame_length must match the window; step must be positive.
  EXPECT_FALSE(run_kernel(make_node("STFT", 4, 1), {sig, ti64({}, {4}), tf({4}, {1, 1, 1, 1}), ti64({}, {3})}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("STFT", 4, 1), {sig, ti64({}, {0}), Value{}, ti64({}, {4})}).is_ok());
}

TEST(Window, HannHammingBlackman) {
  auto size4 = Value::of(make_tensor<int32_t>({}, {4}));
  auto h = run_kernel(make_node("HannWindow", 1, 1), {size4});
  ASSERT_TRUE(h.is_ok()) << h.status().to_string();
  expect_near(vals((*h)[0]), {0, 0.5f, 1, 0.5f});
  auto hs = run_kernel(make_node("HannWindow", 1, 1, {attr_i("periodic", 0)}), {ti64({}, {5})});
  ASSERT_TRUE(hs.is_ok());
  expect_near(vals((*hs)[0]), {0, 0.5f, 1, 0.5f, 0});
  auto hm = run_kernel(make_node("HammingWindow", 1, 1), {size4});
  ASSERT_TRUE(hm.is_ok());
  expect_near(vals((*hm)[0]), {4.0f / 46, 25.0f / 46, 1, 25.0f / 46});
  auto bl = run_kernel(make_node("BlackmanWindow", 1, 1, {attr_i("output_datatype", 11)}), {size4});
  ASSERT_TRUE(bl.is_ok());
  ASSERT_EQ((*bl)[0].tensor.dtype, DataType::kDouble);
  const double* d = (*bl)[0].tensor.as<double>();
  EXPECT_NEAR(d[0], 0.0, 1e-12);
  EXPECT_NEAR(d[1], 0.34, 1e-12);
  EXPECT_NEAR(d[2], 1.0, 1e-12);
  EXPECT_NEAR(d[3], 0.34, 1e-12);
  EXPECT_FALSE(run_kernel(make_node("HannWindow", 1, 1), {ti64({}, {-1})}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("HannWindow", 1, 1, {attr_i("output_datatype", 8)}), {size4}).is_ok());
}

TEST(MelWeightMatrix, OneBand) {
  // mel(8 Hz) / 3 per step; edges land on spectrogram bins floor(17 * hz / 16) = 0, 2, 5.
  auto i32 = [](int32_t v) { return Value::of(make_tensor<int32_t>({}, {v})); };
  auto r = run_kernel(make_node("MelWeightMatrix", 5, 1), {i32(1), i32(16), i32(16), tf({}, {0}), tf({}, {8})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ((*r)[0].tensor.shape, Shape({9, 1}));
  expect_near(vals((*r)[0]), {0, 0.5f, 1, 2.0f / 3, 1.0f / 3, 0, 0, 0, 0});
  EXPECT_FALSE(run_kernel(make_node("MelWeightMatrix", 5, 1), {i32(0), i32(16), i32(16), tf({}, {0}), tf({}, {8})}).is_ok());
}

std::vector<int64_t> ivals(const Value& v) {
  return std::vector<int64_t>(v.tensor.as<int64_t>(), v.tensor.as<int64_t>() + v.tensor.numel());
}

TEST(NonMaxSuppression, SuppressByIouAndScore) {
  // Boxes 0-2 overlap heavily, 3-4 overlap, 5 is alone.
  auto boxes = tf({1, 6, 4}, {0, 0, 1, 1, 0, 0.1f, 1, 1.1f, 0, -0.1f, 1, 0.9f,
                              0, 10, 1, 11, 0, 10.1f, 1, 11.1f, 0, 100, 1, 101});
  auto scores = tf({1, 1, 6}, {0.9f, 0.75f, 0.6f, 0.95f, 0.5f, 0.3f});
  auto r = run_kernel(make_node("NonMaxSuppression", 5, 1),
                      {boxes, scores, ti64({1}, {3}), tf({1}, {0.5f}), tf({1}, {0.0f})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ((*r)[0].tensor.shape, Shape({3, 3}));
  EXPECT_EQ(ivals((*r)[0]), std::vector<int64_t>({0, 0, 3, 0, 0, 0, 0, 0, 5}));
  // Score threshold 0.4 drops box 5; max 1 per class keeps only box 3.
  auto s = run_kernel(make_node("NonMaxSuppression", 5, 1),
                      {boxes, scores, ti64({1}, {3}), tf({1}, {0.5f}), tf({1}, {0.4f})});
  ASSERT_TRUE(s.is_ok());
  EXPECT_EQ(ivals((*s)[0]), std::vector<int64_t>({0, 0, 3, 0, 0, 0}));
  auto m = run_kernel(make_node("NonMaxSuppression", 3, 1), {boxes, scores, ti64({1}, {1})});
  ASSERT_TRUE(m.is_ok());
  EXPECT_EQ(ivals((*m)[0]), std::vector<int64_t>({0, 0, 3}));
  // No max_output_boxes_per_class: nothing is selected.
  auto z = run_kernel(make_node("NonMaxSuppression", 2, 1), {boxes, scores});
  ASSERT_TRUE(z.is_ok());
  EXPECT_EQ((*z)[0].tensor.shape, Shape({0, 3}));
  // Center format: the same two clusters as (xc, yc, w, h).
  auto c = run_kernel(make_node("NonMaxSuppression", 4, 1, {attr_i("center_point_box", 1)}),
                      {tf({1, 3, 4}, {0.5f, 0.5f, 1, 1, 0.5f, 0.6f, 1, 1, 0.5f, 10.5f, 1, 1}),
                       tf({1, 1, 3}, {0.9f, 0.95f, 0.5f}), ti64({1}, {3}), tf({1}, {0.5f})});
  ASSERT_TRUE(c.is_ok());
  EXPECT_EQ(ivals((*c)[0]), std::vector<int64_t>({0, 0, 1, 0, 0, 2}));
  // Errors: scores not matching boxes; iou_threshold outside [0, 1].
  EXPECT_FALSE(run_kernel(make_node("NonMaxSuppression", 2, 1), {boxes, tf({1, 1, 5}, {1, 1, 1, 1, 1})}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("NonMaxSuppression", 4, 1), {boxes, scores, ti64({1}, {3}), tf({1}, {1.5f})}).is_ok());
}

}  // namespace
}  // namespace petrel::test
