// DFT and STFT (opset 17 forms). Transforms run in double precision — the official data comes
// from numpy's double-precision FFT, and near-zero bins must stay within atol=1e-7. Power-of-two
// lengths use an iterative radix-2 FFT, other lengths a direct O(n^2) DFT over a twiddle table.
#include <cmath>
#include <utility>

#include "kernels/reference/misc_common.hpp"

namespace petrel::ref {
namespace {

constexpr double kPi = 3.14159265358979323846;

// One complex transform of length n, reused across lines (tables built once per compute).
class Transform {
 public:
  Transform(int64_t n, bool inverse) : n_(n), inverse_(inverse), cos_(size_t(n)), sin_(size_t(n)) {
    const double sign = inverse ? 1.0 : -1.0;
    for (int64_t m = 0; m < n; ++m) {
      cos_[size_t(m)] = std::cos(2 * kPi * double(m) / double(n));
      sin_[size_t(m)] = sign * std::sin(2 * kPi * double(m) / double(n));
    }
    pow2_ = (n & (n - 1)) == 0;
    if (!pow2_) { tre_.resize(size_t(n)); tim_.resize(size_t(n)); }
  }

  // In place on (re, im), both of length n.
  void run(double* re, double* im) {
    if (pow2_) fft(re, im);
    else direct(re, im);
    if (inverse_) {
      const double s = 1.0 / double(n_);
      for (int64_t k = 0; k < n_; ++k) { re[k] *= s; im[k] *= s; }
    }
  }

 private:
  void direct(double* re, double* im) {
    for (int64_t k = 0; k < n_; ++k) {
      double sr = 0, si = 0;
      int64_t idx = 0;  // (j * k) mod n, kept incrementally to avoid overflow
      for (int64_t j = 0; j < n_; ++j) {
        const double c = cos_[size_t(idx)], s = sin_[size_t(idx)];
        sr += re[j] * c - im[j] * s;
        si += re[j] * s + im[j] * c;
        idx += k;
        if (idx >= n_) idx -= n_;
      }
      tre_[size_t(k)] = sr;
      tim_[size_t(k)] = si;
    }
    for (int64_t k = 0; k < n_; ++k) { re[k] = tre_[size_t(k)]; im[k] = tim_[size_t(k)]; }
  }

  void fft(double* re, double* im) {
    for (int64_t i = 1, j = 0; i < n_; ++i) {  // bit-reversal permutation
      int64_t bit = n_ >> 1;
      for (; j & bit; bit >>= 1) j ^= bit;
      j ^= bit;
      if (i < j) { std::swap(re[i], re[j]); std::swap(im[i], im[j]); }
    }
    for (int64_t len = 2; len <= n_; len <<= 1) {
      const int64_t step = n_ / len;
      for (int64_t i = 0; i < n_; i += len) {
        for (int64_t k = 0; k < len / 2; ++k) {
          const double c = cos_[size_t(k * step)], s = sin_[size_t(k * step)];
          double* ar = re + i + k; double* ai = im + i + k;
          double* br = re + i + k + len / 2; double* bi = im + i + k + len / 2;
          const double tr = *br * c - *bi * s, ti = *br * s + *bi * c;
          *br = *ar - tr; *bi = *ai - ti;
          *ar += tr; *ai += ti;
        }
      }
    }
  }

  int64_t n_;
  bool inverse_, pow2_ = false;
  std::vector<double> cos_, sin_, tre_, tim_;
};

// ---- DFT ----

class DftKernel final : public Kernel {
 public:
  DftKernel(int64_t axis, bool inverse, bool onesided) : axis_(axis), inverse_(inverse), onesided_(onesided) {}

  Status infer(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    if (!dtype_is_float(x.dtype)) return ctx.error("input must be a float tensor");
    if (x.rank() < 2 || (x.shape.back() != 1 && x.shape.back() != 2))
      return ctx.error("input must have shape [..., signal, 1 or 2], got " + shape_to_string(x.shape));
    PETREL_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(ctx.node(), axis_, x.rank()));
    if (axis == x.rank() - 1) return ctx.error("axis cannot be the last (complex) dimension");
    if (has_value(ctx, 1) && !ctx.input_known(1)) return OpContext::needs_data();
    PETREL_ASSIGN_OR_RETURN(int64_t n, length(ctx, x.shape[size_t(axis)]));
    Shape out = x.shape;
    out[size_t(axis)] = onesided_ ? n / 2 + 1 : n;
    out.back() = 2;
    return ctx.set_output(0, x.dtype, std::move(out));
  }

  Status compute(OpContext& ctx) override {
    return dispatch_float(ctx.input(0).dtype, [&](auto tag) { return run<typename decltype(tag)::type>(ctx); });
  }

 private:
  template <typename T> Status run(OpContext& ctx) {
    const Tensor& x = ctx.input(0);
    Tensor& y = ctx.output(0);
    const int64_t axis = axis_ < 0 ? axis_ + x.rank() : axis_;
    const int64_t len = x.shape[size_t(axis)], comp = x.shape.back();
    PETREL_ASSIGN_OR_RETURN(const int64_t n, length(ctx, len));
    const int64_t out_len = y.shape[size_t(axis)];
    int64_t outer = 1, inner = 1;  // inner: elements between consecutive signal samples, excluding complex
    for (int64_t d = 0; d < axis; ++d) outer *= x.shape[size_t(d)];
    for (int64_t d = axis + 1; d < x.rank() - 1; ++d) inner *= x.shape[size_t(d)];
    Transform tr(n, inverse_);
    std::vector<double> re(static_cast<size_t>(n)), im(static_cast<size_t>(n));
    const T* in = x.as<T>();
    T* out = y.as<T>();
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        for (int64_t j = 0; j < n; ++j) {
          if (j < len) {
            const T* p = in + ((o * len + j) * inner + i) * comp;
            re[size_t(j)] = double(load(p[0]));
            im[size_t(j)] = comp == 2 ? double(load(p[1])) : 0.0;
          } else {
            re[size_t(j)] = im[size_t(j)] = 0.0;  // zero padding up to dft_length
          }
        }
        tr.run(re.data(), im.data());
        for (int64_t k = 0; k < out_len; ++k) {
          T* q = out + ((o * out_len + k) * inner + i) * 2;
          q[0] = store<T>(ComputeType<T>(re[size_t(k)]));
          q[1] = store<T>(ComputeType<T>(im[size_t(k)]));
        }
      }
    }
    return Status::ok();
  }

  // Transform length: dft_length when given, else the signal length.
  static Result<int64_t> length(const OpContext& ctx, int64_t signal_len) {
    int64_t n = signal_len;
    if (has_value(ctx, 1)) {
      PETREL_ASSIGN_OR_RETURN(n, read_scalar_int(ctx, 1, "dft_length"));
    }
    if (n < 1) return ctx.error("dft_length must be positive");
    if (n > (int64_t(1) << 31)) return ctx.error("dft_length too large");
    return n;
  }

  int64_t axis_;
  bool inverse_, onesided_;
};

// ---- STFT ----

class StftKernel final : public Kernel {
 public:
  explicit StftKernel(bool onesided) : onesided_(onesided) {}

  Status infer(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    if (!dtype_is_float(x.dtype)) return ctx.error("signal must be a float tensor");
    if (x.rank() != 3 || (x.shape[2] != 1 && x.shape[2] != 2))
      return ctx.error("signal must have shape [batch, length, 1 or 2], got " + shape_to_string(x.shape));
    if (!ctx.input_known(1) || (has_value(ctx, 3) && !ctx.input_known(3))) return OpContext::needs_data();
    PETREL_ASSIGN_OR_RETURN(auto sf, step_and_length(ctx));
    const auto [step, flen] = sf;
    const int64_t frames = (x.shape[1] - flen) / step + 1;
    return ctx.set_output(0, x.dtype, {x.shape[0], frames, onesided_ ? flen / 2 + 1 : flen, 2});
  }

  Status compute(OpContext& ctx) override {
    return dispatch_float(ctx.input(0).dtype, [&](auto tag) { return run<typename decltype(tag)::type>(ctx); });
  }

 private:
  template <typename T> Status run(OpContext& ctx) {
    const Tensor& x = ctx.input(0);
    Tensor& y = ctx.output(0);
    const T* win = has_value(ctx, 2) ? ctx.input(2).as<T>() : nullptr;
    const int64_t batch = x.shape[0], len = x.shape[1], comp = x.shape[2];
    const int64_t frames = y.shape[1], bins = y.shape[2];
    PETREL_ASSIGN_OR_RETURN(auto sf, step_and_length(ctx));
    const auto [step, n] = sf;
    Transform tr(n, false);
    std::vector<double> re(static_cast<size_t>(n)), im(static_cast<size_t>(n));
    const T* in = x.as<T>();
    T* out = y.as<T>();
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t f = 0; f < frames; ++f) {
        for (int64_t j = 0; j < n; ++j) {
          const T* p = in + (b * len + f * step + j) * comp;
          const double w = win ? double(load(win[j])) : 1.0;
          re[size_t(j)] = double(load(p[0])) * w;
          im[size_t(j)] = comp == 2 ? double(load(p[1])) * w : 0.0;
        }
        tr.run(re.data(), im.data());
        T* q = out + (b * frames + f) * bins * 2;
        for (int64_t k = 0; k < bins; ++k) {
          q[2 * k] = store<T>(ComputeType<T>(re[size_t(k)]));
          q[2 * k + 1] = store<T>(ComputeType<T>(im[size_t(k)]));
        }
      }
    }
    return Status::ok();
  }

  // (frame_step, frame_length), validated against the signal and the window.
  static Result<std::pair<int64_t, int64_t>> step_and_length(const OpContext& ctx) {
    const Tensor& x = ctx.input(0);
    PETREL_ASSIGN_OR_RETURN(int64_t step, read_scalar_int(ctx, 1, "frame_step"));
    int64_t flen = -1;
    if (has_value(ctx, 2)) {
      const Tensor& w = ctx.input(2);
      if (w.rank() != 1 || w.dtype != x.dtype) return ctx.error("window must be 1-D with the signal's dtype");
      flen = w.shape[0];
    }
    if (has_value(ctx, 3)) {
      PETREL_ASSIGN_OR_RETURN(int64_t f, read_scalar_int(ctx, 3, "frame_length"));
      if (flen >= 0 && f != flen) return ctx.error("frame_length does not match the window length");
      flen = f;
    }
    if (flen < 0) return ctx.error("needs a window or a frame_length");
    if (flen < 1 || flen > x.shape[1]) return ctx.error("frame_length must be in [1, signal length]");
    if (step < 1) return ctx.error("frame_step must be positive");
    return std::make_pair(step, flen);
  }

  bool onesided_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_dft(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(int64_t axis, attr_int(n, "axis", 1));
  PETREL_ASSIGN_OR_RETURN(int64_t inverse, attr_int(n, "inverse", 0));
  PETREL_ASSIGN_OR_RETURN(int64_t onesided, attr_int(n, "onesided", 0));
  return std::unique_ptr<Kernel>(new DftKernel(axis, inverse != 0, onesided != 0));
}

Result<std::unique_ptr<Kernel>> make_stft(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(int64_t onesided, attr_int(n, "onesided", 1));
  return std::unique_ptr<Kernel>(new StftKernel(onesided != 0));
}

}  // namespace petrel::ref
