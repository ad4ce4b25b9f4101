// MaxPool, AveragePool, LpPool and their Global* forms, any spatial rank. For every output
// position the valid kernel range is computed per axis, so padding is never read.
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "kernels/reference/nn_common.hpp"
#include "kernels/reference/nn_window.hpp"

namespace petrel::ref::nn {
namespace {

enum class PoolKind : uint8_t { kMax, kAvg, kLp };

class PoolKernel final : public Kernel {
 public:
  PoolKernel(PoolKind kind, bool global, WindowAttrs a, bool count_include_pad, float p, bool col_major)
      : kind_(kind), global_(global), a_(std::move(a)), count_include_pad_(count_include_pad), p_(p),
        col_major_(col_major) {}

  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(require_inputs(ctx, 1));
    const Tensor& x = ctx.input(0);
    const bool int8 = x.dtype == DataType::kInt8 || x.dtype == DataType::kUInt8;
    const bool flt = x.dtype == DataType::kFloat || x.dtype == DataType::kDouble || x.dtype == DataType::kFloat16;
    if (!flt && !(int8 && kind_ == PoolKind::kMax)) return ctx.error("unsupported input dtype " + std::string(dtype_name(x.dtype)));
    Window w;
    PETREL_RETURN_IF_ERROR(window(ctx, w));
    Shape ys{x.shape[0], x.shape[1]};
    ys.insert(ys.end(), w.out.begin(), w.out.end());
    PETREL_RETURN_IF_ERROR(ctx.set_output(0, x.dtype, ys));
    if (ctx.has_output(1)) {
      if (kind_ != PoolKind::kMax || global_) return ctx.error("only MaxPool has an Indices output");
      PETREL_RETURN_IF_ERROR(ctx.set_output(1, DataType::kInt64, ys));
    }
    return Status::ok();
  }

  Status compute(OpContext& ctx) override {
    Window& w = win_;  // kept between runs, like the scratch below: no allocation per run
    PETREL_RETURN_IF_ERROR(window(ctx, w));
    switch (ctx.input(0).dtype) {
      case DataType::kFloat: run<float>(ctx, w); break;
      case DataType::kDouble: run<double>(ctx, w); break;
      case DataType::kFloat16: run<Float16>(ctx, w); break;
      case DataType::kInt8: run<int8_t>(ctx, w); break;
      default: run<uint8_t>(ctx, w); break;
    }
    return Status::ok();
  }

 private:
  Status window(const OpContext& ctx, Window& w) {
    const Tensor& x = ctx.input(0);
    if (x.rank() < 3) return ctx.error("X must have rank >= 3 (N, C, spatial...)");
    std::vector<int64_t>& in = in_;
    in.assign(x.shape.begin() + 2, x.shape.end());
    if (global_) {
      WindowAttrs g;
      return resolve_window(ctx, g, in, in, w);
    }
    if (a_.kernel_shape.size() != in.size()) return ctx.error("kernel_shape must have one value per spatial axis");
    return resolve_window(ctx, a_, in, a_.kernel_shape, w);
  }

  template <typename T> void run(OpContext& ctx, const Window& w) {
    using CT = ComputeType<T>;
    const Tensor& x = ctx.input(0);
    const int64_t planes = x.shape[0] * x.shape[1], r = w.rank;
    const int64_t in_size = w.in_size(), out_size = w.out_size();
    const T* xd = x.as<T>();
    T* yd = ctx.output(0).as<T>();
    int64_t* idx_out = ctx.has_output(1) ? ctx.output(1).as<int64_t>() : nullptr;
    scratch_.assign(size_t(6 * r), 0);
    int64_t *o = scratch_.data(), *lo = o + r, *hi = lo + r, *k = hi + r, *start = k + r, *cm_stride = start + r;
    // Column-major spatial strides for storage_order = 1 indices.
    for (int64_t d = 0, s = 1; d < r; ++d) { cm_stride[d] = s; s *= w.in[d]; }
    for (int64_t plane = 0; plane < planes; ++plane) {
      const T* xp = xd + plane * in_size;
      std::fill(o, o + r, 0);
      for (int64_t j = 0; j < out_size; ++j) {
        int64_t count = 1, padded_count = 1;
        bool empty = false;
        for (int64_t d = 0; d < r; ++d) {
          const int64_t st = o[d] * w.stride[d] - w.pad_begin[d], dil = w.dilation[d];
          start[d] = st;
          // Kernel taps t with 0 <= st + t*dil < in.
          lo[d] = st >= 0 ? 0 : (-st + dil - 1) / dil;
          hi[d] = st >= w.in[d] ? 0 : std::min(w.kernel[d], (w.in[d] - 1 - st) / dil + 1);
          if (hi[d] <= lo[d]) empty = true;
          count *= std::max<int64_t>(0, hi[d] - lo[d]);
          // Taps inside the padded extent [-pad_begin, in + pad_end).
          const int64_t plo = st >= -w.pad_begin[d] ? 0 : (-w.pad_begin[d] - st + dil - 1) / dil;
          const int64_t lim = w.in[d] + w.pad_end[d];
          const int64_t phi = st >= lim ? 0 : std::min(w.kernel[d], (lim - 1 - st) / dil + 1);
          padded_count *= std::max<int64_t>(0, phi - plo);
        }
        CT acc = kind_ == PoolKind::kMax ? std::numeric_limits<CT>::lowest() : CT(0);
        int64_t best = -1;
        if (!empty) {
          for (int64_t d = 0; d < r; ++d) k[d] = lo[d];
          for (;;) {
            int64_t flat = 0, cm = 0;
            for (int64_t d = 0; d < r; ++d) {
              const int64_t p = start[d] + k[d] * w.dilation[d];
              flat = flat * w.in[d] + p;
              cm += p * cm_stride[d];
            }
            const CT v = load(xp[flat]);
            if (kind_ == PoolKind::kMax) {
              if (best < 0 || v > acc) { acc = v; best = col_major_ ? cm : flat; }
            } else if (kind_ == PoolKind::kAvg) {
              acc += v;
            } else {
              acc += CT(std::pow(std::fabs(double(v)), double(p_)));
            }
            int64_t d = r - 1;
            for (; d >= 0; --d) {
              if (++k[d] < hi[d]) break;
              k[d] = lo[d];
            }
            if (d < 0) break;
          }
        }
        CT out = acc;
        if (kind_ == PoolKind::kAvg) {
          const int64_t div = count_include_pad_ ? padded_count : count;
          out = div > 0 ? CT(acc / CT(div)) : CT(0);
        } else if (kind_ == PoolKind::kLp) {
          out = CT(std::pow(double(acc), 1.0 / double(p_)));
        } else if (best < 0) {
          out = CT(0);
        }
        yd[plane * out_size + j] = store<T>(out);
        if (idx_out) idx_out[plane * out_size + j] = plane * in_size + std::max<int64_t>(best, 0);
        for (int64_t d = r - 1; d >= 0; --d) {
          if (++o[d] < w.out[d]) break;
          o[d] = 0;
        }
      }
    }
  }

  PoolKind kind_;
  bool global_;
  WindowAttrs a_;
  bool count_include_pad_;
  float p_;
  bool col_major_;
  // compute's scratch, kept between runs.
  Window win_;
  std::vector<int64_t> in_, scratch_;
};

Result<std::unique_ptr<Kernel>> make_pool(const Node& n, PoolKind kind, bool global) {
  WindowAttrs a;
  bool cip = false, col_major = false;
  float p = 2.f;
  if (!global) {
    PETREL_RETURN_IF_ERROR(parse_window_attrs(n, a));
    if (!has_attr(n, "kernel_shape")) return invalid_model(n.label() + ": missing required attribute 'kernel_shape'");
    if (kind == PoolKind::kAvg) {
      PETREL_ASSIGN_OR_RETURN(int64_t v, attr_int(n, "count_include_pad", 0));
      cip = v != 0;
    }
    if (kind == PoolKind::kMax) {
      PETREL_ASSIGN_OR_RETURN(int64_t so, attr_int(n, "storage_order", 0));
      if (so != 0 && so != 1) return invalid_model(n.label() + ": storage_order must be 0 or 1");
      col_major = so == 1;
    }
  }
  if (kind == PoolKind::kLp) {
    PETREL_ASSIGN_OR_RETURN(p, attr_float(n, "p", 2.f));
    if (!(p > 0)) return invalid_model(n.label() + ": p must be positive");
  }
  return std::unique_ptr<Kernel>(new PoolKernel(kind, global, std::move(a), cip, p, col_major));
}

}  // namespace
}  // namespace petrel::ref::nn

namespace petrel::ref {
using nn::PoolKind;
Result<std::unique_ptr<Kernel>> make_max_pool(const Node& n) { return nn::make_pool(n, PoolKind::kMax, false); }
Result<std::unique_ptr<Kernel>> make_average_pool(const Node& n) { return nn::make_pool(n, PoolKind::kAvg, false); }
Result<std::unique_ptr<Kernel>> make_lp_pool(const Node& n) { return nn::make_pool(n, PoolKind::kLp, false); }
Result<std::unique_ptr<Kernel>> make_global_max_pool(const Node& n) { return nn::make_pool(n, PoolKind::kMax, true); }
Result<std::unique_ptr<Kernel>> make_global_average_pool(const Node& n) { return nn::make_pool(n, PoolKind::kAvg, true); }
Result<std::unique_ptr<Kernel>> make_global_lp_pool(const Node& n) { return nn::make_pool(n, PoolKind::kLp, true); }
}  // namespace petrel::ref
