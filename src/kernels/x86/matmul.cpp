// MatMul (numpy semantics: any rank, broadcast batch dims, 1-D operands) and petrel.FusedMatMul
// (+ bias[N], then the fused activation) in float32 on the packed SGEMM. A B that is constant
// at plan time (weights) is packed once, at the first compute; any other B is packed per run
// into a buffer kept by the kernel. Products with at most two rows and a B that changes per
// run stream B unpacked instead (packing it would cost as much as the product).
#include <algorithm>

#include "core/fused_activation.hpp"
#include "kernels/reference/common.hpp"
#include "kernels/x86/kernel_util.hpp"
#include "kernels/x86/kernels.hpp"

namespace petrel::x86 {
namespace {

class MatMulKernel final : public FastPathKernel {
 public:
  MatMulKernel(std::unique_ptr<Kernel> ref, FusedActivation fa) : ref_(std::move(ref)), fa_(fa) {}

  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(ref_->infer(ctx));
    packed_.invalidate();  // a new plan: constants may have moved
    const Tensor& a = ctx.input(0);
    const Tensor& b = ctx.input(1);
    fast_ = a.dtype == DataType::kFloat;
    if (!fast_) return Status::ok();
    // B is a weight when known at plan time while A is not. With A known too, this infer
    // comes from the dynamic path (subgraphs, folding: every input reads as known) and B may
    // be an activation that changes per run: packed per run then, and its pages kept.
    b_const_ = ctx.input_known(1) && !ctx.input_known(0);
    make_plan(a.shape, b.shape);
    return Status::ok();
  }

  Status compute(OpContext& ctx) override {
    if (!fast_) return ref_->compute(ctx);
    const Tensor& a = ctx.input(0);
    const Tensor& b = ctx.input(1);
    if (a.shape != a_shape_ || b.shape != b_shape_) make_plan(a.shape, b.shape);  // defensive
    if (K_ == 0) return ref_->compute(ctx);  // zeros (+ bias, activation)
    if (M_ == 0 || N_ == 0 || count_ == 0) return Status::ok();
    const IsaKernels& ik = active_kernels();
    SgemmBatch p;
    p.M = M_, p.N = N_, p.K = K_, p.count = count_;
    p.a = a.as<float>(), p.a_rs = K_, p.a_cs = 1, p.a_off = a_off_.empty() ? nullptr : a_off_.data();
    p.c = ctx.output(0).as<float>(), p.ldc = N_, p.c_stride = M_ * N_;
    p.ep.bias = ctx.has_input(2) ? ctx.input(2).as<float>() : nullptr;
    p.ep.act = fa_.none() ? nullptr : &fa_;
    if (!b_const_ && M_ <= 2) {
      sgemv_rows(ik, p, b.as<float>(), N_, b_off_.empty() ? nullptr : b_off_.data(), ctx.pool);
      return Status::ok();
    }
    PETREL_RETURN_IF_ERROR(packed_.prepare(ctx, ik, b_const_, b, {b.as<float>(), N_, 1}, b_count_ > 1 ? b_dist_off_.data() : nullptr,
                                           b_count_, K_, N_));
    p.b_packed = packed_.data();
    p.b_idx = b_idx_.empty() ? nullptr : b_idx_.data();
    PETREL_RETURN_IF_ERROR(reserve(ctx, work_, sgemm_workspace_floats(ik, sgemm_slices(ctx.pool))));
    sgemm(ik, p, work_.data(), ctx.pool);
    return Status::ok();
  }

 private:
  // Batch layout at these shapes (shapes were validated by the reference infer).
  void make_plan(const Shape& a, const Shape& b) {
    a_shape_ = a;
    b_shape_ = b;
    Shape as = a, bs = b;
    if (as.size() == 1) as.insert(as.begin(), 1);
    if (bs.size() == 1) bs.push_back(1);
    M_ = as[as.size() - 2];
    K_ = as.back();
    N_ = bs.back();
    const Shape ab(as.begin(), as.end() - 2), bb(bs.begin(), bs.end() - 2);
    const Shape batch = ref::broadcast_shapes(ab, bb).value();
    int64_t total = 1, a_count = 1, b_count = 1;
    for (int64_t v : batch) total *= v;
    for (int64_t v : ab) a_count *= v;
    for (int64_t v : bb) b_count *= v;
    a_off_.clear();
    b_idx_.clear();
    b_off_.clear();
    b_dist_off_.clear();
    b_count_ = b_count;
    if (b_count == 1 && a_count == total) {
      // One B for every batch and A's batches are contiguous: one product of total * M rows.
      M_ *= total;
      count_ = total > 0 ? 1 : 0;
      return;
    }
    count_ = total;
    std::vector<int64_t> a_st = ref::broadcast_strides(ab, batch), b_st = ref::broadcast_strides(bb, batch);
    std::vector<int64_t> idx(batch.size(), 0);
    int64_t ao = 0, bo = 0;  // in matrices
    for (int64_t i = 0; i < total; ++i) {
      a_off_.push_back(ao * M_ * K_);
      b_idx_.push_back(bo);
      b_off_.push_back(bo * K_ * N_);
      for (size_t d = batch.size(); d-- > 0;) {
        if (++idx[d] < batch[d]) { ao += a_st[d]; bo += b_st[d]; break; }
        ao -= a_st[d] * (batch[d] - 1);
        bo -= b_st[d] * (batch[d] - 1);
        idx[d] = 0;
      }
    }
    for (int64_t j = 0; j < b_count; ++j) b_dist_off_.push_back(j * K_ * N_);
  }

  std::unique_ptr<Kernel> ref_;
  FusedActivation fa_;
  bool b_const_ = false;
  Shape a_shape_, b_shape_;
  int64_t M_ = 0, N_ = 0, K_ = 0, count_ = 0, b_count_ = 1;
  std::vector<int64_t> a_off_, b_idx_, b_off_, b_dist_off_;
  PackedB packed_;
  FloatBuffer work_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_matmul(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(auto ref, make_reference(n));
  PETREL_ASSIGN_OR_RETURN(FusedActivation fa, FusedActivation::from_node(n));
  return std::unique_ptr<Kernel>(new MatMulKernel(std::move(ref), fa));
}

}  // namespace petrel::x86
