// Identity, Reshape, Flatten, Squeeze, Unsqueeze, Shape, Size, Transpose, DepthToSpace,
// SpaceToDepth, Concat, Split.
#include "ops/tensor/tensor_test_util.hpp"

namespace petrel::test {
namespace {

TEST(TensorIdentity, CopiesStringsAndPassesSequences) {
  auto r = run_kernel(make_node("Identity", 1, 1), {strings({2}, {"a", "bc"})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ((*r)[0].tensor.as<std::string>()[1], "bc");
  Value seq = Value::of_sequence({make_tensor<float>({1}, {3})}, DataType::kFloat);
  auto s = run_kernel(make_node("Identity", 1, 1), {seq});
  ASSERT_TRUE(s.is_ok());
  ASSERT_TRUE((*s)[0].is_sequence());
  EXPECT_EQ((*s)[0].sequence->size(), 1u);
}

TEST(TensorReshape, ZeroCopiesDimAndMinusOneInfers) {
  auto r = run_kernel(make_node("Reshape", 2, 1), {iota_f({2, 3, 4}), ints({0, -1})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ((*r)[0].tensor.shape, (Shape{2, 12}));
  EXPECT_EQ((*r)[0].tensor.as<float>()[23], 23.f);
}

TEST(TensorReshape, AllowZeroKeepsZero) {
  auto r = run_kernel(make_node("Reshape", 2, 1, {attr_i("allowzero", 1)}), {iota_f({0, 3}), ints({3, 0})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ((*r)[0].tensor.shape, (Shape{3, 0}));
}

TEST(TensorReshape, Errors) {
  EXPECT_FALSE(run_kernel(make_node("Reshape", 2, 1), {iota_f({2, 3}), ints({4, -1})}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("Reshape", 2, 1), {iota_f({2, 3}), ints({-1, -1})}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("Reshape", 2, 1), {iota_f({2, 3}), ints({-2, 3})}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("Reshape", 2, 1), {iota_f({2, 3}), ints({7})}).is_ok());
}

TEST(TensorFlatten, AxisZeroAndNegative) {
  auto r = run_kernel(make_node("Flatten", 1, 1, {attr_i("axis", 0)}), {iota_f({2, 3})});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ((*r)[0].tensor.shape, (Shape{1, 6}));
  r = run_kernel(make_node("Flatten", 1, 1, {attr_i("axis", -1)}), {iota_f({2, 3, 4})});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ((*r)[0].tensor.shape, (Shape{6, 4}));
  EXPECT_FALSE(run_kernel(make_node("Flatten", 1, 1, {attr_i("axis", 4)}), {iota_f({2, 3, 4})}).is_ok());
}

TEST(TensorSqueeze, WithAndWithoutAxes) {
  auto r = run_kernel(make_node("Squeeze", 1, 1), {iota_f({1, 3, 1, 2})});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ((*r)[0].tensor.shape, (Shape{3, 2}));
  r = run_kernel(make_node("Squeeze", 2, 1), {iota_f({1, 3, 1, 2}), ints({-2})});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ((*r)[0].tensor.shape, (Shape{1, 3, 2}));
  EXPECT_FALSE(run_kernel(make_node("Squeeze", 2, 1), {iota_f({1, 3}), ints({1})}).is_ok());
}

TEST(TensorUnsqueeze, UnsortedAndNegativeAxes) {
  auto r = run_kernel(make_node("Unsqueeze", 2, 1), {iota_f({3, 4}), ints({3, -5, 2})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ((*r)[0].tensor.shape, (Shape{1, 3, 1, 1, 4}));
  EXPECT_FALSE(run_kernel(make_node("Unsqueeze", 2, 1), {iota_f({3}), ints({0, 0})}).is_ok());
}

TEST(TensorShape, StartEndClamp) {
  auto r = run_kernel(make_node("Shape", 1, 1, {attr_i("start", -2), attr_i("end", 100)}), {iota_f({2, 3, 4})});
  ASSERT_TRUE(r.is_ok());
  expect_tensor<int64_t>((*r)[0], {2}, {3, 4});
  r = run_kernel(make_node("Size", 1, 1), {iota_f({2, 3, 4})});
  ASSERT_TRUE(r.is_ok());
  expect_tensor<int64_t>((*r)[0], {}, {24});
}

TEST(TensorTranspose, DefaultReversesAndPerm) {
  auto r = run_kernel(make_node("Transpose", 1, 1), {iota_f({2, 3})});
  ASSERT_TRUE(r.is_ok());
  expect_tensor<float>((*r)[0], {3, 2}, {0, 3, 1, 4, 2, 5});
  // [2,3,2] with perm (1,0,2): element (j,i,k) = i*6 + j*2 + k
  r = run_kernel(make_node("Transpose", 1, 1, {attr_is("perm", {1, 0, 2})}), {iota_f({2, 3, 2})});
  ASSERT_TRUE(r.is_ok());
  expect_tensor<float>((*r)[0], {3, 2, 2}, {0, 1, 6, 7, 2, 3, 8, 9, 4, 5, 10, 11});
  EXPECT_FALSE(run_kernel(make_node("Transpose", 1, 1, {attr_is("perm", {0, 0})}), {iota_f({2, 3})}).is_ok());
}

TEST(TensorTranspose, BoolAndInt64) {
  auto r = run_kernel(make_node("Transpose", 1, 1), {val<int64_t>({2, 2}, {1, 2, 3, 4})});
  ASSERT_TRUE(r.is_ok());
  expect_tensor<int64_t>((*r)[0], {2, 2}, {1, 3, 2, 4});
}

TEST(TensorDepthToSpace, DcrAndCrdRoundTrip) {
  // [1,4,1,1] -> [1,1,2,2]; DCR takes channel = (bh*2 + bw)*C' + c
  auto r = run_kernel(make_node("DepthToSpace", 1, 1, {attr_i("blocksize", 2)}), {iota_f({1, 4, 1, 1})});
  ASSERT_TRUE(r.is_ok());
  expect_tensor<float>((*r)[0], {1, 1, 2, 2}, {0, 1, 2, 3});
  // 8 channels, C'=2: DCR out channel 0 reads channels 0,2,4,6; CRD reads 0,1,2,3
  r = run_kernel(make_node("DepthToSpace", 1, 1, {attr_i("blocksize", 2)}), {iota_f({1, 8, 1, 1})});
  ASSERT_TRUE(r.is_ok());
  expect_tensor<float>((*r)[0], {1, 2, 2, 2}, {0, 2, 4, 6, 1, 3, 5, 7});
  r = run_kernel(make_node("DepthToSpace", 1, 1, {attr_i("blocksize", 2), attr_s("mode", "CRD")}), {iota_f({1, 8, 1, 1})});
  ASSERT_TRUE(r.is_ok());
  expect_tensor<float>((*r)[0], {1, 2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7});
  // SpaceToDepth inverts DCR DepthToSpace
  auto s = run_kernel(make_node("SpaceToDepth", 1, 1, {attr_i("blocksize", 2)}), {iota_f({1, 1, 2, 4})});
  ASSERT_TRUE(s.is_ok());
  expect_tensor<float>((*s)[0], {1, 4, 1, 2}, {0, 2, 1, 3, 4, 6, 5, 7});
  EXPECT_FALSE(run_kernel(make_node("DepthToSpace", 1, 1, {attr_i("blocksize", 2)}), {iota_f({1, 3, 1, 1})}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("DepthToSpace", 1, 1), {iota_f({1, 4, 1, 1})}).is_ok());
}

TEST(TensorConcat, MiddleAxisWithEmptyInput) {
  auto r = run_kernel(make_node("Concat", 3, 1, {attr_i("axis", -1)}),
                      {iota_f({2, 1}), iota_f({2, 0}), val<float>({2, 2}, {10, 11, 12, 13})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  expect_tensor<float>((*r)[0], {2, 3}, {0, 10, 11, 1, 12, 13});
  EXPECT_FALSE(run_kernel(make_node("Concat", 2, 1, {attr_i("axis", 0)}), {iota_f({2, 1}), iota_f({2, 2})}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("Concat", 1, 1), {iota_f({2})}).is_ok());  // axis is required
}

TEST(TensorSplit, EqualVariableAndNumOutputs) {
  auto r = run_kernel(make_node("Split", 1, 2, {attr_i("axis", 1)}), {iota_f({2, 4})});
  ASSERT_TRUE(r.is_ok());
  expect_tensor<float>((*r)[0], {2, 2}, {0, 1, 4, 5});
  expect_tensor<float>((*r)[1], {2, 2}, {2, 3, 6, 7});
  r = run_kernel(make_node("Split", 2, 2), {iota_f({5}), ints({1, 4})});
  ASSERT_TRUE(r.is_ok());
  expect_tensor<float>((*r)[1], {4}, {1, 2, 3, 4});
  auto n = make_node("Split", 1, 3, {attr_i("num_outputs", 3)});
  n.opset = 18;
  r = run_kernel(n, {iota_f({5})});
  ASSERT_TRUE(r.is_ok());
  expect_tensor<float>((*r)[2], {1}, {4});
  EXPECT_FALSE(run_kernel(make_node("Split", 1, 2), {iota_f({5})}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("Split", 2, 2), {iota_f({5}), ints({2, 2})}).is_ok());
}

}  // namespace
}  // namespace petrel::test
