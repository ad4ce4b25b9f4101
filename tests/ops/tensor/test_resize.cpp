// Resize: modes, coordinate transformations, scales vs sizes, old (Upsample) form.
#include "ops/tensor/tensor_test_util.hpp"

namespace petrel::test {
namespace {

Value scales(std::vector<float> s) {
  const int64_t n = int64_t(s.size());
  return val<float>({n}, std::move(s));
}

TEST(TensorResize, NearestHalfPixelScales) {
  auto r = run_kernel(make_node("Resize", 3, 1), {val<float>({1, 2}, {1, 2}), Value{}, scales({1, 2})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  expect_tensor<float>((*r)[0], {1, 4}, {1, 1, 2, 2});
}

TEST(TensorResize, LinearAlignCornersAndHalfPixelSizes) {
  auto x = val<float>({1, 2}, {0, 3});
  auto r = run_kernel(make_node("Resize", 4, 1, {attr_s("mode", "linear"), attr_s("coordinate_transformation_mode", "align_corners")}),
                      {x, Value{}, Value{}, ints({1, 4})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  expect_tensor<float>((*r)[0], {1, 4}, {0, 1, 2, 3});
  // half_pixel: x_ori = -0.25, 0.25, 0.75, 1.25 (edge-clamped)
  r = run_kernel(make_node("Resize", 4, 1, {attr_s("mode", "linear")}), {x, Value{}, Value{}, ints({1, 4})});
  ASSERT_TRUE(r.is_ok());
  expect_tensor<float>((*r)[0], {1, 4}, {0, 0.75f, 2.25f, 3});
}

TEST(TensorResize, CubicAsymmetricClampsAtEdge) {
  // ratio 0.5 weights (A=-0.75): -0.09375, 0.59375, 0.59375, -0.09375
  auto r = run_kernel(make_node("Resize", 3, 1, {attr_s("mode", "cubic"), attr_s("coordinate_transformation_mode", "asymmetric")}),
                      {val<float>({1, 4}, {0, 1, 2, 3}), Value{}, scales({1, 2})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  expect_tensor<float>((*r)[0], {1, 8}, {0, 0.40625f, 1, 1.5f, 2, 2.59375f, 3, 3.09375f});
}

TEST(TensorResize, TfCropAndResizeExtrapolates) {
  auto r = run_kernel(make_node("Resize", 4, 1, {attr_s("mode", "linear"), attr_s("coordinate_transformation_mode", "tf_crop_and_resize"),
                                                 attr_f("extrapolation_value", 9)}),
                      {val<float>({1, 3}, {0, 1, 2}), val<float>({4}, {0, 0, 1, 1.5f}), Value{}, ints({1, 3})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  expect_tensor<float>((*r)[0], {1, 3}, {0, 1.5f, 9});
}

TEST(TensorResize, OldFormNearestFloorAndIntegers) {
  auto n = make_node("Resize", 3, 1);
  n.opset = 9;  // Upsample converted by the loader: asymmetric + floor
  auto r = run_kernel(n, {val<int64_t>({1, 2}, {INT64_MAX, 2}), Value{}, scales({1, 3})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  expect_tensor<int64_t>((*r)[0], {1, 6}, {INT64_MAX, INT64_MAX, INT64_MAX, 2, 2, 2});
}

TEST(TensorResize, Opset18AxesAndAspectRatio) {
  auto n = make_node("Resize", 4, 1, {attr_is("axes", {1}), attr_s("mode", "nearest")});
  n.opset = 18;
  auto r = run_kernel(n, {val<float>({1, 2}, {1, 2}), Value{}, Value{}, ints({4})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  expect_tensor<float>((*r)[0], {1, 4}, {1, 1, 2, 2});
  // not_larger: one scale min(4/2, 3/2) = 1.5 for both axes -> [3, 3]
  auto m = make_node("Resize", 4, 1, {attr_s("keep_aspect_ratio_policy", "not_larger")});
  m.opset = 18;
  r = run_kernel(m, {iota_f({2, 2}), Value{}, Value{}, ints({4, 3})});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ((*r)[0].tensor.shape, (Shape{3, 3}));
}

TEST(TensorResize, LinearAntialiasDownscale) {
  // scale 0.5: the triangle filter spans 4 taps with weights 1/8, 3/8, 3/8, 1/8
  auto n = make_node("Resize", 3, 1, {attr_s("mode", "linear"), attr_i("antialias", 1)});
  n.opset = 18;
  auto r = run_kernel(n, {val<float>({4}, {0, 1, 2, 3}), Value{}, scales({0.5f})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  expect_tensor<float>((*r)[0], {2}, {0.625f, 2.375f});
}

TEST(TensorResize, Float16Linear) {
  auto x = val<Float16>({2}, {Float16(0.f), Float16(3.f)});
  auto r = run_kernel(make_node("Resize", 4, 1, {attr_s("mode", "linear"), attr_s("coordinate_transformation_mode", "align_corners")}),
                      {x, Value{}, Value{}, ints({4})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_EQ((*r)[0].tensor.dtype, DataType::kFloat16);
  EXPECT_EQ(float((*r)[0].tensor.as<Float16>()[2]), 2.f);
}

TEST(TensorResize, Errors) {
  auto x = iota_f({1, 2});
  EXPECT_FALSE(run_kernel(make_node("Resize", 4, 1), {x, Value{}, scales({1, 2}), ints({1, 4})}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("Resize", 3, 1), {x, Value{}, scales({2})}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("Resize", 3, 1), {x, Value{}, scales({1, -2})}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("Resize", 3, 1, {attr_s("mode", "area")}), {x, Value{}, scales({1, 2})}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("Resize", 1, 1), {x}).is_ok());
}

}  // namespace
}  // namespace petrel::test
