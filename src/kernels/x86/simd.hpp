// Per-ISA building blocks behind the x86 kernels: the SGEMM register tile and its packing
// routines, the fused-activation epilogue, and the row loops of Softmax and LayerNorm. One
// table per level (simd_avx512.cpp, simd_avx2.cpp: generic code in simd_impl.inc compiled with
// function target attributes, never with raised project-wide -march; simd_portable.cpp: plain
// C++). Only the table of the active level is ever called.
#pragma once

#include <cstdint>

#include "core/fused_activation.hpp"
#include "kernels/x86/isa.hpp"

namespace petrel::x86 {

// What the tile does when it stores: c = alpha * acc (+ c if accumulate) (+ bias[col])
// then the activation. bias points at the tile's first column; null for none.
struct TileEpilogue {
  float alpha = 1.0f;
  bool accumulate = false;
  const float* bias = nullptr;
  const FusedActivation* act = nullptr;  // null or kNone: no activation
  // tiles_pf only: one 64-byte line per k step from here on is prefetched into L2 (the next
  // B panel, when the weights stream from memory once per run); null: none.
  const float* prefetch = nullptr;
};

// C[rows x cols] (row stride ldc) from a packed A panel (kc x MR: a[k * MR + i]) and a packed
// B panel (kc x NR: b[k * NR + j], zero past the valid columns). 1 <= rows <= MR,
// 1 <= cols <= NR, kc >= 1.
using TileFn = void (*)(int cols, int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                        const TileEpilogue& ep);

struct IsaKernels {
  Isa isa;
  int mr, nr;   // register tile
  int64_t kc;   // depth of one packed block (a B panel of kc x nr stays in L1)
  int64_t mc;   // rows of A packed per block (a multiple of mr; mc x kc stays in L2)
  TileFn tiles[16];     // tiles[rows - 1]
  TileFn tiles_pf[16];  // the same, also prefetching from ep.prefetch
  // One A panel: dst[k * mr + i] = A(i, k) for i < rows, k < kc, A(i, k) at a[i * rs + k * cs].
  void (*pack_a)(const float* a, int64_t rs, int64_t cs, int rows, int64_t kc, float* dst);
  // One B panel: dst[k * nr + j] = B(k, j) for j < cols (zero for cols <= j < nr).
  void (*pack_b)(const float* b, int64_t rs, int64_t cs, int64_t kc, int cols, float* dst);
  // One output row c[0..N) = alpha * a · B (+ bias) then activation, B streamed unpacked;
  // B(k, n) at b[k * rs + n] (row-major B, unit column stride).
  void (*gemv)(int64_t N, int64_t K, const float* a, int64_t a_cs, const float* b, int64_t rs, float* c,
               const TileEpilogue& ep);
  // In-place activation of n floats.
  void (*activate)(const FusedActivation& fa, float* x, int64_t n);
  // y = softmax(x) over n >= 1 contiguous floats (may alias).
  void (*softmax)(const float* x, float* y, int64_t n);
  // y = (x - mean) / sqrt(var + eps) * scale (+ bias) over n >= 1 contiguous floats;
  // writes the mean and 1/sqrt(var + eps) it used.
  void (*layer_norm)(const float* x, const float* scale, const float* bias, float* y, int64_t n, float eps,
                     float* mean, float* inv_std);
};

// The table of a level (the caller makes sure the CPU supports it).
const IsaKernels& isa_kernels(Isa isa);
// The table of active_isa().
inline const IsaKernels& active_kernels() { return isa_kernels(active_isa()); }

}  // namespace petrel::x86
