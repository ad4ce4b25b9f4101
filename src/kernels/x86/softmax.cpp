// Softmax in float32 when the reduced extent is innermost: opset >= 13 with axis = -1 (the
// attention case), and every opset < 13 node (2-D coercion: rows of prod(dims >= axis)).
// Rows are split across the pool; exp is vectorised. Other axes and dtypes: the reference.
#include "kernels/reference/common.hpp"
#include "kernels/x86/kernel_util.hpp"
#include "kernels/x86/kernels.hpp"

namespace petrel::x86 {
namespace {

class SoftmaxKernel final : public FastPathKernel {
 public:
  SoftmaxKernel(std::unique_ptr<Kernel> ref, int64_t axis, bool coerce) : ref_(std::move(ref)), axis_(axis), coerce_(coerce) {}

  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(ref_->infer(ctx));
    const Tensor& x = ctx.input(0);
    const int64_t r = x.rank();
    const int64_t axis = axis_ < 0 ? axis_ + r : axis_;
    fast_ = x.dtype == DataType::kFloat && (coerce_ || axis == r - 1);
    return Status::ok();
  }

  Status compute(OpContext& ctx) override {
    if (!fast_) return ref_->compute(ctx);
    const Tensor& x = ctx.input(0);
    const int64_t r = x.rank();
    const int64_t axis = axis_ < 0 ? axis_ + r : axis_;
    int64_t n = 1;
    for (int64_t d = coerce_ ? axis : r - 1; d < r; ++d) n *= x.shape[size_t(d)];
    if (n == 0 || x.numel() == 0) return Status::ok();
    const int64_t rows = x.numel() / n;
    const float* xp = x.as<float>();
    float* yp = ctx.output(0).as<float>();
    const IsaKernels& ik = active_kernels();
    for_rows(ctx.pool, rows, n, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) ik.softmax(xp + i * n, yp + i * n, n);
    });
    return Status::ok();
  }

 private:
  std::unique_ptr<Kernel> ref_;
  int64_t axis_;
  bool coerce_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_softmax(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(auto ref, make_reference(n));
  // As the reference: opset 0 means "unknown" (hand-built graphs), i.e. current semantics.
  const bool coerce = n.opset > 0 && n.opset < 13;
  PETREL_ASSIGN_OR_RETURN(int64_t axis, ref::attr_int(n, "axis", coerce ? 1 : -1));
  return std::unique_ptr<Kernel>(new SoftmaxKernel(std::move(ref), axis, coerce));
}

}  // namespace petrel::x86
