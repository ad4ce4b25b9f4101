// MatMul, MatMulInteger, QLinearMatMul, Gemm.
#include <cmath>
#include <random>

#include "ops/op_test_util.hpp"

namespace petrel::test {
namespace {

template <typename T> std::vector<T> values(const Value& v) {
  const Tensor& t = v.tensor;
  return std::vector<T>(t.as<T>(), t.as<T>() + t.numel());
}

TEST(MatMul, TwoByThree) {
  auto out = run_kernel(make_node("MatMul", 2, 1), {Value::of(make_tensor<float>({2, 3}, {1, 2, 3, 4, 5, 6})),
                                                    Value::of(make_tensor<float>({3, 2}, {7, 8, 9, 10, 11, 12}))});
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  EXPECT_EQ((*out)[0].tensor.shape, (Shape{2, 2}));
  EXPECT_EQ(values<float>((*out)[0]), (std::vector<float>{58, 64, 139, 154}));
}

TEST(MatMul, VectorOperands) {
  auto a = make_tensor<float>({3}, {1, 2, 3});
  auto m = make_tensor<float>({3, 2}, {1, 2, 3, 4, 5, 6});
  auto out = run_kernel(make_node("MatMul", 2, 1), {Value::of(a), Value::of(m)});
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ((*out)[0].tensor.shape, (Shape{2}));
  EXPECT_EQ(values<float>((*out)[0]), (std::vector<float>{22, 28}));
  // [2,3] x [3] -> [2]
  auto m2 = make_tensor<float>({2, 3}, {1, 0, 1, 0, 1, 0});
  out = run_kernel(make_node("MatMul", 2, 1), {Value::of(m2), Value::of(a)});
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ((*out)[0].tensor.shape, (Shape{2}));
  EXPECT_EQ(values<float>((*out)[0]), (std::vector<float>{4, 2}));
  // [3] x [3] -> scalar
  out = run_kernel(make_node("MatMul", 2, 1), {Value::of(a), Value::of(a)});
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ((*out)[0].tensor.shape, (Shape{}));
  EXPECT_EQ(values<float>((*out)[0]), (std::vector<float>{14}));
}

TEST(MatMul, BatchBroadcastInt32) {
  // A: [2,1,1,2], B: [3,2,1] -> [2,3,1,1]
  auto a = make_tensor<int32_t>({2, 1, 1, 2}, {1, 2, 3, 4});
  auto b = make_tensor<int32_t>({3, 2, 1}, {1, 1, 2, 0, 0, 5});
  auto out = run_kernel(make_node("MatMul", 2, 1), {Value::of(a), Value::of(b)});
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  EXPECT_EQ((*out)[0].tensor.shape, (Shape{2, 3, 1, 1}));
  EXPECT_EQ(values<int32_t>((*out)[0]), (std::vector<int32_t>{3, 2, 10, 7, 6, 20}));
}

// Compares the tiled float32 kernel against a double-precision triple loop on awkward sizes
// (edges of the 8x8 register tile and of the K slab), batched with a shared B (the folded path)
// and with a batched B.
TEST(MatMul, LargeMatchesNaive) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1, 1);
  for (auto dims : std::vector<std::array<int64_t, 4>>{{2, 13, 300, 11}, {1, 1, 70, 33}, {3, 9, 5, 17}}) {
    const int64_t batch = dims[0], M = dims[1], K = dims[2], N = dims[3];
    for (bool shared_b : {true, false}) {
      std::vector<float> av(size_t(batch * M * K)), bv(size_t((shared_b ? 1 : batch) * K * N));
      for (auto& x : av) x = u(rng);
      for (auto& x : bv) x = u(rng);
      Shape bs = shared_b ? Shape{K, N} : Shape{batch, K, N};
      auto out = run_kernel(make_node("MatMul", 2, 1), {Value::of(make_tensor<float>({batch, M, K}, av)),
                                                        Value::of(make_tensor<float>(bs, bv))});
      ASSERT_TRUE(out.is_ok());
      auto y = values<float>((*out)[0]);
      ASSERT_EQ(y.size(), size_t(batch * M * N));
      for (int64_t p = 0; p < batch; ++p)
        for (int64_t m = 0; m < M; ++m)
          for (int64_t n = 0; n < N; ++n) {
            double acc = 0;
            const float* bp = bv.data() + (shared_b ? 0 : p * K * N);
            for (int64_t k = 0; k < K; ++k) acc += double(av[size_t((p * M + m) * K + k)]) * bp[k * N + n];
            EXPECT_NEAR(y[size_t((p * M + m) * N + n)], acc, 1e-4);
          }
    }
  }
}

TEST(MatMul, Float16AndDouble) {
  auto a = make_tensor<Float16>({1, 2}, {Float16(1.5f), Float16(2.f)});
  auto b = make_tensor<Float16>({2, 1}, {Float16(2.f), Float16(0.25f)});
  auto out = run_kernel(make_node("MatMul", 2, 1), {Value::of(a), Value::of(b)});
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ((*out)[0].tensor.dtype, DataType::kFloat16);
  EXPECT_EQ(float((*out)[0].tensor.as<Float16>()[0]), 3.5f);
  auto ad = make_tensor<double>({2}, {0.5, 0.25});
  out = run_kernel(make_node("MatMul", 2, 1), {Value::of(ad), Value::of(ad)});
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(values<double>((*out)[0]), (std::vector<double>{0.3125}));
}

TEST(MatMul, Errors) {
  auto a = make_tensor<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_FALSE(run_kernel(make_node("MatMul", 2, 1), {Value::of(a), Value::of(a)}).is_ok());
  auto s = make_tensor<float>({}, {1});
  EXPECT_FALSE(run_kernel(make_node("MatMul", 2, 1), {Value::of(s), Value::of(a)}).is_ok());
  auto b = make_tensor<float>({2, 2, 3, 1}, std::vector<float>(12, 1.f));
  auto c = make_tensor<float>({3, 2, 3}, std::vector<float>(18, 1.f));
  EXPECT_FALSE(run_kernel(make_node("MatMul", 2, 1), {Value::of(c), Value::of(b)}).is_ok());  // batch 3 vs 2
  auto i = make_tensor<int32_t>({3, 2}, {1, 2, 3, 4, 5, 6});
  EXPECT_FALSE(run_kernel(make_node("MatMul", 2, 1), {Value::of(a), Value::of(i)}).is_ok());  // mixed types
}

TEST(MatMulInteger, ZeroPoints) {
  // Spec example.
  auto a = make_tensor<uint8_t>({4, 3}, {11, 7, 3, 10, 6, 2, 9, 5, 1, 8, 4, 0});
  auto b = make_tensor<uint8_t>({3, 2}, {1, 4, 2, 5, 3, 6});
  auto out = run_kernel(make_node("MatMulInteger", 4, 1),
                        {Value::of(a), Value::of(b), Value::of(make_tensor<uint8_t>({1}, {12})),
                         Value::of(make_tensor<uint8_t>({1}, {0}))});
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  EXPECT_EQ((*out)[0].tensor.dtype, DataType::kInt32);
  EXPECT_EQ(values<int32_t>((*out)[0]), (std::vector<int32_t>{-38, -83, -44, -98, -50, -113, -56, -128}));
  // int8 x uint8 without zero points; per-column b zero point.
  auto ai = make_tensor<int8_t>({1, 2}, {-1, 2});
  auto bu = make_tensor<uint8_t>({2, 2}, {10, 20, 30, 40});
  out = run_kernel(make_node("MatMulInteger", 4, 1),
                   {Value::of(ai), Value::of(bu), Value{}, Value::of(make_tensor<uint8_t>({2}, {10, 20}))});
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  EXPECT_EQ(values<int32_t>((*out)[0]), (std::vector<int32_t>{40, 40}));
  // Wrong zero point type.
  EXPECT_FALSE(run_kernel(make_node("MatMulInteger", 3, 1),
                          {Value::of(a), Value::of(b), Value::of(make_tensor<int8_t>({1}, {1}))}).is_ok());
}

TEST(QLinearMatMul, SpecExample) {
  auto a = make_tensor<uint8_t>({2, 4}, {208, 236, 0, 238, 3, 214, 255, 29});
  auto b = make_tensor<uint8_t>({4, 3}, {152, 51, 244, 60, 26, 255, 0, 127, 246, 127, 254, 247});
  auto out = run_kernel(make_node("QLinearMatMul", 8, 1),
                        {Value::of(a), Value::of(make_tensor<float>({1}, {0.0066f})),
                         Value::of(make_tensor<uint8_t>({1}, {113})), Value::of(b),
                         Value::of(make_tensor<float>({1}, {0.00705f})), Value::of(make_tensor<uint8_t>({1}, {114})),
                         Value::of(make_tensor<float>({1}, {0.0107f})), Value::of(make_tensor<uint8_t>({1}, {118}))});
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  EXPECT_EQ(values<uint8_t>((*out)[0]), (std::vector<uint8_t>{168, 115, 255, 1, 66, 151}));
  EXPECT_FALSE(run_kernel(make_node("QLinearMatMul", 3, 1), {Value::of(a), Value::of(a), Value::of(a)}).is_ok());
}

TEST(Gemm, TransposesAlphaBetaBroadcast) {
  // A^T = [[1,2],[3,4]] stored as A = [[1,3],[2,4]]; B^T = [[1,0,1],[0,1,1]] stored as B = [3,2].
  auto a = make_tensor<float>({2, 2}, {1, 3, 2, 4});
  auto b = make_tensor<float>({3, 2}, {1, 0, 0, 1, 1, 1});
  auto c = make_tensor<float>({3}, {10, 20, 30});
  auto out = run_kernel(make_node("Gemm", 3, 1, {attr_i("transA", 1), attr_i("transB", 1), attr_f("alpha", 2.f),
                                                 attr_f("beta", 0.5f)}),
                        {Value::of(a), Value::of(b), Value::of(c)});
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  // op(A) op(B) = [[1,2,3],[3,4,7]]
  EXPECT_EQ(values<float>((*out)[0]), (std::vector<float>{7, 14, 21, 11, 18, 29}));
  // Scalar C, column C [2,1], no C, double.
  out = run_kernel(make_node("Gemm", 3, 1, {attr_i("transA", 1)}),
                   {Value::of(a), Value::of(make_tensor<float>({2, 3}, {1, 0, 0, 0, 1, 0})),
                    Value::of(make_tensor<float>({}, {1}))});
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(values<float>((*out)[0]), (std::vector<float>{2, 3, 1, 4, 5, 1}));
  auto ad = make_tensor<double>({1, 2}, {1, 2});
  auto bd = make_tensor<double>({2, 2}, {1, 2, 3, 4});
  out = run_kernel(make_node("Gemm", 3, 1, {attr_f("beta", 2.f)}),
                   {Value::of(ad), Value::of(bd), Value::of(make_tensor<double>({1, 1}, {0.25}))});
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(values<double>((*out)[0]), (std::vector<double>{7.5, 10.5}));
  out = run_kernel(make_node("Gemm", 2, 1), {Value::of(ad), Value::of(bd)});
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(values<double>((*out)[0]), (std::vector<double>{7, 10}));
}

TEST(Gemm, Errors) {
  auto a = make_tensor<float>({2, 3}, std::vector<float>(6, 1.f));
  EXPECT_FALSE(run_kernel(make_node("Gemm", 2, 1), {Value::of(a), Value::of(a)}).is_ok());
  auto b = make_tensor<float>({3, 4}, std::vector<float>(12, 1.f));
  auto c = make_tensor<float>({3}, {1, 2, 3});
  EXPECT_FALSE(run_kernel(make_node("Gemm", 3, 1), {Value::of(a), Value::of(b), Value::of(c)}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("Gemm", 2, 1, {attr_f("transA", 1)}), {Value::of(a), Value::of(b)}).is_ok());
}

}  // namespace
}  // namespace petrel::test
