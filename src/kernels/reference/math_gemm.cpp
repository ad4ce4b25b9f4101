// Gemm: Y = alpha * op(A) * op(B) + beta * C, C unidirectionally broadcast to [M, N].
#include "kernels/reference/fused_act.hpp"
#include "kernels/reference/input_checks.hpp"
#include "kernels/reference/math_gemm.hpp"

namespace petrel::ref {
namespace {

class GemmKernel final : public Kernel {
 public:
  GemmKernel(bool ta, bool tb, float alpha, float beta, FusedActivation fa)
      : ta_(ta), tb_(tb), alpha_(alpha), beta_(beta), fa_(fa) {}

  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 2, 3));
    const Tensor& a = ctx.input(0);
    const Tensor& b = ctx.input(1);
    if (a.dtype != b.dtype) return ctx.error("A and B must have the same type");
    switch (a.dtype) {
      case DataType::kFloat: case DataType::kDouble: case DataType::kFloat16: case DataType::kBFloat16:
      case DataType::kInt32: case DataType::kInt64: case DataType::kUInt32: case DataType::kUInt64: break;
      default: return ctx.unsupported_error("dtype " + std::string(dtype_name(a.dtype)));
    }
    if (a.rank() != 2 || b.rank() != 2) return ctx.error("A and B must be 2-D");
    PETREL_RETURN_IF_ERROR(check_fused_activation(ctx, fa_, a.dtype));
    const int64_t M = ta_ ? a.shape[1] : a.shape[0], K = ta_ ? a.shape[0] : a.shape[1];
    const int64_t KB = tb_ ? b.shape[1] : b.shape[0], N = tb_ ? b.shape[0] : b.shape[1];
    if (K != KB)
      return ctx.error("inner dimensions differ: " + shape_to_string(a.shape) + " x " + shape_to_string(b.shape));
    if (ctx.has_input(2)) {
      const Tensor& c = ctx.input(2);
      if (c.dtype != a.dtype) return ctx.error("C must have the type of A");
      if (c.rank() > 2) return ctx.error("C must have rank <= 2");
      Shape cs = c.shape;
      while (cs.size() < 2) cs.insert(cs.begin(), 1);
      if ((cs[0] != 1 && cs[0] != M) || (cs[1] != 1 && cs[1] != N))
        return ctx.error("C of shape " + shape_to_string(c.shape) + " does not broadcast to [" +
                         std::to_string(M) + "," + std::to_string(N) + "]");
    }
    return ctx.set_output(0, a.dtype, {M, N});
  }

  Status compute(OpContext& ctx) override {
    const Tensor& a = ctx.input(0);
    const Tensor& b = ctx.input(1);
    Tensor& y = ctx.output(0);
    const int64_t M = y.shape[0], N = y.shape[1];
    const int64_t K = ta_ ? a.shape[0] : a.shape[1];
    const Tensor* c = ctx.has_input(2) && beta_ != 0.f ? &ctx.input(2) : nullptr;
    // C's strides over [M, N]: 0 along broadcast dims.
    int64_t crs = 0, ccs = 0;
    if (c) {
      Shape cs = c->shape;
      while (cs.size() < 2) cs.insert(cs.begin(), 1);
      crs = cs[0] == 1 ? 0 : cs[1];
      ccs = cs[1] == 1 ? 0 : 1;
    }
    PETREL_RETURN_IF_ERROR(dispatch_all_numeric(a.dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      const MatView<T> A{a.as<T>(), ta_ ? 1 : K, ta_ ? M : 1};
      const MatView<T> B{b.as<T>(), tb_ ? 1 : N, tb_ ? K : 1};
      T* yp = y.as<T>();
      if constexpr (std::is_same_v<T, float>) {
        if (c)
          for (int64_t m = 0; m < M; ++m)
            for (int64_t n = 0; n < N; ++n) yp[m * N + n] = beta_ * c->as<float>()[m * crs + n * ccs];
        gemm_f32(M, N, K, A, B, yp, N, alpha_, c != nullptr);
      } else {
        // Scaled in double for integer types (numpy promotes int * float to float64).
        using S = std::conditional_t<std::is_same_v<T, double> || std::is_integral_v<T>, double, float>;
        for (int64_t m = 0; m < M; ++m)
          for (int64_t n = 0; n < N; ++n) {
            GemmAcc<T> acc = 0;
            for (int64_t k = 0; k < K; ++k)
              acc += gemm_load(A.p[m * A.rs + k * A.cs]) * gemm_load(B.p[k * B.rs + n * B.cs]);
            S v;
            if constexpr (std::is_integral_v<T>) v = S(alpha_) * S(int64_t(acc));
            else v = S(alpha_) * S(acc);
            if (c) v += S(beta_) * S(load(c->as<T>()[m * crs + n * ccs]));
            if constexpr (std::is_integral_v<T>) yp[m * N + n] = T(int64_t(v));
            else yp[m * N + n] = store<T>(ComputeType<T>(v));
          }
      }
      return Status::ok();
    }));
    apply_fused_activation(fa_, y, ctx.pool);
    return Status::ok();
  }

 private:
  bool ta_, tb_;
  float alpha_, beta_;
  FusedActivation fa_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_gemm(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(int64_t ta, attr_int(n, "transA", 0));
  PETREL_ASSIGN_OR_RETURN(int64_t tb, attr_int(n, "transB", 0));
  PETREL_ASSIGN_OR_RETURN(float alpha, attr_float(n, "alpha", 1.f));
  PETREL_ASSIGN_OR_RETURN(float beta, attr_float(n, "beta", 1.f));
  PETREL_ASSIGN_OR_RETURN(FusedActivation fa, FusedActivation::from_node(n));
  return std::unique_ptr<Kernel>(new GemmKernel(ta != 0, tb != 0, alpha, beta, fa));
}

}  // namespace petrel::ref
