// Private to the math family: rounding and saturation shared by the quantized ops.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include "kernels/reference/common.hpp"

namespace petrel::ref {

// ONNX quantization rounds half to even (numpy.rint); nearbyint does that in the default
// floating-point environment. NaN saturates to 0 like ONNX Runtime.
template <typename Q> inline Q saturate_round(double v) {
  if (std::isnan(v)) return Q(0);
  v = std::nearbyint(v);
  constexpr double lo = double(std::numeric_limits<Q>::min());
  constexpr double hi = double(std::numeric_limits<Q>::max());
  return Q(v < lo ? lo : v > hi ? hi : v);
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
    default: return 0;
  }
}

}  // namespace petrel::ref
