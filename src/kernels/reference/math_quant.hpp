// Private to the math family: rounding and saturation shared by the quantized ops.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include "core/int4.hpp"
#include "kernels/reference/common.hpp"

namespace petrel::ref {

// Saturation bounds of a quantized type; Int4Range/UInt4Range stand for the 4-bit types, whose
// elements are handled as int32 and packed by the caller.
struct Int4Range {};
struct UInt4Range {};
template <typename Q> struct QuantLimits {
  using Out = Q;
  static constexpr double lo = double(std::numeric_limits<Q>::min());
  static constexpr double hi = double(std::numeric_limits<Q>::max());
};
template <> struct QuantLimits<Int4Range> { using Out = int32_t; static constexpr double lo = -8, hi = 7; };
template <> struct QuantLimits<UInt4Range> { using Out = int32_t; static constexpr double lo = 0, hi = 15; };

// ONNX quantization rounds half to even (numpy.rint); nearbyint does that in the default
// floating-point environment. NaN saturates to 0 like ONNX Runtime.
template <typename Q> inline typename QuantLimits<Q>::Out saturate_round(double v) {
  using Out = typename QuantLimits<Q>::Out;
  if (std::isnan(v)) return Out(0);
  v = std::nearbyint(v);
  constexpr double lo = QuantLimits<Q>::lo;
  constexpr double hi = QuantLimits<Q>::hi;
  return Out(v < lo ? lo : v > hi ? hi : v);
}

// Reads element i of an 8/16/32-bit integer zero-point tensor (empty pointer means 0).
inline int32_t zero_point_at(const Tensor* zp, int64_t i) {
  if (!zp) return 0;
  switch (zp->dtype) {
    case DataType::kUInt8: return zp->as<uint8_t>()[i];
    case DataType::kInt8: return zp->as<int8_t>()[i];
    case DataType::kUInt16: return zp->as<uint16_t>()[i];
    case DataType::kInt16: return zp->as<int16_t>()[i];
    case DataType::kInt32: return zp->as<int32_t>()[i];
    case DataType::kInt4: return int4_get(zp->as<uint8_t>(), i, true);
    case DataType::kUInt4: return int4_get(zp->as<uint8_t>(), i, false);
    default: return 0;
  }
}

}  // namespace petrel::ref
