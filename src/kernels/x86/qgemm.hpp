// The int8 GEMM: C[M x N] = requantize(A[M x K] (u8, or s8 shifted to u8) · B[K x N] (s8)),
// int32 accumulation, for the fused quantized ops (petrel.QGemm, petrel.QConv,
// petrel.DynQMatMul). B is a weight: packed once (K in groups of 4 bytes, nr-column panels)
// together with its column sums, so the activation zero point costs one subtraction per
// output: Σ (a - zp_a)·b = Σ a·b - zp_a·Σ b. A is packed per call into panels of mr rows
// (a[(k4 · mr + i) · 4 + t] = A(i, 4·k4 + t)), from any strides — an im2col buffer, or an
// NCHW input read as [pixels x channels].
//
// Levels (chosen from active_isa(), like the SGEMM):
//  - avx512: AVX-512 VNNI `vpdpbusd` (u8 x s8 -> four products summed into int32, exact),
//    12 x 32 tile. Needs avx512bw + avx512vnni; a CPU without them gets the avx2 table.
//  - avx2: `vpmaddubsw` (u8 x s8 pairs summed into int16, which SATURATES when both products of
//    a pair are large: 255·127·2 > 32767) + `vpmaddwd` by ones into int32. Exact only for
//    7-bit A (<= 127: 127·128·2 fits), which is what `--reduce-range` activations give. Packing
//    notes whether a panel has any byte > 127; such a panel takes the exact path instead, which
//    splits a = (a & 127) + 128·(a >> 7) into two saturation-free vpmaddubsw (twice the work).
//    So results never depend on saturation; 7-bit activations only make AVX2 faster.
//  - portable: plain C++ on the same layout as avx2.
// Epilogue per output (n = column): v = acc - zp_a·colsum[n] + bias[n] (int32), then
//  - u8/s8: clamp(round_half_even(float(v) · scale[n]) + zp_y, lo, hi), lo/hi the type's range
//    narrowed by a fused Relu/Clip or 7-bit activations;
//  - f32:   float(v) · scale[n] (+ fbias[n]).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/thread_pool.hpp"
#include "kernels/x86/isa.hpp"

namespace petrel::x86 {

// A 64-byte aligned, grow-only byte buffer.
class ByteBuffer {
 public:
  ByteBuffer() = default;
  ByteBuffer(const ByteBuffer&) = delete;
  ByteBuffer& operator=(const ByteBuffer&) = delete;
  ~ByteBuffer();
  uint8_t* data() const { return data_; }
  template <typename T> T* as() const { return reinterpret_cast<T*>(data_); }
  // Room for n bytes (contents not kept when it grows); false when out of memory.
  bool reserve(int64_t n);

 private:
  uint8_t* data_ = nullptr;
  int64_t cap_ = 0;
};

enum class QOut : uint8_t { kU8, kS8, kF32 };

// The level the int8 GEMM runs at for `isa` (avx512 without VNNI -> avx2).
Isa qgemm_isa(Isa isa);
const char* qgemm_isa_name(Isa isa);
int qgemm_mr(Isa qisa);
int qgemm_nr(Isa qisa);

// B packed for one level, with its column sums.
struct QPackedB {
  Isa isa = Isa::kPortable;
  int64_t K = 0, N = 0, K4 = 0;  // K4: K rounded up to groups of 4
  ByteBuffer data;                // panels of K4 x nr bytes
  ByteBuffer colsum;              // int32 per column, padded to whole panels
};

// Packs B(k, n) = b[k * rs + n * cs] (s8) for level `qisa`. False when out of memory.
bool qpack_b(Isa qisa, const int8_t* b, int64_t rs, int64_t cs, int64_t K, int64_t N, QPackedB& out);

struct QGemmParams {
  int64_t M = 0, N = 0, K = 0;
  // A(m, k) at a[m * a_rs + k * a_cs]; a_signed: the bytes are s8 (shifted by 128 in packing,
  // zp_a must then be the s8 zero point; the shift is accounted for here).
  const uint8_t* a = nullptr;
  int64_t a_rs = 0, a_cs = 1;
  bool a_signed = false;
  int32_t zp_a = 0;
  const QPackedB* b = nullptr;
  // C(m, n) at c[m * c_rs + n * c_cs] (elements of the output type).
  void* c = nullptr;
  int64_t c_rs = 0, c_cs = 1;
  QOut out = QOut::kU8;
  const int32_t* bias = nullptr;  // N, may be null
  const float* scale = nullptr;   // N multipliers
  const float* fbias = nullptr;   // f32 output: N, may be null
  int32_t zp_y = 0, lo = 0, hi = 255;
  // 7-bit activations (a model quantized with --reduce-range: petrel.activation_bits = 7). A is
  // clamped while packed to the 7-bit range (u8 0..127, s8 -64..63, the latter stored as a + 64),
  // so every panel takes the AVX2 fast path; bytes outside that range only come from values past
  // the calibrated range, which 7-bit quantization would have clamped anyway.
  bool a7 = false;
};

// Panels packed so far that held a byte > 127 (the AVX2 tile's exact, two-pass path). For tests.
uint64_t qgemm_exact_panels();

// Scratch of qgemm(): packed A blocks (one per thread) and the per-call column corrections.
struct QGemmWorkspace {
  ByteBuffer a, corr;
};

// Runs the product on b->isa's kernels (b must be packed for the level to use). False when
// the workspace cannot grow (out of memory).
bool qgemm(const QGemmParams& p, QGemmWorkspace& ws, ThreadPool* pool);

// ---- per-level internals (qgemm_*.cpp) ----

struct QTileOut {
  const int32_t* corr;  // per column: bias - zp_a·colsum (int32)
  const float* scale;
  const float* fbias;
  QOut out;
  int32_t zp_y, lo, hi;
  void* c;  // the tile's first element
  int64_t c_rs, c_cs;
};
// rows x cols outputs from a packed A panel (k4 groups x mr rows x 4) and a packed B panel
// (k4 groups x nr columns x 4). a7: every A byte of the panel is <= 127.
using QTileFn = void (*)(int rows, int cols, int64_t k4, const uint8_t* a, const int8_t* b, bool a7,
                         const QTileOut& o);
QTileFn qtile_avx512();
QTileFn qtile_avx2();
QTileFn qtile_portable();
// Stores one requantized/f32 value (shared by the tiles' scalar edges).
void qstore_scalar(const QTileOut& o, int64_t i, int64_t j, int32_t acc);

}  // namespace petrel::x86
