// petrel.QGlobalAveragePool(x_q, x_s, x_zp?, y_s, y_zp?): what qdq_fusion makes of
// DequantizeLinear -> GlobalAveragePool -> QuantizeLinear on 2-D NCHW u8/s8. Per plane the
// bytes are summed exactly (SSE2 psadbw: the x86-64 baseline, so every level runs it), then
//   y = clamp(round_half_even((Σx - HW·zp_x) · s_x / (HW · s_y)) + zp_y)
// in double: the float graph's mean-then-quantize up to ties (one output step at most).
#include <algorithm>
#include <cmath>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "kernels/reference/common.hpp"
#include "kernels/x86/kernel_util.hpp"
#include "kernels/x86/kernels.hpp"

namespace petrel::x86 {
namespace {

bool is_byte(DataType t) { return t == DataType::kUInt8 || t == DataType::kInt8; }

// Σ of n bytes, each xor-ed with `flip` (0x80 turns s8 into u8 shifted by 128).
int64_t byte_sum(const uint8_t* p, int64_t n, uint8_t flip) {
  int64_t s = 0, i = 0;
#if defined(__SSE2__)
  const __m128i z = _mm_setzero_si128(), fl = _mm_set1_epi8(char(flip));
  __m128i acc = z;
  for (; i + 16 <= n; i += 16)
    acc = _mm_add_epi64(acc, _mm_sad_epu8(_mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i)), fl), z));
  alignas(16) int64_t t[2];
  _mm_store_si128(reinterpret_cast<__m128i*>(t), acc);
  s = t[0] + t[1];
#endif
  for (; i < n; ++i) s += uint8_t(p[i] ^ flip);
  return s;
}

class QGlobalAvgPoolKernel final : public FastPathKernel {
 public:
  Status infer(OpContext& ctx) override {
    fast_ = true;
    const Tensor& x = ctx.input(0);
    if (x.rank() != 4 || !is_byte(x.dtype)) return ctx.error("expects a 2-D NCHW u8/s8 input");
    for (int s : {1, 3})
      if (!ctx.has_input(s) || ctx.input(s).dtype != DataType::kFloat || ctx.input(s).numel() != 1)
        return ctx.error("input " + std::to_string(s) + " must be a float scale with one element");
    for (int z : {2, 4})
      if (ctx.has_input(z) && (!is_byte(ctx.input(z).dtype) || ctx.input(z).numel() != 1))
        return ctx.error("input " + std::to_string(z) + " must be a u8/s8 zero point with one element");
    if (x.dtype != (ctx.has_input(2) ? ctx.input(2).dtype : DataType::kUInt8)) return ctx.error("x does not have its zero point's type");
    const DataType yt = ctx.has_input(4) ? ctx.input(4).dtype : DataType::kUInt8;
    return ctx.set_output(0, yt, {x.shape[0], x.shape[1], 1, 1});
  }
  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const bool xs8 = x.dtype == DataType::kInt8;
    auto zp = [&](int i) -> int32_t {
      if (!ctx.has_input(i)) return 0;
      const Tensor& t = ctx.input(i);
      return t.dtype == DataType::kInt8 ? int32_t(t.as<int8_t>()[0]) : int32_t(t.as<uint8_t>()[0]);
    };
    const int64_t planes = x.shape[0] * x.shape[1], hw = x.shape[2] * x.shape[3];
    Tensor& y = ctx.output(0);
    const bool ys8 = y.dtype == DataType::kInt8;
    const int32_t lo = ys8 ? -128 : 0, hi = ys8 ? 127 : 255, zy = zp(4);
    const int64_t zx = zp(2) + (xs8 ? 128 : 0);  // the zero point of the shifted bytes
    const double m = hw == 0 ? 0.0 : double(ctx.input(1).as<float>()[0]) / (double(hw) * double(ctx.input(3).as<float>()[0]));
    const uint8_t* xp = x.as<uint8_t>();
    for (int64_t p = 0; p < planes; ++p) {
      const double v = double(byte_sum(xp + p * hw, hw, xs8 ? 0x80 : 0) - hw * zx) * m;
      const double r = std::nearbyint(std::clamp(v, double(lo - zy) - 1.0, double(hi - zy) + 1.0)) + zy;
      const int32_t q = std::clamp(int32_t(r), lo, hi);
      if (ys8) y.as<int8_t>()[p] = int8_t(q);
      else y.as<uint8_t>()[p] = uint8_t(q);
    }
    return Status::ok();
  }
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_qglobal_avg_pool(const Node& n) {
  if (n.inputs.size() < 4) return invalid_model(n.label() + ": expects at least 4 inputs");
  return std::unique_ptr<Kernel>(new QGlobalAvgPoolKernel());
}

}  // namespace petrel::x86
