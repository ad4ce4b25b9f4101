// Trilu (triangle of the last two dims) and ReverseSequence.
#include "kernels/reference/input_checks.hpp"
#include "kernels/reference/tensor_util.hpp"

namespace petrel::ref {
namespace {

using namespace tensor_detail;

class TriluKernel : public Kernel {
 public:
  explicit TriluKernel(bool upper) : upper_(upper) {}
  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 1, 2));
    const Tensor& x = ctx.input(0);
    if (x.rank() < 2) return ctx.error("input must have rank >= 2");
    if (ctx.has_input(1) && ctx.input(1).numel() != 1) return ctx.error("k must be a scalar");
    if (ctx.has_input(1) && !is_index_type(ctx.input(1).dtype)) return ctx.error("k must be int64");
    return ctx.set_output(0, x.dtype, x.shape);
  }
  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const int64_t k = ctx.has_input(1) ? index_at(ctx.input(1), 0) : 0;
    const size_t r = x.shape.size();
    const int64_t rows = x.shape[r - 2], cols = x.shape[r - 1];
    const int64_t mats = prod(x.shape, 0, r - 2);
    return dispatch_by_size(x.dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* in = x.as<T>();
      T* out = ctx.output(0).as<T>();
      for (int64_t m = 0; m < mats; ++m)
        for (int64_t i = 0; i < rows; ++i)
          for (int64_t j = 0; j < cols; ++j) {
            const int64_t o = (m * rows + i) * cols + j;
            // upper keeps j - i >= k, lower keeps j - i <= k (k may be huge: compare, don't add)
            const bool keep = upper_ ? j - i >= k : j - i <= k;
            out[o] = keep ? in[o] : T{};
          }
      return Status::ok();
    });
  }

 private:
  bool upper_;
};

class ReverseSequenceKernel : public Kernel {
 public:
  ReverseSequenceKernel(int64_t batch_axis, int64_t time_axis) : batch_(batch_axis), time_(time_axis) {}
  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 2, 2));
    const Tensor& x = ctx.input(0);
    const Tensor& lens = ctx.input(1);
    if (x.rank() < 2) return ctx.error("input must have rank >= 2");
    if (!is_index_type(lens.dtype)) return ctx.error("sequence_lens must be int64");
    if (lens.rank() != 1 || lens.shape[0] != x.shape[size_t(batch_)])
      return ctx.error("sequence_lens must have shape [batch_size]");
    return ctx.set_output(0, x.dtype, x.shape);
  }
  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const Tensor& lens = ctx.input(1);
    const int64_t nb = x.shape[size_t(batch_)], nt = x.shape[size_t(time_)];
    const int64_t inner = prod(x.shape, 2, x.shape.size());
    // element (b, t) starts at b * bs + t * ts
    const int64_t bs = batch_ == 0 ? nt * inner : inner, ts = time_ == 0 ? nb * inner : inner;
    for (int64_t b = 0; b < nb; ++b) {
      const int64_t l = index_at(lens, b);
      if (l < 0 || l > nt) return ctx.error("sequence length " + std::to_string(l) + " out of range [0, " + std::to_string(nt) + "]");
    }
    return dispatch_by_size(x.dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* in = x.as<T>();
      T* out = ctx.output(0).as<T>();
      for (int64_t b = 0; b < nb; ++b) {
        const int64_t l = index_at(lens, b);
        for (int64_t t = 0; t < nt; ++t) {
          const int64_t src = t < l ? l - 1 - t : t;
          std::copy(in + b * bs + src * ts, in + b * bs + src * ts + inner, out + b * bs + t * ts);
        }
      }
      return Status::ok();
    });
  }

 private:
  int64_t batch_, time_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_trilu(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(int64_t upper, attr_int(n, "upper", 1));
  return std::unique_ptr<Kernel>(new TriluKernel(upper != 0));
}

Result<std::unique_ptr<Kernel>> make_reverse_sequence(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(int64_t b, attr_int(n, "batch_axis", 1));
  PETREL_ASSIGN_OR_RETURN(int64_t t, attr_int(n, "time_axis", 0));
  if ((b != 0 && b != 1) || (t != 0 && t != 1) || b == t)
    return invalid_model(n.label() + ": batch_axis and time_axis must be 0 and 1 in some order");
  return std::unique_ptr<Kernel>(new ReverseSequenceKernel(b, t));
}

}  // namespace petrel::ref
