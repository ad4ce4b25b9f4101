// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (= NLL of LogSoftmax over axis 1).
// input [N, C, d1..dk], target [N, d1..dk], optional weight [C].
#include <algorithm>
#include <cmath>

#include "kernels/reference/input_checks.hpp"
#include "kernels/reference/common.hpp"

namespace petrel::ref {
namespace {

enum class Reduction { kNone, kSum, kMean };

class LossKernel final : public Kernel {
 public:
  LossKernel(bool softmax, Reduction red, bool has_ignore, int64_t ignore)
      : softmax_(softmax), red_(red), has_ignore_(has_ignore), ignore_(ignore) {}

  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 2, 3));
    const Tensor& x = ctx.input(0);
    if (!dtype_is_float(x.dtype)) return ctx.unsupported_error("dtype " + std::string(dtype_name(x.dtype)));
    if (!ctx.has_input(1)) return ctx.error("missing target input");
    const Tensor& t = ctx.input(1);
    if (t.dtype != DataType::kInt32 && t.dtype != DataType::kInt64) return ctx.error("target must be int32 or int64");
    if (x.rank() < 2) return ctx.error("input must have rank >= 2");
    Shape want = x.shape;
    want.erase(want.begin() + 1);
    if (t.shape != want)
      return ctx.error("target shape " + shape_to_string(t.shape) + " does not match input " + shape_to_string(x.shape));
    if (ctx.has_input(2)) {
      const Tensor& w = ctx.input(2);
      if (w.dtype != x.dtype) return ctx.error("weight must have the type of the input");
      if (w.rank() != 1 || w.shape[0] != x.shape[1]) return ctx.error("weight must have shape [C]");
    }
    PETREL_RETURN_IF_ERROR(ctx.set_output(0, x.dtype, red_ == Reduction::kNone ? t.shape : Shape{}));
    if (softmax_ && ctx.num_outputs() > 1) PETREL_RETURN_IF_ERROR(ctx.set_output(1, x.dtype, x.shape));
    return Status::ok();
  }

  Status compute(OpContext& ctx) override {
    return dispatch_float(ctx.input(0).dtype, [&](auto tag) { return run<typename decltype(tag)::type>(ctx); });
  }

 private:
  template <typename T> Status run(OpContext& ctx) {
    using C = ComputeType<T>;
    const Tensor& x = ctx.input(0);
    const Tensor& tt = ctx.input(1);
    const T* xp = x.as<T>();
    const T* w = ctx.has_input(2) ? ctx.input(2).as<T>() : nullptr;
    T* lp = softmax_ && ctx.has_output(1) ? ctx.output(1).as<T>() : nullptr;
    T* y = ctx.output(0).as<T>();
    const int64_t N = x.shape[0], NC = x.shape[1];
    const int64_t D = N == 0 || NC == 0 ? 0 : x.numel() / (N * NC);
    // With a weight or an ignore_index, "mean" divides by the sum of the gathered weights
    // (ignored targets weigh 0); otherwise by the element count, as the reference does.
    double sum = 0, wsum = 0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t d = 0; d < D; ++d) {
        const T* col = xp + n * NC * D + d;
        C mx = 0, lse = 0;
        if (softmax_) {
          mx = NC ? load(col[0]) : C(0);
          for (int64_t c = 1; c < NC; ++c) mx = std::max(mx, load(col[c * D]));
          C s = 0;
          for (int64_t c = 0; c < NC; ++c) s += std::exp(load(col[c * D]) - mx);
          lse = std::log(s);
          if (lp)
            for (int64_t c = 0; c < NC; ++c) lp[n * NC * D + c * D + d] = store<T>(load(col[c * D]) - mx - lse);
        }
        const int64_t t = element_as_int64(tt, n * D + d);
        double loss = 0, wt = 0;
        if (!(has_ignore_ && t == ignore_)) {
          if (t < 0 || t >= NC)
            return ctx.error("target " + std::to_string(t) + " is outside [0, " + std::to_string(NC) + ")");
          const C v = softmax_ ? load(col[t * D]) - mx - lse : load(col[t * D]);
          wt = w ? double(load(w[t])) : 1.0;
          loss = -double(v) * wt;
        }
        sum += loss;
        wsum += wt;
        if (red_ == Reduction::kNone) y[n * D + d] = store<T>(C(loss));
      }
    if (red_ == Reduction::kSum) y[0] = store<T>(C(sum));
    if (red_ == Reduction::kMean) {
      const double denom = w || has_ignore_ ? wsum : double(N * D);
      y[0] = store<T>(C(sum / denom));
    }
    return Status::ok();
  }

  bool softmax_;
  Reduction red_;
  bool has_ignore_;
  int64_t ignore_;
};

Result<std::unique_ptr<Kernel>> make_loss(const Node& n, bool softmax) {
  PETREL_ASSIGN_OR_RETURN(std::string r, attr_string(n, "reduction", "mean"));
  PETREL_ASSIGN_OR_RETURN(int64_t ignore, attr_int(n, "ignore_index", 0));
  Reduction red;
  if (r == "none") red = Reduction::kNone;
  else if (r == "sum") red = Reduction::kSum;
  else if (r == "mean") red = Reduction::kMean;
  else return unsupported(n.label() + ": reduction '" + r + "'");
  return std::unique_ptr<Kernel>(new LossKernel(softmax, red, has_attr(n, "ignore_index"), ignore));
}

}  // namespace

Result<std::unique_ptr<Kernel>> make_softmax_cross_entropy_loss(const Node& n) { return make_loss(n, true); }
Result<std::unique_ptr<Kernel>> make_nll_loss(const Node& n) { return make_loss(n, false); }

}  // namespace petrel::ref
