#include "kernels/x86/int4_gemm.hpp"

#include <algorithm>

#include "core/int4.hpp"

namespace petrel::x86 {
namespace {

int64_t div_up(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Rows of A per work item: B is unpacked once per item and K-slice, so more rows amortise the
// unpacking; 4·mc rows of a kc-deep slice (≤ 448 KiB of packed A at AVX-512) still sit in L2.
int64_t rows_per_item(const IsaKernels& ik, int64_t M) { return std::min(div_up(M, ik.mr) * ik.mr, 4 * ik.mc); }

int slices_for(const ThreadPool* pool, double macs) {
  const int n = sgemm_slices(pool);
  return int(std::max<double>(1.0, std::min<double>(n, macs / std::max(1.0, parallel_policy().min_macs_per_thread))));
}

// The SIMD unpackers are written for their level's panel width.
Int4UnpackFn unpack_for(const Int4PackedB& b) {
  Int4UnpackFn f = nullptr;
  if (b.isa == Isa::kAvx512 && b.nr == 32) f = int4_unpack_avx512();
  else if (b.isa == Isa::kAvx2 && b.nr == 16) f = int4_unpack_avx2();
  return f != nullptr ? f : int4_unpack_portable();
}

}  // namespace

bool int4_pack_b(const IsaKernels& ik, const Int4Source& src, Int4PackedB& out) {
  out.isa = ik.isa;
  out.nr = ik.nr;
  out.K = src.K, out.N = src.N, out.block = src.block;
  out.blocks = div_up(src.K, src.block);
  out.panels = div_up(src.N, ik.nr);
  out.is_signed = src.is_signed;
  out.has_zp = src.zp != nullptr;
  const int half = ik.nr / 2;
  const int64_t npad = out.npad();
  if (!out.q.reserve(out.panels * src.K * half) || !out.scale.reserve(out.blocks * npad)) return false;
  if (out.has_zp && !out.zp.reserve(out.blocks * npad)) return false;
  for (int64_t j = 0; j < out.panels; ++j)
    for (int64_t k = 0; k < src.K; ++k) {
      uint8_t* row = out.q.data() + (j * src.K + k) * half;
      for (int t = 0; t < half; ++t) {
        // Raw nibbles (sign handling happens when unpacking); padded columns hold 0.
        const int64_t n0 = j * ik.nr + t, n1 = n0 + half;
        const int32_t lo = n0 < src.N ? int4_get(src.w, k * src.w_rs + n0 * src.w_cs, false) : 0;
        const int32_t hi = n1 < src.N ? int4_get(src.w, k * src.w_rs + n1 * src.w_cs, false) : 0;
        row[t] = uint8_t(lo | (hi << 4));
      }
    }
  for (int64_t kb = 0; kb < out.blocks; ++kb)
    for (int64_t n = 0; n < npad; ++n) {
      const bool in = n < src.N;
      const int64_t i = kb * src.s_rs + n * src.s_cs;
      out.scale.data()[kb * npad + n] = in ? src.s[i] : 0.f;
      if (out.has_zp) out.zp.data()[kb * npad + n] = in ? float(int4_get(src.zp, i, src.is_signed)) : 0.f;
    }
  return true;
}

int64_t int4_gemm_workspace_floats(const IsaKernels& ik, int64_t M, const ThreadPool* pool) {
  return int64_t(sgemm_slices(pool)) * (rows_per_item(ik, std::max<int64_t>(M, 1)) * ik.kc + ik.kc * ik.nr);
}

void int4_gemm(const IsaKernels& ik, const Int4GemmParams& p, float* workspace, ThreadPool* pool) {
  const Int4PackedB& b = *p.b;
  const int64_t M = p.M, N = b.N, K = b.K;
  if (M <= 0 || N <= 0) return;
  const int mr = ik.mr, nr = ik.nr;
  const int64_t rows = rows_per_item(ik, M), m_items = div_up(M, rows);
  const int slices = slices_for(pool, double(M) * double(N) * double(K));
  // Columns are split only when the row blocks leave threads idle (each column block re-packs
  // its A, but unpacks only its own panels).
  int64_t n_items = 1;
  if (slices > 1 && m_items < slices) n_items = std::min(b.panels, div_up(slices, m_items));
  const int64_t panels_per = div_up(b.panels, n_items);
  n_items = div_up(b.panels, panels_per);
  const int64_t items = m_items * n_items;
  const int64_t ws_per = rows * ik.kc + ik.kc * nr;
  const Int4UnpackFn unpack = unpack_for(b);
  auto run_item = [&](int64_t item, float* ws) {
    const int64_t m0 = (item / n_items) * rows, m1 = std::min(M, m0 + rows);
    const int64_t j0 = (item % n_items) * panels_per, j1 = std::min(b.panels, j0 + panels_per);
    float* apack = ws;
    float* bpanel = ws + rows * ik.kc;
    for (int64_t pc = 0; pc < K; pc += ik.kc) {
      const int64_t kc = std::min(ik.kc, K - pc);
      const bool last = pc + kc == K;
      for (int64_t r = m0; r < m1; r += mr)
        ik.pack_a(p.a + r * p.a_rs + pc, p.a_rs, 1, int(std::min<int64_t>(mr, m1 - r)), kc, apack + (r - m0) * kc);
      TileEpilogue e;
      e.accumulate = pc > 0;
      e.act = last ? p.act : nullptr;
      for (int64_t j = j0; j < j1; ++j) {
        unpack(b, j, pc, kc, bpanel);
        const int cols = int(std::min<int64_t>(nr, N - j * nr));
        e.bias = last && p.bias ? p.bias + j * nr : nullptr;
        for (int64_t r = m0; r < m1; r += mr) {
          const int rr = int(std::min<int64_t>(mr, m1 - r));
          ik.tiles[rr - 1](cols, kc, apack + (r - m0) * kc, bpanel, p.c + r * p.ldc + j * nr, p.ldc, e);
        }
      }
    }
  };
  if (slices == 1 || items == 1) {
    for (int64_t it = 0; it < items; ++it) run_item(it, workspace);
    return;
  }
  // Static round-robin as in sgemm(): slice t takes items t, t + slices, ... with its own space.
  pool->parallel_for(slices, 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t)
      for (int64_t it = t; it < items; it += slices) run_item(it, workspace + t * ws_per);
  });
}

namespace {

void unpack_portable(const Int4PackedB& b, int64_t panel, int64_t k0, int64_t kc, float* dst) {
  const int nr = b.nr, half = nr / 2;
  const int64_t npad = b.npad();
  for (int64_t k = 0; k < kc; ++k) {
    const int64_t kb = (k0 + k) / b.block;
    const float* s = b.scale.data() + kb * npad + panel * nr;
    const float* z = b.has_zp ? b.zp.data() + kb * npad + panel * nr : nullptr;
    const uint8_t* row = b.panel_rows(panel, k0 + k);
    float* d = dst + k * nr;
    for (int t = 0; t < half; ++t) {
      int32_t lo = row[t] & 0x0f, hi = row[t] >> 4;
      if (b.is_signed) lo = (lo ^ 8) - 8, hi = (hi ^ 8) - 8;
      d[t] = (float(lo) - (z ? z[t] : 0.f)) * s[t];
      d[t + half] = (float(hi) - (z ? z[t + half] : 0.f)) * s[t + half];
    }
  }
}

}  // namespace

Int4UnpackFn int4_unpack_portable() { return &unpack_portable; }

}  // namespace petrel::x86
