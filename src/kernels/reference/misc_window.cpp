// Window functions (HannWindow, HammingWindow, BlackmanWindow) and MelWeightMatrix. Values are
// computed in double and converted to output_datatype.
#include <cmath>

#include "kernels/reference/misc_common.hpp"

namespace petrel::ref {
namespace {

constexpr double kPi = 3.14159265358979323846;

Status check_output_dtype(const Node& n, int64_t dt) {
  if (dt < 1 || dt > kMaxDataType ||
      !(dtype_is_float(DataType(dt)) || dtype_is_integer(DataType(dt))))
    return unsupported(n.label() + ": output_datatype " + std::to_string(dt));
  return Status::ok();
}

template <typename F> Status fill(Tensor& t, F&& value_at) {
  return dispatch_all_numeric(t.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = t.as<T>();
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = store<T>(ComputeType<T>(value_at(i)));
    return Status::ok();
  });
}

enum class WindowKind : uint8_t { kHann, kHamming, kBlackman };

class WindowKernel final : public Kernel {
 public:
  WindowKernel(WindowKind kind, DataType dt, bool periodic) : kind_(kind), dt_(dt), periodic_(periodic) {}

  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(need_inputs(ctx, 1));
    if (!ctx.input_known(0)) return OpContext::needs_data();
    PETREL_ASSIGN_OR_RETURN(int64_t size, read_scalar_int(ctx, 0, "size"));
    if (size < 0 || size > kMaxElements) return ctx.error("window size out of range");
    return ctx.set_output(0, dt_, {size});
  }

  Status compute(OpContext& ctx) override {
    Tensor& y = ctx.output(0);
    const int64_t size = y.shape[0];
    // Periodic windows are the first `size` samples of a symmetric window of size + 1.
    const double denom = double(periodic_ ? size : size - 1);
    return fill(y, [&](int64_t i) -> double {
      if (denom <= 0) return 1.0;  // a symmetric window of one sample
      const double x = 2 * kPi * double(i) / denom;
      switch (kind_) {
        case WindowKind::kHann: return 0.5 - 0.5 * std::cos(x);
        case WindowKind::kHamming: return 25.0 / 46.0 - 21.0 / 46.0 * std::cos(x);
        case WindowKind::kBlackman: return 0.42 - 0.5 * std::cos(x) + 0.08 * std::cos(2 * x);
      }
      return 0.0;
    });
  }

 private:
  WindowKind kind_;
  DataType dt_;
  bool periodic_;
};

// Triangular mel filters. Follows the ONNX reference exactly, including where it rounds: the mel
// edges are float32, the bin edges are float64 floored to integer spectrogram bins, and the mel
// step divides by num_mel_bins + 2.
class MelWeightMatrixKernel final : public Kernel {
 public:
  explicit MelWeightMatrixKernel(DataType dt) : dt_(dt) {}

  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(need_inputs(ctx, 5));
    if (!ctx.input_known(0) || !ctx.input_known(1)) return OpContext::needs_data();
    PETREL_ASSIGN_OR_RETURN(int64_t mel, read_scalar_int(ctx, 0, "num_mel_bins"));
    PETREL_ASSIGN_OR_RETURN(int64_t dft, read_scalar_int(ctx, 1, "dft_length"));
    if (mel < 1 || dft < 1) return ctx.error("num_mel_bins and dft_length must be positive");
    Shape shape{dft / 2 + 1, mel};
    PETREL_RETURN_IF_ERROR(checked_numel(shape).status());
    return ctx.set_output(0, dt_, std::move(shape));
  }

  Status compute(OpContext& ctx) override {
    Tensor& y = ctx.output(0);
    const int64_t mel = y.shape[1];
    PETREL_ASSIGN_OR_RETURN(int64_t dft, read_scalar_int(ctx, 1, "dft_length"));
    PETREL_ASSIGN_OR_RETURN(int64_t rate, read_scalar_int(ctx, 2, "sample_rate"));
    PETREL_ASSIGN_OR_RETURN(double lo, read_scalar_float(ctx, 3, "lower_edge_hertz"));
    PETREL_ASSIGN_OR_RETURN(double hi, read_scalar_float(ctx, 4, "upper_edge_hertz"));
    if (rate <= 0) return ctx.error("sample_rate must be positive");
    const float lo_mel = 2595.0f * std::log10(1.0f + float(lo) / 700.0f);
    const float hi_mel = 2595.0f * std::log10(1.0f + float(hi) / 700.0f);
    const float step = (hi_mel - lo_mel) / float(mel + 2);
    std::vector<int64_t> edges(static_cast<size_t>(mel + 2));
    for (int64_t i = 0; i < mel + 2; ++i) {
      const double m = double(i) * double(step) + double(lo_mel);
      const double hz = 700.0 * (std::pow(10.0, m / 2595.0) - 1.0);
      const double e = std::floor(double(dft + 1) * hz / double(rate));
      if (!(e >= 0 && e <= double(kMaxElements))) return ctx.error("mel band edges out of range");
      edges[size_t(i)] = int64_t(e);
    }
    // Rising edge on [lo, c], then falling edge on [c, hi) overwriting the peak, as the reference.
    return fill(y, [&](int64_t k) -> double {
      const int64_t j = k / mel, i = k % mel;
      const int64_t lo_b = edges[size_t(i)], c = edges[size_t(i + 1)], hi_b = edges[size_t(i + 2)];
      if (j >= c && j < hi_b) return double(hi_b - j) / double(hi_b - c);
      if (c == lo_b) return j == c ? 1.0 : 0.0;
      if (j >= lo_b && j <= c) return double(j - lo_b) / double(c - lo_b);
      return 0.0;
    });
  }

 private:
  DataType dt_;
};

Result<std::unique_ptr<Kernel>> make_window(const Node& n, WindowKind kind) {
  PETREL_ASSIGN_OR_RETURN(int64_t dt, attr_int(n, "output_datatype", int64_t(DataType::kFloat)));
  PETREL_ASSIGN_OR_RETURN(int64_t periodic, attr_int(n, "periodic", 1));
  PETREL_RETURN_IF_ERROR(check_output_dtype(n, dt));
  return std::unique_ptr<Kernel>(new WindowKernel(kind, DataType(dt), periodic != 0));
}

}  // namespace

Result<std::unique_ptr<Kernel>> make_hann_window(const Node& n) { return make_window(n, WindowKind::kHann); }
Result<std::unique_ptr<Kernel>> make_hamming_window(const Node& n) { return make_window(n, WindowKind::kHamming); }
Result<std::unique_ptr<Kernel>> make_blackman_window(const Node& n) { return make_window(n, WindowKind::kBlackman); }

Result<std::unique_ptr<Kernel>> make_mel_weight_matrix(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(int64_t dt, attr_int(n, "output_datatype", int64_t(DataType::kFloat)));
  PETREL_RETURN_IF_ERROR(check_output_dtype(n, dt));
  return std::unique_ptr<Kernel>(new MelWeightMatrixKernel(DataType(dt)));
}

}  // namespace petrel::ref
