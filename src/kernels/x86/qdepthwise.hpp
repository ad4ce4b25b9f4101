// Depthwise int8 convolution for petrel.QConv (group == channels, one filter per channel) on
// NCHW planes, AVX-512 (the qgemm avx512 level: avx512bw + VNNI). One channel at a time:
//  1. the plane is copied into a scratch plane padded with the input zero point (s8 input is
//     shifted to u8 on the way, zero point + 128), wide enough that every 16-output block can
//     be loaded whole: the tap loops have no bounds checks and no edge cases;
//  2. per block of 16 outputs of a row and per tap, 16 input bytes (stride 1: contiguous;
//     stride 2: the even bytes of 32) are zero-extended to int32 lanes and accumulated with
//     `vpdpwssd` against the tap's weight (u8 · s8 fits int16 operands; exact int32 sums).
//     Four blocks run side by side so the accumulations are independent chains;
//  3. epilogue: + (bias - zp_x·Σw), × multiplier, then as the GEMM tile: clamp, round half to
//     even (`cvtps2dq`), + zp_y, clamp to [lo, hi], store u8/s8 — or f32 (acc · multiplier).
// Results are bit-identical to the scalar depthwise path of qops.cpp (the same integer sums,
// the same float multiply and rounding).
#pragma once

#include <cstdint>

#include "kernels/x86/qgemm.hpp"

namespace petrel::x86 {

struct QDwShape {
  int64_t H = 0, W = 0, OH = 0, OW = 0;
  int64_t KH = 1, KW = 1, sh = 1, sw = 1, dh = 1, dw = 1, ph = 0, pw = 0;
  bool x_signed = false;
  int32_t zp_x = 0;  // in x's own type
  QOut out = QOut::kU8;
  int32_t zp_y = 0, lo = 0, hi = 255;
};

// Whether this build and CPU run the AVX-512 kernel for `s` (strides 1 and 2, the qgemm
// avx512 level available).
bool qdw_avx512_supported(const QDwShape& s);
// Scratch bytes one channel needs (the padded plane).
int64_t qdw_scratch_bytes(const QDwShape& s);
// One channel: x (H x W plane), w (KH x KW), y (OH x OW elements of the output type).
// mult: s_x·s_w/s_y for u8/s8 outputs, s_x·s_w for f32. scratch: qdw_scratch_bytes(s), 64-aligned.
void qdw_channel_avx512(const QDwShape& s, const uint8_t* x, const int8_t* w, int32_t bias, float mult, void* y,
                        uint8_t* scratch);

}  // namespace petrel::x86
