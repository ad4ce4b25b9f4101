// petrel.Int4MatMul(A f32 [..., K], W int4|uint4 2-D const, scale f32 const, zp? const, bias? f32 [N])
//   attributes transB (0: W is [K, N]; 1: W is [N, K]), block_size (> 0), fused activation.
// = MatMul(A, DequantizeLinear(W, scale, zp; axis = the K axis of W, block_size)) (+ bias) then
// the activation: what optimize/int4_fusion.cpp makes of the blocked DequantizeLinear that
// `petrel quantize --bits 4 --weights-only` writes. The weight stays 4-bit in memory
// (int4_gemm.hpp); once repacked, the model's copy of W is handed back to the OS.
// The node may also come from a file, so infer checks every input as untrusted.
#include <string>

#include "kernels/reference/common.hpp"
#include "kernels/x86/int4_gemm.hpp"
#include "kernels/x86/kernel_util.hpp"
#include "kernels/x86/kernels.hpp"

namespace petrel::x86 {
namespace {

bool is_4bit(DataType t) { return t == DataType::kInt4 || t == DataType::kUInt4; }

class Int4MatMulKernel final : public FastPathKernel {
 public:
  Int4MatMulKernel(bool tb, int64_t block, FusedActivation fa) : tb_(tb), block_(block), fa_(fa) {}

  Status infer(OpContext& ctx) override {
    fast_ = true;
    valid_ = false;
    if (ctx.num_inputs() < 3 || !ctx.has_input(0) || !ctx.has_input(1) || !ctx.has_input(2))
      return ctx.error("expects inputs A, W and scale");
    const Tensor& a = ctx.input(0);
    const Tensor& w = ctx.input(1);
    const Tensor& s = ctx.input(2);
    if (a.dtype != DataType::kFloat || a.rank() < 1) return ctx.error("A must be float32 with rank >= 1");
    if (!is_4bit(w.dtype) || w.rank() != 2) return ctx.error("W must be a 2-D int4 or uint4 tensor");
    if (!ctx.input_known(1) || !ctx.input_known(2)) return ctx.error("W and its scales must be constant");
    const int64_t K = tb_ ? w.shape[1] : w.shape[0], N = tb_ ? w.shape[0] : w.shape[1];
    if (a.shape.back() != K) return ctx.error("A's last dim " + std::to_string(a.shape.back()) + " does not match W's K " + std::to_string(K));
    if (K == 0) return ctx.unsupported_error("an empty reduction (K = 0)");
    // Blocked scales: W's shape with the K axis divided into blocks.
    const int64_t blocks = (K + block_ - 1) / block_;
    const Shape want = tb_ ? Shape{N, blocks} : Shape{blocks, N};
    if (s.dtype != DataType::kFloat || s.shape != want)
      return ctx.error("scale must be float32 of shape " + shape_to_string(want) + ", got " + shape_to_string(s.shape));
    if (ctx.has_input(3)) {
      const Tensor& z = ctx.input(3);
      if (!ctx.input_known(3) || z.dtype != w.dtype || z.shape != want)
        return ctx.error("zero point must be a constant of W's type and the scale's shape");
    }
    if (ctx.has_input(4)) {
      const Tensor& b = ctx.input(4);
      if (!ctx.input_known(4) || b.dtype != DataType::kFloat || b.rank() != 1 || b.numel() != N)
        return ctx.error("bias must be a constant float32 [N]");
    }
    Shape y = a.shape;
    y.back() = N;
    return ctx.set_output(0, DataType::kFloat, std::move(y));
  }

  Status compute(OpContext& ctx) override {
    const Tensor& a = ctx.input(0);
    const Tensor& w = ctx.input(1);
    const IsaKernels& ik = active_kernels();
    const int64_t K = a.shape.back(), N = tb_ ? w.shape[0] : w.shape[1], M = a.numel() / K;
    if (!valid_ || packed_.isa != ik.isa) {
      Int4Source src;
      src.w = w.as<uint8_t>();
      src.w_rs = tb_ ? 1 : N, src.w_cs = tb_ ? K : 1;
      src.is_signed = w.dtype == DataType::kInt4;
      src.s = ctx.input(2).as<float>();
      src.zp = ctx.has_input(3) ? ctx.input(3).as<uint8_t>() : nullptr;
      const int64_t blocks = (K + block_ - 1) / block_;
      src.s_rs = tb_ ? 1 : N, src.s_cs = tb_ ? blocks : 1;
      src.K = K, src.N = N, src.block = block_;
      if (!int4_pack_b(ik, src, packed_)) return out_of_range(ctx.node().label() + ": cannot allocate the packed 4-bit weight");
      valid_ = true;
      // The model's copy is not read again (an ISA switch faults it back in).
      release_pages(w.data, w.nbytes());
    }
    PETREL_RETURN_IF_ERROR(reserve(ctx, work_, int4_gemm_workspace_floats(ik, M, ctx.pool)));
    Int4GemmParams p;
    p.M = M;
    p.a = a.as<float>(), p.a_rs = K;
    p.b = &packed_;
    p.c = ctx.output(0).as<float>(), p.ldc = N;
    p.bias = ctx.has_input(4) ? ctx.input(4).as<float>() : nullptr;
    p.act = fa_.none() ? nullptr : &fa_;
    int4_gemm(ik, p, work_.data(), ctx.pool);
    return Status::ok();
  }

 private:
  bool tb_;
  int64_t block_;
  FusedActivation fa_;
  bool valid_ = false;
  Int4PackedB packed_;
  FloatBuffer work_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_int4_matmul(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(int64_t tb, ref::attr_int(n, "transB", 0));
  PETREL_ASSIGN_OR_RETURN(int64_t block, ref::attr_int_required(n, "block_size"));
  if (tb != 0 && tb != 1) return invalid_model(n.label() + ": transB must be 0 or 1");
  if (block < 1) return invalid_model(n.label() + ": block_size must be >= 1");
  PETREL_ASSIGN_OR_RETURN(FusedActivation fa, FusedActivation::from_node(n));
  return std::unique_ptr<Kernel>(new Int4MatMulKernel(tb != 0, block, fa));
}

}  // namespace petrel::x86
