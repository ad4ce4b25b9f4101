// Conv (float16/float/double, 1-D to 3-D): per (image, group) one GEMM
//   Y[M/g x out] = W[M/g x (C/g * kernel)] * im2col(X)[(C/g * kernel) x out]
// with the column matrix packed on the fly (nn_im2col.hpp). 1x1 unit-stride convolutions read
// X directly; depthwise 2-D convolutions use a direct loop (a 1-row GEMM wastes the tile).
#include <algorithm>
#include <memory>
#include <vector>

#include "kernels/reference/fused_act.hpp"
#include "kernels/reference/nn_common.hpp"
#include "kernels/reference/nn_conv.hpp"
#include "kernels/reference/nn_im2col.hpp"

namespace petrel::ref::nn {

Status infer_conv_shapes(const OpContext& ctx, const WindowAttrs& a, const Tensor& x,
                         const Tensor& w, Window& win, Shape& y_shape) {
  if (x.rank() < 3) return ctx.error("X must have rank >= 3 (N, C, spatial...)");
  if (w.rank() != x.rank()) return ctx.error("W rank " + std::to_string(w.rank()) + " does not match X rank " + std::to_string(x.rank()));
  const int64_t C = x.shape[1], M = w.shape[0];
  if (C != w.shape[1] * a.group) return ctx.error("X channels " + std::to_string(C) + " != W.shape[1] * group");
  if (M % a.group != 0) return ctx.error("W.shape[0] is not divisible by group");
  std::vector<int64_t> in(x.shape.begin() + 2, x.shape.end());
  std::vector<int64_t> kernel(w.shape.begin() + 2, w.shape.end());
  if (!a.kernel_shape.empty() && a.kernel_shape != kernel) return ctx.error("kernel_shape does not match W");
  PETREL_RETURN_IF_ERROR(resolve_window(ctx, a, in, kernel, win));
  y_shape = {x.shape[0], M};
  y_shape.insert(y_shape.end(), win.out.begin(), win.out.end());
  return Status::ok();
}

namespace {

template <typename T> std::vector<T>& conv_scratch() {
  thread_local std::vector<T> buf;
  return buf;
}

// Depthwise 2-D (one input channel per group), direct loop: for each kernel tap, the range of
// output columns that read inside the input is computed once, so the inner loop has no bounds
// checks and (stride 1) vectorises.
template <typename T>
void depthwise2d(const T* x, const T* w, T* y, const Window& win) {
  using CT = ComputeType<T>;
  const int64_t H = win.in[0], W = win.in[1], OH = win.out[0], OW = win.out[1];
  const int64_t KH = win.kernel[0], KW = win.kernel[1], sh = win.stride[0], sw = win.stride[1];
  std::vector<CT>& row = conv_scratch<CT>();
  if (row.size() < size_t(OW)) row.resize(size_t(OW));
  for (int64_t oh = 0; oh < OH; ++oh) {
    std::fill(row.begin(), row.begin() + OW, CT(0));
    const int64_t ih0 = oh * sh - win.pad_begin[0];
    for (int64_t kh = 0; kh < KH; ++kh) {
      const int64_t ih = ih0 + kh * win.dilation[0];
      if (ih < 0 || ih >= H) continue;
      const T* xr = x + ih * W;
      for (int64_t kw = 0; kw < KW; ++kw) {
        const CT wv = load(w[kh * KW + kw]);
        const int64_t off = kw * win.dilation[1] - win.pad_begin[1];
        // Output columns ow with 0 <= ow * sw + off < W.
        const int64_t lo = off >= 0 ? 0 : (-off + sw - 1) / sw;
        const int64_t hi = W - 1 - off < 0 ? 0 : std::min(OW, (W - 1 - off) / sw + 1);
        CT* r = row.data();
        if (sw == 1) {
          for (int64_t ow = lo; ow < hi; ++ow) r[ow] += wv * load(xr[ow + off]);
        } else {
          for (int64_t ow = lo; ow < hi; ++ow) r[ow] += wv * load(xr[ow * sw + off]);
        }
      }
    }
    for (int64_t ow = 0; ow < OW; ++ow) y[oh * OW + ow] = store<T>(row[size_t(ow)]);
  }
}

// y = w * B over N output positions; with a pool, column blocks of 64 run in parallel
// (each thread packs its own B panels).
template <typename CT>
void gemm_columns(ThreadPool* pool, int64_t M, int64_t N, int64_t K, const CT* w, const GemmBSource<CT>& src, CT* y) {
  constexpr int64_t kBlock = 64;
  if (!pool || pool->size() == 1 || N < 2 * kBlock || M * N * K < (int64_t(1) << 18)) {
    gemm<CT>(M, N, K, w, K, src, y, N, false);
    return;
  }
  pool->parallel_for((N + kBlock - 1) / kBlock, 1, [&](int64_t b, int64_t e) {
    const int64_t j0 = b * kBlock, j1 = std::min(N, e * kBlock);
    gemm<CT>(M, j1 - j0, K, w, K, OffsetB<CT>(src, j0), y + j0, N, false);
  });
}

template <typename T, int D>
void conv_group(const T* x, const ComputeType<T>* wg, ComputeType<T>* yg, int64_t Mg, int64_t Cg,
                const Window& win, ThreadPool* pool) {
  using CT = ComputeType<T>;
  const int64_t K = Cg * win.kernel_size(), N = win.out_size();
  bool pointwise = std::is_same_v<T, CT> && window_is_unpadded(win);
  for (int64_t d = 0; d < win.rank && pointwise; ++d)
    pointwise = win.kernel[d] == 1 && win.stride[d] == 1;
  if constexpr (std::is_same_v<T, CT>) {
    if (pointwise) {
      gemm_columns<CT>(pool, Mg, N, K, wg, DenseB<CT>(x, N), yg);
      return;
    }
  }
  gemm_columns<CT>(pool, Mg, N, K, wg, Im2ColB<T, CT, D>(x, ConvGeom<D>(win)), yg);
}

class ConvKernel final : public Kernel {
 public:
  ConvKernel(WindowAttrs a, FusedActivation fa) : a_(std::move(a)), fa_(fa) {}

  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(require_inputs(ctx, 2));
    const Tensor& x = ctx.input(0);
    const Tensor& w = ctx.input(1);
    if ((x.dtype != DataType::kFloat && x.dtype != DataType::kDouble && x.dtype != DataType::kFloat16) ||
        w.dtype != x.dtype)
      return ctx.error("X and W must have the same dtype (float16, float or double)");
    PETREL_RETURN_IF_ERROR(infer_conv_shapes(ctx, a_, x, w, win_, ys_));
    if (win_.rank > 3) return ctx.unsupported_error("Conv with more than 3 spatial dimensions");
    x_shape_ = x.shape;
    w_shape_ = w.shape;
    PETREL_RETURN_IF_ERROR(check_fused_activation(ctx, fa_, x.dtype));
    if (ctx.has_input(2)) {
      const Tensor& b = ctx.input(2);
      if (b.dtype != x.dtype || b.rank() != 1 || b.shape[0] != w.shape[0]) return ctx.error("B must be a 1-D tensor of M elements with X's dtype");
    }
    return ctx.set_output(0, x.dtype, ys_);
  }

  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const Tensor& w = ctx.input(1);
    // The geometry infer resolved for these shapes (resolving it again would allocate per run).
    if (x.shape != x_shape_ || w.shape != w_shape_) {
      PETREL_RETURN_IF_ERROR(infer_conv_shapes(ctx, a_, x, w, win_, ys_));
      x_shape_ = x.shape;
      w_shape_ = w.shape;
    }
    const Window& win = win_;
    return dispatch_float(x.dtype, [&](auto tag) -> Status {
      using T = typename decltype(tag)::type;
      if constexpr (std::is_same_v<T, BFloat16>) {
        return ctx.unsupported_error("bfloat16 Conv");
      } else {
        run<T>(ctx, win);
        return Status::ok();
      }
    });
  }

 private:
  template <typename T> void run(OpContext& ctx, const Window& win) {
    using CT = ComputeType<T>;
    const Tensor& x = ctx.input(0);
    const Tensor& w = ctx.input(1);
    Tensor& y = ctx.output(0);
    const int64_t N = x.shape[0], C = x.shape[1], M = w.shape[0], G = a_.group;
    const int64_t Cg = C / G, Mg = M / G, in_size = win.in_size(), out_size = win.out_size();
    const int64_t K = Cg * win.kernel_size();
    const T* xd = x.as<T>();
    const T* wd = w.as<T>();
    T* yd = y.as<T>();
    if (N * M * out_size == 0) return;

    if (Cg == 1 && G > 1 && win.rank == 2) {
      auto channels = [&](int64_t b, int64_t e) {
        for (int64_t nm = b; nm < e; ++nm) {
          const int64_t n = nm / M, m = nm % M;
          depthwise2d(xd + (n * C + m / Mg) * in_size, wd + m * K, yd + (n * M + m) * out_size, win);
        }
      };
      if (ctx.pool && N * M * out_size * K >= (int64_t(1) << 16)) ctx.pool->parallel_for(N * M, 4, channels);
      else channels(0, N * M);
    } else {
      // Non-float storage (float16) is converted: weights once, outputs through a buffer.
      const CT* wc = nullptr;
      CT* ybuf = nullptr;
      std::vector<CT>& scratch = conv_scratch<CT>();
      if constexpr (std::is_same_v<T, CT>) {
        wc = wd;
      } else {
        const int64_t wn = w.numel();
        if (scratch.size() < size_t(wn + Mg * out_size)) scratch.resize(size_t(wn + Mg * out_size));
        for (int64_t i = 0; i < wn; ++i) scratch[i] = load(wd[i]);
        wc = scratch.data();
        ybuf = scratch.data() + wn;
      }
      for (int64_t n = 0; n < N; ++n) {
        for (int64_t g = 0; g < G; ++g) {
          const T* xg = xd + (n * C + g * Cg) * in_size;
          const CT* wg = wc + g * Mg * K;
          T* yg = yd + (n * M + g * Mg) * out_size;
          CT* yc;
          if constexpr (std::is_same_v<T, CT>) yc = yg; else yc = ybuf;
          // float16 goes through one shared buffer: keep it on one thread.
          ThreadPool* pool = std::is_same_v<T, CT> ? ctx.pool : nullptr;
          switch (win.rank) {
            case 1: conv_group<T, 1>(xg, wg, yc, Mg, Cg, win, pool); break;
            case 2: conv_group<T, 2>(xg, wg, yc, Mg, Cg, win, pool); break;
            default: conv_group<T, 3>(xg, wg, yc, Mg, Cg, win, pool); break;
          }
          if constexpr (!std::is_same_v<T, CT>)
            for (int64_t i = 0; i < Mg * out_size; ++i) yg[i] = store<T>(yc[i]);
        }
      }
    }
    if (ctx.has_input(2)) {
      const T* b = ctx.input(2).as<T>();
      for (int64_t n = 0; n < N; ++n)
        for (int64_t m = 0; m < M; ++m) {
          const CT bv = load(b[m]);
          T* row = yd + (n * M + m) * out_size;
          for (int64_t i = 0; i < out_size; ++i) row[i] = store<T>(load(row[i]) + bv);
        }
    }
    apply_fused_activation(fa_, y, ctx.pool);
  }

  // Resolved by infer for x_shape_ / w_shape_.
  Window win_;
  Shape ys_, x_shape_, w_shape_;
  WindowAttrs a_;
  FusedActivation fa_;
};

}  // namespace

}  // namespace petrel::ref::nn

namespace petrel::ref {

Result<std::unique_ptr<Kernel>> make_conv(const Node& n) {
  nn::WindowAttrs a;
  PETREL_RETURN_IF_ERROR(nn::parse_window_attrs(n, a));
  PETREL_ASSIGN_OR_RETURN(FusedActivation fa, FusedActivation::from_node(n));
  return std::unique_ptr<Kernel>(new nn::ConvKernel(std::move(a), fa));
}

}  // namespace petrel::ref
