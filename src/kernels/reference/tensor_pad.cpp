// Pad (constant/reflect/edge/wrap, negative pads crop, opset-18 axes input) and CenterCropPad.
// Both map each output coordinate, per dimension, to an input coordinate or to "fill": the
// per-dimension maps are small, the copy walks the output once.
#include <algorithm>

#include "kernels/reference/input_checks.hpp"
#include "kernels/reference/tensor_util.hpp"

namespace petrel::ref {
namespace {

using namespace tensor_detail;

enum class PadMode { kConstant, kReflect, kEdge, kWrap };

// maps[d][i] = input index along d for output index i, or -1 for the fill value.
template <typename T>
void gather_mapped(const Tensor& x, Tensor& y, const std::vector<std::vector<int64_t>>& maps, const T& fill) {
  const size_t r = y.shape.size();
  const int64_t total = y.numel();
  if (total == 0) return;
  const T* in = x.as<T>();
  T* out = y.as<T>();
  if (r == 0) { out[0] = in[0]; return; }
  const auto xs = contiguous_strides(x.shape);
  std::vector<int64_t> pos(r, 0);
  const int64_t inner = y.shape[r - 1];
  const auto& last = maps[r - 1];
  for (int64_t o = 0; o < total; o += inner) {
    int64_t off = 0;
    bool filled = false;
    for (size_t d = 0; d + 1 < r; ++d) {
      const int64_t m = maps[d][size_t(pos[d])];
      if (m < 0) { filled = true; break; }
      off += m * xs[d];
    }
    if (filled) std::fill(out + o, out + o + inner, fill);
    else
      for (int64_t k = 0; k < inner; ++k) out[o + k] = last[size_t(k)] < 0 ? fill : in[off + last[size_t(k)]];
    for (size_t d = r - 1; d-- > 0;) {
      if (++pos[d] < y.shape[d]) break;
      pos[d] = 0;
    }
  }
}

// Runs gather_mapped with input 0 -> output 0; the fill is `fill_input` element 0 if given
// (same dtype as the data), zero otherwise.
Status run_mapped(OpContext& ctx, const std::vector<std::vector<int64_t>>& maps, const Tensor* fill_input) {
  const Tensor& x = ctx.input(0);
  return dispatch_by_size(x.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T fill{};
    if (fill_input && fill_input->numel() > 0) fill = fill_input->as<T>()[0];
    gather_mapped<T>(x, ctx.output(0), maps, fill);
    return Status::ok();
  });
}

class PadKernel : public Kernel {
 public:
  explicit PadKernel(PadMode mode) : mode_(mode) {}
  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 2, 4));
    Shape out;
    PETREL_RETURN_IF_ERROR(plan(ctx, out, nullptr));
    const Tensor& x = ctx.input(0);
    if (ctx.has_input(2)) {
      const Tensor& cv = ctx.input(2);
      if (cv.dtype != x.dtype) return ctx.error("constant_value dtype differs from data");
      if (cv.numel() > 1) return ctx.error("constant_value must be a scalar");
    }
    return ctx.set_output(0, x.dtype, std::move(out));
  }
  Status compute(OpContext& ctx) override {
    Shape out;
    std::vector<std::vector<int64_t>> maps;
    PETREL_RETURN_IF_ERROR(plan(ctx, out, &maps));
    const Tensor* cv = ctx.has_input(2) && mode_ == PadMode::kConstant ? &ctx.input(2) : nullptr;
    return run_mapped(ctx, maps, cv);
  }

 private:
  Status plan(OpContext& ctx, Shape& out, std::vector<std::vector<int64_t>>* maps) const {
    const Tensor& x = ctx.input(0);
    const int64_t r = x.rank();
    std::vector<int64_t> pads, axes;
    PETREL_RETURN_IF_ERROR(read_int_input(ctx, 1, pads));
    if (ctx.has_input(3)) {
      PETREL_RETURN_IF_ERROR(read_int_input(ctx, 3, axes));
      for (auto& a : axes) {
        PETREL_ASSIGN_OR_RETURN(a, normalize_axis(ctx.node(), a, r));
      }
    } else {
      for (int64_t i = 0; i < r; ++i) axes.push_back(i);
    }
    const size_t na = axes.size();
    if (pads.size() != 2 * na) return ctx.error("pads must have " + std::to_string(2 * na) + " entries, got " + std::to_string(pads.size()));
    std::vector<int64_t> pb(size_t(r), 0), pe(size_t(r), 0);
    for (size_t i = 0; i < na; ++i) {
      pb[size_t(axes[i])] = pads[i];
      pe[size_t(axes[i])] = pads[i + na];
    }
    out = x.shape;
    if (maps) maps->assign(size_t(r), {});
    for (size_t d = 0; d < size_t(r); ++d) {
      const int64_t dim = x.shape[d];
      if (std::abs(pb[d]) > kMaxElements || std::abs(pe[d]) > kMaxElements) return ctx.error("pad too large");
      // negative pads crop the input first; the kept region is [lo, lo + m)
      const int64_t lo = std::max<int64_t>(0, -pb[d]);
      const int64_t m = dim - lo - std::max<int64_t>(0, -pe[d]);
      if (m < 0) return ctx.error("negative pads remove more than the whole dimension");
      const int64_t before = std::max<int64_t>(0, pb[d]);
      out[d] = m + before + std::max<int64_t>(0, pe[d]);
      if (mode_ != PadMode::kConstant && m == 0 && out[d] > 0)
        return ctx.error("cannot pad an empty dimension in this mode");
      if (!maps) continue;
      auto& mp = (*maps)[d];
      mp.resize(size_t(out[d]));
      for (int64_t i = 0; i < out[d]; ++i) {
        int64_t t = i - before;
        if (t < 0 || t >= m) {
          switch (mode_) {
            case PadMode::kConstant: break;
            case PadMode::kEdge: t = std::clamp<int64_t>(t, 0, m - 1); break;
            case PadMode::kWrap: t = ((t % m) + m) % m; break;
            case PadMode::kReflect: {
              // numpy "reflect": the edge is not repeated, period 2(m-1)
              if (m == 1) { t = 0; break; }
              const int64_t p = 2 * (m - 1);
              t = ((t % p) + p) % p;
              if (t >= m) t = p - t;
              break;
            }
          }
        }
        mp[size_t(i)] = t < 0 || t >= m ? -1 : t + lo;
      }
    }
    PETREL_RETURN_IF_ERROR(checked_numel(out).status());
    return Status::ok();
  }
  PadMode mode_;
};

class CenterCropPadKernel : public Kernel {
 public:
  explicit CenterCropPadKernel(std::vector<int64_t> axes) : axes_(std::move(axes)) {}
  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 2, 2));
    Shape out;
    PETREL_RETURN_IF_ERROR(plan(ctx, out, nullptr));
    return ctx.set_output(0, ctx.input(0).dtype, std::move(out));
  }
  Status compute(OpContext& ctx) override {
    Shape out;
    std::vector<std::vector<int64_t>> maps;
    PETREL_RETURN_IF_ERROR(plan(ctx, out, &maps));
    return run_mapped(ctx, maps, nullptr);
  }

 private:
  Status plan(OpContext& ctx, Shape& out, std::vector<std::vector<int64_t>>* maps) const {
    const Tensor& x = ctx.input(0);
    const int64_t r = x.rank();
    std::vector<int64_t> shape, axes = axes_;
    PETREL_RETURN_IF_ERROR(read_int_input(ctx, 1, shape));
    if (axes.empty())
      for (int64_t i = 0; i < r; ++i) axes.push_back(i);
    if (shape.size() != axes.size()) return ctx.error("shape must have one entry per axis");
    out = x.shape;
    for (size_t i = 0; i < axes.size(); ++i) {
      PETREL_ASSIGN_OR_RETURN(int64_t a, normalize_axis(ctx.node(), axes[i], r));
      if (shape[i] < 0) return ctx.error("negative target size");
      out[size_t(a)] = shape[i];
    }
    PETREL_RETURN_IF_ERROR(checked_numel(out).status());
    if (!maps) return Status::ok();
    maps->assign(size_t(r), {});
    for (size_t d = 0; d < size_t(r); ++d) {
      const int64_t dim = x.shape[d], n = out[d];
      auto& mp = (*maps)[d];
      mp.resize(size_t(n));
      // crop: centred window starting at floor((dim - n) / 2); pad: input placed at
      // floor((n - dim) / 2), the rest zero (as in the ONNX reference)
      const int64_t shift = n <= dim ? (dim - n) / 2 : -((n - dim) / 2);
      for (int64_t i = 0; i < n; ++i) {
        const int64_t s = i + shift;
        mp[size_t(i)] = s >= 0 && s < dim ? s : -1;
      }
    }
    return Status::ok();
  }
  std::vector<int64_t> axes_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_pad(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(std::string mode, attr_string(n, "mode", "constant"));
  PadMode m;
  if (mode == "constant") m = PadMode::kConstant;
  else if (mode == "reflect") m = PadMode::kReflect;
  else if (mode == "edge") m = PadMode::kEdge;
  else if (mode == "wrap") m = PadMode::kWrap;
  else return unsupported(n.label() + ": pad mode '" + mode + "'");
  return std::unique_ptr<Kernel>(new PadKernel(m));
}

Result<std::unique_ptr<Kernel>> make_center_crop_pad(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(auto axes, attr_ints(n, "axes"));
  return std::unique_ptr<Kernel>(new CenterCropPadKernel(std::move(axes)));
}

}  // namespace petrel::ref
