// Slice (opset 10+ input form: starts, ends, axes, steps), done as a strided view of the input.
#include <algorithm>

#include "kernels/reference/input_checks.hpp"
#include "kernels/reference/tensor_util.hpp"

namespace petrel::ref {
namespace {

using namespace tensor_detail;

class SliceKernel : public Kernel {
 public:
  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 3, 5));
    Shape out;
    std::vector<int64_t> strides;
    int64_t base;
    PETREL_RETURN_IF_ERROR(plan(ctx, out, strides, base));
    return ctx.set_output(0, ctx.input(0).dtype, std::move(out));
  }
  Status compute(OpContext& ctx) override {
    Shape out;
    std::vector<int64_t> strides;
    int64_t base;
    PETREL_RETURN_IF_ERROR(plan(ctx, out, strides, base));
    const Tensor& x = ctx.input(0);
    Tensor& y = ctx.output(0);
    return dispatch_by_size(x.dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      strided_copy(x.as<T>(), y.as<T>(), out, strides, base);
      return Status::ok();
    });
  }

 private:
  // Output shape and the view (strides, base offset) of the input it reads.
  static Status plan(OpContext& ctx, Shape& out, std::vector<int64_t>& strides, int64_t& base) {
    const Tensor& x = ctx.input(0);
    const int64_t r = x.rank();
    std::vector<int64_t> starts, ends, axes, steps;
    PETREL_RETURN_IF_ERROR(read_int_input(ctx, 1, starts));
    PETREL_RETURN_IF_ERROR(read_int_input(ctx, 2, ends));
    if (starts.size() != ends.size()) return ctx.error("starts and ends have different lengths");
    if (ctx.has_input(3)) {
      PETREL_RETURN_IF_ERROR(read_int_input(ctx, 3, axes));
    } else {
      if (int64_t(starts.size()) > r) return ctx.error("more starts than input dimensions");
      for (size_t i = 0; i < starts.size(); ++i) axes.push_back(int64_t(i));
    }
    if (ctx.has_input(4)) {
      PETREL_RETURN_IF_ERROR(read_int_input(ctx, 4, steps));
    } else {
      steps.assign(starts.size(), 1);
    }
    if (axes.size() != starts.size() || steps.size() != starts.size())
      return ctx.error("starts, ends, axes and steps must have the same length");
    out = x.shape;
    auto cs = contiguous_strides(x.shape);
    strides = cs;
    base = 0;
    std::vector<bool> seen(size_t(r), false);
    for (size_t i = 0; i < starts.size(); ++i) {
      PETREL_ASSIGN_OR_RETURN(int64_t a, normalize_axis(ctx.node(), axes[i], r));
      if (seen[size_t(a)]) return ctx.error("axis " + std::to_string(axes[i]) + " repeated");
      seen[size_t(a)] = true;
      const int64_t dim = x.shape[size_t(a)], step = steps[i];
      if (step == 0) return ctx.error("step cannot be 0");
      int64_t s = starts[i], e = ends[i];
      if (s < 0) s += dim;
      if (e < 0) e += dim;
      int64_t len;
      if (dim == 0) {
        len = 0;
      } else if (step > 0) {
        s = std::clamp<int64_t>(s, 0, dim);
        e = std::clamp<int64_t>(e, 0, dim);
        len = e > s ? (e - s - 1) / step + 1 : 0;
      } else {
        // backwards: start clamps to the last element, end to one before the first
        s = std::clamp<int64_t>(s, 0, dim - 1);
        e = std::clamp<int64_t>(e, -1, dim - 1);
        // -step overflows for INT64_MIN: divide in unsigned arithmetic
        len = s > e ? int64_t(uint64_t(s - e - 1) / (uint64_t(0) - uint64_t(step))) + 1 : 0;
      }
      out[size_t(a)] = len;
      if (len > 0) base += s * cs[size_t(a)];
      // with len <= 1 the stride is never used (and step may be huge)
      strides[size_t(a)] = len > 1 ? cs[size_t(a)] * step : cs[size_t(a)];
    }
    // an empty output reads nothing; keep the view trivially in bounds
    if (shape_numel(out) == 0) base = 0;
    return Status::ok();
  }
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_slice(const Node&) { return std::unique_ptr<Kernel>(new SliceKernel()); }

}  // namespace petrel::ref
