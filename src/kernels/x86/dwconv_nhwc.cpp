#include "kernels/x86/dwconv_nhwc.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "kernels/x86/isa.hpp"
#include "kernels/x86/kernel_util.hpp"
#include "kernels/x86/simd.hpp"

namespace petrel::x86 {

Result<std::unique_ptr<DwConvNhwc>> DwConvNhwc::make(const ConvNhwcShape& s, const float* weight, const float* bias,
                                                     const FusedActivation& act) {
  if (s.n < 1 || s.h < 1 || s.w < 1 || s.c < 1 || s.oh < 1 || s.ow < 1 || s.co != s.c || s.kh < 1 || s.kw < 1 ||
      s.sh < 1 || s.sw < 1 || s.dh < 1 || s.dw < 1 || s.pad_top < 0 || s.pad_left < 0)
    return invalid_argument("depthwise convolution geometry");
  // Any output size is memory-safe: rows outside the image read a zero row, and columns are
  // checked wherever a window may leave the image.
  auto k = std::unique_ptr<DwConvNhwc>(new DwConvNhwc());
  k->s_ = s;
  k->cp_ = (s.c + 15) / 16 * 16;  // the widest vector: every level reads whole taps
  const int64_t taps = s.kh * s.kw;
  if (!k->w_.reserve(taps * k->cp_) || !k->b_.reserve(k->cp_) || !k->zero_.reserve(s.w * s.c + 16))
    return internal_error("out of memory for a depthwise convolution's filter");
  std::fill(k->w_.data(), k->w_.data() + taps * k->cp_, 0.0f);
  std::fill(k->b_.data(), k->b_.data() + k->cp_, 0.0f);
  std::fill(k->zero_.data(), k->zero_.data() + s.w * s.c + 16, 0.0f);
  for (int64_t c = 0; c < s.c; ++c)
    for (int64_t t = 0; t < taps; ++t) k->w_.data()[t * k->cp_ + c] = weight[c * taps + t];
  if (bias != nullptr) std::copy(bias, bias + s.c, k->b_.data());
  k->act_ = act;
  constexpr float inf = std::numeric_limits<float>::infinity();
  k->lo_ = -inf, k->hi_ = inf;
  if (act.kind == Activation::kRelu) k->lo_ = 0;
  else if (act.kind == Activation::kClip) k->lo_ = act.p0, k->hi_ = act.p1;
  else k->tail_act_ = !act.none();
  return k;
}

void DwConvNhwc::run_rows(const float* x, float* y, int64_t row0, int64_t row1) const {
  DwConvArgs a;
  a.x = x, a.y = y, a.w = w_.data(), a.b = b_.data(), a.zero = zero_.data(), a.cp = cp_, a.lo = lo_, a.hi = hi_;
  const Isa isa = active_isa();
  auto rows = &dwconv_rows_portable;
#if defined(__x86_64__)
  if (isa == Isa::kAvx512) rows = &dwconv_rows_avx512;
  else if (isa == Isa::kAvx2) rows = &dwconv_rows_avx2;
#endif
  if (!tail_act_) {
    a.row0 = row0, a.row1 = row1;
    rows(s_, a);
    return;
  }
  // A transcendental activation (Swish, HardSwish, ...) on each finished row while it is in L1.
  const IsaKernels& ik = isa_kernels(isa);
  const int64_t row_floats = s_.ow * s_.c;
  for (int64_t r = row0; r < row1; ++r) {
    a.row0 = r, a.row1 = r + 1;
    rows(s_, a);
    ik.activate(act_, y + r * row_floats, row_floats);
  }
}

void DwConvNhwc::run(const float* x, float* y, ThreadPool* pool) const {
  const int64_t rows = s_.n * s_.oh;
  // Rows of output per chunk: at least min_elems_per_chunk multiply-adds' worth of outputs.
  for_rows(pool, rows, s_.ow * s_.c * s_.kh * s_.kw,
           [&](int64_t b, int64_t e) { run_rows(x, y, b, e); });
}

}  // namespace petrel::x86
