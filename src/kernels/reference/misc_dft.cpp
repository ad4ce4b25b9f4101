// DFT and STFT (opset 17 forms). Transforms run in double precision — the official data comes
// from numpy's double-precision FFT, and near-zero bins must stay within atol=1e-7. Power-of-two
// lengths use an iterative radix-2 FFT; other lengths use Bluestein's chirp-z algorithm (a
// power-of-two convolution), so every length is O(n log n).
#include <cmath>
#include <utility>

#include "kernels/reference/misc_common.hpp"

namespace petrel::ref {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int64_t kMaxDftLength = int64_t(1) << 22;  // bounds the scratch tables (Bluestein: 8n)

// Unscaled radix-2 FFT of a power-of-two length n with kernel exp(sign * 2*pi*i*jk/n).
class Pow2Fft {
 public:
  Pow2Fft() = default;
  Pow2Fft(int64_t n, double sign) : n_(n), cos_(static_cast<size_t>(n / 2 + 1)), sin_(static_cast<size_t>(n / 2 + 1)) {
    for (int64_t m = 0; m <= n / 2; ++m) {
      cos_[size_t(m)] = std::cos(2 * kPi * double(m) / double(n));
      sin_[size_t(m)] = sign * std::sin(2 * kPi * double(m) / double(n));
    }
  }

  void run(double* re, double* im) const {
    for (int64_t i = 1, j = 0; i < n_; ++i) {  // bit-reversal permutation
      int64_t bit = n_ >> 1;
      for (; j & bit; bit >>= 1) j ^= bit;
      j ^= bit;
      if (i < j) { std::swap(re[i], re[j]); std::swap(im[i], im[j]); }
    }
    for (int64_t len = 2; len <= n_; len <<= 1) {
      const int64_t step = n_ / len, half = len / 2;
      for (int64_t i = 0; i < n_; i += len) {
        for (int64_t k = 0; k < half; ++k) {
          const double c = cos_[size_t(k * step)], s = sin_[size_t(k * step)];
          const int64_t a = i + k, b = i + k + half;
          const double tr = re[b] * c - im[b] * s, ti = re[b] * s + im[b] * c;
          re[b] = re[a] - tr; im[b] = im[a] - ti;
          re[a] += tr; im[a] += ti;
        }
      }
    }
  }

 private:
  int64_t n_ = 1;
  std::vector<double> cos_, sin_;
};

// Complex transform of length n (forward, or inverse scaled by 1/n), reused across lines.
// Bluestein: X_j = c_j * sum_k (x_k c_k) conj(c_{j-k}) with the chirp c_k = exp(sign*pi*i*k^2/n).
class Transform {
 public:
  Transform(int64_t n, bool inverse) : n_(n), inverse_(inverse) {
    const double sign = inverse ? 1.0 : -1.0;
    if ((n & (n - 1)) == 0) {
      direct_ = Pow2Fft(n, sign);
      return;
    }
    m_ = 1;
    while (m_ < 2 * n - 1) m_ <<= 1;
    fwd_ = Pow2Fft(m_, -1.0);
    inv_ = Pow2Fft(m_, 1.0);
    cr_.resize(size_t(n)); ci_.resize(size_t(n));
    br_.assign(size_t(m_), 0.0); bi_.assign(size_t(m_), 0.0);
    ar_.resize(size_t(m_)); ai_.resize(size_t(m_));
    for (int64_t k = 0; k < n; ++k) {
      const double ang = sign * kPi * double((k * k) % (2 * n)) / double(n);  // k^2 mod 2n keeps it exact
      cr_[size_t(k)] = std::cos(ang);
      ci_[size_t(k)] = std::sin(ang);
      br_[size_t(k)] = cr_[size_t(k)];
      bi_[size_t(k)] = -ci_[size_t(k)];
      if (k > 0) { br_[size_t(m_ - k)] = cr_[size_t(k)]; bi_[size_t(m_ - k)] = -ci_[size_t(k)]; }
    }
    fwd_.run(br_.data(), bi_.data());
  }

  // In place on (re, im), both of length n.
  void run(double* re, double* im) {
    if (m_ == 0) {
      direct_.run(re, im);
    } else {
      for (int64_t k = 0; k < m_; ++k) {
        if (k < n_) {
          const double c = cr_[size_t(k)], s = ci_[size_t(k)];
          ar_[size_t(k)] = re[k] * c - im[k] * s;
          ai_[size_t(k)] = re[k] * s + im[k] * c;
        } else {
          ar_[size_t(k)] = ai_[size_t(k)] = 0.0;
        }
      }
      fwd_.run(ar_.data(), ai_.data());
      for (int64_t k = 0; k < m_; ++k) {
        const double r = ar_[size_t(k)] * br_[size_t(k)] - ai_[size_t(k)] * bi_[size_t(k)];
        const double i = ar_[size_t(k)] * bi_[size_t(k)] + ai_[size_t(k)] * br_[size_t(k)];
        ar_[size_t(k)] = r;
        ai_[size_t(k)] = i;
      }
      inv_.run(ar_.data(), ai_.data());
      const double scale = 1.0 / double(m_);
      for (int64_t j = 0; j < n_; ++j) {
        const double r = ar_[size_t(j)] * scale, i = ai_[size_t(j)] * scale;
        const double c = cr_[size_t(j)], s = ci_[size_t(j)];
        re[j] = r * c - i * s;
        im[j] = r * s + i * c;
      }
    }
    if (inverse_) {
      const double s = 1.0 / double(n_);
      for (int64_t k = 0; k < n_; ++k) { re[k] *= s; im[k] *= s; }
    }
  }

 private:
  int64_t n_, m_ = 0;  // m_: Bluestein convolution length, 0 for power-of-two n
  bool inverse_;
  Pow2Fft direct_, fwd_, inv_;
  std::vector<double> cr_, ci_, br_, bi_, ar_, ai_;
};

// ---- DFT ----

class DftKernel final : public Kernel {
 public:
  DftKernel(int64_t axis, bool inverse, bool onesided) : axis_(axis), inverse_(inverse), onesided_(onesided) {}

  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(need_inputs(ctx, 1));
    const Tensor& x = ctx.input(0);
    if (!dtype_is_float(x.dtype)) return ctx.error("input must be a float tensor");
    if (x.rank() < 2 || (x.shape.back() != 1 && x.shape.back() != 2))
      return ctx.error("input must have shape [..., signal, 1 or 2], got " + shape_to_string(x.shape));
    if ((has_value(ctx, 1) && !ctx.input_known(1)) || (has_value(ctx, 2) && !ctx.input_known(2)))
      return OpContext::needs_data();
    PETREL_ASSIGN_OR_RETURN(int64_t axis, signal_axis(ctx));
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
    PETREL_ASSIGN_OR_RETURN(const int64_t axis, signal_axis(ctx));
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

  // The transformed axis: the attribute (opset 17), or the axis input of the opset-20 form
  // (default -2 there).
  Result<int64_t> signal_axis(const OpContext& ctx) const {
    const int64_t rank = ctx.input(0).rank();
    int64_t axis = ctx.node().opset >= 20 ? -2 : axis_;
    if (has_value(ctx, 2)) {
      PETREL_ASSIGN_OR_RETURN(axis, read_scalar_int(ctx, 2, "axis"));
    }
    PETREL_ASSIGN_OR_RETURN(int64_t a, normalize_axis(ctx.node(), axis, rank));
    if (a == rank - 1) return ctx.error("axis cannot be the last (complex) dimension");
    return a;
  }

  // Transform length: dft_length when given, else the signal length.
  static Result<int64_t> length(const OpContext& ctx, int64_t signal_len) {
    int64_t n = signal_len;
    if (has_value(ctx, 1)) {
      PETREL_ASSIGN_OR_RETURN(n, read_scalar_int(ctx, 1, "dft_length"));
    }
    if (n < 1) return ctx.error("dft_length must be positive");
    if (n > kMaxDftLength) return ctx.unsupported_error("DFT length above 2^22");
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
    PETREL_RETURN_IF_ERROR(need_inputs(ctx, 2));
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
    if (flen > kMaxDftLength) return ctx.unsupported_error("frame_length above 2^22");
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
