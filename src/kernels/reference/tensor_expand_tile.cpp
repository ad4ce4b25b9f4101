// Expand (bidirectional broadcast to a shape input) and Tile (repeats input).
#include "kernels/reference/input_checks.hpp"
#include "kernels/reference/tensor_util.hpp"

namespace petrel::ref {
namespace {

using namespace tensor_detail;

class ExpandKernel : public Kernel {
 public:
  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 2, 2));
    const Tensor& x = ctx.input(0);
    std::vector<int64_t> s;
    PETREL_RETURN_IF_ERROR(read_int_input(ctx, 1, s));
    if (ctx.input(1).rank() != 1) return ctx.error("shape input must be 1-D");
    for (int64_t d : s)
      if (d < 0) return ctx.error("shape has negative dimension " + std::to_string(d));
    auto out = broadcast_shapes(x.shape, s);
    if (!out) return ctx.error(out.status().message());
    PETREL_RETURN_IF_ERROR(checked_numel(*out).status());
    return ctx.set_output(0, x.dtype, std::move(out).value());
  }
  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    Tensor& y = ctx.output(0);
    auto st = broadcast_strides(x.shape, y.shape);
    return dispatch_by_size(x.dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      strided_copy(x.as<T>(), y.as<T>(), y.shape, st, 0);
      return Status::ok();
    });
  }
};

class TileKernel : public Kernel {
 public:
  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 2, 2));
    const Tensor& x = ctx.input(0);
    std::vector<int64_t> reps;
    PETREL_RETURN_IF_ERROR(read_int_input(ctx, 1, reps));
    if (int64_t(reps.size()) != x.rank()) return ctx.error("repeats must have one entry per input dimension");
    Shape out(x.shape.size());
    for (size_t i = 0; i < reps.size(); ++i) {
      if (reps[i] < 0) return ctx.error("negative repeat " + std::to_string(reps[i]));
      if (x.shape[i] != 0 && reps[i] > kMaxElements / x.shape[i]) return ctx.error("output too large");
      out[i] = x.shape[i] * reps[i];
    }
    PETREL_RETURN_IF_ERROR(checked_numel(out).status());
    return ctx.set_output(0, x.dtype, std::move(out));
  }
  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    Tensor& y = ctx.output(0);
    const size_t r = x.shape.size();
    const int64_t total = y.numel();
    if (total == 0) return Status::ok();
    const auto xs = contiguous_strides(x.shape);
    return dispatch_by_size(x.dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* in = x.as<T>();
      T* out = y.as<T>();
      if (r == 0) { out[0] = in[0]; return Status::ok(); }
      // Innermost dim: the input row is repeated; outer dims walk the input modulo its size.
      const int64_t row = x.shape[r - 1], orow = y.shape[r - 1];
      std::vector<int64_t> pos(r, 0);
      int64_t off = 0;
      for (int64_t o = 0; o < total; o += orow) {
        for (int64_t k = 0; k < orow; k += row) std::copy(in + off, in + off + row, out + o + k);
        for (size_t d = r - 1; d-- > 0;) {
          ++pos[d];
          off += xs[d];
          if (pos[d] % x.shape[d] == 0) off -= xs[d] * x.shape[d];
          if (pos[d] < y.shape[d]) break;
          pos[d] = 0;
        }
      }
      return Status::ok();
    });
  }
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_expand(const Node&) { return std::unique_ptr<Kernel>(new ExpandKernel()); }
Result<std::unique_ptr<Kernel>> make_tile(const Node&) { return std::unique_ptr<Kernel>(new TileKernel()); }

}  // namespace petrel::ref
