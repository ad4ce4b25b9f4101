// Gather, GatherElements, GatherND. Every index is range-checked in compute (indices are data).
#include "kernels/reference/input_checks.hpp"
#include "kernels/reference/tensor_util.hpp"

namespace petrel::ref {
namespace {

using namespace tensor_detail;

// Validates one index against dim (negative counts from the back).
inline bool fix_index(int64_t& i, int64_t dim) {
  if (i < 0) i += dim;
  return i >= 0 && i < dim;
}

Status bad_index(const OpContext& ctx, int64_t v, int64_t dim) {
  return ctx.error("index " + std::to_string(v) + " out of range for dimension " + std::to_string(dim));
}

class GatherKernel : public Kernel {
 public:
  explicit GatherKernel(int64_t axis) : axis_(axis) {}
  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 2, 2));
    const Tensor& x = ctx.input(0);
    const Tensor& idx = ctx.input(1);
    if (!is_index_type(idx.dtype)) return ctx.error("indices must be int32 or int64");
    PETREL_ASSIGN_OR_RETURN(int64_t a, normalize_axis(ctx.node(), axis_, x.rank()));
    Shape out(x.shape.begin(), x.shape.begin() + a);
    out.insert(out.end(), idx.shape.begin(), idx.shape.end());
    out.insert(out.end(), x.shape.begin() + a + 1, x.shape.end());
    return ctx.set_output(0, x.dtype, std::move(out));
  }
  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const Tensor& idx = ctx.input(1);
    const size_t a = size_t(axis_ < 0 ? axis_ + x.rank() : axis_);
    const int64_t outer = prod(x.shape, 0, a), dim = x.shape[a];
    const int64_t inner = prod(x.shape, a + 1, x.shape.size()), n = idx.numel();
    for (int64_t j = 0; j < n; ++j) {
      int64_t v = index_at(idx, j);
      if (!fix_index(v, dim)) return bad_index(ctx, index_at(idx, j), dim);
    }
    return dispatch_by_size(x.dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* in = x.as<T>();
      T* out = ctx.output(0).as<T>();
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t j = 0; j < n; ++j) {
          int64_t v = index_at(idx, j);
          if (v < 0) v += dim;
          const T* src = in + (o * dim + v) * inner;
          std::copy(src, src + inner, out + (o * n + j) * inner);
        }
      return Status::ok();
    });
  }

 private:
  int64_t axis_;
};

class GatherElementsKernel : public Kernel {
 public:
  explicit GatherElementsKernel(int64_t axis) : axis_(axis) {}
  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 2, 2));
    const Tensor& x = ctx.input(0);
    const Tensor& idx = ctx.input(1);
    if (!is_index_type(idx.dtype)) return ctx.error("indices must be int32 or int64");
    if (idx.rank() != x.rank() || x.rank() == 0) return ctx.error("indices must have the data's rank (>= 1)");
    PETREL_ASSIGN_OR_RETURN(int64_t a, normalize_axis(ctx.node(), axis_, x.rank()));
    for (int64_t d = 0; d < x.rank(); ++d)
      if (d != a && idx.shape[size_t(d)] > x.shape[size_t(d)])
        return ctx.error("indices shape " + shape_to_string(idx.shape) + " exceeds data shape " + shape_to_string(x.shape));
    return ctx.set_output(0, x.dtype, idx.shape);
  }
  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const Tensor& idx = ctx.input(1);
    const size_t a = size_t(axis_ < 0 ? axis_ + x.rank() : axis_);
    const size_t r = size_t(x.rank());
    const auto xs = contiguous_strides(x.shape);
    const int64_t n = idx.numel(), dim = x.shape[a];
    return dispatch_by_size(x.dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* in = x.as<T>();
      T* out = ctx.output(0).as<T>();
      std::vector<int64_t> pos(r, 0);
      int64_t base = 0;  // input offset of pos with the axis coordinate left out
      for (int64_t j = 0; j < n; ++j) {
        int64_t v = index_at(idx, j);
        if (!fix_index(v, dim)) return bad_index(ctx, index_at(idx, j), dim);
        out[j] = in[base + v * xs[a]];
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
};

class GatherNDKernel : public Kernel {
 public:
  explicit GatherNDKernel(int64_t batch_dims) : b_(batch_dims) {}
  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 2, 2));
    const Tensor& x = ctx.input(0);
    const Tensor& idx = ctx.input(1);
    if (idx.dtype != DataType::kInt64 && idx.dtype != DataType::kInt32) return ctx.error("indices must be int64");
    const int64_t r = x.rank(), q = idx.rank();
    if (r < 1 || q < 1) return ctx.error("data and indices must have rank >= 1");
    if (b_ < 0 || b_ >= std::min(r, q)) return ctx.error("batch_dims out of range");
    const int64_t k = idx.shape.back();
    if (k < 1 || k > r - b_) return ctx.error("last indices dimension " + std::to_string(k) + " out of range");
    for (int64_t i = 0; i < b_; ++i)
      if (x.shape[size_t(i)] != idx.shape[size_t(i)]) return ctx.error("batch dimensions of data and indices differ");
    Shape out(idx.shape.begin(), idx.shape.end() - 1);
    out.insert(out.end(), x.shape.begin() + b_ + k, x.shape.end());
    return ctx.set_output(0, x.dtype, std::move(out));
  }
  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const Tensor& idx = ctx.input(1);
    const size_t b = size_t(b_), k = size_t(idx.shape.back());
    const int64_t batches = prod(x.shape, 0, b);
    const int64_t per_batch = prod(idx.shape, b, idx.shape.size() - 1);
    const int64_t block = prod(x.shape, b + k, x.shape.size());
    const int64_t batch_size = prod(x.shape, b, x.shape.size());
    const auto xs = contiguous_strides(x.shape);
    return dispatch_by_size(x.dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* in = x.as<T>();
      T* out = ctx.output(0).as<T>();
      for (int64_t bi = 0; bi < batches; ++bi)
        for (int64_t j = 0; j < per_batch; ++j) {
          const int64_t row = bi * per_batch + j;
          int64_t off = bi * batch_size;
          for (size_t c = 0; c < k; ++c) {
            int64_t v = index_at(idx, row * int64_t(k) + int64_t(c));
            const int64_t dim = x.shape[b + c];
            if (!fix_index(v, dim)) return bad_index(ctx, index_at(idx, row * int64_t(k) + int64_t(c)), dim);
            off += v * xs[b + c];
          }
          std::copy(in + off, in + off + block, out + row * block);
        }
      return Status::ok();
    });
  }

 private:
  int64_t b_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_gather(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(int64_t axis, attr_int(n, "axis", 0));
  return std::unique_ptr<Kernel>(new GatherKernel(axis));
}

Result<std::unique_ptr<Kernel>> make_gather_elements(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(int64_t axis, attr_int(n, "axis", 0));
  return std::unique_ptr<Kernel>(new GatherElementsKernel(axis));
}

Result<std::unique_ptr<Kernel>> make_gather_nd(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(int64_t b, attr_int(n, "batch_dims", 0));
  return std::unique_ptr<Kernel>(new GatherNDKernel(b));
}

}  // namespace petrel::ref
