// MaxUnpool, MaxRoiPool, RoiAlign.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "kernels/reference/nn_common.hpp"

namespace petrel::ref::nn {
namespace {

// ---- MaxUnpool: Y = 0; Y.flat[I[i]] = X[i] (indices as produced by MaxPool). ----
class MaxUnpoolKernel final : public Kernel {
 public:
  MaxUnpoolKernel(std::vector<int64_t> k, std::vector<int64_t> s, std::vector<int64_t> p)
      : kernel_(std::move(k)), strides_(std::move(s)), pads_(std::move(p)) {}

  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(require_inputs(ctx, 2));
    const Tensor& x = ctx.input(0);
    const Tensor& ind = ctx.input(1);
    if (!dtype_is_float(x.dtype)) return ctx.error("X must be a float tensor");
    if (ind.dtype != DataType::kInt64 || ind.shape != x.shape) return ctx.error("I must be int64 with X's shape");
    Shape def, ys;
    PETREL_RETURN_IF_ERROR(default_shape(ctx, def));
    if (ctx.has_input(2)) {
      PETREL_RETURN_IF_ERROR(read_int_input(ctx, 2, ys));
      if (ys.size() != size_t(x.rank())) return ctx.error("output_shape must have X's rank");
      if (ys[0] != x.shape[0] || ys[1] != x.shape[1]) return ctx.error("output_shape must keep N and C");
      PETREL_RETURN_IF_ERROR(checked_numel(ys).status());
    } else {
      ys = def;
    }
    return ctx.set_output(0, x.dtype, ys);
  }

  // Indices address the default unpooled shape; with a different output_shape each value keeps
  // its coordinates (the ONNX reference scatters into the default shape, then pads at the end).
  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const int64_t* ind = ctx.input(1).as<int64_t>();
    Tensor& y = ctx.output(0);
    Shape def;
    PETREL_RETURN_IF_ERROR(default_shape(ctx, def));
    const int64_t n = x.numel(), total = y.numel(), r = x.rank() - 2;
    PETREL_ASSIGN_OR_RETURN(int64_t def_total, checked_numel(def));
    int64_t def_plane = 1, out_plane = 1;
    for (int64_t d = 0; d < r; ++d) { def_plane *= def[size_t(d + 2)]; out_plane *= y.shape[size_t(d + 2)]; }
    const bool same = def == y.shape;
    const size_t es = dtype_size(x.dtype);
    uint8_t* yd = static_cast<uint8_t*>(y.data);
    std::fill(yd, yd + total * int64_t(es), uint8_t(0));
    for (int64_t i = 0; i < n; ++i) {
      const int64_t idx = ind[i];
      if (idx < 0 || idx >= def_total) return ctx.error("index " + std::to_string(idx) + " out of range");
      int64_t dst = idx;
      if (!same) {
        int64_t pos = idx % def_plane, flat = 0, mul = 1;
        bool inside = true;
        for (int64_t d = r - 1; d >= 0; --d) {
          const int64_t c = pos % def[size_t(d + 2)];
          pos /= def[size_t(d + 2)];
          if (c >= y.shape[size_t(d + 2)]) inside = false;
          flat += c * mul;
          mul *= y.shape[size_t(d + 2)];
        }
        if (!inside) continue;
        dst = (idx / def_plane) * out_plane + flat;
      }
      std::memcpy(yd + dst * int64_t(es), static_cast<const uint8_t*>(x.data) + i * int64_t(es), es);
    }
    return Status::ok();
  }

 private:
  Status default_shape(const OpContext& ctx, Shape& ys) const {
    const Tensor& x = ctx.input(0);
    const size_t r = size_t(x.rank()) - 2;
    if (x.rank() < 3 || kernel_.size() != r) return ctx.error("kernel_shape must have one value per spatial axis");
    if ((!strides_.empty() && strides_.size() != r) || (!pads_.empty() && pads_.size() != 2 * r))
      return ctx.error("strides/pads have the wrong length");
    ys = {x.shape[0], x.shape[1]};
    for (size_t d = 0; d < r; ++d) {
      const int64_t s = strides_.empty() ? 1 : strides_[d];
      const int64_t pb = pads_.empty() ? 0 : pads_[d], pe = pads_.empty() ? 0 : pads_[d + r];
      const int64_t v = (x.shape[d + 2] - 1) * s + kernel_[d] - pb - pe;
      if (v < 0) return ctx.error("unpooled size would be negative");
      ys.push_back(v);
    }
    return checked_numel(ys).status();
  }

 private:
  std::vector<int64_t> kernel_, strides_, pads_;
};

Status check_rois(const OpContext& ctx, const Tensor& rois, int64_t cols) {
  if (rois.dtype != ctx.input(0).dtype) return ctx.error("rois must have X's dtype");
  if (rois.rank() != 2 || rois.shape[1] != cols) return ctx.error("rois must have shape [num_rois, " + std::to_string(cols) + "]");
  return Status::ok();
}

// ---- MaxRoiPool (Caffe/Fast R-CNN): max over integer bins of each rounded RoI. ----
class MaxRoiPoolKernel final : public Kernel {
 public:
  MaxRoiPoolKernel(int64_t ph, int64_t pw, float scale) : ph_(ph), pw_(pw), scale_(scale) {}

  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(require_inputs(ctx, 2));
    const Tensor& x = ctx.input(0);
    if (!dtype_is_float(x.dtype) || x.rank() != 4) return ctx.error("X must be a 4-D float tensor");
    PETREL_RETURN_IF_ERROR(check_rois(ctx, ctx.input(1), 5));
    return ctx.set_output(0, x.dtype, {ctx.input(1).shape[0], x.shape[1], ph_, pw_});
  }

  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const Tensor& rois = ctx.input(1);
    const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
    return dispatch_x(x.dtype, [&](auto tag) -> Status {
      using T = typename decltype(tag)::type;
      using CT = ComputeType<T>;
      T* yd = ctx.output(0).as<T>();
      for (int64_t r = 0; r < rois.shape[0]; ++r) {
        const T* roi = rois.as<T>() + r * 5;
        const double b = double(load(roi[0]));
        if (!(b >= 0 && b < double(N))) return ctx.error("RoI batch index out of range");
        const int64_t batch = int64_t(b);
        // Coordinates are untrusted: clamp before converting to integers.
        auto rnd = [&](int i) {
          const double v = std::round(double(load(roi[i])) * scale_);
          return std::isfinite(v) ? int64_t(std::clamp(v, -1e12, 1e12)) : int64_t(0);
        };
        const int64_t x0 = rnd(1), y0 = rnd(2), x1 = rnd(3), y1 = rnd(4);
        // Malformed RoIs become 1x1.
        const double bh = double(std::max<int64_t>(y1 - y0 + 1, 1)) / double(ph_);
        const double bw = double(std::max<int64_t>(x1 - x0 + 1, 1)) / double(pw_);
        for (int64_t c = 0; c < C; ++c) {
          const T* xp = x.as<T>() + (batch * C + c) * H * W;
          for (int64_t i = 0; i < ph_; ++i)
            for (int64_t j = 0; j < pw_; ++j) {
              const int64_t hs = std::clamp<int64_t>(int64_t(std::floor(i * bh)) + y0, 0, H);
              const int64_t he = std::clamp<int64_t>(int64_t(std::ceil((i + 1) * bh)) + y0, 0, H);
              const int64_t ws = std::clamp<int64_t>(int64_t(std::floor(j * bw)) + x0, 0, W);
              const int64_t we = std::clamp<int64_t>(int64_t(std::ceil((j + 1) * bw)) + x0, 0, W);
              CT m = CT(0);
              if (he > hs && we > ws) {
                m = std::numeric_limits<CT>::lowest();
                for (int64_t h = hs; h < he; ++h)
                  for (int64_t w = ws; w < we; ++w) m = std::max<CT>(m, load(xp[h * W + w]));
              }
              yd[((r * C + c) * ph_ + i) * pw_ + j] = store<T>(m);
            }
        }
      }
      return Status::ok();
    });
  }

 private:
  int64_t ph_, pw_;
  float scale_;
};

// ---- RoiAlign: bilinear samples on a regular grid per bin, averaged or max-ed. ----
class RoiAlignKernel final : public Kernel {
 public:
  RoiAlignKernel(bool half_pixel, bool max_mode, int64_t oh, int64_t ow, int64_t ratio, float scale)
      : half_pixel_(half_pixel), max_(max_mode), oh_(oh), ow_(ow), ratio_(ratio), scale_(scale) {}

  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(require_inputs(ctx, 3));
    const Tensor& x = ctx.input(0);
    if (!dtype_is_float(x.dtype) || x.rank() != 4) return ctx.error("X must be a 4-D float tensor");
    PETREL_RETURN_IF_ERROR(check_rois(ctx, ctx.input(1), 4));
    const Tensor& bi = ctx.input(2);
    if (bi.dtype != DataType::kInt64 || bi.rank() != 1 || bi.shape[0] != ctx.input(1).shape[0])
      return ctx.error("batch_indices must be int64 [num_rois]");
    return ctx.set_output(0, x.dtype, {ctx.input(1).shape[0], x.shape[1], oh_, ow_});
  }

  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const Tensor& rois = ctx.input(1);
    const int64_t* bidx = ctx.input(2).as<int64_t>();
    const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
    return dispatch_x(x.dtype, [&](auto tag) -> Status {
      using T = typename decltype(tag)::type;
      T* yd = ctx.output(0).as<T>();
      struct Sample { int64_t p[4]; double w[4]; };
      std::vector<Sample> samples;
      for (int64_t r = 0; r < rois.shape[0]; ++r) {
        if (bidx[r] < 0 || bidx[r] >= N) return ctx.error("batch index out of range");
        const T* roi = rois.as<T>() + r * 4;
        const double off = half_pixel_ ? 0.5 : 0.0;
        const double sx = double(load(roi[0])) * scale_ - off, sy = double(load(roi[1])) * scale_ - off;
        const double ex = double(load(roi[2])) * scale_ - off, ey = double(load(roi[3])) * scale_ - off;
        double rw = ex - sx, rh = ey - sy;
        if (!half_pixel_) { rw = std::max(rw, 1.0); rh = std::max(rh, 1.0); }
        const double bh = rh / double(oh_), bw = rw / double(ow_);
        if (!std::isfinite(sx) || !std::isfinite(sy) || !std::isfinite(bh) || !std::isfinite(bw))
          return ctx.error("RoI coordinates must be finite");
        const double gh_d = ratio_ > 0 ? double(ratio_) : std::ceil(bh);
        const double gw_d = ratio_ > 0 ? double(ratio_) : std::ceil(bw);
        if (gh_d * gw_d > double(1 << 20)) return ctx.error("RoI sampling grid too large");
        const int64_t gh = std::max<int64_t>(0, int64_t(gh_d)), gw = std::max<int64_t>(0, int64_t(gw_d));
        const double count = double(std::max<int64_t>(gh * gw, 1));
        for (int64_t i = 0; i < oh_; ++i)
          for (int64_t j = 0; j < ow_; ++j) {
            // Sampling points and bilinear weights (shared by all channels).
            samples.clear();
            for (int64_t iy = 0; iy < gh; ++iy) {
              double y = sy + double(i) * bh + (double(iy) + 0.5) * bh / double(gh);
              for (int64_t ix = 0; ix < gw; ++ix) {
                double xx = sx + double(j) * bw + (double(ix) + 0.5) * bw / double(gw);
                Sample s{{0, 0, 0, 0}, {0, 0, 0, 0}};
                if (!(y < -1.0 || y > double(H) || xx < -1.0 || xx > double(W))) {
                  double yc = std::max(y, 0.0), xc = std::max(xx, 0.0);
                  int64_t yl = int64_t(yc), xl = int64_t(xc), yh, xh;
                  if (yl >= H - 1) { yh = yl = H - 1; yc = double(yl); } else { yh = yl + 1; }
                  if (xl >= W - 1) { xh = xl = W - 1; xc = double(xl); } else { xh = xl + 1; }
                  const double ly = yc - double(yl), lx = xc - double(xl), hy = 1 - ly, hx = 1 - lx;
                  s = Sample{{yl * W + xl, yl * W + xh, yh * W + xl, yh * W + xh}, {hy * hx, hy * lx, ly * hx, ly * lx}};
                }
                samples.push_back(s);
              }
            }
            for (int64_t c = 0; c < C; ++c) {
              const T* xp = x.as<T>() + (bidx[r] * C + c) * H * W;
              double acc = 0;
              bool first = true;
              for (const Sample& s : samples) {
                if (max_) {
                  // Max of the weighted corner values, as onnxruntime and the ONNX reference do.
                  double v = s.w[0] * double(load(xp[s.p[0]]));
                  for (int k = 1; k < 4; ++k) v = std::max(v, s.w[k] * double(load(xp[s.p[k]])));
                  acc = first ? v : std::max(acc, v);
                  first = false;
                } else {
                  for (int k = 0; k < 4; ++k) acc += s.w[k] * double(load(xp[s.p[k]]));
                }
              }
              const double out = max_ ? acc : acc / count;
              yd[((r * C + c) * oh_ + i) * ow_ + j] = store<T>(ComputeType<T>(out));
            }
          }
      }
      return Status::ok();
    });
  }

 private:
  bool half_pixel_, max_;
  int64_t oh_, ow_, ratio_;
  float scale_;
};

}  // namespace
}  // namespace petrel::ref::nn

namespace petrel::ref {

Result<std::unique_ptr<Kernel>> make_max_unpool(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(auto k, attr_ints(n, "kernel_shape"));
  if (k.empty()) return invalid_model(n.label() + ": missing required attribute 'kernel_shape'");
  PETREL_ASSIGN_OR_RETURN(auto s, attr_ints(n, "strides"));
  PETREL_ASSIGN_OR_RETURN(auto p, attr_ints(n, "pads"));
  for (int64_t v : k)
    if (v <= 0) return invalid_model(n.label() + ": kernel_shape must be positive");
  for (int64_t v : s)
    if (v <= 0) return invalid_model(n.label() + ": strides must be positive");
  for (int64_t v : p)
    if (v < 0) return invalid_model(n.label() + ": pads must be non-negative");
  return std::unique_ptr<Kernel>(new nn::MaxUnpoolKernel(std::move(k), std::move(s), std::move(p)));
}

Result<std::unique_ptr<Kernel>> make_max_roi_pool(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(auto ps, attr_ints(n, "pooled_shape"));
  if (ps.size() != 2 || ps[0] <= 0 || ps[1] <= 0) return invalid_model(n.label() + ": pooled_shape must be 2 positive values");
  PETREL_ASSIGN_OR_RETURN(float scale, attr_float(n, "spatial_scale", 1.f));
  return std::unique_ptr<Kernel>(new nn::MaxRoiPoolKernel(ps[0], ps[1], scale));
}

Result<std::unique_ptr<Kernel>> make_roi_align(const Node& n) {
  // Before opset 16 RoiAlign had no coordinate_transformation_mode and behaved as
  // output_half_pixel.
  PETREL_ASSIGN_OR_RETURN(std::string ctm, attr_string(n, "coordinate_transformation_mode",
                                                       n.opset > 0 && n.opset < 16 ? "output_half_pixel" : "half_pixel"));
  PETREL_ASSIGN_OR_RETURN(std::string mode, attr_string(n, "mode", "avg"));
  PETREL_ASSIGN_OR_RETURN(int64_t oh, attr_int(n, "output_height", 1));
  PETREL_ASSIGN_OR_RETURN(int64_t ow, attr_int(n, "output_width", 1));
  PETREL_ASSIGN_OR_RETURN(int64_t ratio, attr_int(n, "sampling_ratio", 0));
  PETREL_ASSIGN_OR_RETURN(float scale, attr_float(n, "spatial_scale", 1.f));
  if (ctm != "half_pixel" && ctm != "output_half_pixel") return unsupported(n.label() + ": coordinate_transformation_mode '" + ctm + "'");
  if (mode != "avg" && mode != "max") return unsupported(n.label() + ": mode '" + mode + "'");
  if (oh <= 0 || ow <= 0 || ratio < 0) return invalid_model(n.label() + ": output sizes must be positive, sampling_ratio >= 0");
  return std::unique_ptr<Kernel>(new nn::RoiAlignKernel(ctm == "half_pixel", mode == "max", oh, ow, ratio, scale));
}

}  // namespace petrel::ref
