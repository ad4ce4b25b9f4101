// ConvInteger and QLinearConv: exact int32 accumulation of (x - x_zero_point) * (w - w_zero_point)
// over an explicit int32 column matrix per (image, group). Padding contributes zero, as if the
// input were padded with its zero point.
#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "kernels/reference/nn_common.hpp"
#include "kernels/reference/nn_conv.hpp"

namespace petrel::ref::nn {
namespace {

bool is_8bit(DataType t) { return t == DataType::kUInt8 || t == DataType::kInt8; }

int32_t int8_at(const Tensor& t, int64_t i) {
  return t.dtype == DataType::kUInt8 ? int32_t(t.as<uint8_t>()[i]) : int32_t(t.as<int8_t>()[i]);
}

// A zero point / scale: a scalar or a 1-element tensor, or (weights) one per output channel.
Status check_per_tensor(const OpContext& ctx, int i, const char* what) {
  if (!ctx.has_input(i)) return Status::ok();
  if (ctx.input(i).numel() != 1 || ctx.input(i).rank() > 1) return ctx.error(std::string(what) + " must be a scalar");
  return Status::ok();
}
Status check_per_channel(const OpContext& ctx, int i, int64_t M, const char* what) {
  if (!ctx.has_input(i)) return Status::ok();
  const Tensor& t = ctx.input(i);
  if (t.rank() > 1 || (t.numel() != 1 && t.numel() != M)) return ctx.error(std::string(what) + " must be a scalar or have M elements");
  return Status::ok();
}

// acc[n, m, out] = sum (x - xzp) * (w - wzp[m]); generic in spatial rank.
Status int_conv(const Tensor& x, int32_t xzp, const Tensor& w, const Tensor* wzp, const Window& win,
              int64_t G, std::vector<int32_t>& acc) {
  const int64_t N = x.shape[0], C = x.shape[1], M = w.shape[0], Cg = C / G, Mg = M / G;
  const int64_t in_size = win.in_size(), out_size = win.out_size(), ks = win.kernel_size();
  const int64_t K = Cg * ks, r = win.rank;
  PETREL_RETURN_IF_ERROR(checked_numel({K, out_size}).status());
  acc.assign(size_t(N * M * out_size), 0);
  std::vector<int32_t> col(size_t(K * out_size));
  std::vector<int64_t> kidx(static_cast<size_t>(r)), oidx(static_cast<size_t>(r));
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t g = 0; g < G; ++g) {
      for (int64_t k = 0; k < K; ++k) {
        const int64_t c = g * Cg + k / ks;
        int64_t rem = k % ks;
        for (int64_t d = r - 1; d >= 0; --d) { kidx[d] = rem % win.kernel[d]; rem /= win.kernel[d]; }
        std::fill(oidx.begin(), oidx.end(), 0);
        const int64_t xbase = (n * C + c) * in_size;
        for (int64_t j = 0; j < out_size; ++j) {
          int64_t flat = 0;
          bool inside = true;
          for (int64_t d = 0; d < r; ++d) {
            const int64_t p = oidx[d] * win.stride[d] - win.pad_begin[d] + kidx[d] * win.dilation[d];
            if (p < 0 || p >= win.in[d]) { inside = false; break; }
            flat = flat * win.in[d] + p;
          }
          col[size_t(k * out_size + j)] = inside ? int8_at(x, xbase + flat) - xzp : 0;
          for (int64_t d = r - 1; d >= 0; --d) {
            if (++oidx[d] < win.out[d]) break;
            oidx[d] = 0;
          }
        }
      }
      for (int64_t mg = 0; mg < Mg; ++mg) {
        const int64_t m = g * Mg + mg;
        const int32_t wz = wzp ? int8_at(*wzp, wzp->numel() == 1 ? 0 : m) : 0;
        int32_t* out = acc.data() + (n * M + m) * out_size;
        for (int64_t k = 0; k < K; ++k) {
          const int32_t wv = int8_at(w, m * K + k) - wz;
          if (wv == 0) continue;
          const int32_t* crow = col.data() + k * out_size;
          // Wrapping (unsigned) adds: huge K must not be undefined behaviour.
          for (int64_t j = 0; j < out_size; ++j) out[j] = int32_t(uint32_t(out[j]) + uint32_t(wv * crow[j]));
        }
      }
    }
  }
  return Status::ok();
}

class ConvIntegerKernel final : public Kernel {
 public:
  explicit ConvIntegerKernel(WindowAttrs a) : a_(std::move(a)) {}
  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(require_inputs(ctx, 2));
    const Tensor& x = ctx.input(0);
    const Tensor& w = ctx.input(1);
    if (!is_8bit(x.dtype) || !is_8bit(w.dtype)) return ctx.error("X and W must be int8 or uint8");
    Window win;
    Shape ys;
    PETREL_RETURN_IF_ERROR(infer_conv_shapes(ctx, a_, x, w, win, ys));
    PETREL_RETURN_IF_ERROR(check_per_tensor(ctx, 2, "x_zero_point"));
    PETREL_RETURN_IF_ERROR(check_per_channel(ctx, 3, w.shape[0], "w_zero_point"));
    if (ctx.has_input(2) && ctx.input(2).dtype != x.dtype) return ctx.error("x_zero_point dtype must match X");
    if (ctx.has_input(3) && ctx.input(3).dtype != w.dtype) return ctx.error("w_zero_point dtype must match W");
    return ctx.set_output(0, DataType::kInt32, ys);
  }
  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    Window win;
    Shape ys;
    PETREL_RETURN_IF_ERROR(infer_conv_shapes(ctx, a_, x, ctx.input(1), win, ys));
    const int32_t xzp = ctx.has_input(2) ? int8_at(ctx.input(2), 0) : 0;
    std::vector<int32_t> acc;
    PETREL_RETURN_IF_ERROR(int_conv(x, xzp, ctx.input(1), ctx.has_input(3) ? &ctx.input(3) : nullptr, win, a_.group, acc));
    std::copy(acc.begin(), acc.end(), ctx.output(0).as<int32_t>());
    return Status::ok();
  }

 private:
  WindowAttrs a_;
};

// Inputs: x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B.
class QLinearConvKernel final : public Kernel {
 public:
  explicit QLinearConvKernel(WindowAttrs a) : a_(std::move(a)) {}
  Status infer(OpContext& ctx) override {
    for (int i = 0; i < 8; ++i)
      if (!ctx.has_input(i)) return ctx.error("inputs 0..7 are required");
    const Tensor& x = ctx.input(0);
    const Tensor& w = ctx.input(3);
    if (!is_8bit(x.dtype) || !is_8bit(w.dtype)) return ctx.error("x and w must be int8 or uint8");
    if (ctx.input(2).dtype != x.dtype || ctx.input(5).dtype != w.dtype || !is_8bit(ctx.input(7).dtype))
      return ctx.error("zero point dtypes must match their tensors");
    for (int i : {1, 4, 6})
      if (ctx.input(i).dtype != DataType::kFloat) return ctx.error("scales must be float32");
    Window win;
    Shape ys;
    PETREL_RETURN_IF_ERROR(infer_conv_shapes(ctx, a_, x, w, win, ys));
    const int64_t M = w.shape[0];
    PETREL_RETURN_IF_ERROR(check_per_tensor(ctx, 1, "x_scale"));
    PETREL_RETURN_IF_ERROR(check_per_tensor(ctx, 2, "x_zero_point"));
    PETREL_RETURN_IF_ERROR(check_per_channel(ctx, 4, M, "w_scale"));
    PETREL_RETURN_IF_ERROR(check_per_channel(ctx, 5, M, "w_zero_point"));
    PETREL_RETURN_IF_ERROR(check_per_tensor(ctx, 6, "y_scale"));
    PETREL_RETURN_IF_ERROR(check_per_tensor(ctx, 7, "y_zero_point"));
    if (ctx.has_input(8)) {
      const Tensor& b = ctx.input(8);
      if (b.dtype != DataType::kInt32 || b.rank() != 1 || b.shape[0] != M) return ctx.error("B must be int32 [M]");
    }
    return ctx.set_output(0, ctx.input(7).dtype, ys);
  }
  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const Tensor& w = ctx.input(3);
    Window win;
    Shape ys;
    PETREL_RETURN_IF_ERROR(infer_conv_shapes(ctx, a_, x, w, win, ys));
    std::vector<int32_t> acc;
    PETREL_RETURN_IF_ERROR(int_conv(x, int8_at(ctx.input(2), 0), w, &ctx.input(5), win, a_.group, acc));
    const int64_t N = x.shape[0], M = w.shape[0], out_size = win.out_size();
    const float xs = ctx.input(1).as<float>()[0], ys_ = ctx.input(6).as<float>()[0];
    const Tensor& wsc = ctx.input(4);
    const int32_t yzp = int8_at(ctx.input(7), 0);
    const bool u8 = ctx.input(7).dtype == DataType::kUInt8;
    const int32_t lo = u8 ? 0 : -128, hi = u8 ? 255 : 127;
    const int32_t* b = ctx.has_input(8) ? ctx.input(8).as<int32_t>() : nullptr;
    Tensor& y = ctx.output(0);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t m = 0; m < M; ++m) {
        // Requantisation in float, rounding half to even, like the reference implementations.
        const float scale = xs * wsc.as<float>()[wsc.numel() == 1 ? 0 : m] / ys_;
        const int64_t base = (n * M + m) * out_size;
        for (int64_t j = 0; j < out_size; ++j) {
          const int32_t a = int32_t(uint32_t(acc[size_t(base + j)]) + uint32_t(b ? b[m] : 0));
          float v = std::nearbyint(float(a) * scale) + float(yzp);
          v = std::min(std::max(v, float(lo)), float(hi));
          if (u8) y.as<uint8_t>()[base + j] = uint8_t(v);
          else y.as<int8_t>()[base + j] = int8_t(v);
        }
      }
    return Status::ok();
  }

 private:
  WindowAttrs a_;
};

}  // namespace
}  // namespace petrel::ref::nn

namespace petrel::ref {

Result<std::unique_ptr<Kernel>> make_conv_integer(const Node& n) {
  nn::WindowAttrs a;
  PETREL_RETURN_IF_ERROR(nn::parse_window_attrs(n, a));
  return std::unique_ptr<Kernel>(new nn::ConvIntegerKernel(std::move(a)));
}

Result<std::unique_ptr<Kernel>> make_qlinear_conv(const Node& n) {
  nn::WindowAttrs a;
  PETREL_RETURN_IF_ERROR(nn::parse_window_attrs(n, a));
  return std::unique_ptr<Kernel>(new nn::QLinearConvKernel(std::move(a)));
}

}  // namespace petrel::ref
