// Panel packing of the NHWC convolution: dst[t * mr + i] = src[i][t] for i < rows, t < len.
#pragma once

#include <cstdint>

namespace petrel::x86 {

void pack_panel_scalar(const float* const* src, int rows, int mr, int64_t len, float* dst);
// mr = 14 only; the CPU must have AVX-512F.
void pack_panel14_avx512(const float* const* src, int rows, int64_t len, float* dst);

}  // namespace petrel::x86
