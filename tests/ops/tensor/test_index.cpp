// Slice, Gather, GatherElements, GatherND, Scatter/ScatterElements, ScatterND.
#include "ops/tensor/tensor_test_util.hpp"

namespace petrel::test {
namespace {

TEST(TensorSlice, NegativeStepAndClamping) {
  // x = 0..9; starts=-1 (-> 9), ends=INT64_MIN (-> before 0), step -3: 9, 6, 3, 0
  auto r = run_kernel(make_node("Slice", 5, 1),
                      {iota_f({10}), ints({-1}), ints({INT64_MIN}), ints({0}), ints({-3})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  expect_tensor<float>((*r)[0], {4}, {9, 6, 3, 0});
  // 2-D, axis 1 only, end beyond the dim
  r = run_kernel(make_node("Slice", 4, 1), {iota_f({2, 4}), ints({1}), ints({1000}), ints({-1})});
  ASSERT_TRUE(r.is_ok());
  expect_tensor<float>((*r)[0], {2, 3}, {1, 2, 3, 5, 6, 7});
  // start past the end: empty
  r = run_kernel(make_node("Slice", 3, 1), {iota_f({4}), ints({10}), ints({20})});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ((*r)[0].tensor.shape, (Shape{0}));
}

TEST(TensorSlice, Errors) {
  EXPECT_FALSE(run_kernel(make_node("Slice", 5, 1), {iota_f({4}), ints({0}), ints({2}), ints({0}), ints({0})}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("Slice", 4, 1), {iota_f({4}), ints({0}), ints({2}), ints({1})}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("Slice", 4, 1), {iota_f({4, 2}), ints({0, 0}), ints({2, 2}), ints({0, -2})}).is_ok());
}

TEST(TensorGather, Axis1NegativeIndicesInt32) {
  auto r = run_kernel(make_node("Gather", 2, 1, {attr_i("axis", 1)}), {iota_f({2, 3}), val<int32_t>({2}, {-1, 0})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  expect_tensor<float>((*r)[0], {2, 2}, {2, 0, 5, 3});
  // scalar index drops the axis
  r = run_kernel(make_node("Gather", 2, 1), {iota_f({2, 3}), val<int64_t>({}, {1})});
  ASSERT_TRUE(r.is_ok());
  expect_tensor<float>((*r)[0], {3}, {3, 4, 5});
  EXPECT_FALSE(run_kernel(make_node("Gather", 2, 1), {iota_f({2, 3}), ints({2})}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("Gather", 2, 1), {iota_f({2, 3}), ints({-3})}).is_ok());
}

TEST(TensorGather, Strings) {
  auto r = run_kernel(make_node("Gather", 2, 1), {strings({3}, {"x", "y", "z"}), ints({2, 2, 0})});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ((*r)[0].tensor.as<std::string>()[0], "z");
  EXPECT_EQ((*r)[0].tensor.as<std::string>()[2], "x");
}

TEST(TensorGatherElements, Axis0) {
  // out[i][j] = x[idx[i][j]][j]
  auto r = run_kernel(make_node("GatherElements", 2, 1), {iota_f({3, 2}), ints({1, 2})});
  EXPECT_FALSE(r.is_ok());  // rank mismatch
  r = run_kernel(make_node("GatherElements", 2, 1), {iota_f({3, 2}), val<int64_t>({1, 2}, {2, -3})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  expect_tensor<float>((*r)[0], {1, 2}, {4, 1});
  EXPECT_FALSE(run_kernel(make_node("GatherElements", 2, 1), {iota_f({3, 2}), val<int64_t>({1, 2}, {3, 0})}).is_ok());
}

TEST(TensorGatherND, BatchDims) {
  // data [2,2,2]: batch 0 picks [1] -> row {2,3}; batch 1 picks [0] -> {4,5}
  auto r = run_kernel(make_node("GatherND", 2, 1, {attr_i("batch_dims", 1)}), {iota_f({2, 2, 2}), val<int64_t>({2, 1}, {1, 0})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  expect_tensor<float>((*r)[0], {2, 2}, {2, 3, 4, 5});
  r = run_kernel(make_node("GatherND", 2, 1), {iota_f({2, 2}), val<int64_t>({2, 2}, {0, 1, 1, -2})});
  ASSERT_TRUE(r.is_ok());
  expect_tensor<float>((*r)[0], {2}, {1, 2});
  EXPECT_FALSE(run_kernel(make_node("GatherND", 2, 1), {iota_f({2, 2}), val<int64_t>({1, 2}, {0, 2})}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("GatherND", 2, 1), {iota_f({2, 2}), val<int64_t>({1, 3}, {0, 0, 0})}).is_ok());
}

TEST(TensorScatterElements, ReductionsAndDuplicates) {
  auto data = val<float>({1, 5}, {1, 2, 3, 4, 5});
  auto idx = val<int64_t>({1, 2}, {1, 1});
  auto upd = val<float>({1, 2}, {10, 20});
  auto r = run_kernel(make_node("ScatterElements", 3, 1, {attr_i("axis", 1)}), {data, idx, upd});
  ASSERT_TRUE(r.is_ok());
  expect_tensor<float>((*r)[0], {1, 5}, {1, 20, 3, 4, 5});  // last write wins
  r = run_kernel(make_node("ScatterElements", 3, 1, {attr_i("axis", 1), attr_s("reduction", "add")}), {data, idx, upd});
  ASSERT_TRUE(r.is_ok());
  expect_tensor<float>((*r)[0], {1, 5}, {1, 32, 3, 4, 5});
  r = run_kernel(make_node("ScatterElements", 3, 1, {attr_i("axis", 1), attr_s("reduction", "mul")}), {data, idx, upd});
  ASSERT_TRUE(r.is_ok());
  expect_tensor<float>((*r)[0], {1, 5}, {1, 400, 3, 4, 5});
  r = run_kernel(make_node("ScatterElements", 3, 1, {attr_i("axis", 1), attr_s("reduction", "max")}),
                 {data, val<int64_t>({1, 2}, {-1, 0}), val<float>({1, 2}, {0, 7})});
  ASSERT_TRUE(r.is_ok());
  expect_tensor<float>((*r)[0], {1, 5}, {7, 2, 3, 4, 5});
  r = run_kernel(make_node("Scatter", 3, 1, {attr_i("axis", 0)}),
                 {val<int32_t>({2, 2}, {1, 2, 3, 4}), val<int64_t>({1, 2}, {1, 0}), val<int32_t>({1, 2}, {9, 8})});
  ASSERT_TRUE(r.is_ok());
  expect_tensor<int32_t>((*r)[0], {2, 2}, {1, 8, 9, 4});
  EXPECT_FALSE(run_kernel(make_node("ScatterElements", 3, 1, {attr_i("axis", 1)}), {data, val<int64_t>({1, 1}, {5}), val<float>({1, 1}, {0})}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("ScatterElements", 3, 1, {attr_s("reduction", "sub")}), {data, idx, upd}).is_ok());
}

TEST(TensorScatterND, SlicesAndAdd) {
  // data [2,2]: replace row 1; then add into element (0,1) twice
  auto r = run_kernel(make_node("ScatterND", 3, 1), {iota_f({2, 2}), val<int64_t>({1, 1}, {1}), val<float>({1, 2}, {8, 9})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  expect_tensor<float>((*r)[0], {2, 2}, {0, 1, 8, 9});
  r = run_kernel(make_node("ScatterND", 3, 1, {attr_s("reduction", "add")}),
                 {iota_f({2, 2}), val<int64_t>({2, 2}, {0, 1, 0, 1}), val<float>({2}, {10, 100})});
  ASSERT_TRUE(r.is_ok());
  expect_tensor<float>((*r)[0], {2, 2}, {0, 111, 2, 3});
  EXPECT_FALSE(run_kernel(make_node("ScatterND", 3, 1), {iota_f({2, 2}), val<int64_t>({1, 1}, {2}), val<float>({1, 2}, {8, 9})}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("ScatterND", 3, 1), {iota_f({2, 2}), val<int64_t>({1, 1}, {1}), val<float>({1, 3}, {8, 9, 0})}).is_ok());
}

}  // namespace
}  // namespace petrel::test
