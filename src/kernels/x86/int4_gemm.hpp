// Float GEMM whose B (a weight) stays 4-bit in memory: C = A · dequant(W) (+ bias) then the
// fused activation, for petrel.Int4MatMul (the blocked DequantizeLinear → MatMul/Gemm pattern
// that `petrel quantize --bits 4 --weights-only` writes; optimize/int4_fusion.cpp).
//
// W is INT4 or UINT4 with one scale (and optionally one zero point) per block of `block`
// consecutive elements along K, per column: dequant(W)(k, n) = (W(k, n) − zp(k/block, n)) ·
// s(k/block, n), the ONNX DequantizeLinear formula (the subtraction is exact in float, so each
// unpacked weight equals the reference's bit for bit; only the summation order differs).
//
// Packing (once per plan) copies W into the SGEMM's panel order, still 4 bits a weight: panel j
// (nr columns) holds K rows of nr/2 bytes, byte t of a row carrying column t in its low nibble
// and column t + nr/2 in its high one, so a row unpacks with one widening load, a mask and a
// shift. Scales (and zero points, as floats) are stored [block][padded N], zero past N, so the
// padded columns unpack to 0. Resident: K·N/2 bytes plus 4 (8 with zero points) bytes per
// block per column: 0.625 bytes a weight at block 32 against 4 for the float weights.
//
// The product runs on the active level's SGEMM tile (simd.hpp): for each kc-deep slice of K,
// the rows of A are packed once, then every B panel is unpacked into an L1-sized kc × nr float
// buffer right before the tiles that read it. A work item covers up to 4·mc rows, so B is
// unpacked once per such block (once for the BERT encoder's 128 tokens); threads split the
// columns (whole panels) when the rows alone give them too little.
#pragma once

#include <cstdint>

#include "core/fused_activation.hpp"
#include "core/thread_pool.hpp"
#include "kernels/x86/qgemm.hpp"
#include "kernels/x86/sgemm.hpp"

namespace petrel::x86 {

// Where the packer reads W and its block parameters. Element (k, n) of W is 4-bit element
// k * w_rs + n * w_cs of the packed buffer (core/int4.hpp order); scale (kb, n) is
// s[kb * s_rs + n * s_cs]; the zero point (kb, n), when zp is not null, 4-bit element
// kb * s_rs + n * s_cs of zp (same type as W).
struct Int4Source {
  const uint8_t* w = nullptr;
  int64_t w_rs = 0, w_cs = 0;
  bool is_signed = true;  // INT4 (else UINT4)
  const float* s = nullptr;
  const uint8_t* zp = nullptr;
  int64_t s_rs = 0, s_cs = 0;
  int64_t K = 0, N = 0, block = 0;
};

struct Int4PackedB {
  Isa isa = Isa::kPortable;
  int nr = 0;
  int64_t K = 0, N = 0, block = 0, blocks = 0, panels = 0;
  bool is_signed = true, has_zp = false;
  ByteBuffer q;       // panels × K × nr/2 bytes
  FloatBuffer scale;  // blocks × panels·nr
  FloatBuffer zp;     // blocks × panels·nr (has_zp only)
  int64_t npad() const { return panels * nr; }
  const uint8_t* panel_rows(int64_t j, int64_t k) const { return q.data() + (j * K + k) * (nr / 2); }
};

// Packs W for the SGEMM table `ik`. False when out of memory.
bool int4_pack_b(const IsaKernels& ik, const Int4Source& src, Int4PackedB& out);

struct Int4GemmParams {
  int64_t M = 0;
  const float* a = nullptr;  // A(m, k) at a[m * a_rs + k]
  int64_t a_rs = 0;
  const Int4PackedB* b = nullptr;  // packed for the same table as the call
  float* c = nullptr;              // C(m, n) at c[m * ldc + n]
  int64_t ldc = 0;
  const float* bias = nullptr;  // N floats, may be null
  const FusedActivation* act = nullptr;
};

// Floats of workspace int4_gemm() needs for M rows with this pool.
int64_t int4_gemm_workspace_floats(const IsaKernels& ik, int64_t M, const ThreadPool* pool);
void int4_gemm(const IsaKernels& ik, const Int4GemmParams& p, float* workspace, ThreadPool* pool);

// ---- per-level internals (int4_unpack_*.cpp) ----

// dst[k * nr + j] = dequant(W)(k0 + k, j·nr + column) for k < kc, j < nr: one panel's rows.
using Int4UnpackFn = void (*)(const Int4PackedB& b, int64_t panel, int64_t k0, int64_t kc, float* dst);
Int4UnpackFn int4_unpack_avx512();
Int4UnpackFn int4_unpack_avx2();
Int4UnpackFn int4_unpack_portable();

}  // namespace petrel::x86
