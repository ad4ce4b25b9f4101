// Sum Mean Max Min, Where, Clip.
#include <cmath>
#include <limits>

#include "ops/op_test_util.hpp"

namespace petrel {
namespace {

using test::make_node;
using test::make_tensor;
using test::run_kernel;

template <typename T> std::vector<T> values(const Tensor& t) {
  return std::vector<T>(t.as<T>(), t.as<T>() + t.numel());
}

TEST(ElementwiseVariadic, SumMeanMaxMin) {
  std::vector<Value> in{Value::of(make_tensor<float>({3}, {3, 2, 1})), Value::of(make_tensor<float>({3}, {1, 4, 4})),
                        Value::of(make_tensor<float>({3}, {2, 3, 7}))};
  auto sum = run_kernel(make_node("Sum", 3, 1), in);
  ASSERT_TRUE(sum.is_ok());
  EXPECT_EQ(values<float>((*sum)[0].tensor), (std::vector<float>{6, 9, 12}));
  auto mean = run_kernel(make_node("Mean", 3, 1), in);
  EXPECT_EQ(values<float>((*mean)[0].tensor), (std::vector<float>{2, 3, 4}));
  auto mx = run_kernel(make_node("Max", 3, 1), in);
  EXPECT_EQ(values<float>((*mx)[0].tensor), (std::vector<float>{3, 4, 7}));
  auto mn = run_kernel(make_node("Min", 3, 1), in);
  EXPECT_EQ(values<float>((*mn)[0].tensor), (std::vector<float>{1, 2, 1}));
  auto one = run_kernel(make_node("Mean", 1, 1), {in[0]});
  EXPECT_EQ(values<float>((*one)[0].tensor), (std::vector<float>{3, 2, 1}));
}

TEST(ElementwiseVariadic, BroadcastAndIntegers) {
  // [2,1] , [3], scalar -> [2,3]
  auto r = run_kernel(make_node("Max", 3, 1), {Value::of(make_tensor<int32_t>({2, 1}, {1, 10})),
                                               Value::of(make_tensor<int32_t>({3}, {0, 5, 20})),
                                               Value::of(make_tensor<int32_t>({}, {4}))});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ((*r)[0].tensor.shape, (Shape{2, 3}));
  EXPECT_EQ(values<int32_t>((*r)[0].tensor), (std::vector<int32_t>{4, 5, 20, 10, 10, 20}));
  auto m = run_kernel(make_node("Min", 2, 1), {Value::of(make_tensor<uint64_t>({2}, {1, 9})),
                                               Value::of(make_tensor<uint64_t>({1}, {5}))});
  EXPECT_EQ(values<uint64_t>((*m)[0].tensor), (std::vector<uint64_t>{1, 5}));
  // NaN propagates in Max like numpy.maximum.
  float nan = std::numeric_limits<float>::quiet_NaN();
  auto n = run_kernel(make_node("Max", 2, 1), {Value::of(make_tensor<float>({2}, {nan, 1})),
                                               Value::of(make_tensor<float>({2}, {1, nan}))});
  EXPECT_TRUE(std::isnan((*n)[0].tensor.as<float>()[0]));
  EXPECT_TRUE(std::isnan((*n)[0].tensor.as<float>()[1]));
  // Errors: Sum on ints, mixed dtypes, incompatible shapes.
  EXPECT_FALSE(run_kernel(make_node("Sum", 1, 1), {Value::of(make_tensor<int32_t>({1}, {1}))}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("Max", 2, 1), {Value::of(make_tensor<float>({1}, {1})),
                                                   Value::of(make_tensor<double>({1}, {1}))}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("Sum", 2, 1), {Value::of(make_tensor<float>({2}, {1, 2})),
                                                   Value::of(make_tensor<float>({3}, {1, 2, 3}))}).is_ok());
}

TEST(ElementwiseVariadic, Float16Sum) {
  auto r = run_kernel(make_node("Sum", 2, 1), {Value::of(make_tensor<Float16>({2}, {Float16(1.5f), Float16(2.0f)})),
                                               Value::of(make_tensor<Float16>({1}, {Float16(0.25f)}))});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(float((*r)[0].tensor.as<Float16>()[0]), 1.75f);
  EXPECT_EQ(float((*r)[0].tensor.as<Float16>()[1]), 2.25f);
}

TEST(ElementwiseWhere, Broadcast) {
  auto c = make_tensor<bool>({2, 1}, {true, false});
  auto x = make_tensor<int64_t>({3}, {1, 2, 3});
  auto y = make_tensor<int64_t>({}, {-1});
  auto r = run_kernel(make_node("Where", 3, 1), {Value::of(c), Value::of(x), Value::of(y)});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ((*r)[0].tensor.shape, (Shape{2, 3}));
  EXPECT_EQ(values<int64_t>((*r)[0].tensor), (std::vector<int64_t>{1, 2, 3, -1, -1, -1}));
  // Strings.
  auto xs = Tensor::allocate(DataType::kString, {2});
  xs->as<std::string>()[0] = "a";
  xs->as<std::string>()[1] = "b";
  auto ys = Tensor::allocate(DataType::kString, {1});
  ys->as<std::string>()[0] = "z";
  auto c2 = make_tensor<bool>({2}, {false, true});
  auto s = run_kernel(make_node("Where", 3, 1), {Value::of(c2), Value::of(*xs), Value::of(*ys)});
  ASSERT_TRUE(s.is_ok());
  EXPECT_EQ((*s)[0].tensor.as<std::string>()[0], "z");
  EXPECT_EQ((*s)[0].tensor.as<std::string>()[1], "b");
  // Condition must be bool.
  EXPECT_FALSE(run_kernel(make_node("Where", 3, 1), {Value::of(x), Value::of(x), Value::of(y)}).is_ok());
}

TEST(ElementwiseClip, Bounds) {
  auto x = make_tensor<float>({5}, {-3, -1, 0, 2, 9});
  auto lo = make_tensor<float>({}, {-1});
  auto hi = make_tensor<float>({}, {2});
  auto both = run_kernel(make_node("Clip", 3, 1), {Value::of(x), Value::of(lo), Value::of(hi)});
  ASSERT_TRUE(both.is_ok());
  EXPECT_EQ(values<float>((*both)[0].tensor), (std::vector<float>{-1, -1, 0, 2, 2}));
  auto only_hi = run_kernel(make_node("Clip", 3, 1), {Value::of(x), Value{}, Value::of(hi)});
  ASSERT_TRUE(only_hi.is_ok());
  EXPECT_EQ(values<float>((*only_hi)[0].tensor), (std::vector<float>{-3, -1, 0, 2, 2}));
  auto none = run_kernel(make_node("Clip", 1, 1), {Value::of(x)});
  EXPECT_EQ(values<float>((*none)[0].tensor), (std::vector<float>{-3, -1, 0, 2, 9}));
  auto xi = make_tensor<int8_t>({3}, {-128, 5, 127});
  auto li = make_tensor<int8_t>({}, {0});
  auto ri = run_kernel(make_node("Clip", 2, 1), {Value::of(xi), Value::of(li)});
  ASSERT_TRUE(ri.is_ok());
  EXPECT_EQ(values<int8_t>((*ri)[0].tensor), (std::vector<int8_t>{0, 5, 127}));
  // min must be a scalar of X's dtype.
  EXPECT_FALSE(run_kernel(make_node("Clip", 2, 1), {Value::of(x), Value::of(make_tensor<float>({2}, {0, 1}))}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("Clip", 2, 1), {Value::of(x), Value::of(li)}).is_ok());
}

}  // namespace
}  // namespace petrel
