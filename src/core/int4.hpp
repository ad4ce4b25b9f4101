// 4-bit integers (ONNX INT4 / UINT4): two elements per byte, element 2k in the low nibble of
// byte k and element 2k+1 in its high nibble; an odd count leaves the last high nibble zero.
#pragma once

#include <cstdint>

namespace petrel {

// Element i of packed 4-bit data, sign-extended when `is_signed` (INT4: -8..7, UINT4: 0..15).
inline int32_t int4_get(const uint8_t* p, int64_t i, bool is_signed) {
  const uint8_t b = p[i >> 1];
  const int32_t nib = (i & 1) ? (b >> 4) : (b & 0x0f);
  return is_signed ? ((nib ^ 8) - 8) : nib;
}

// Stores the low 4 bits of v as element i (the other nibble of the byte is kept).
inline void int4_set(uint8_t* p, int64_t i, int32_t v) {
  uint8_t& b = p[i >> 1];
  const uint8_t nib = uint8_t(v) & 0x0f;
  b = (i & 1) ? uint8_t((b & 0x0f) | (nib << 4)) : uint8_t((b & 0xf0) | nib);
}

}  // namespace petrel
