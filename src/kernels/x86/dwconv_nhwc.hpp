// Depthwise 2-D convolution (group = channels, one filter per channel) on NHWC data, for the
// XNNPACK provider's partitions (MobileNet / MnasNet / EfficientNet blocks). Channels sit in
// the SIMD lanes (16 per vector at AVX-512, 8 at AVX2, 4 portable). Per output row and channel
// block, the filter taps are held in registers while the row is swept several output pixels
// at a time (each input vector loaded once per filter row and used by every output pixel
// whose window covers it); the pixels whose window crosses the left/right padding take a
// checked path, the rows above/below the image read a zero row. 3x3 and 5x5 at stride 1 and
// 2 without dilation have unrolled kernels; any other size, stride or dilation a generic one.
// The filter is packed once (taps x channels rounded up to 16, zero padded).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/fused_activation.hpp"
#include "core/status.hpp"
#include "core/thread_pool.hpp"
#include "kernels/x86/conv_nhwc.hpp"

namespace petrel::x86 {

// One call's work: output rows [row0, row1) of the n * oh rows. Internal to the kernels.
struct DwConvArgs {
  const float* x = nullptr;  // NHWC input
  float* y = nullptr;        // NHWC output
  const float* w = nullptr;  // packed filter: w[tap * cp + c]
  const float* b = nullptr;  // bias, cp floats (zeros when the node has none)
  const float* zero = nullptr;  // a zero input row (w * c floats)
  int64_t cp = 0;
  float lo = 0, hi = 0;  // output clamp (Relu / Clip; +-inf otherwise)
  int64_t row0 = 0, row1 = 0;
};

class DwConvNhwc {
 public:
  // `weight` is ONNX's [C, 1, kh, kw] (s.co == s.c); `bias` (C floats) may be null. Any
  // fused activation; Relu and Clip are applied as the outputs are stored, the others on each
  // finished output row while it is in L1.
  static Result<std::unique_ptr<DwConvNhwc>> make(const ConvNhwcShape& s, const float* weight, const float* bias,
                                                  const FusedActivation& act);
  // y = act(depthwise_conv(x) + bias), NHWC; x and y must not overlap. Allocates nothing.
  void run(const float* x, float* y, ThreadPool* pool) const;

  const ConvNhwcShape& shape() const { return s_; }
  double macs() const { return double(s_.n * s_.oh * s_.ow) * double(s_.c) * double(s_.kh * s_.kw); }

 private:
  void run_rows(const float* x, float* y, int64_t row0, int64_t row1) const;

  ConvNhwcShape s_;
  int64_t cp_ = 0;
  FusedActivation act_;
  bool tail_act_ = false;  // an activation applied per finished row (not a clamp)
  float lo_ = 0, hi_ = 0;
  FloatBuffer w_, b_, zero_;
};

// The row loops of one ISA level (dwconv_nhwc_avx512.cpp, _avx2.cpp, _portable.cpp).
void dwconv_rows_avx512(const ConvNhwcShape& s, const DwConvArgs& a);
void dwconv_rows_avx2(const ConvNhwcShape& s, const DwConvArgs& a);
void dwconv_rows_portable(const ConvNhwcShape& s, const DwConvArgs& a);

}  // namespace petrel::x86
