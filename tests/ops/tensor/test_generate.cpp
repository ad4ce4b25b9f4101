// ConstantOfShape, Range, OneHot, EyeLike, Trilu, ReverseSequence, NonZero, Compress, Unique.
#include <cmath>

#include "ops/tensor/tensor_test_util.hpp"

namespace petrel::test {
namespace {

TEST(TensorConstantOfShape, DefaultAndTypedValue) {
  auto r = run_kernel(make_node("ConstantOfShape", 1, 1), {ints({2, 1})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  expect_tensor<float>((*r)[0], {2, 1}, {0, 0});
  Attribute a;
  a.name = "value";
  a.type = AttrType::kTensor;
  a.t = make_tensor<int64_t>({1}, {7});
  r = run_kernel(make_node("ConstantOfShape", 1, 1, {a}), {ints({3})});
  ASSERT_TRUE(r.is_ok());
  expect_tensor<int64_t>((*r)[0], {3}, {7, 7, 7});
  r = run_kernel(make_node("ConstantOfShape", 1, 1, {a}), {ints({})});  // empty shape: scalar
  ASSERT_TRUE(r.is_ok());
  expect_tensor<int64_t>((*r)[0], {}, {7});
  EXPECT_FALSE(run_kernel(make_node("ConstantOfShape", 1, 1), {ints({-1})}).is_ok());
  a.t = make_tensor<int64_t>({2}, {7, 8});
  EXPECT_FALSE(run_kernel(make_node("ConstantOfShape", 1, 1, {a}), {ints({3})}).is_ok());
}

TEST(TensorRange, IntAndFloat) {
  auto r = run_kernel(make_node("Range", 3, 1), {val<int32_t>({}, {10}), val<int32_t>({}, {6}), val<int32_t>({}, {-3})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  expect_tensor<int32_t>((*r)[0], {2}, {10, 7});
  r = run_kernel(make_node("Range", 3, 1), {val<float>({}, {0}), val<float>({}, {1}), val<float>({}, {0.25f})});
  ASSERT_TRUE(r.is_ok());
  expect_tensor<float>((*r)[0], {4}, {0, 0.25f, 0.5f, 0.75f});
  r = run_kernel(make_node("Range", 3, 1), {val<int64_t>({}, {INT64_MIN}), val<int64_t>({}, {INT64_MAX}), val<int64_t>({}, {INT64_MAX})});
  ASSERT_TRUE(r.is_ok());  // span 2^64 - 1 with step 2^63 - 1: three elements, no overflow
  expect_tensor<int64_t>((*r)[0], {3}, {INT64_MIN, -1, INT64_MAX - 1});
  r = run_kernel(make_node("Range", 3, 1), {val<int64_t>({}, {5}), val<int64_t>({}, {1}), val<int64_t>({}, {1})});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ((*r)[0].tensor.shape, (Shape{0}));
  EXPECT_FALSE(run_kernel(make_node("Range", 3, 1), {val<int64_t>({}, {0}), val<int64_t>({}, {1}), val<int64_t>({}, {0})}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("Range", 3, 1), {val<float>({}, {0}), val<float>({}, {1e30f}), val<float>({}, {1e-30f})}).is_ok());
}

TEST(TensorOneHot, AxisAndNegativeIndices) {
  // indices [0, -1, 5] depth 3, axis 0: out [3 depth, 3 indices]; 5 is out of range -> all off
  auto r = run_kernel(make_node("OneHot", 3, 1, {attr_i("axis", 0)}),
                      {ints({0, -1, 5}), val<float>({}, {3}), val<int32_t>({2}, {-1, 1})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  expect_tensor<int32_t>((*r)[0], {3, 3}, {1, -1, -1, -1, -1, -1, -1, 1, -1});
  EXPECT_FALSE(run_kernel(make_node("OneHot", 3, 1), {ints({0}), val<int64_t>({}, {0}), val<float>({2}, {0, 1})}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("OneHot", 3, 1, {attr_i("axis", 3)}), {ints({0}), val<int64_t>({}, {2}), val<float>({2}, {0, 1})}).is_ok());
}

TEST(TensorEyeLike, OffDiagonalAndDtype) {
  auto r = run_kernel(make_node("EyeLike", 1, 1, {attr_i("k", 1), attr_i("dtype", int64_t(DataType::kInt32))}), {iota_f({2, 3})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  expect_tensor<int32_t>((*r)[0], {2, 3}, {0, 1, 0, 0, 0, 1});
  EXPECT_FALSE(run_kernel(make_node("EyeLike", 1, 1), {iota_f({2})}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("EyeLike", 1, 1, {attr_i("dtype", 99)}), {iota_f({2, 2})}).is_ok());
}

TEST(TensorTrilu, UpperLowerWithK) {
  auto r = run_kernel(make_node("Trilu", 2, 1), {iota_f({3, 3}), val<int64_t>({}, {1})});
  ASSERT_TRUE(r.is_ok());
  expect_tensor<float>((*r)[0], {3, 3}, {0, 1, 2, 0, 0, 5, 0, 0, 0});
  r = run_kernel(make_node("Trilu", 2, 1, {attr_i("upper", 0)}), {iota_f({2, 3}), val<int64_t>({}, {-1})});
  ASSERT_TRUE(r.is_ok());
  expect_tensor<float>((*r)[0], {2, 3}, {0, 0, 0, 3, 0, 0});
  r = run_kernel(make_node("Trilu", 1, 1, {attr_i("upper", 0)}), {iota_f({2, 2, 2})});  // batched
  ASSERT_TRUE(r.is_ok());
  expect_tensor<float>((*r)[0], {2, 2, 2}, {0, 0, 2, 3, 4, 0, 6, 7});
  EXPECT_FALSE(run_kernel(make_node("Trilu", 1, 1), {iota_f({3})}).is_ok());
}

TEST(TensorReverseSequence, TimeMajor) {
  // [time 3, batch 2]: batch 0 reverses 3 steps, batch 1 reverses 2
  auto r = run_kernel(make_node("ReverseSequence", 2, 1), {iota_f({3, 2}), ints({3, 2})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  expect_tensor<float>((*r)[0], {3, 2}, {4, 3, 2, 1, 0, 5});
  EXPECT_FALSE(run_kernel(make_node("ReverseSequence", 2, 1), {iota_f({3, 2}), ints({4, 2})}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("ReverseSequence", 2, 1, {attr_i("batch_axis", 0)}), {iota_f({3, 2}), ints({1, 1})}).is_ok());
}

TEST(TensorNonZero, BoolAndNaN) {
  auto r = run_kernel(make_node("NonZero", 1, 1), {val<bool>({2, 2}, {true, false, true, true})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  expect_tensor<int64_t>((*r)[0], {2, 3}, {0, 1, 1, 0, 0, 1});
  r = run_kernel(make_node("NonZero", 1, 1), {val<float>({3}, {0.f, NAN, -0.f})});
  ASSERT_TRUE(r.is_ok());
  expect_tensor<int64_t>((*r)[0], {1, 1}, {1});
}

TEST(TensorCompress, AxisAndFlat) {
  auto r = run_kernel(make_node("Compress", 2, 1, {attr_i("axis", 1)}), {iota_f({2, 3}), val<bool>({2}, {false, true})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  expect_tensor<float>((*r)[0], {2, 1}, {1, 4});
  r = run_kernel(make_node("Compress", 2, 1), {iota_f({2, 3}), val<bool>({6}, {true, false, false, false, false, true})});
  ASSERT_TRUE(r.is_ok());
  expect_tensor<float>((*r)[0], {2}, {0, 5});
  EXPECT_FALSE(run_kernel(make_node("Compress", 2, 1, {attr_i("axis", 2)}), {iota_f({2, 3}), val<bool>({1}, {true})}).is_ok());
}

TEST(TensorUnique, SortedUnsortedAxis) {
  auto x = val<int32_t>({6}, {3, 1, 3, 2, 1, 3});
  auto r = run_kernel(make_node("Unique", 1, 4), {x});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  expect_tensor<int32_t>((*r)[0], {3}, {1, 2, 3});
  expect_tensor<int64_t>((*r)[1], {3}, {1, 3, 0});
  expect_tensor<int64_t>((*r)[2], {6}, {2, 0, 2, 1, 0, 2});
  expect_tensor<int64_t>((*r)[3], {3}, {2, 1, 3});
  r = run_kernel(make_node("Unique", 1, 4, {attr_i("sorted", 0)}), {x});
  ASSERT_TRUE(r.is_ok());
  expect_tensor<int32_t>((*r)[0], {3}, {3, 1, 2});
  expect_tensor<int64_t>((*r)[1], {3}, {0, 1, 3});
  expect_tensor<int64_t>((*r)[2], {6}, {0, 1, 0, 2, 1, 0});
  expect_tensor<int64_t>((*r)[3], {3}, {3, 2, 1});
  // rows of [[1,0],[0,1],[1,0]] along axis 0
  r = run_kernel(make_node("Unique", 1, 1, {attr_i("axis", 0)}), {val<float>({3, 2}, {1, 0, 0, 1, 1, 0})});
  ASSERT_TRUE(r.is_ok());
  expect_tensor<float>((*r)[0], {2, 2}, {0, 1, 1, 0});
  auto s = run_kernel(make_node("Unique", 1, 1), {strings({3}, {"b", "a", "b"})});
  ASSERT_TRUE(s.is_ok());
  EXPECT_EQ((*s)[0].tensor.shape, (Shape{2}));
  EXPECT_EQ((*s)[0].tensor.as<std::string>()[0], "a");
  EXPECT_FALSE(run_kernel(make_node("Unique", 1, 1, {attr_i("axis", 1)}), {x}).is_ok());
}

}  // namespace
}  // namespace petrel::test
