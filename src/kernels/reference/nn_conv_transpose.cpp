// ConvTranspose (float16/float/double, any spatial rank): per (image, group)
//   cols[(M/g * kernel) x in] = W_g^T * X_g   (GEMM), then col2im scatter-adds cols into Y.
#include <algorithm>
#include <memory>
#include <vector>

#include "kernels/reference/fused_act.hpp"
#include "kernels/reference/nn_common.hpp"
#include "kernels/reference/nn_gemm.hpp"
#include "kernels/reference/nn_window.hpp"

namespace petrel::ref::nn {
namespace {

struct TransposeGeom {
  std::vector<int64_t> in, kernel, out, stride, dilation, pad_begin;
};

class ConvTransposeKernel final : public Kernel {
 public:
  ConvTransposeKernel(WindowAttrs a, std::vector<int64_t> output_padding, std::vector<int64_t> output_shape, FusedActivation fa)
      : a_(std::move(a)), output_padding_(std::move(output_padding)), output_shape_(std::move(output_shape)), fa_(fa) {}

  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(require_inputs(ctx, 2));
    const Tensor& x = ctx.input(0);
    const Tensor& w = ctx.input(1);
    if ((x.dtype != DataType::kFloat && x.dtype != DataType::kDouble && x.dtype != DataType::kFloat16) ||
        w.dtype != x.dtype)
      return ctx.error("X and W must have the same dtype (float16, float or double)");
    PETREL_RETURN_IF_ERROR(check_fused_activation(ctx, fa_, x.dtype));
    TransposeGeom g;
    PETREL_RETURN_IF_ERROR(geometry(ctx, g));
    const int64_t M = w.shape[1] * a_.group;
    if (ctx.has_input(2)) {
      const Tensor& b = ctx.input(2);
      if (b.dtype != x.dtype || b.rank() != 1 || b.shape[0] != M) return ctx.error("B must be a 1-D tensor of M elements with X's dtype");
    }
    Shape ys{x.shape[0], M};
    ys.insert(ys.end(), g.out.begin(), g.out.end());
    return ctx.set_output(0, x.dtype, ys);
  }

  Status compute(OpContext& ctx) override {
    TransposeGeom g;
    PETREL_RETURN_IF_ERROR(geometry(ctx, g));
    // The column buffer is (M/g * kernel) x input positions.
    int64_t in_size = 1;
    for (int64_t d : g.in) in_size *= d;
    const Tensor& w = ctx.input(1);
    PETREL_RETURN_IF_ERROR(checked_numel({w.numel() / std::max<int64_t>(1, w.shape[0]), in_size}).status());
    switch (ctx.input(0).dtype) {
      case DataType::kFloat: run<float>(ctx, g); break;
      case DataType::kDouble: run<double>(ctx, g); break;
      default: run<Float16>(ctx, g); break;
    }
    return Status::ok();
  }

 private:
  Status geometry(const OpContext& ctx, TransposeGeom& g) const {
    const Tensor& x = ctx.input(0);
    const Tensor& w = ctx.input(1);
    if (x.rank() < 3) return ctx.error("X must have rank >= 3 (N, C, spatial...)");
    if (w.rank() != x.rank()) return ctx.error("W rank does not match X rank");
    if (x.shape[1] != w.shape[0]) return ctx.error("X channels must equal W.shape[0]");
    if (w.shape[0] % a_.group != 0) return ctx.error("W.shape[0] is not divisible by group");
    const size_t r = size_t(x.rank() - 2);
    g.in.assign(x.shape.begin() + 2, x.shape.end());
    g.kernel.assign(w.shape.begin() + 2, w.shape.end());
    if (!a_.kernel_shape.empty() && a_.kernel_shape != g.kernel) return ctx.error("kernel_shape does not match W");
    auto ok_len = [&](const std::vector<int64_t>& v, size_t n) { return v.empty() || v.size() == n; };
    if (!ok_len(a_.strides, r) || !ok_len(a_.dilations, r) || !ok_len(a_.pads, 2 * r) || !ok_len(output_padding_, r))
      return ctx.error("strides/dilations/pads/output_padding have the wrong length");
    std::vector<int64_t> oshape = output_shape_;
    if (oshape.size() == r + 2) oshape.erase(oshape.begin(), oshape.begin() + 2);  // N, C given too
    if (!oshape.empty() && oshape.size() != r) return ctx.error("output_shape has the wrong length");
    g.stride = a_.strides.empty() ? std::vector<int64_t>(r, 1) : a_.strides;
    g.dilation = a_.dilations.empty() ? std::vector<int64_t>(r, 1) : a_.dilations;
    g.pad_begin.assign(r, 0);
    g.out.assign(r, 0);
    for (size_t d = 0; d < r; ++d) {
      const int64_t opad = output_padding_.empty() ? 0 : output_padding_[d];
      if (g.kernel[d] <= 0) return ctx.error("empty kernel");
      const int64_t full = g.stride[d] * (g.in[d] - 1) + opad + (g.kernel[d] - 1) * g.dilation[d] + 1;
      if (!oshape.empty() || a_.auto_pad == AutoPad::kSameUpper || a_.auto_pad == AutoPad::kSameLower) {
        const int64_t target = !oshape.empty() ? oshape[d] : g.in[d] * g.stride[d];
        // A target larger than the full result is filled with zeros at the end (ONNX tests).
        const int64_t total = std::max<int64_t>(0, full - target);
        // The spec: SAME_UPPER puts the smaller half first, otherwise the larger half.
        g.pad_begin[d] = a_.auto_pad == AutoPad::kSameUpper ? total / 2 : total - total / 2;
        g.out[d] = target;
      } else {
        int64_t pb = 0, pe = 0;
        if (!a_.pads.empty() && a_.auto_pad != AutoPad::kValid) { pb = a_.pads[d]; pe = a_.pads[d + r]; }
        g.pad_begin[d] = pb;
        g.out[d] = full - pb - pe;
      }
      if (g.out[d] < 0) return ctx.error("output size would be negative");
    }
    return Status::ok();
  }

  template <typename T> void run(OpContext& ctx, const TransposeGeom& geo) {
    using CT = ComputeType<T>;
    const Tensor& x = ctx.input(0);
    const Tensor& w = ctx.input(1);
    Tensor& y = ctx.output(0);
    const int64_t r = int64_t(geo.in.size());
    const int64_t N = x.shape[0], C = x.shape[1], G = a_.group, Cg = C / G, Mg = w.shape[1], M = Mg * G;
    int64_t in_size = 1, out_size = 1, ksize = 1;
    for (int64_t d = 0; d < r; ++d) { in_size *= geo.in[d]; out_size *= geo.out[d]; ksize *= geo.kernel[d]; }
    const int64_t rows = Mg * ksize;
    const T* xd = x.as<T>();
    const T* wd = w.as<T>();
    T* yd = y.as<T>();
    std::vector<CT> acc(size_t(M * out_size), CT(0));
    if (N * M * out_size == 0) return;
    std::vector<CT> wt(size_t(rows * Cg)), xc, cols(size_t(rows * in_size));
    if (!std::is_same_v<T, CT>) xc.resize(size_t(Cg * in_size));
    std::vector<int64_t> kidx(static_cast<size_t>(r)), iidx(static_cast<size_t>(r));
    for (int64_t n = 0; n < N; ++n) {
      std::fill(acc.begin(), acc.end(), CT(0));
      for (int64_t g = 0; g < G; ++g) {
        // W_g is [Cg x (Mg * kernel)]; the GEMM wants its transpose as A.
        const T* wg = wd + g * Cg * rows;
        for (int64_t c = 0; c < Cg; ++c)
          for (int64_t k = 0; k < rows; ++k) wt[size_t(k * Cg + c)] = load(wg[c * rows + k]);
        const T* xg = xd + (n * C + g * Cg) * in_size;
        const CT* xb;
        if constexpr (std::is_same_v<T, CT>) {
          xb = xg;
        } else {
          for (int64_t i = 0; i < Cg * in_size; ++i) xc[size_t(i)] = load(xg[i]);
          xb = xc.data();
        }
        gemm<CT>(rows, in_size, Cg, wt.data(), Cg, DenseB<CT>(xb, in_size), cols.data(), in_size, false);
        // col2im: row (m, kernel offset), column = input position.
        for (int64_t row = 0; row < rows; ++row) {
          const int64_t m = row / ksize;
          int64_t rem = row % ksize;
          for (int64_t d = r - 1; d >= 0; --d) { kidx[d] = rem % geo.kernel[d]; rem /= geo.kernel[d]; }
          CT* ym = acc.data() + (g * Mg + m) * out_size;
          const CT* crow = cols.data() + row * in_size;
          std::fill(iidx.begin(), iidx.end(), 0);
          for (int64_t i = 0; i < in_size; ++i) {
            int64_t flat = 0;
            bool inside = true;
            for (int64_t d = 0; d < r; ++d) {
              const int64_t o = iidx[d] * geo.stride[d] - geo.pad_begin[d] + kidx[d] * geo.dilation[d];
              if (o < 0 || o >= geo.out[d]) { inside = false; break; }
              flat = flat * geo.out[d] + o;
            }
            if (inside) ym[flat] += crow[i];
            for (int64_t d = r - 1; d >= 0; --d) {
              if (++iidx[d] < geo.in[d]) break;
              iidx[d] = 0;
            }
          }
        }
      }
      const T* b = ctx.has_input(2) ? ctx.input(2).as<T>() : nullptr;
      for (int64_t m = 0; m < M; ++m) {
        const CT bv = b ? load(b[m]) : CT(0);
        T* yrow = yd + (n * M + m) * out_size;
        const CT* arow = acc.data() + m * out_size;
        for (int64_t i = 0; i < out_size; ++i) yrow[i] = store<T>(arow[i] + bv);
      }
    }
    apply_fused_activation(fa_, y, ctx.pool);
  }

  WindowAttrs a_;
  std::vector<int64_t> output_padding_, output_shape_;
  FusedActivation fa_;
};

}  // namespace
}  // namespace petrel::ref::nn

namespace petrel::ref {

Result<std::unique_ptr<Kernel>> make_conv_transpose(const Node& n) {
  nn::WindowAttrs a;
  PETREL_RETURN_IF_ERROR(nn::parse_window_attrs(n, a));
  PETREL_ASSIGN_OR_RETURN(auto output_padding, attr_ints(n, "output_padding"));
  PETREL_ASSIGN_OR_RETURN(auto output_shape, attr_ints(n, "output_shape"));
  for (int64_t p : output_padding)
    if (p < 0) return invalid_model(n.label() + ": output_padding must be non-negative");
  for (int64_t s : output_shape)
    if (s < 0) return invalid_model(n.label() + ": output_shape must be non-negative");
  PETREL_ASSIGN_OR_RETURN(FusedActivation fa, FusedActivation::from_node(n));
  return std::unique_ptr<Kernel>(new nn::ConvTransposeKernel(std::move(a), std::move(output_padding), std::move(output_shape), fa));
}

}  // namespace petrel::ref
