// LayerNormalization in float32 over the trailing axes [axis, rank) when Scale (and B) cover
// them whole (no broadcast inside the normalised block) and stash_type is float — what the
// optimizer's layer_norm_fusion emits (axis -1, 1-D Scale/B) and what exporters write. Rows
// are split across the pool. Everything else: the reference.
#include "kernels/reference/common.hpp"
#include "kernels/x86/kernel_util.hpp"
#include "kernels/x86/kernels.hpp"

namespace petrel::x86 {
namespace {

class LayerNormKernel final : public FastPathKernel {
 public:
  LayerNormKernel(std::unique_ptr<Kernel> ref, int64_t axis, float eps, int64_t stash)
      : ref_(std::move(ref)), axis_(axis), eps_(eps), stash_(stash) {}

  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(ref_->infer(ctx));
    const Tensor& x = ctx.input(0);
    const int64_t r = x.rank();
    const int64_t axis = axis_ < 0 ? axis_ + r : axis_;
    int64_t inner = 1;
    for (int64_t d = axis; d < r; ++d) inner *= x.shape[size_t(d)];
    fast_ = x.dtype == DataType::kFloat && stash_ == int64_t(DataType::kFloat) && inner > 0 &&
            ctx.input(1).numel() == inner && (!ctx.has_input(2) || ctx.input(2).numel() == inner);
    return Status::ok();
  }

  Status compute(OpContext& ctx) override {
    if (!fast_) return ref_->compute(ctx);
    const Tensor& x = ctx.input(0);
    const int64_t r = x.rank();
    const int64_t axis = axis_ < 0 ? axis_ + r : axis_;
    int64_t inner = 1;
    for (int64_t d = axis; d < r; ++d) inner *= x.shape[size_t(d)];
    const int64_t rows = x.numel() / inner;
    const float* xp = x.as<float>();
    const float* sp = ctx.input(1).as<float>();
    const float* bp = ctx.has_input(2) ? ctx.input(2).as<float>() : nullptr;
    float* yp = ctx.output(0).as<float>();
    float* mean = ctx.has_output(1) ? ctx.output(1).as<float>() : nullptr;
    float* inv = ctx.has_output(2) ? ctx.output(2).as<float>() : nullptr;
    const IsaKernels& ik = active_kernels();
    for_rows(ctx.pool, rows, inner, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i)
        ik.layer_norm(xp + i * inner, sp, bp, yp + i * inner, inner, eps_, mean ? mean + i : nullptr, inv ? inv + i : nullptr);
    });
    return Status::ok();
  }

 private:
  std::unique_ptr<Kernel> ref_;
  int64_t axis_;
  float eps_;
  int64_t stash_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_layer_norm(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(auto ref, make_reference(n));
  PETREL_ASSIGN_OR_RETURN(int64_t axis, ref::attr_int(n, "axis", -1));
  PETREL_ASSIGN_OR_RETURN(float eps, ref::attr_float(n, "epsilon", 1e-5f));
  PETREL_ASSIGN_OR_RETURN(int64_t stash, ref::attr_int(n, "stash_type", 1));
  return std::unique_ptr<Kernel>(new LayerNormKernel(std::move(ref), axis, eps, stash));
}

}  // namespace petrel::x86
