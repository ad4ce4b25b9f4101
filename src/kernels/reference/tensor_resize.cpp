// Resize (opset 10-19 forms; Upsample arrives here as Resize with (X, roi, scales)).
// Numerics follow the ONNX reference: each resized axis maps an output coordinate to an
// input coordinate x_ori (in double), picks the taps nearest to x_ori (ratio in (0, 1], edge
// clamped) and weights them; the N-D result is the tensor product of the per-axis taps.
// Note: like the reference, the "resized length" in the coordinate formulas is scale * in
// (a real number), not the integer output size, when scales are given.
#include <cmath>
#include <limits>

#include "kernels/reference/input_checks.hpp"
#include "kernels/reference/tensor_util.hpp"

namespace petrel::ref {
namespace {

using namespace tensor_detail;

enum class Mode { kNearest, kLinear, kCubic };
enum class Coord { kHalfPixel, kHalfPixelSymmetric, kPytorchHalfPixel, kAlignCorners, kAsymmetric, kTfHalfPixelForNN, kTfCropAndResize };
enum class Round { kPreferFloor, kPreferCeil, kFloor, kCeil };
enum class Policy { kStretch, kNotLarger, kNotSmaller };

struct Params {
  Mode mode = Mode::kNearest;
  Coord coord = Coord::kHalfPixel;
  Round round = Round::kPreferFloor;
  Policy policy = Policy::kStretch;
  double a = -0.75, extrapolation = 0;
  bool exclude_outside = false, antialias = false;
  std::vector<int64_t> axes;
  bool old_form = false;  // opset < 11: (X, scales) or Upsample's (X, roi, scales)
};

// Per-axis taps: output index o reads taps [start[o], start[o+1]) of (idx, w); extrap[o] set
// when tf_crop_and_resize falls outside the input.
struct AxisTaps {
  std::vector<int64_t> start, idx;
  std::vector<double> w;
  std::vector<uint8_t> extrap;
};

template <typename T> T from_double(double v) {
  using C = ComputeType<T>;
  if constexpr (std::is_integral_v<C> && !std::is_same_v<C, bool>) {
    // integer outputs truncate like numpy's astype; out-of-range values saturate (no UB)
    if (!(v == v)) return T(0);
    if (v <= double(std::numeric_limits<C>::lowest())) return T(std::numeric_limits<C>::lowest());
    if (v >= double(std::numeric_limits<C>::max())) return T(std::numeric_limits<C>::max());
    return T(C(v));
  } else if constexpr (std::is_same_v<C, bool>) {
    return v != 0;
  } else {
    return store<T>(C(v));
  }
}

class ResizeKernel : public Kernel {
 public:
  explicit ResizeKernel(Params p) : p_(std::move(p)) {}

  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 1, 4));
    Shape out;
    std::vector<double> scale, r0, r1;
    PETREL_RETURN_IF_ERROR(plan(ctx, out, scale, r0, r1));
    return ctx.set_output(0, ctx.input(0).dtype, std::move(out));
  }

  Status compute(OpContext& ctx) override {
    Shape out;
    std::vector<double> scale, r0, r1;
    PETREL_RETURN_IF_ERROR(plan(ctx, out, scale, r0, r1));
    const Tensor& x = ctx.input(0);
    std::vector<AxisTaps> taps(out.size());
    for (size_t d = 0; d < out.size(); ++d) make_taps(x.shape[d], out[d], scale[d], r0[d], r1[d], taps[d]);
    return dispatch_all_numeric(x.dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      run<T>(x, ctx.output(0), taps);
      return Status::ok();
    });
  }

 private:
  bool present(const OpContext& ctx, int i) const { return ctx.has_input(i) && ctx.input(i).numel() > 0; }

  Status plan(OpContext& ctx, Shape& out, std::vector<double>& scale, std::vector<double>& r0, std::vector<double>& r1) const {
    const Tensor& x = ctx.input(0);
    const int64_t r = x.rank();
    if (x.dtype == DataType::kString || x.dtype == DataType::kBool) return ctx.error("unsupported dtype");
    int roi_i = 1, scales_i = 2, sizes_i = 3;
    if (p_.old_form) {
      roi_i = sizes_i = 99;
      scales_i = ctx.num_inputs() == 2 ? 1 : 2;
    }
    std::vector<int64_t> axes = p_.axes;
    if (axes.empty())
      for (int64_t i = 0; i < r; ++i) axes.push_back(i);
    std::vector<bool> seen(size_t(r), false);
    for (auto& a : axes) {
      PETREL_ASSIGN_OR_RETURN(a, normalize_axis(ctx.node(), a, r));
      if (seen[size_t(a)]) return ctx.error("repeated axis");
      seen[size_t(a)] = true;
    }
    const size_t na = axes.size();
    out = x.shape;
    scale.assign(size_t(r), 1.0);
    r0.assign(size_t(r), 0.0);
    r1.assign(size_t(r), 1.0);
    if (present(ctx, sizes_i)) {
      if (present(ctx, scales_i)) return ctx.error("only one of scales and sizes may be given");
      std::vector<int64_t> sizes;
      PETREL_RETURN_IF_ERROR(read_int_input(ctx, sizes_i, sizes));
      if (sizes.size() != na) return ctx.error("sizes must have " + std::to_string(na) + " entries");
      for (size_t i = 0; i < na; ++i) {
        if (sizes[i] < 0 || sizes[i] > kMaxElements) return ctx.error("invalid size " + std::to_string(sizes[i]));
        const size_t d = size_t(axes[i]);
        if (x.shape[d] == 0) return ctx.error("cannot resize an empty dimension");
        out[d] = sizes[i];
        scale[d] = double(sizes[i]) / double(x.shape[d]);
      }
      if (p_.policy != Policy::kStretch && na > 0) {
        // one scale for all axes; sizes re-derived rounding half up (as the ONNX reference)
        double s = scale[size_t(axes[0])];
        for (size_t i = 1; i < na; ++i)
          s = p_.policy == Policy::kNotLarger ? std::min(s, scale[size_t(axes[i])]) : std::max(s, scale[size_t(axes[i])]);
        for (size_t i = 0; i < na; ++i) {
          const size_t d = size_t(axes[i]);
          scale[d] = s;
          out[d] = int64_t(std::floor(s * double(x.shape[d]) + 0.5));
        }
      }
    } else if (present(ctx, scales_i)) {
      if (!ctx.input_known(scales_i)) return OpContext::needs_data();
      const Tensor& st = ctx.input(scales_i);
      if (!dtype_is_float(st.dtype)) return ctx.error("scales must be a float tensor");
      if (size_t(st.numel()) != na) return ctx.error("scales must have " + std::to_string(na) + " entries");
      for (size_t i = 0; i < na; ++i) {
        const double s = element_as_double(st, int64_t(i));
        if (!(s > 0) || !std::isfinite(s)) return ctx.error("scales must be positive");
        const size_t d = size_t(axes[i]);
        const double o = std::floor(s * double(x.shape[d]));
        if (o > double(kMaxElements)) return ctx.error("output too large");
        out[d] = int64_t(o);
        scale[d] = s;
      }
    } else {
      return ctx.error("one of scales and sizes is required");
    }
    if (p_.coord == Coord::kTfCropAndResize && present(ctx, roi_i)) {
      if (!ctx.input_known(roi_i)) return OpContext::needs_data();
      const Tensor& rt = ctx.input(roi_i);
      if (!dtype_is_float(rt.dtype)) return ctx.error("roi must be a float tensor");
      if (size_t(rt.numel()) != 2 * na) return ctx.error("roi must have " + std::to_string(2 * na) + " entries");
      for (size_t i = 0; i < na; ++i) {
        r0[size_t(axes[i])] = element_as_double(rt, int64_t(i));
        r1[size_t(axes[i])] = element_as_double(rt, int64_t(i + na));
      }
    }
    PETREL_RETURN_IF_ERROR(checked_numel(out).status());
    return Status::ok();
  }

  // Input coordinate of output index xo (the ONNX formulas, in double).
  double original_coord(double xo, int64_t in, int64_t out, double scale, double r0, double r1) const {
    const double out_len = scale * double(in);
    switch (p_.coord) {
      case Coord::kHalfPixel: return (xo + 0.5) / scale - 0.5;
      case Coord::kHalfPixelSymmetric: {
        const double adj = double(out) / out_len;
        const double center = double(in) / 2;
        return center * (1 - adj) + (xo + 0.5) / scale - 0.5;
      }
      case Coord::kPytorchHalfPixel: return out_len == 1 ? -0.5 : (xo + 0.5) / scale - 0.5;
      case Coord::kAlignCorners: return out_len == 1 ? 0.0 : xo * double(in - 1) / (out_len - 1);
      case Coord::kAsymmetric: return xo / scale;
      case Coord::kTfHalfPixelForNN: return (xo + 0.5) / scale;
      case Coord::kTfCropAndResize:
        return (out_len == 1 ? (r1 - r0) * double(in - 1) / 2 : xo * (r1 - r0) * double(in - 1) / (out_len - 1)) +
               r0 * double(in - 1);
    }
    return 0;
  }

  void coeffs(double ratio, double scale, std::vector<double>& c, int64_t& first) const {
    c.clear();
    const double A = p_.a;
    if (p_.mode == Mode::kLinear && !(p_.antialias && scale < 1)) {
      c = {1 - ratio, ratio};
      first = 0;
    } else if (p_.mode == Mode::kCubic && !(p_.antialias && scale < 1)) {
      const double r = ratio, q = 1 - ratio;
      c = {((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A, ((A + 2) * r - (A + 3)) * r * r + 1,
           ((A + 2) * q - (A + 3)) * q * q + 1, ((A * (q + 1) - 5 * A) * (q + 1) + 8 * A) * (q + 1) - 4 * A};
      first = -1;
    } else if (p_.mode == Mode::kLinear) {
      // antialiased downscale: the triangle filter is stretched by 1/scale
      first = int64_t(std::floor(-1 / scale) + 1);
      const int64_t n = 2 - 2 * first;
      for (int64_t i = 0; i < n; ++i) c.push_back(std::clamp(1 - std::fabs((double(first + i) - ratio) * scale), 0.0, 1.0));
    } else {
      first = int64_t(std::floor(-2 / scale) + 1);
      const int64_t n = 2 - 2 * first;
      for (int64_t i = 0; i < n; ++i) {
        const double t = std::fabs(scale * (double(first + i) - ratio));
        c.push_back(t <= 1 ? ((A + 2) * t - (A + 3)) * t * t + 1 : t < 2 ? ((A * t - 5 * A) * t + 8 * A) * t - 4 * A : 0.0);
      }
    }
    if (p_.antialias && scale < 1) {
      double s = 0;
      for (double v : c) s += v;
      for (double& v : c) v /= s;
    }
  }

  void make_taps(int64_t in, int64_t out, double scale, double r0, double r1, AxisTaps& t) const {
    t.start.assign(size_t(out) + 1, 0);
    t.extrap.assign(size_t(out), 0);
    t.idx.clear();
    t.w.clear();
    std::vector<double> c;
    for (int64_t o = 0; o < out; ++o) {
      t.start[size_t(o)] = int64_t(t.idx.size());
      // an axis that is not resized maps identically (skips float noise on big axes)
      const double xo = double(o);
      double x = (out == in && scale == 1 && p_.coord != Coord::kTfCropAndResize && p_.coord != Coord::kTfHalfPixelForNN)
                           ? xo : original_coord(xo, in, out, scale, r0, r1);
      if (p_.coord == Coord::kTfCropAndResize && !(x >= 0 && x <= double(in - 1))) {
        t.extrap[size_t(o)] = 1;
        continue;
      }
      if (!std::isfinite(x)) x = 0;  // only reachable with absurd roi values
      if (p_.mode == Mode::kNearest) {
        const double f = std::floor(x);
        double v;
        if (x == f) v = x;
        else switch (p_.round) {
          case Round::kPreferFloor: v = x - f <= 0.5 ? f : f + 1; break;
          case Round::kPreferCeil: v = x - f < 0.5 ? f : f + 1; break;
          case Round::kFloor: v = f; break;
          default: v = f + 1; break;
        }
        t.idx.push_back(int64_t(std::clamp(v, 0.0, double(in - 1))));
        t.w.push_back(1.0);
        continue;
      }
      // base + ratio == x with ratio in (0, 1]: taps are base + first + i
      const double base_f = std::ceil(x) - 1;
      const double ratio = x - base_f;
      const int64_t base = int64_t(std::clamp(base_f, -4.0 * double(in) - 8, 4.0 * double(in) + 8));
      int64_t first;
      coeffs(ratio, scale, c, first);
      if (p_.exclude_outside) {
        double s = 0;
        for (size_t i = 0; i < c.size(); ++i) {
          const int64_t j = base + first + int64_t(i);
          if (j < 0 || j >= in) c[i] = 0;
          s += c[i];
        }
        if (s != 0)
          for (double& v : c) v /= s;
      }
      for (size_t i = 0; i < c.size(); ++i) {
        if (c[i] == 0) continue;
        t.idx.push_back(std::clamp<int64_t>(base + first + int64_t(i), 0, in - 1));
        t.w.push_back(c[i]);
      }
    }
    t.start[size_t(out)] = int64_t(t.idx.size());
  }

  template <typename T>
  double accumulate(const T* in, const std::vector<AxisTaps>& taps, const std::vector<int64_t>& xs,
                    const std::vector<int64_t>& pos, size_t d, int64_t off) const {
    if (d == taps.size()) return double(load(in[off]));
    const AxisTaps& t = taps[d];
    double s = 0;
    for (int64_t k = t.start[size_t(pos[d])]; k < t.start[size_t(pos[d]) + 1]; ++k)
      s += t.w[size_t(k)] * accumulate(in, taps, xs, pos, d + 1, off + t.idx[size_t(k)] * xs[d]);
    return s;
  }

  template <typename T> void run(const Tensor& x, Tensor& y, const std::vector<AxisTaps>& taps) const {
    const size_t r = y.shape.size();
    const int64_t total = y.numel();
    const T* in = x.as<T>();
    T* out = y.as<T>();
    const auto xs = contiguous_strides(x.shape);
    const T extrap = from_double<T>(p_.extrapolation);
    std::vector<int64_t> pos(r, 0);
    for (int64_t o = 0; o < total; ++o) {
      bool ext = false;
      for (size_t d = 0; d < r; ++d) ext = ext || taps[d].extrap[size_t(pos[d])];
      if (ext) {
        out[o] = extrap;
      } else if (p_.mode == Mode::kNearest) {
        // exact copy (no round trip through double for 64-bit integers)
        int64_t off = 0;
        for (size_t d = 0; d < r; ++d) off += taps[d].idx[size_t(taps[d].start[size_t(pos[d])])] * xs[d];
        out[o] = in[off];
      } else {
        out[o] = from_double<T>(accumulate(in, taps, xs, pos, 0, 0));
      }
      for (size_t d = r; d-- > 0;) {
        if (++pos[d] < y.shape[d]) break;
        pos[d] = 0;
      }
    }
  }

  Params p_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_resize(const Node& n) {
  Params p;
  p.old_form = n.opset > 0 && n.opset < 11;
  PETREL_ASSIGN_OR_RETURN(std::string mode, attr_string(n, "mode", "nearest"));
  if (mode == "nearest") p.mode = Mode::kNearest;
  else if (mode == "linear" || mode == "bilinear") p.mode = Mode::kLinear;
  else if (mode == "cubic") p.mode = Mode::kCubic;
  else return unsupported(n.label() + ": mode '" + mode + "'");
  // opset 10 Resize and Upsample: asymmetric coordinates, nearest = floor
  PETREL_ASSIGN_OR_RETURN(std::string ct, attr_string(n, "coordinate_transformation_mode", p.old_form ? "asymmetric" : "half_pixel"));
  if (ct == "half_pixel") p.coord = Coord::kHalfPixel;
  else if (ct == "half_pixel_symmetric") p.coord = Coord::kHalfPixelSymmetric;
  else if (ct == "pytorch_half_pixel") p.coord = Coord::kPytorchHalfPixel;
  else if (ct == "align_corners") p.coord = Coord::kAlignCorners;
  else if (ct == "asymmetric") p.coord = Coord::kAsymmetric;
  else if (ct == "tf_half_pixel_for_nn") p.coord = Coord::kTfHalfPixelForNN;
  else if (ct == "tf_crop_and_resize") p.coord = Coord::kTfCropAndResize;
  else return unsupported(n.label() + ": coordinate_transformation_mode '" + ct + "'");
  PETREL_ASSIGN_OR_RETURN(std::string nm, attr_string(n, "nearest_mode", p.old_form ? "floor" : "round_prefer_floor"));
  if (nm == "round_prefer_floor") p.round = Round::kPreferFloor;
  else if (nm == "round_prefer_ceil") p.round = Round::kPreferCeil;
  else if (nm == "floor") p.round = Round::kFloor;
  else if (nm == "ceil") p.round = Round::kCeil;
  else return unsupported(n.label() + ": nearest_mode '" + nm + "'");
  PETREL_ASSIGN_OR_RETURN(std::string pol, attr_string(n, "keep_aspect_ratio_policy", "stretch"));
  if (pol == "stretch") p.policy = Policy::kStretch;
  else if (pol == "not_larger") p.policy = Policy::kNotLarger;
  else if (pol == "not_smaller") p.policy = Policy::kNotSmaller;
  else return unsupported(n.label() + ": keep_aspect_ratio_policy '" + pol + "'");
  PETREL_ASSIGN_OR_RETURN(float a, attr_float(n, "cubic_coeff_a", -0.75f));
  PETREL_ASSIGN_OR_RETURN(float ev, attr_float(n, "extrapolation_value", 0.0f));
  PETREL_ASSIGN_OR_RETURN(int64_t ex, attr_int(n, "exclude_outside", 0));
  PETREL_ASSIGN_OR_RETURN(int64_t aa, attr_int(n, "antialias", 0));
  PETREL_ASSIGN_OR_RETURN(p.axes, attr_ints(n, "axes"));
  p.a = a;
  p.extrapolation = ev;
  p.exclude_outside = ex != 0;
  p.antialias = aa != 0;
  return std::unique_ptr<Kernel>(new ResizeKernel(std::move(p)));
}

}  // namespace petrel::ref
