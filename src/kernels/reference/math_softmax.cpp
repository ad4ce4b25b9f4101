// Softmax, LogSoftmax, Hardmax. Opset >= 13: along `axis` (default -1). Before 13 the input is
// coerced to 2-D [prod(dims < axis), prod(dims >= axis)] (default axis 1) and the op runs over
// the whole second dim.
#include <cmath>
#include <limits>

#include "kernels/reference/input_checks.hpp"
#include "kernels/reference/common.hpp"

namespace petrel::ref {
namespace {

enum class SmOp { kSoftmax, kLogSoftmax, kHardmax };

class SoftmaxKernel final : public Kernel {
 public:
  SoftmaxKernel(SmOp op, int64_t axis, bool coerce_2d) : op_(op), axis_(axis), coerce_(coerce_2d) {}

  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 1, 1));
    const Tensor& x = ctx.input(0);
    if (!dtype_is_float(x.dtype)) return ctx.unsupported_error("dtype " + std::string(dtype_name(x.dtype)));
    if (coerce_) {
      // The 2-D view allows axis == rank (a [N, 1] view).
      if (axis_ < -x.rank() || axis_ > x.rank()) return ctx.error("axis out of range");
    } else {
      PETREL_RETURN_IF_ERROR(normalize_axis(ctx.node(), axis_, x.rank()).status());
    }
    return ctx.set_output(0, x.dtype, x.shape);
  }

  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const int64_t r = x.rank();
    const int64_t axis = axis_ < 0 ? axis_ + r : axis_;
    int64_t outer = 1, n = 1, inner = 1;
    for (int64_t d = 0; d < r; ++d) {
      const int64_t v = x.shape[size_t(d)];
      if (d < axis) outer *= v;
      else if (d == axis || coerce_) n *= v;
      else inner *= v;
    }
    return dispatch_float(x.dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      run<T>(x.as<T>(), ctx.output(0).as<T>(), outer, n, inner);
      return Status::ok();
    });
  }

 private:
  template <typename T> void run(const T* x, T* y, int64_t outer, int64_t n, int64_t inner) const {
    using C = ComputeType<T>;
    if (n == 0) return;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        const T* xp = x + o * n * inner + i;
        T* yp = y + o * n * inner + i;
        C mx = load(xp[0]);
        int64_t arg = 0;
        for (int64_t j = 1; j < n; ++j) {
          const C v = load(xp[j * inner]);
          if (v > mx) { mx = v; arg = j; }
        }
        if (op_ == SmOp::kHardmax) {
          for (int64_t j = 0; j < n; ++j) yp[j * inner] = store<T>(C(j == arg ? 1 : 0));
          continue;
        }
        // Subtracting the max keeps exp() in range; an all -inf row would give NaN like numpy.
        C sum = 0;
        if (op_ == SmOp::kSoftmax) {
          if constexpr (std::is_same_v<T, C>) {
            for (int64_t j = 0; j < n; ++j) {
              const C e = std::exp(xp[j * inner] - mx);
              sum += e;
              yp[j * inner] = e;
            }
            const C inv = C(1) / sum;
            for (int64_t j = 0; j < n; ++j) yp[j * inner] *= inv;
          } else {
            // float16/bfloat16 would round the intermediate exp; recompute it instead.
            for (int64_t j = 0; j < n; ++j) sum += std::exp(load(xp[j * inner]) - mx);
            const C inv = C(1) / sum;
            for (int64_t j = 0; j < n; ++j) yp[j * inner] = store<T>(std::exp(load(xp[j * inner]) - mx) * inv);
          }
        } else {
          for (int64_t j = 0; j < n; ++j) sum += std::exp(load(xp[j * inner]) - mx);
          const C lse = std::log(sum);
          for (int64_t j = 0; j < n; ++j) yp[j * inner] = store<T>(load(xp[j * inner]) - mx - lse);
        }
      }
  }

  SmOp op_;
  int64_t axis_;
  bool coerce_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_softmax(const Node& n) {
  const SmOp op = n.op_type == "Softmax" ? SmOp::kSoftmax : n.op_type == "LogSoftmax" ? SmOp::kLogSoftmax : SmOp::kHardmax;
  // opset 0 means "unknown" (hand-built graphs): use the current semantics.
  const bool coerce = n.opset > 0 && n.opset < 13;
  PETREL_ASSIGN_OR_RETURN(int64_t axis, attr_int(n, "axis", coerce ? 1 : -1));
  return std::unique_ptr<Kernel>(new SoftmaxKernel(op, axis, coerce));
}

}  // namespace petrel::ref
