// Pad, CenterCropPad, Expand, Tile.
#include "ops/tensor/tensor_test_util.hpp"

namespace petrel::test {
namespace {

Result<std::vector<Value>> pad1d(const std::string& mode, std::vector<int64_t> pads, Value x) {
  return run_kernel(make_node("Pad", 2, 1, {attr_s("mode", mode)}), {std::move(x), ints(std::move(pads))});
}

TEST(TensorPad, Modes1D) {
  // x = 1 2 3, pads (before 4, after 2)
  auto x = val<float>({3}, {1, 2, 3});
  auto r = pad1d("reflect", {4, 2}, x);  // numpy: 1 2 3 2 | 1 2 3 | 2 1
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  expect_tensor<float>((*r)[0], {9}, {1, 2, 3, 2, 1, 2, 3, 2, 1});
  r = pad1d("edge", {2, 1}, x);
  ASSERT_TRUE(r.is_ok());
  expect_tensor<float>((*r)[0], {6}, {1, 1, 1, 2, 3, 3});
  r = pad1d("wrap", {3, 2}, x);  // 1 2 3 | 1 2 3 | 1 2
  ASSERT_TRUE(r.is_ok());
  expect_tensor<float>((*r)[0], {8}, {1, 2, 3, 1, 2, 3, 1, 2});
  r = pad1d("constant", {1, -1}, x);  // negative pad crops
  ASSERT_TRUE(r.is_ok());
  expect_tensor<float>((*r)[0], {3}, {0, 1, 2});
}

TEST(TensorPad, ConstantValue2DAndAxes) {
  auto r = run_kernel(make_node("Pad", 3, 1), {val<int32_t>({1, 2}, {5, 6}), ints({1, 0, 0, 1}), val<int32_t>({}, {-1})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  expect_tensor<int32_t>((*r)[0], {2, 3}, {-1, -1, -1, 5, 6, -1});
  // opset-18 axes input: pad only axis -1
  auto n = make_node("Pad", 4, 1);
  n.opset = 18;
  r = run_kernel(n, {val<int32_t>({2, 1}, {5, 6}), ints({1, 1}), Value{}, ints({-1})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  expect_tensor<int32_t>((*r)[0], {2, 3}, {0, 5, 0, 0, 6, 0});
}

TEST(TensorPad, Errors) {
  EXPECT_FALSE(pad1d("constant", {1}, iota_f({3})).is_ok());
  EXPECT_FALSE(pad1d("constant", {-2, -2}, iota_f({3})).is_ok());
  EXPECT_FALSE(pad1d("edge", {1, 1}, iota_f({0})).is_ok());
  EXPECT_FALSE(pad1d("mirror", {1, 1}, iota_f({3})).is_ok());
}

TEST(TensorCenterCropPad, CropOneAxisPadAnother) {
  // [3,2]: crop rows to 1 (middle row), pad cols to 4 (1 zero before, 1 after)
  auto n = make_node("CenterCropPad", 2, 1);
  n.opset = 18;
  auto r = run_kernel(n, {iota_f({3, 2}), ints({1, 4})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  expect_tensor<float>((*r)[0], {1, 4}, {0, 2, 3, 0});
  auto n2 = make_node("CenterCropPad", 2, 1, {attr_is("axes", {1})});
  r = run_kernel(n2, {iota_f({1, 5}), ints({2})});  // crop 5 -> 2 starts at 1
  ASSERT_TRUE(r.is_ok());
  expect_tensor<float>((*r)[0], {1, 2}, {1, 2});
  EXPECT_FALSE(run_kernel(n2, {iota_f({1, 5}), ints({2, 2})}).is_ok());
}

TEST(TensorExpand, BidirectionalBroadcast) {
  // [3,1] expanded with shape [2,1,2] -> [2,3,2]
  auto r = run_kernel(make_node("Expand", 2, 1), {val<float>({3, 1}, {1, 2, 3}), ints({2, 1, 2})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  expect_tensor<float>((*r)[0], {2, 3, 2}, {1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3});
  // shape smaller than the input keeps the input dims
  r = run_kernel(make_node("Expand", 2, 1), {val<uint8_t>({2, 2}, {1, 2, 3, 4}), ints({1})});
  ASSERT_TRUE(r.is_ok());
  expect_tensor<uint8_t>((*r)[0], {2, 2}, {1, 2, 3, 4});
  EXPECT_FALSE(run_kernel(make_node("Expand", 2, 1), {iota_f({3}), ints({2})}).is_ok());
}

TEST(TensorTile, Repeats) {
  auto r = run_kernel(make_node("Tile", 2, 1), {val<int64_t>({2, 2}, {1, 2, 3, 4}), ints({2, 2})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  expect_tensor<int64_t>((*r)[0], {4, 4}, {1, 2, 1, 2, 3, 4, 3, 4, 1, 2, 1, 2, 3, 4, 3, 4});
  r = run_kernel(make_node("Tile", 2, 1), {val<int64_t>({2, 1}, {1, 2}), ints({1, 3})});
  ASSERT_TRUE(r.is_ok());
  expect_tensor<int64_t>((*r)[0], {2, 3}, {1, 1, 1, 2, 2, 2});
  r = run_kernel(make_node("Tile", 2, 1), {iota_f({2}), ints({0})});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ((*r)[0].tensor.shape, (Shape{0}));
  EXPECT_FALSE(run_kernel(make_node("Tile", 2, 1), {iota_f({2}), ints({-1})}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("Tile", 2, 1), {iota_f({2}), ints({1, 1})}).is_ok());
}

}  // namespace
}  // namespace petrel::test
