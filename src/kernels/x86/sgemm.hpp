// Packed SGEMM on the active ISA's register tile (simd.hpp). B is packed whole (K x N, in
// blocks of kc rows, each a row of nr-column panels zero-padded at the right) — once for
// constant weights, per run otherwise — and A is packed per (mc x kc) block into a per-slice
// workspace. Everything is in buffers the caller owns and sizes up front: sgemm() itself
// allocates nothing. The epilogue (alpha, accumulate, bias per column, fused activation) runs
// while the tile is in registers.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/thread_pool.hpp"
#include "kernels/x86/simd.hpp"

namespace petrel::x86 {

// A 64-byte aligned, grow-only float buffer (a kernel's packing space).
class FloatBuffer {
 public:
  FloatBuffer() = default;
  FloatBuffer(const FloatBuffer&) = delete;
  FloatBuffer& operator=(const FloatBuffer&) = delete;
  ~FloatBuffer();
  float* data() const { return data_; }
  int64_t capacity() const { return cap_; }
  // Room for n floats (contents not kept when it grows); false when out of memory.
  bool reserve(int64_t n);

 private:
  float* data_ = nullptr;
  int64_t cap_ = 0;
};

// Once a constant B is packed, the model's copy is not read again by this kernel: asks the OS
// to reclaim the whole pages inside [p, p + bytes) (MADV_PAGEOUT; clean pages of the mapped
// model file are dropped and re-read on a later touch, so content is never lost). The XNNPACK
// provider does the same with the weights it packs.
void release_pages(const void* p, size_t bytes);

// Element (r, c) at p[r * rs + c * cs]: transposes are stride swaps.
struct MatrixRef {
  const float* p;
  int64_t rs, cs;
};

// Floats of one K x N matrix packed for `ik`.
int64_t packed_b_floats(const IsaKernels& ik, int64_t K, int64_t N);
// Packs `count` K x N matrices, matrix i at B.p + offsets[i] (offsets null: one matrix),
// into dst + i * packed_b_floats(ik, K, N). Splits panels across the pool.
void pack_b(const IsaKernels& ik, MatrixRef B, const int64_t* offsets, int64_t count, int64_t K, int64_t N,
            float* dst, ThreadPool* pool);

// When the x86 kernels split work across the pool: a thread is woken only for at least
// `min_macs_per_thread` multiply-adds (GEMM) or `min_elems_per_chunk` elements (row kernels).
// Tests lower both to exercise the splits on small shapes.
struct ParallelPolicy {
  double min_macs_per_thread = 4e6;
  int64_t min_elems_per_chunk = 32768;
};
const ParallelPolicy& parallel_policy();
void set_parallel_policy(const ParallelPolicy& p);

// Workspace floats sgemm() needs for `slices` (see sgemm_slices).
int64_t sgemm_workspace_floats(const IsaKernels& ik, int slices);
// Number of workspace slices sgemm() uses with this pool (one per thread).
inline int sgemm_slices(const ThreadPool* pool) { return pool != nullptr && pool->size() > 1 ? pool->size() : 1; }

struct SgemmBatch {
  int64_t M = 0, N = 0, K = 0;  // K >= 1
  int64_t count = 1;            // independent products
  // A of product i at a + a_off[i] (a_off null: all at a).
  const float* a = nullptr;
  int64_t a_rs = 0, a_cs = 1;
  const int64_t* a_off = nullptr;
  // Packed B of product i at b_packed + b_idx[i] * packed_b_floats (b_idx null: all the first).
  const float* b_packed = nullptr;
  const int64_t* b_idx = nullptr;
  // C of product i at c + i * c_stride, rows ldc apart.
  float* c = nullptr;
  int64_t ldc = 0, c_stride = 0;
  // bias (per column, N floats) and activation are applied once, after the last K block.
  TileEpilogue ep;
};

// C = alpha * A * B (+ C if ep.accumulate) (+ bias) then activation, for every product.
void sgemm(const IsaKernels& ik, const SgemmBatch& p, float* workspace, ThreadPool* pool);

// Same result with B unpacked, row-major (B(k, n) at b[k * b_rs + n]), product i's B at
// b + b_off[i]: one streamed pass over B per output row. For M <= 2, where packing B would
// cost as much as the product.
void sgemv_rows(const IsaKernels& ik, const SgemmBatch& p, const float* b, int64_t b_rs, const int64_t* b_off,
                ThreadPool* pool);

}  // namespace petrel::x86
