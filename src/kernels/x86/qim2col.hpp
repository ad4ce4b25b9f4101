// im2col of petrel.QConv (u8 bytes, NCHW): col[(c, i, j) * OH*OW + oh * OW + ow] =
// x[c, oh*sh + i*dh - ph, ow*sw + j*dw - pw], the zero point `pad` where the window reads padding.
// qim2col_avx512: width stride 1 or 2, at the AVX-512 level (avx512bw); qops.cpp has the general form.
#pragma once

#include <cstdint>

namespace petrel::x86 {

struct QIm2col {
  int64_t C, H, W, OH, OW, KH, KW, sh, sw, dh, dw, ph, pw;  // sw: 1 or 2
  uint8_t pad;
};
void qim2col_avx512(const QIm2col& g, const uint8_t* x, uint8_t* col);

}  // namespace petrel::x86
