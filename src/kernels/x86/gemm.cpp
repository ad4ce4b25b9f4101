// Gemm: Y = alpha * op(A) * op(B) + beta * C (+ fused activation) in float32 on the packed
// SGEMM. Transposes are stride swaps in packing. A constant B is packed once. C that is a
// row vector with beta = 1 (the usual bias) is added in the tile epilogue; any other C is
// first written to Y as beta * C, then the product accumulates onto it.
#include <algorithm>

#include "core/fused_activation.hpp"
#include "kernels/reference/common.hpp"
#include "kernels/x86/kernel_util.hpp"
#include "kernels/x86/kernels.hpp"

namespace petrel::x86 {
namespace {

class GemmKernel final : public FastPathKernel {
 public:
  GemmKernel(std::unique_ptr<Kernel> ref, bool ta, bool tb, float alpha, float beta, FusedActivation fa)
      : ref_(std::move(ref)), ta_(ta), tb_(tb), alpha_(alpha), beta_(beta), fa_(fa) {}

  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(ref_->infer(ctx));
    packed_.invalidate();
    fast_ = ctx.input(0).dtype == DataType::kFloat;
    // B is a weight when known at plan time while A is not. With A known too, this infer
    // comes from the dynamic path (subgraphs, folding: every input reads as known) and B may
    // be an activation that changes per run: packed per run then, and its pages kept.
    b_const_ = ctx.input_known(1) && !ctx.input_known(0);
    return Status::ok();
  }

  Status compute(OpContext& ctx) override {
    if (!fast_) return ref_->compute(ctx);
    const Tensor& a = ctx.input(0);
    const Tensor& b = ctx.input(1);
    Tensor& y = ctx.output(0);
    const int64_t M = y.shape[0], N = y.shape[1], K = ta_ ? a.shape[0] : a.shape[1];
    if (K == 0) return ref_->compute(ctx);
    if (M == 0 || N == 0) return Status::ok();
    float* yp = y.as<float>();
    SgemmBatch p;
    p.M = M, p.N = N, p.K = K;
    p.a = a.as<float>(), p.a_rs = ta_ ? 1 : K, p.a_cs = ta_ ? M : 1;
    p.c = yp, p.ldc = N, p.c_stride = M * N;
    p.ep.alpha = alpha_;
    p.ep.act = fa_.none() ? nullptr : &fa_;
    const Tensor* c = ctx.has_input(2) && beta_ != 0.0f ? &ctx.input(2) : nullptr;
    if (c != nullptr) {
      const bool row = c->numel() == N && (c->rank() == 1 || (c->rank() == 2 && c->shape[0] == 1));
      if (row && beta_ == 1.0f) {
        p.ep.bias = c->as<float>();
      } else {
        // Y = beta * C broadcast to [M, N], then accumulate.
        // C's dims aligned to [M, N] (rank <= 2, checked by infer); stride 0 where broadcast.
        const int64_t c0 = c->rank() == 2 ? c->shape[0] : 1, c1 = c->rank() >= 1 ? c->shape[size_t(c->rank() - 1)] : 1;
        const int64_t crs = c0 == 1 ? 0 : c1, ccs = c1 == 1 ? 0 : 1;
        const float* cp = c->as<float>();
        for (int64_t m = 0; m < M; ++m)
          for (int64_t n = 0; n < N; ++n) yp[m * N + n] = beta_ * cp[m * crs + n * ccs];
        p.ep.accumulate = true;
      }
    }
    const IsaKernels& ik = active_kernels();
    const MatrixRef B{b.as<float>(), tb_ ? 1 : N, tb_ ? K : 1};
    if (!b_const_ && M <= 2 && !tb_) {
      sgemv_rows(ik, p, B.p, N, nullptr, ctx.pool);
      return Status::ok();
    }
    PETREL_RETURN_IF_ERROR(packed_.prepare(ctx, ik, b_const_, b, B, nullptr, 1, K, N));
    p.b_packed = packed_.data();
    PETREL_RETURN_IF_ERROR(reserve(ctx, work_, sgemm_workspace_floats(ik, sgemm_slices(ctx.pool))));
    sgemm(ik, p, work_.data(), ctx.pool);
    return Status::ok();
  }

 private:
  std::unique_ptr<Kernel> ref_;
  bool ta_, tb_;
  float alpha_, beta_;
  FusedActivation fa_;
  bool b_const_ = false;
  PackedB packed_;
  FloatBuffer work_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_gemm(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(auto ref, make_reference(n));
  PETREL_ASSIGN_OR_RETURN(int64_t ta, ref::attr_int(n, "transA", 0));
  PETREL_ASSIGN_OR_RETURN(int64_t tb, ref::attr_int(n, "transB", 0));
  PETREL_ASSIGN_OR_RETURN(float alpha, ref::attr_float(n, "alpha", 1.f));
  PETREL_ASSIGN_OR_RETURN(float beta, ref::attr_float(n, "beta", 1.f));
  PETREL_ASSIGN_OR_RETURN(FusedActivation fa, FusedActivation::from_node(n));
  return std::unique_ptr<Kernel>(new GemmKernel(std::move(ref), ta != 0, tb != 0, alpha, beta, fa));
}

}  // namespace petrel::x86
