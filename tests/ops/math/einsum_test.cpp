// Einsum and Det.
#include <cmath>

#include "ops/op_test_util.hpp"

namespace petrel::test {
namespace {

template <typename T> std::vector<T> values(const Value& v) {
  const Tensor& t = v.tensor;
  return std::vector<T>(t.as<T>(), t.as<T>() + t.numel());
}
template <typename T> Value val(Shape s, std::vector<T> v) { return Value::of(make_tensor<T>(std::move(s), std::move(v))); }
std::vector<float> iota(int n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) v[size_t(i)] = float(i);
  return v;
}

Result<std::vector<Value>> einsum(const std::string& eq, std::vector<Value> in) {
  return run_kernel(make_node("Einsum", int(in.size()), 1, {attr_s("equation", eq)}), in);
}

TEST(Einsum, Basic) {
  auto a = val<float>({2, 3}, iota(6));  // [[0,1,2],[3,4,5]]
  auto out = einsum("ij->ji", {a});
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  EXPECT_EQ((*out)[0].tensor.shape, (Shape{3, 2}));
  EXPECT_EQ(values<float>((*out)[0]), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  out = einsum("ij -> i", {a});
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(values<float>((*out)[0]), (std::vector<float>{3, 12}));
  out = einsum("ij", {a});  // implicit: identity
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(values<float>((*out)[0]), iota(6));
  out = einsum("ji", {a});  // implicit output is sorted: "ij" -> transpose
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ((*out)[0].tensor.shape, (Shape{3, 2}));
  out = einsum("ij->", {a});
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ((*out)[0].tensor.shape, (Shape{}));
  EXPECT_EQ(values<float>((*out)[0]), (std::vector<float>{15}));
}

TEST(Einsum, ProductsAndDiagonals) {
  auto a = val<float>({2, 3}, iota(6));
  auto b = val<float>({3, 2}, {1, 0, 0, 1, 1, 1});
  auto out = einsum("ij,jk", {a, b});  // implicit matmul
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  EXPECT_EQ((*out)[0].tensor.shape, (Shape{2, 2}));
  EXPECT_EQ(values<float>((*out)[0]), (std::vector<float>{2, 3, 8, 9}));
  auto v = val<float>({3}, {1, 2, 3});
  out = einsum("i,i", {v, v});
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(values<float>((*out)[0]), (std::vector<float>{14}));
  out = einsum("i,j->ij", {v, val<float>({2}, {1, -1})});
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(values<float>((*out)[0]), (std::vector<float>{1, -1, 2, -2, 3, -3}));
  out = einsum("i,i,i", {v, v, v});  // three operands
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(values<float>((*out)[0]), (std::vector<float>{36}));
  out = einsum("ij,jk,k->i", {a, b, val<float>({2}, {1, 10})});
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(values<float>((*out)[0]), (std::vector<float>{32, 98}));
  auto sq = val<float>({3, 3}, iota(9));
  out = einsum("ii->i", {sq});
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(values<float>((*out)[0]), (std::vector<float>{0, 4, 8}));
  out = einsum("ii", {sq});  // trace
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(values<float>((*out)[0]), (std::vector<float>{12}));
}

TEST(Einsum, EllipsisAndBroadcast) {
  auto x = val<float>({2, 2, 2}, iota(8));
  auto out = einsum("...ii->...i", {x});
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  EXPECT_EQ((*out)[0].tensor.shape, (Shape{2, 2}));
  EXPECT_EQ(values<float>((*out)[0]), (std::vector<float>{0, 3, 4, 7}));
  // Batch matmul with "..." broadcast: [2,1,2] x [2,1] -> [2,1,1]; b has no batch dims.
  auto a = val<float>({2, 1, 2}, {1, 2, 3, 4});
  auto b = val<float>({2, 1}, {10, 1});
  out = einsum("...ij,...jk->...ik", {a, b});
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  EXPECT_EQ((*out)[0].tensor.shape, (Shape{2, 1, 1}));
  EXPECT_EQ(values<float>((*out)[0]), (std::vector<float>{12, 34}));
  // Implicit output puts "..." first.
  out = einsum("i...", {val<float>({2, 3}, iota(6))});
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ((*out)[0].tensor.shape, (Shape{3, 2}));
  auto i = val<int64_t>({2, 2}, {1, 2, 3, 4});
  out = einsum("ij,ij->", {i, i});
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(values<int64_t>((*out)[0]), (std::vector<int64_t>{30}));
}

TEST(Einsum, Errors) {
  auto a = val<float>({2, 3}, iota(6));
  EXPECT_FALSE(einsum("ij,jk", {a, a}).is_ok());          // j: 3 vs 2
  EXPECT_FALSE(einsum("ijk", {a}).is_ok());               // rank
  EXPECT_FALSE(einsum("ij,jk", {a}).is_ok());             // operand count
  EXPECT_FALSE(einsum("i1", {a}).is_ok());                // bad character
  EXPECT_FALSE(einsum("ij->ii", {a}).is_ok());            // repeated output label
  EXPECT_FALSE(einsum("ij->k", {a}).is_ok());             // unknown output label
  EXPECT_FALSE(einsum("i..j.", {a}).is_ok());
}

TEST(Det, Values) {
  auto out = run_kernel(make_node("Det", 1, 1), {val<float>({2, 2}, {1, 2, 3, 4})});
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  EXPECT_EQ((*out)[0].tensor.shape, (Shape{}));
  EXPECT_NEAR(values<float>((*out)[0])[0], -2.f, 1e-6);
  // Batch: needs a row swap (sign), a singular matrix, a 3x3.
  out = run_kernel(make_node("Det", 1, 1), {val<double>({3, 3, 3}, {0, 1, 0, 1, 0, 0, 0, 0, 1,
                                                                      1, 2, 3, 2, 4, 6, 0, 1, 1,
                                                                      2, 0, 1, 1, 3, 2, 1, 1, 1})});
  ASSERT_TRUE(out.is_ok());
  auto d = values<double>((*out)[0]);
  EXPECT_NEAR(d[0], -1, 1e-12);
  EXPECT_NEAR(d[1], 0, 1e-12);
  EXPECT_NEAR(d[2], 2 * (3 - 2) - 0 + 1 * (1 - 3), 1e-12);
  EXPECT_FALSE(run_kernel(make_node("Det", 1, 1), {val<float>({2, 3}, iota(6))}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("Det", 1, 1), {val<int32_t>({1, 1}, {1})}).is_ok());
}

}  // namespace
}  // namespace petrel::test
