// The element loop of petrel.QAdd at the AVX-512 level (qadd_avx512.cpp; qops.cpp has the
// kernel and its SSE2/scalar loops).
#pragma once

#include <cstdint>

namespace petrel::x86 {

struct QAddArgs {
  const uint8_t* a;  // bytes; a_signed: read as s8
  const uint8_t* b;
  uint8_t* y;        // u8 or s8 bytes (lo/hi say which)
  bool a_signed, b_signed;
  float sa, sb, za, zb, inv;  // inv = 1 / s_y
  int32_t zy, lo, hi;
};
// Only when active_isa() is avx512 (x86-64 builds).
void qadd_avx512(const QAddArgs& q, int64_t n);

}  // namespace petrel::x86
