// Reduce* and ArgMax/ArgMin.
#include <cmath>
#include <limits>

#include "ops/op_test_util.hpp"

namespace petrel::test {
namespace {

template <typename T> std::vector<T> values(const Value& v) {
  const Tensor& t = v.tensor;
  return std::vector<T>(t.as<T>(), t.as<T>() + t.numel());
}

Value f32(Shape s, std::vector<float> v) { return Value::of(make_tensor<float>(std::move(s), std::move(v))); }
Value i64(Shape s, std::vector<int64_t> v) { return Value::of(make_tensor<int64_t>(std::move(s), std::move(v))); }

Result<std::vector<Value>> reduce(const std::string& op, Value x, std::vector<Attribute> attrs, Value axes = {}) {
  int n_in = axes.is_empty() ? 1 : 2;
  std::vector<Value> in{std::move(x)};
  if (n_in == 2) in.push_back(std::move(axes));
  return run_kernel(make_node(op, n_in, 1, std::move(attrs)), in);
}

TEST(Reduce, SumAxesInputAndNoop) {
  auto x = f32({2, 2}, {1, 2, 3, 4});
  auto out = reduce("ReduceSum", x, {}, i64({1}, {1}));
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  EXPECT_EQ((*out)[0].tensor.shape, (Shape{2, 1}));
  EXPECT_EQ(values<float>((*out)[0]), (std::vector<float>{3, 7}));
  out = reduce("ReduceSum", x, {attr_i("keepdims", 0)});  // no axes: everything
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ((*out)[0].tensor.shape, (Shape{}));
  EXPECT_EQ(values<float>((*out)[0]), (std::vector<float>{10}));
  out = reduce("ReduceSum", x, {attr_i("noop_with_empty_axes", 1)}, i64({0}, {}));
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ((*out)[0].tensor.shape, (Shape{2, 2}));
  EXPECT_EQ(values<float>((*out)[0]), (std::vector<float>{1, 2, 3, 4}));
  out = reduce("ReduceSum", x, {}, i64({0}, {}));  // empty axes without noop: everything
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ((*out)[0].tensor.shape, (Shape{1, 1}));
}

TEST(Reduce, NonContiguousAxes) {
  std::vector<float> v(12);
  for (int i = 0; i < 12; ++i) v[size_t(i)] = float(i);
  auto out = reduce("ReduceSum", f32({2, 3, 2}, v), {attr_i("keepdims", 0)}, i64({2}, {0, -1}));
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(values<float>((*out)[0]), (std::vector<float>{14, 22, 30}));
  // Opset-18 form on a non-Sum op: axes as an input.
  out = reduce("ReduceMax", f32({2, 3, 2}, v), {}, i64({1}, {1}));
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ((*out)[0].tensor.shape, (Shape{2, 1, 2}));
  EXPECT_EQ(values<float>((*out)[0]), (std::vector<float>{4, 5, 10, 11}));
}

TEST(Reduce, AllOps) {
  auto x = f32({2, 2}, {1, -2, 3, 4});
  struct Case { const char* op; std::vector<float> want; };
  const Case cases[] = {
      {"ReduceMean", {2, 1}}, {"ReduceMax", {3, 4}}, {"ReduceMin", {1, -2}}, {"ReduceProd", {3, -8}},
      {"ReduceL1", {4, 6}}, {"ReduceL2", {std::sqrt(10.f), std::sqrt(20.f)}}, {"ReduceSumSquare", {10, 20}},
      {"ReduceLogSum", {std::log(4.f), std::log(2.f)}},
      {"ReduceLogSumExp", {std::log(std::exp(1.f) + std::exp(3.f)), std::log(std::exp(-2.f) + std::exp(4.f))}}};
  for (const auto& c : cases) {
    auto out = reduce(c.op, x, {attr_is("axes", {0}), attr_i("keepdims", 0)});
    ASSERT_TRUE(out.is_ok()) << c.op << ": " << out.status().to_string();
    auto got = values<float>((*out)[0]);
    ASSERT_EQ(got.size(), 2u) << c.op;
    for (size_t i = 0; i < 2; ++i) EXPECT_NEAR(got[i], c.want[i], 1e-5) << c.op;
  }
  // Large inputs stay finite in LogSumExp.
  auto out = reduce("ReduceLogSumExp", f32({2}, {1000, 1000}), {attr_i("keepdims", 0)});
  ASSERT_TRUE(out.is_ok());
  EXPECT_NEAR(values<float>((*out)[0])[0], 1000 + std::log(2.f), 1e-3);
}

TEST(Reduce, IntegerTypes) {
  auto out = reduce("ReduceMean", i64({2}, {1, 2}), {});
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(values<int64_t>((*out)[0]), (std::vector<int64_t>{1}));  // truncated like numpy astype
  auto x = Value::of(make_tensor<int32_t>({3}, {5, -7, 2}));
  out = reduce("ReduceSum", x, {});
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ((*out)[0].tensor.dtype, DataType::kInt32);
  EXPECT_EQ(values<int32_t>((*out)[0]), (std::vector<int32_t>{0}));
  out = reduce("ReduceMin", x, {});
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(values<int32_t>((*out)[0]), (std::vector<int32_t>{-7}));
  out = reduce("ReduceL1", x, {});
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(values<int32_t>((*out)[0]), (std::vector<int32_t>{14}));
}

TEST(Reduce, EmptySet) {
  auto x = f32({2, 0}, {});
  const float inf = std::numeric_limits<float>::infinity();
  struct Case { const char* op; float want; };
  for (const Case& c : {Case{"ReduceSum", 0.f}, Case{"ReduceProd", 1.f}, Case{"ReduceMax", -inf},
                        Case{"ReduceMin", inf}, Case{"ReduceL2", 0.f}, Case{"ReduceLogSum", -inf},
                        Case{"ReduceLogSumExp", -inf}}) {
    auto out = reduce(c.op, x, {attr_is("axes", {1})});
    ASSERT_TRUE(out.is_ok()) << c.op;
    EXPECT_EQ((*out)[0].tensor.shape, (Shape{2, 1}));
    EXPECT_EQ(values<float>((*out)[0]), (std::vector<float>{c.want, c.want})) << c.op;
  }
  auto out = reduce("ReduceMean", x, {attr_is("axes", {1})});
  ASSERT_TRUE(out.is_ok());
  EXPECT_TRUE(std::isnan(values<float>((*out)[0])[0]));
  out = reduce("ReduceSum", x, {attr_is("axes", {0})});  // reduce a non-empty axis of an empty tensor
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ((*out)[0].tensor.shape, (Shape{1, 0}));
}

TEST(Reduce, Errors) {
  auto x = f32({2, 2}, {1, 2, 3, 4});
  EXPECT_FALSE(reduce("ReduceSum", x, {}, i64({1}, {2})).is_ok());
  EXPECT_FALSE(reduce("ReduceMax", x, {attr_is("axes", {-3})}).is_ok());
  EXPECT_FALSE(reduce("ReduceMean", x, {attr_f("keepdims", 1.f)}).is_ok());
  Value b = Value::of(make_tensor<bool>({1}, {true}));
  EXPECT_FALSE(reduce("ReduceSum", b, {}).is_ok());
}

Result<std::vector<Value>> arg(const char* op, Value x, std::vector<Attribute> attrs) {
  return run_kernel(make_node(op, 1, 1, std::move(attrs)), {std::move(x)});
}

TEST(ArgMinMax, SpecExamples) {
  auto x = f32({2, 2}, {2, 1, 3, 10});
  auto out = arg("ArgMax", x, {});
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ((*out)[0].tensor.shape, (Shape{1, 2}));
  EXPECT_EQ(values<int64_t>((*out)[0]), (std::vector<int64_t>{1, 1}));
  out = arg("ArgMin", x, {attr_i("axis", -1), attr_i("keepdims", 0)});
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ((*out)[0].tensor.shape, (Shape{2}));
  EXPECT_EQ(values<int64_t>((*out)[0]), (std::vector<int64_t>{1, 0}));
  auto t = f32({2, 2}, {2, 2, 3, 10});
  out = arg("ArgMax", t, {attr_i("axis", 1)});
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(values<int64_t>((*out)[0]), (std::vector<int64_t>{0, 1}));
  out = arg("ArgMax", t, {attr_i("axis", 1), attr_i("select_last_index", 1)});
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(values<int64_t>((*out)[0]), (std::vector<int64_t>{1, 1}));
  out = arg("ArgMin", t, {attr_i("axis", 1), attr_i("select_last_index", 1)});
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(values<int64_t>((*out)[0]), (std::vector<int64_t>{1, 0}));
  out = arg("ArgMin", Value::of(make_tensor<int32_t>({3}, {4, -1, 7})), {attr_i("keepdims", 0)});
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ((*out)[0].tensor.shape, (Shape{}));
  EXPECT_EQ(values<int64_t>((*out)[0]), (std::vector<int64_t>{1}));
}

TEST(ArgMinMax, Errors) {
  auto x = f32({2, 2}, {2, 1, 3, 10});
  EXPECT_FALSE(arg("ArgMax", x, {attr_i("axis", 2)}).is_ok());
  EXPECT_FALSE(arg("ArgMax", f32({2, 0}, {}), {attr_i("axis", 1)}).is_ok());
}

}  // namespace
}  // namespace petrel::test
