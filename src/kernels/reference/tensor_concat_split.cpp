// Concat and Split: block copies along one axis (outer x [axis x inner] rows).
#include "kernels/reference/input_checks.hpp"
#include "kernels/reference/tensor_util.hpp"

namespace petrel::ref {
namespace {

using namespace tensor_detail;

class ConcatKernel : public Kernel {
 public:
  explicit ConcatKernel(int64_t axis) : axis_(axis) {}
  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, std::max(1, ctx.num_inputs()), kManyInputs));
    if (ctx.num_inputs() < 1 || !ctx.has_input(0)) return ctx.error("needs at least one input");
    const Tensor& x0 = ctx.input(0);
    const int64_t r = x0.rank();
    if (r == 0) return ctx.error("cannot concatenate scalars");
    PETREL_ASSIGN_OR_RETURN(int64_t a, normalize_axis(ctx.node(), axis_, r));
    Shape out = x0.shape;
    out[size_t(a)] = 0;
    for (int i = 0; i < ctx.num_inputs(); ++i) {
      if (!ctx.has_input(i)) return ctx.error("input " + std::to_string(i) + " is missing");
      const Tensor& x = ctx.input(i);
      if (x.dtype != x0.dtype) return ctx.error("inputs have different dtypes");
      if (x.rank() != r) return ctx.error("inputs have different ranks");
      for (int64_t d = 0; d < r; ++d)
        if (d != a && x.shape[size_t(d)] != x0.shape[size_t(d)])
          return ctx.error("input " + std::to_string(i) + " shape " + shape_to_string(x.shape) + " does not match " + shape_to_string(x0.shape));
      out[size_t(a)] += x.shape[size_t(a)];
    }
    return ctx.set_output(0, x0.dtype, std::move(out));
  }
  Status compute(OpContext& ctx) override {
    Tensor& y = ctx.output(0);
    const size_t a = size_t(axis_ < 0 ? axis_ + y.rank() : axis_);
    const int64_t outer = prod(y.shape, 0, a), row = prod(y.shape, a, y.shape.size());
    return dispatch_by_size(y.dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      T* out = y.as<T>();
      int64_t col = 0;
      for (int i = 0; i < ctx.num_inputs(); ++i) {
        const Tensor& x = ctx.input(i);
        const int64_t w = prod(x.shape, a, x.shape.size());
        const T* in = x.as<T>();
        for (int64_t o = 0; o < outer; ++o) std::copy(in + o * w, in + (o + 1) * w, out + o * row + col);
        col += w;
      }
      return Status::ok();
    });
  }

 private:
  int64_t axis_;
};

class SplitKernel : public Kernel {
 public:
  SplitKernel(int64_t axis, int64_t num_outputs) : axis_(axis), num_outputs_(num_outputs) {}
  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 1, 2));
    const Tensor& x = ctx.input(0);
    PETREL_ASSIGN_OR_RETURN(int64_t a, normalize_axis(ctx.node(), axis_, x.rank()));
    std::vector<int64_t> parts;
    PETREL_RETURN_IF_ERROR(sizes(ctx, x.shape[size_t(a)], parts));
    for (size_t i = 0; i < parts.size(); ++i) {
      Shape s = x.shape;
      s[size_t(a)] = parts[i];
      PETREL_RETURN_IF_ERROR(ctx.set_output(int(i), x.dtype, std::move(s)));
    }
    return Status::ok();
  }
  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const size_t a = size_t(axis_ < 0 ? axis_ + x.rank() : axis_);
    const int64_t outer = prod(x.shape, 0, a), inner = prod(x.shape, a + 1, x.shape.size());
    const int64_t row = x.shape[a] * inner;
    std::vector<int64_t> parts;
    PETREL_RETURN_IF_ERROR(sizes(ctx, x.shape[a], parts));
    return dispatch_by_size(x.dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* in = x.as<T>();
      int64_t col = 0;
      for (int i = 0; i < ctx.num_outputs(); ++i) {
        const int64_t w = parts[size_t(i)] * inner;
        if (ctx.has_output(i)) {
          T* out = ctx.output(i).as<T>();
          for (int64_t o = 0; o < outer; ++o) std::copy(in + o * row + col, in + o * row + col + w, out + o * w);
        }
        col += w;
      }
      return Status::ok();
    });
  }

 private:
  Status sizes(OpContext& ctx, int64_t dim, std::vector<int64_t>& parts) const {
    const int n = ctx.num_outputs();
    if (ctx.has_input(1)) {
      PETREL_RETURN_IF_ERROR(read_int_input(ctx, 1, parts));
      if (int(parts.size()) != n) return ctx.error("split has " + std::to_string(parts.size()) + " entries for " + std::to_string(n) + " outputs");
      int64_t sum = 0;
      for (int64_t p : parts) {
        if (p < 0) return ctx.error("negative split size");
        sum += p;
        if (sum > dim) break;
      }
      if (sum != dim) return ctx.error("split sizes do not sum to the axis dimension " + std::to_string(dim));
      return Status::ok();
    }
    if (n < 1) return ctx.error("no outputs");
    if (num_outputs_ > 0) {
      // opset 18: ceil-sized chunks, the last one smaller
      if (num_outputs_ != n) return ctx.error("num_outputs does not match the number of outputs");
      const int64_t chunk = (dim + n - 1) / n;
      parts.assign(size_t(n), 0);
      int64_t left = dim;
      for (int i = 0; i < n; ++i) {
        parts[size_t(i)] = std::min(chunk, left);
        left -= parts[size_t(i)];
      }
      return Status::ok();
    }
    if (dim % n) return ctx.error("axis dimension " + std::to_string(dim) + " is not divisible into " + std::to_string(n) + " equal parts");
    parts.assign(size_t(n), dim / n);
    return Status::ok();
  }
  int64_t axis_, num_outputs_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_concat(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(int64_t axis, attr_int_required(n, "axis"));
  return std::unique_ptr<Kernel>(new ConcatKernel(axis));
}

Result<std::unique_ptr<Kernel>> make_split(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(int64_t axis, attr_int(n, "axis", 0));
  PETREL_ASSIGN_OR_RETURN(int64_t num, attr_int(n, "num_outputs", 0));
  if (has_attr(n, "num_outputs") && num < 1) return invalid_model(n.label() + ": num_outputs must be positive");
  return std::unique_ptr<Kernel>(new SplitKernel(axis, num));
}

}  // namespace petrel::ref
