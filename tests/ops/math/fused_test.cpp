// petrel.FusedMatMul and the fused-activation attributes on Conv/Gemm/MatMul kernels
// (core/fused_activation.hpp).
#include <cmath>

#include "core/fused_activation.hpp"
#include "ops/op_test_util.hpp"

using namespace petrel;
using namespace petrel::test;

namespace {

Node with_activation(Node n, Activation kind, float p0 = 0, float p1 = 0) {
  FusedActivation fa;
  fa.kind = kind;
  fa.p0 = p0;
  fa.p1 = p1;
  fa.write_to(n);
  return n;
}

Node fused_matmul(int n_in) {
  Node n = make_node("FusedMatMul", n_in, 1);
  n.domain = "petrel";
  return n;
}

}  // namespace

TEST(FusedMatMul, BiasThenActivation) {
  // [2x3] x [3x2] = [[1,-2],[3,-4]]-ish, + bias, then Relu.
  Tensor a = make_tensor<float>({2, 3}, {1, 0, 0, 0, 1, 0});
  Tensor b = make_tensor<float>({3, 2}, {1, -2, 3, -4, 5, 6});
  Tensor bias = make_tensor<float>({2}, {0.5f, 1.0f});
  auto out = run_kernel(with_activation(fused_matmul(3), Activation::kRelu), {Value::of(a), Value::of(b), Value::of(bias)});
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  const float* y = (*out)[0].tensor.as<float>();
  EXPECT_EQ((*out)[0].tensor.shape, (Shape{2, 2}));
  EXPECT_FLOAT_EQ(y[0], 1.5f);  // 1 + 0.5
  EXPECT_FLOAT_EQ(y[1], 0.0f);  // relu(-2 + 1)
  EXPECT_FLOAT_EQ(y[2], 3.5f);
  EXPECT_FLOAT_EQ(y[3], 0.0f);
}

TEST(FusedMatMul, BatchedWithoutBias) {
  Tensor a = make_tensor<float>({2, 1, 2}, {1, 2, 3, 4});
  Tensor b = make_tensor<float>({2, 1}, {1, 1});
  auto out = run_kernel(fused_matmul(2), {Value::of(a), Value::of(b)});
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  EXPECT_EQ((*out)[0].tensor.shape, (Shape{2, 1, 1}));
  EXPECT_FLOAT_EQ((*out)[0].tensor.as<float>()[1], 7.0f);
}

TEST(FusedMatMul, Errors) {
  Tensor a = make_tensor<float>({2, 3}, std::vector<float>(6, 1.f));
  Tensor b = make_tensor<float>({3, 2}, std::vector<float>(6, 1.f));
  Tensor wrong = make_tensor<float>({3}, {1, 2, 3});
  EXPECT_FALSE(run_kernel(fused_matmul(3), {Value::of(a), Value::of(b), Value::of(wrong)}).is_ok());
  Tensor bias2d = make_tensor<float>({1, 2}, {1, 2});
  EXPECT_FALSE(run_kernel(fused_matmul(3), {Value::of(a), Value::of(b), Value::of(bias2d)}).is_ok());
  // A fused activation on an integer product is refused, not silently ignored.
  Tensor ai = make_tensor<int32_t>({1, 1}, {2});
  EXPECT_FALSE(run_kernel(with_activation(make_node("MatMul", 2, 1), Activation::kRelu), {Value::of(ai), Value::of(ai)}).is_ok());
  // An unknown activation name is a model error from the factory.
  Node bad = make_node("MatMul", 2, 1, {attr_s("_petrel_activation", "Frobnicate")});
  EXPECT_FALSE(run_kernel(bad, {Value::of(a), Value::of(b)}).is_ok());
  Node short_params = make_node("Gemm", 2, 1, {attr_s("_petrel_activation", "Clip")});
  EXPECT_FALSE(run_kernel(short_params, {Value::of(a), Value::of(b)}).is_ok());
}

TEST(FusedActivation, EveryKindOnEveryKernel) {
  const Activation kinds[] = {Activation::kRelu, Activation::kClip, Activation::kLeakyRelu, Activation::kSigmoid,
                              Activation::kHardSigmoid, Activation::kHardSwish, Activation::kSwish, Activation::kGelu,
                              Activation::kGeluTanh};
  Tensor x = make_tensor<float>({1, 2, 2, 2}, {-3, -1, -0.5f, 0, 0.25f, 1, 2.5f, 7});
  Tensor w = make_tensor<float>({2, 2, 1, 1}, {1, 0, 0.5f, -1});
  Tensor a = make_tensor<float>({2, 4}, {-3, -1, -0.5f, 0, 0.25f, 1, 2.5f, 7});
  Tensor b = make_tensor<float>({4, 3}, {1, 0, -1, 0.5f, 2, 0, -1, 1, 1, 0, 0.25f, -2});
  for (Activation k : kinds) {
    FusedActivation fa;
    fa.kind = k;
    fa.p0 = k == Activation::kClip ? -0.5f : 0.1f;
    fa.p1 = k == Activation::kClip ? 1.5f : 0.5f;
    struct Case { Node plain; std::vector<Value> in; };
    std::vector<Case> cases = {
        {make_node("Conv", 2, 1), {Value::of(x), Value::of(w)}},
        {make_node("ConvTranspose", 2, 1), {Value::of(x), Value::of(w)}},
        {make_node("Gemm", 2, 1), {Value::of(a), Value::of(b)}},
        {make_node("MatMul", 2, 1), {Value::of(a), Value::of(b)}},
        {fused_matmul(2), {Value::of(a), Value::of(b)}},
    };
    for (Case& c : cases) {
      auto plain = run_kernel(c.plain, c.in);
      Node fused = c.plain;
      fa.write_to(fused);
      auto got = run_kernel(fused, c.in);
      ASSERT_TRUE(plain.is_ok() && got.is_ok()) << c.plain.op_type << " " << fa.name();
      const Tensor& p = (*plain)[0].tensor;
      const Tensor& g = (*got)[0].tensor;
      ASSERT_EQ(p.shape, g.shape);
      for (int64_t i = 0; i < p.numel(); ++i)
        EXPECT_FLOAT_EQ(g.as<float>()[i], fa.apply_one(p.as<float>()[i])) << c.plain.op_type << " " << fa.name() << " " << i;
    }
  }
}

TEST(FusedActivation, DoubleConvUsesDoubleFormulas) {
  Tensor x = make_tensor<double>({1, 1, 1, 2}, {-1.0, 2.0});
  Tensor w = make_tensor<double>({1, 1, 1, 1}, {1.0});
  FusedActivation fa;
  fa.kind = Activation::kGelu;
  Node n = make_node("Conv", 2, 1);
  fa.write_to(n);
  auto out = run_kernel(n, {Value::of(x), Value::of(w)});
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  EXPECT_DOUBLE_EQ((*out)[0].tensor.as<double>()[1], 0.5 * 2.0 * (1.0 + std::erf(2.0 / std::sqrt(2.0))));
}
