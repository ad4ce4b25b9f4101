// Scatter (deprecated name), ScatterElements, ScatterND, with reduction none/add/mul/max/min.
// The output starts as a copy of data; updates are applied in index order, so with duplicate
// indices and reduction "none" the last update wins (as in the ONNX reference).
#include <algorithm>

#include "kernels/reference/input_checks.hpp"
#include "kernels/reference/tensor_util.hpp"

namespace petrel::ref {
namespace {

using namespace tensor_detail;

enum class Reduce { kNone, kAdd, kMul, kMax, kMin };

Result<Reduce> parse_reduction(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(std::string r, attr_string(n, "reduction", "none"));
  if (r == "none") return Reduce::kNone;
  if (r == "add") return Reduce::kAdd;
  if (r == "mul") return Reduce::kMul;
  if (r == "max") return Reduce::kMax;
  if (r == "min") return Reduce::kMin;
  return unsupported(n.label() + ": reduction '" + r + "'");
}

// Calls f(apply) where apply(dst, src) combines one update into the output element.
template <typename F> Status with_reducer(DataType dt, Reduce red, F&& f) {
  if (red == Reduce::kNone)
    return dispatch_by_size(dt, [&](auto tag) {
      using T = typename decltype(tag)::type;
      return f(tag, [](T& d, const T& s) { d = s; });
    });
  return dispatch_with_bool(dt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    using C = ComputeType<T>;
    switch (red) {
      case Reduce::kAdd: return f(tag, [](T& d, const T& s) { d = store<T>(C(load(d) + load(s))); });
      case Reduce::kMul: return f(tag, [](T& d, const T& s) { d = store<T>(C(load(d) * load(s))); });
      case Reduce::kMax: return f(tag, [](T& d, const T& s) { d = store<T>(std::max<C>(load(d), load(s))); });
      default: return f(tag, [](T& d, const T& s) { d = store<T>(std::min<C>(load(d), load(s))); });
    }
  });
}

class ScatterElementsKernel : public Kernel {
 public:
  ScatterElementsKernel(int64_t axis, Reduce red) : axis_(axis), red_(red) {}
  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 3, 3));
    const Tensor& x = ctx.input(0);
    const Tensor& idx = ctx.input(1);
    const Tensor& upd = ctx.input(2);
    if (!is_index_type(idx.dtype)) return ctx.error("indices must be int32 or int64");
    if (upd.dtype != x.dtype) return ctx.error("updates dtype differs from data");
    if (idx.shape != upd.shape) return ctx.error("indices and updates shapes differ");
    if (idx.rank() != x.rank() || x.rank() == 0) return ctx.error("indices must have the data's rank (>= 1)");
    PETREL_ASSIGN_OR_RETURN(int64_t a, normalize_axis(ctx.node(), axis_, x.rank()));
    for (int64_t d = 0; d < x.rank(); ++d)
      if (d != a && idx.shape[size_t(d)] > x.shape[size_t(d)])
        return ctx.error("indices shape " + shape_to_string(idx.shape) + " exceeds data shape " + shape_to_string(x.shape));
    if (red_ != Reduce::kNone && x.dtype == DataType::kString) return ctx.error("reduction on strings");
    return ctx.set_output(0, x.dtype, x.shape);
  }
  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const Tensor& idx = ctx.input(1);
    const Tensor& upd = ctx.input(2);
    Tensor& y = ctx.output(0);
    const size_t a = size_t(axis_ < 0 ? axis_ + x.rank() : axis_);
    const size_t r = size_t(x.rank());
    const auto xs = contiguous_strides(x.shape);
    const int64_t n = idx.numel(), dim = x.shape[a];
    for (int64_t j = 0; j < n; ++j) {
      int64_t v = index_at(idx, j);
      if (v < -dim || v >= dim) return ctx.error("index " + std::to_string(v) + " out of range for dimension " + std::to_string(dim));
    }
    PETREL_RETURN_IF_ERROR(copy_data(x, y));
    return with_reducer(x.dtype, red_, [&](auto tag, auto apply) {
      using T = typename decltype(tag)::type;
      const T* u = upd.as<T>();
      T* out = y.as<T>();
      std::vector<int64_t> pos(r, 0);
      int64_t base = 0;
      for (int64_t j = 0; j < n; ++j) {
        int64_t v = index_at(idx, j);
        if (v < 0) v += dim;
        apply(out[base + v * xs[a]], u[j]);
        for (size_t d = r; d-- > 0;) {
          if (d != a) base += xs[d];
          if (++pos[d] < idx.shape[d]) break;
          if (d != a) base -= xs[d] * idx.shape[d];
          pos[d] = 0;
        }
      }
      return Status::ok();
    });
  }

 private:
  int64_t axis_;
  Reduce red_;
};

class ScatterNDKernel : public Kernel {
 public:
  explicit ScatterNDKernel(Reduce red) : red_(red) {}
  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 3, 3));
    const Tensor& x = ctx.input(0);
    const Tensor& idx = ctx.input(1);
    const Tensor& upd = ctx.input(2);
    if (!is_index_type(idx.dtype)) return ctx.error("indices must be int64");
    if (upd.dtype != x.dtype) return ctx.error("updates dtype differs from data");
    if (x.rank() < 1 || idx.rank() < 1) return ctx.error("data and indices must have rank >= 1");
    const int64_t k = idx.shape.back();
    if (k > x.rank()) return ctx.error("last indices dimension exceeds the data rank");
    // updates shape = indices.shape[:-1] + data.shape[k:]
    Shape want(idx.shape.begin(), idx.shape.end() - 1);
    want.insert(want.end(), x.shape.begin() + k, x.shape.end());
    if (upd.shape != want) return ctx.error("updates shape " + shape_to_string(upd.shape) + " should be " + shape_to_string(want));
    if (red_ != Reduce::kNone && x.dtype == DataType::kString) return ctx.error("reduction on strings");
    return ctx.set_output(0, x.dtype, x.shape);
  }
  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const Tensor& idx = ctx.input(1);
    const Tensor& upd = ctx.input(2);
    Tensor& y = ctx.output(0);
    const size_t k = size_t(idx.shape.back());
    const int64_t rows = prod(idx.shape, 0, idx.shape.size() - 1);
    const int64_t block = prod(x.shape, k, x.shape.size());
    const auto xs = contiguous_strides(x.shape);
    // offsets are computed (and checked) before anything is written
    std::vector<int64_t> offs(static_cast<size_t>(rows));
    for (int64_t j = 0; j < rows; ++j) {
      int64_t off = 0;
      for (size_t c = 0; c < k; ++c) {
        int64_t v = index_at(idx, j * int64_t(k) + int64_t(c));
        const int64_t dim = x.shape[c];
        if (v < -dim || v >= dim) return ctx.error("index " + std::to_string(v) + " out of range for dimension " + std::to_string(dim));
        off += (v < 0 ? v + dim : v) * xs[c];
      }
      offs[size_t(j)] = off;
    }
    PETREL_RETURN_IF_ERROR(copy_data(x, y));
    return with_reducer(x.dtype, red_, [&](auto tag, auto apply) {
      using T = typename decltype(tag)::type;
      const T* u = upd.as<T>();
      T* out = y.as<T>();
      for (int64_t j = 0; j < rows; ++j)
        for (int64_t e = 0; e < block; ++e) apply(out[offs[size_t(j)] + e], u[j * block + e]);
      return Status::ok();
    });
  }

 private:
  Reduce red_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_scatter_elements(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(int64_t axis, attr_int(n, "axis", 0));
  PETREL_ASSIGN_OR_RETURN(Reduce red, parse_reduction(n));
  return std::unique_ptr<Kernel>(new ScatterElementsKernel(axis, red));
}

Result<std::unique_ptr<Kernel>> make_scatter_nd(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(Reduce red, parse_reduction(n));
  return std::unique_ptr<Kernel>(new ScatterNDKernel(red));
}

}  // namespace petrel::ref
