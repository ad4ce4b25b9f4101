// SplitToSequence and ConcatFromSequence: converting between a tensor and a sequence of slices.
#include <algorithm>

#include "kernels/reference/misc_common.hpp"

namespace petrel::ref {
namespace {

class SplitToSequenceKernel final : public DynamicKernel {
 public:
  SplitToSequenceKernel(int64_t axis, bool keepdims) : axis_(axis), keepdims_(keepdims) {}

  Status compute(OpContext& ctx) override {
    if (!has_value(ctx, 0) || !ctx.input_value(0).is_tensor()) return ctx.error("input must be a tensor");
    const Tensor& x = ctx.input(0);
    if (!copyable_dtype(x.dtype)) return ctx.unsupported_error("dtype " + std::string(dtype_name(x.dtype)));
    if (x.rank() == 0) return ctx.error("input must have rank >= 1");
    PETREL_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(ctx.node(), axis_, x.rank()));
    const int64_t dim = x.shape[size_t(axis)];

    // Lengths of the pieces; `squeeze` only when no split input is given and keepdims == 0.
    std::vector<int64_t> lengths;
    bool squeeze = false;
    if (has_value(ctx, 1)) {
      const Tensor& s = ctx.input(1);
      PETREL_ASSIGN_OR_RETURN(auto sv, tensor_to_int64s(s));
      if (s.rank() == 0) {
        const int64_t chunk = sv.empty() ? 0 : sv[0];
        if (chunk <= 0) return ctx.error("split size must be positive, got " + std::to_string(chunk));
        for (int64_t start = 0; start < dim; start += chunk) lengths.push_back(std::min(chunk, dim - start));
      } else {
        if (s.rank() != 1) return ctx.error("split must be a scalar or 1-D");
        int64_t total = 0;
        for (int64_t l : sv) {
          if (l < 0 || l > dim) return ctx.error("split lengths must be in [0, " + std::to_string(dim) + "]");
          total += l;
        }
        if (total != dim)
          return ctx.error("split lengths sum to " + std::to_string(total) + ", expected " + std::to_string(dim));
        lengths = std::move(sv);
      }
    } else {
      lengths.assign(size_t(dim), 1);
      squeeze = !keepdims_;
    }

    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= x.shape[size_t(d)];
    for (int64_t d = axis + 1; d < x.rank(); ++d) inner *= x.shape[size_t(d)];

    std::vector<Tensor> items;
    items.reserve(lengths.size());
    int64_t start = 0;
    for (int64_t len : lengths) {
      Shape shape = x.shape;
      if (squeeze) shape.erase(shape.begin() + axis);
      else shape[size_t(axis)] = len;
      PETREL_ASSIGN_OR_RETURN(Tensor piece, Tensor::allocate(x.dtype, shape));
      for (int64_t o = 0; o < outer; ++o)
        copy_elems(x.dtype, x.data, (o * dim + start) * inner, piece.data, o * len * inner, len * inner);
      items.push_back(std::move(piece));
      start += len;
    }
    ctx.set_output_value(0, Value::of_sequence(std::move(items), x.dtype));
    return Status::ok();
  }

 private:
  int64_t axis_;
  bool keepdims_;
};

class ConcatFromSequenceKernel final : public DynamicKernel {
 public:
  ConcatFromSequenceKernel(int64_t axis, bool new_axis) : axis_(axis), new_axis_(new_axis) {}

  Status compute(OpContext& ctx) override {
    if (!has_value(ctx, 0) || !ctx.input_value(0).is_sequence()) return ctx.error("input must be a sequence");
    const auto& seq = *ctx.input_value(0).sequence;
    if (seq.empty()) return ctx.error("cannot concatenate an empty sequence");
    const Tensor& first = seq[0];
    const DataType dt = first.dtype;
    if (!copyable_dtype(dt)) return ctx.unsupported_error("dtype " + std::string(dtype_name(dt)));
    const int64_t rank = first.rank();
    if (!new_axis_ && rank == 0) return ctx.error("cannot concatenate scalars without new_axis=1");
    PETREL_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(ctx.node(), axis_, new_axis_ ? rank + 1 : rank));

    Shape out_shape = first.shape;
    if (new_axis_) out_shape.insert(out_shape.begin() + axis, 0);
    else out_shape[size_t(axis)] = 0;
    for (const Tensor& t : seq) {
      if (t.dtype != dt) return ctx.error("sequence elements have different dtypes");
      if (t.rank() != rank) return ctx.error("sequence elements have different ranks");
      for (int64_t d = 0; d < rank; ++d)
        if ((new_axis_ || d != axis) && t.shape[size_t(d)] != first.shape[size_t(d)])
          return ctx.error("element shape " + shape_to_string(t.shape) + " does not match " +
                           shape_to_string(first.shape));
      out_shape[size_t(axis)] += new_axis_ ? 1 : t.shape[size_t(axis)];
    }
    PETREL_ASSIGN_OR_RETURN(Tensor * out, ctx.allocate_output(0, dt, out_shape));

    // Each element contributes a block of `len * inner` per outer index.
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= out_shape[size_t(d)];
    for (int64_t d = axis + 1; d < int64_t(out_shape.size()); ++d) inner *= out_shape[size_t(d)];
    const int64_t out_dim = out_shape[size_t(axis)];
    int64_t offset = 0;
    for (const Tensor& t : seq) {
      const int64_t len = new_axis_ ? 1 : t.shape[size_t(axis)];
      for (int64_t o = 0; o < outer; ++o)
        copy_elems(dt, t.data, o * len * inner, out->data, (o * out_dim + offset) * inner, len * inner);
      offset += len;
    }
    return Status::ok();
  }

 private:
  int64_t axis_;
  bool new_axis_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_split_to_sequence(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(int64_t axis, attr_int(n, "axis", 0));
  PETREL_ASSIGN_OR_RETURN(int64_t keepdims, attr_int(n, "keepdims", 1));
  return std::unique_ptr<Kernel>(new SplitToSequenceKernel(axis, keepdims != 0));
}

Result<std::unique_ptr<Kernel>> make_concat_from_sequence(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(int64_t axis, attr_int_required(n, "axis"));
  PETREL_ASSIGN_OR_RETURN(int64_t new_axis, attr_int(n, "new_axis", 0));
  if (new_axis != 0 && new_axis != 1) return unsupported(n.label() + ": new_axis must be 0 or 1");
  return std::unique_ptr<Kernel>(new ConcatFromSequenceKernel(axis, new_axis != 0));
}

}  // namespace petrel::ref
