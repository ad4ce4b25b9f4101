// GridSample (4-D, bilinear/nearest/bicubic, zeros/border/reflection padding) and Col2Im.
// GridSample follows onnxruntime's formulation, which the ONNX test data was checked against:
// coordinates are un-normalised, moved into range by the padding mode, then interpolated with
// every tap read through the padding mode again.
#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "kernels/reference/nn_common.hpp"

namespace petrel::ref::nn {
namespace {

enum class Interp : uint8_t { kBilinear, kNearest, kBicubic };
enum class Padding : uint8_t { kZeros, kBorder, kReflection };

// Reflects x into [lo, hi] (repeatedly, like a mirror at both ends).
double reflect(double x, double lo, double hi) {
  const double range = hi - lo;
  if (!(range > 0)) return lo;
  if (x < lo) {
    const double dx = lo - x;
    const double n = std::floor(dx / range), r = dx - n * range;
    return std::fmod(n, 2.0) == 0 ? lo + r : hi - r;
  }
  if (x > hi) {
    const double dx = x - hi;
    const double n = std::floor(dx / range), r = dx - n * range;
    return std::fmod(n, 2.0) == 0 ? hi - r : lo + r;
  }
  return x;
}

void cubic_coeffs(double t, double c[4]) {
  constexpr double A = -0.75;
  const double x = std::fabs(t);
  c[0] = ((A * (x + 1) - 5 * A) * (x + 1) + 8 * A) * (x + 1) - 4 * A;
  c[1] = ((A + 2) * x - (A + 3)) * x * x + 1;
  c[2] = ((A + 2) * (1 - x) - (A + 3)) * (1 - x) * (1 - x) + 1;
  c[3] = ((A * (2 - x) - 5 * A) * (2 - x) + 8 * A) * (2 - x) - 4 * A;
}

class GridSampleKernel final : public Kernel {
 public:
  GridSampleKernel(Interp m, Padding p, bool align) : mode_(m), pad_(p), align_(align) {}

  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(require_inputs(ctx, 2));
    const Tensor& x = ctx.input(0);
    const Tensor& g = ctx.input(1);
    if (!dtype_is_float(x.dtype) || !dtype_is_float(g.dtype)) return ctx.error("X and grid must be float tensors");
    if (x.rank() != 4) return ctx.unsupported_error("GridSample supports 4-D input only");
    if (g.rank() != 4 || g.shape[0] != x.shape[0] || g.shape[3] != 2) return ctx.error("grid must have shape [N, H_out, W_out, 2]");
    return ctx.set_output(0, x.dtype, {x.shape[0], x.shape[1], g.shape[1], g.shape[2]});
  }

  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const Tensor& g = ctx.input(1);
    const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
    const int64_t OH = g.shape[1], OW = g.shape[2];
    const double xmin = align_ ? 0.0 : -0.5, xmax = align_ ? double(W - 1) : double(W) - 0.5;
    const double ymin = align_ ? 0.0 : -0.5, ymax = align_ ? double(H - 1) : double(H) - 0.5;
    return dispatch_x(x.dtype, [&](auto tag) -> Status {
      using T = typename decltype(tag)::type;
      T* yd = ctx.output(0).as<T>();
      for (int64_t n = 0; n < N; ++n)
        for (int64_t c = 0; c < C; ++c) {
          const T* img = x.as<T>() + (n * C + c) * H * W;
          // Pixel (r, col) through the padding mode.
          auto pixel = [&](int64_t r, int64_t col) -> double {
            if (pad_ == Padding::kZeros) {
              if (r < 0 || r >= H || col < 0 || col >= W) return 0.0;
            } else if (pad_ == Padding::kBorder) {
              r = std::clamp<int64_t>(r, 0, H - 1);
              col = std::clamp<int64_t>(col, 0, W - 1);
            } else {
              col = std::clamp<int64_t>(int64_t(reflect(double(col), xmin, xmax)), 0, W - 1);
              r = std::clamp<int64_t>(int64_t(reflect(double(r), ymin, ymax)), 0, H - 1);
            }
            return double(load(img[r * W + col]));
          };
          for (int64_t i = 0; i < OH * OW; ++i) {
            const int64_t gi = (n * OH * OW + i) * 2;
            const double gx = element_as_double(g, gi), gy = element_as_double(g, gi + 1);
            double out = 0;
            if (std::isfinite(gx) && std::isfinite(gy) && H > 0 && W > 0) {
              double px = align_ ? (gx + 1) / 2 * double(W - 1) : ((gx + 1) * double(W) - 1) / 2;
              double py = align_ ? (gy + 1) / 2 * double(H - 1) : ((gy + 1) * double(H) - 1) / 2;
              if (mode_ == Interp::kNearest) { px = std::nearbyint(px); py = std::nearbyint(py); }
              if (pad_ == Padding::kBorder) {
                px = std::clamp(px, 0.0, double(W - 1));
                py = std::clamp(py, 0.0, double(H - 1));
              } else if (pad_ == Padding::kReflection) {
                px = reflect(px, xmin, xmax);
                py = reflect(py, ymin, ymax);
              }
              // Far-away points only ever read padding; keep integer conversions in range.
              px = std::clamp(px, -double(W) - 4, 2.0 * double(W) + 4);
              py = std::clamp(py, -double(H) - 4, 2.0 * double(H) + 4);
              if (mode_ == Interp::kNearest) {
                out = pixel(int64_t(py), int64_t(px));
              } else if (mode_ == Interp::kBilinear) {
                const int64_t x1 = int64_t(std::floor(px)), y1 = int64_t(std::floor(py));
                const double dx1 = px - double(x1), dy1 = py - double(y1), dx2 = 1 - dx1, dy2 = 1 - dy1;
                out = dy2 * (dx2 * pixel(y1, x1) + dx1 * pixel(y1, x1 + 1)) +
                      dy1 * (dx2 * pixel(y1 + 1, x1) + dx1 * pixel(y1 + 1, x1 + 1));
              } else {
                const int64_t x0 = int64_t(std::floor(px)) - 1, y0 = int64_t(std::floor(py)) - 1;
                double cx[4], cy[4];
                cubic_coeffs(px - double(x0) - 1, cx);
                cubic_coeffs(py - double(y0) - 1, cy);
                for (int a = 0; a < 4; ++a) {
                  double row = 0;
                  for (int b = 0; b < 4; ++b) row += cx[b] * pixel(y0 + a, x0 + b);
                  out += cy[a] * row;
                }
              }
            }
            yd[(n * C + c) * OH * OW + i] = store<T>(ComputeType<T>(out));
          }
        }
      return Status::ok();
    });
  }

 private:
  Interp mode_;
  Padding pad_;
  bool align_;
};

// ---- Col2Im: scatter-adds columns [N, C * prod(block), L] back into images [N, C, image...]. ----
class Col2ImKernel final : public Kernel {
 public:
  Col2ImKernel(std::vector<int64_t> dil, std::vector<int64_t> pads, std::vector<int64_t> strides)
      : dil_(std::move(dil)), pads_(std::move(pads)), strides_(std::move(strides)) {}

  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(require_inputs(ctx, 3));
    Geom g;
    PETREL_RETURN_IF_ERROR(geometry(ctx, g));
    Shape ys{ctx.input(0).shape[0], g.C};
    ys.insert(ys.end(), g.image.begin(), g.image.end());
    return ctx.set_output(0, ctx.input(0).dtype, ys);
  }

  Status compute(OpContext& ctx) override {
    Geom g;
    PETREL_RETURN_IF_ERROR(geometry(ctx, g));
    const Tensor& x = ctx.input(0);
    const int64_t N = x.shape[0], r = int64_t(g.image.size());
    int64_t img = 1, ks = 1, L = 1;
    for (int64_t d = 0; d < r; ++d) { img *= g.image[size_t(d)]; ks *= g.block[size_t(d)]; L *= g.blocks[size_t(d)]; }
    return dispatch_all_numeric(x.dtype, [&](auto tag) -> Status {
      using T = typename decltype(tag)::type;
      using CT = ComputeType<T>;
      std::vector<CT> acc(static_cast<size_t>(img));
      std::vector<int64_t> kk(static_cast<size_t>(r)), bb(static_cast<size_t>(r));
      for (int64_t n = 0; n < N; ++n)
        for (int64_t c = 0; c < g.C; ++c) {
          std::fill(acc.begin(), acc.end(), CT(0));
          for (int64_t k = 0; k < ks; ++k) {
            int64_t rem = k;
            for (int64_t d = r - 1; d >= 0; --d) { kk[size_t(d)] = rem % g.block[size_t(d)]; rem /= g.block[size_t(d)]; }
            const T* col = x.as<T>() + ((n * g.C + c) * ks + k) * L;
            std::fill(bb.begin(), bb.end(), 0);
            for (int64_t l = 0; l < L; ++l) {
              int64_t flat = 0;
              bool inside = true;
              for (int64_t d = 0; d < r; ++d) {
                const size_t du = size_t(d);
                const int64_t p = bb[du] * g.stride[du] - g.pad_begin[du] + kk[du] * g.dil[du];
                if (p < 0 || p >= g.image[du]) { inside = false; break; }
                flat = flat * g.image[du] + p;
              }
              if (inside) acc[size_t(flat)] += load(col[l]);
              for (int64_t d = r - 1; d >= 0; --d) {
                if (++bb[size_t(d)] < g.blocks[size_t(d)]) break;
                bb[size_t(d)] = 0;
              }
            }
          }
          T* y = ctx.output(0).as<T>() + (n * g.C + c) * img;
          for (int64_t i = 0; i < img; ++i) y[i] = store<T>(acc[size_t(i)]);
        }
      return Status::ok();
    });
  }

 private:
  struct Geom {
    int64_t C = 0;
    std::vector<int64_t> image, block, blocks, stride, dil, pad_begin;
  };

  Status geometry(OpContext& ctx, Geom& g) const {
    const Tensor& x = ctx.input(0);
    if (x.rank() != 3) return ctx.error("input must have shape [N, C * prod(block_shape), L]");
    PETREL_RETURN_IF_ERROR(read_int_input(ctx, 1, g.image));
    PETREL_RETURN_IF_ERROR(read_int_input(ctx, 2, g.block));
    const size_t r = g.image.size();
    if (r == 0 || g.block.size() != r) return ctx.error("image_shape and block_shape must have the same non-zero length");
    if ((!dil_.empty() && dil_.size() != r) || (!strides_.empty() && strides_.size() != r) || (!pads_.empty() && pads_.size() != 2 * r))
      return ctx.error("dilations/strides/pads have the wrong length");
    int64_t ks = 1, L = 1;
    g.stride = strides_.empty() ? std::vector<int64_t>(r, 1) : strides_;
    g.dil = dil_.empty() ? std::vector<int64_t>(r, 1) : dil_;
    g.pad_begin.assign(r, 0);
    g.blocks.assign(r, 0);
    for (size_t d = 0; d < r; ++d) {
      if (g.image[d] <= 0 || g.block[d] <= 0 || g.image[d] > (int64_t(1) << 31) || g.block[d] > (int64_t(1) << 31))
        return ctx.error("image_shape and block_shape values must be positive");
      const int64_t pb = pads_.empty() ? 0 : pads_[d], pe = pads_.empty() ? 0 : pads_[d + r];
      g.pad_begin[d] = pb;
      const int64_t span = g.image[d] + pb + pe - ((g.block[d] - 1) * g.dil[d] + 1);
      if (span < 0) return ctx.error("block larger than the padded image");
      g.blocks[d] = span / g.stride[d] + 1;
      ks *= g.block[d];
      L *= g.blocks[d];
    }
    PETREL_RETURN_IF_ERROR(checked_numel(g.image).status());
    if (x.shape[1] % ks != 0) return ctx.error("input dim 1 is not a multiple of prod(block_shape)");
    if (x.shape[2] != L) return ctx.error("input dim 2 must be the number of blocks (" + std::to_string(L) + ")");
    g.C = x.shape[1] / ks;
    return Status::ok();
  }

  std::vector<int64_t> dil_, pads_, strides_;
};

}  // namespace
}  // namespace petrel::ref::nn

namespace petrel::ref {

Result<std::unique_ptr<Kernel>> make_grid_sample(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(std::string mode, attr_string(n, "mode", "bilinear"));
  PETREL_ASSIGN_OR_RETURN(std::string pad, attr_string(n, "padding_mode", "zeros"));
  PETREL_ASSIGN_OR_RETURN(int64_t align, attr_int(n, "align_corners", 0));
  nn::Interp m;
  if (mode == "bilinear" || mode == "linear") m = nn::Interp::kBilinear;
  else if (mode == "nearest") m = nn::Interp::kNearest;
  else if (mode == "bicubic" || mode == "cubic") m = nn::Interp::kBicubic;
  else return unsupported(n.label() + ": mode '" + mode + "'");
  nn::Padding p;
  if (pad == "zeros") p = nn::Padding::kZeros;
  else if (pad == "border") p = nn::Padding::kBorder;
  else if (pad == "reflection") p = nn::Padding::kReflection;
  else return unsupported(n.label() + ": padding_mode '" + pad + "'");
  return std::unique_ptr<Kernel>(new nn::GridSampleKernel(m, p, align != 0));
}

Result<std::unique_ptr<Kernel>> make_col2im(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(auto dil, attr_ints(n, "dilations"));
  PETREL_ASSIGN_OR_RETURN(auto pads, attr_ints(n, "pads"));
  PETREL_ASSIGN_OR_RETURN(auto strides, attr_ints(n, "strides"));
  for (int64_t v : dil)
    if (v <= 0) return invalid_model(n.label() + ": dilations must be positive");
  for (int64_t v : strides)
    if (v <= 0) return invalid_model(n.label() + ": strides must be positive");
  for (int64_t v : pads)
    if (v < 0) return invalid_model(n.label() + ": pads must be non-negative");
  return std::unique_ptr<Kernel>(new nn::Col2ImKernel(std::move(dil), std::move(pads), std::move(strides)));
}

}  // namespace petrel::ref
