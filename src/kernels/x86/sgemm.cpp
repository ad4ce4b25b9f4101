#include "kernels/x86/sgemm.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>

namespace petrel::x86 {

FloatBuffer::~FloatBuffer() { std::free(data_); }

bool FloatBuffer::reserve(int64_t n) {
  if (n <= cap_) return true;
  std::free(data_);
  data_ = nullptr;
  cap_ = 0;
  // Rounded up to whole cache lines, as aligned_alloc requires a multiple of the alignment.
  const size_t bytes = (size_t(n) * sizeof(float) + 63) / 64 * 64;
  data_ = static_cast<float*>(std::aligned_alloc(64, bytes));
  if (data_ == nullptr) return false;
  cap_ = n;
  return true;
}

void release_pages(const void* p, size_t bytes) {
#ifdef MADV_PAGEOUT
  const uintptr_t page = 4096, b = (uintptr_t(p) + page - 1) & ~(page - 1), e = (uintptr_t(p) + bytes) & ~(page - 1);
  if (e > b) madvise(reinterpret_cast<void*>(b), e - b, MADV_PAGEOUT);
#else
  (void)p, (void)bytes;
#endif
}

namespace {

int64_t div_up(int64_t a, int64_t b) { return (a + b - 1) / b; }

// By default each woken thread gets ~4M multiply-adds (20-40 us of FMA work): less, and
// waking it (a futex round trip; a whole time slice when its core is busy with another
// process) costs more than it saves.
ParallelPolicy g_policy;

int threads_for(const ThreadPool* pool, double macs) {
  const int n = sgemm_slices(pool);
  return int(std::max<double>(1.0, std::min<double>(n, macs / std::max(1.0, g_policy.min_macs_per_thread))));
}

}  // namespace

const ParallelPolicy& parallel_policy() { return g_policy; }
void set_parallel_policy(const ParallelPolicy& p) { g_policy = p; }

int64_t packed_b_floats(const IsaKernels& ik, int64_t K, int64_t N) {
  // Every panel start stays 64-byte aligned: nr is a multiple of 16 floats on the SIMD
  // levels; the portable level (nr 8) only needs float alignment.
  return K * div_up(N, ik.nr) * ik.nr;
}

void pack_b(const IsaKernels& ik, MatrixRef B, const int64_t* offsets, int64_t count, int64_t K, int64_t N, float* dst,
            ThreadPool* pool) {
  const int64_t panels = div_up(N, ik.nr);
  const int64_t npad = panels * ik.nr;
  const int64_t per = packed_b_floats(ik, K, N);
  auto work = [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      const int64_t m = item / panels, j = item % panels;
      const float* src = B.p + (offsets ? offsets[m] : 0) + j * ik.nr * B.cs;
      float* d = dst + m * per;
      const int cols = int(std::min<int64_t>(ik.nr, N - j * ik.nr));
      for (int64_t pc = 0; pc < K; pc += ik.kc) {
        const int64_t kc = std::min(ik.kc, K - pc);
        ik.pack_b(src + pc * B.rs, B.rs, B.cs, kc, cols, d + pc * npad + j * kc * ik.nr);
      }
    }
  };
  const int64_t items = count * panels;
  // About 64 KiB of B per chunk: less is not worth waking a thread for.
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, K * ik.nr));
  if (threads_for(pool, double(count) * double(K) * double(N) * 8) > 1 && items > grain) pool->parallel_for(items, grain, work);
  else work(0, items);
}

int64_t sgemm_workspace_floats(const IsaKernels& ik, int slices) { return int64_t(slices) * ik.mc * ik.kc; }

namespace {

struct Split {
  int64_t rows_per_block, m_blocks;
  int64_t panels_per_block, n_blocks;
};

// Work items are (product, row block, column block). Row blocks never exceed mc (one packed
// A block each). When the products alone do not give every thread work, each product is cut
// into whole register tiles along M (B is shared, so that costs nothing) or into whole panels
// along N (each column block re-packs its A), whichever shares the tiles out more evenly.
Split plan_split(const IsaKernels& ik, const SgemmBatch& p, int threads) {
  Split s;
  const int64_t tiles = div_up(p.M, ik.mr), panels = div_up(p.N, ik.nr);
  int64_t mb = div_up(p.M, ik.mc), nb = 1;
  if (threads > 1 && p.count * mb < threads) {
    const int64_t want = div_up(threads, p.count);
    // Fraction of the threads' time spent working when `units` are cut into `parts`.
    auto balance = [](int64_t units, int64_t parts) {
      parts = std::min(parts, units);
      return double(units) / double(parts * div_up(units, parts));
    };
    if (balance(tiles, want) >= balance(panels, want)) mb = std::min(tiles, want);
    else nb = std::min(panels, want);
  }
  s.rows_per_block = std::min(ik.mc, div_up(tiles, mb) * ik.mr);
  s.m_blocks = div_up(p.M, s.rows_per_block);
  s.panels_per_block = div_up(panels, nb);
  s.n_blocks = div_up(panels, s.panels_per_block);
  return s;
}

void run_item(const IsaKernels& ik, const SgemmBatch& p, const Split& s, int64_t item, float* ws) {
  const int64_t per_product = s.m_blocks * s.n_blocks;
  const int64_t ci = item / per_product;
  const int64_t mi = (item % per_product) / s.n_blocks, ni = item % s.n_blocks;
  const int64_t m0 = mi * s.rows_per_block, m1 = std::min(p.M, m0 + s.rows_per_block);
  const int64_t npanels = div_up(p.N, ik.nr), npad = npanels * ik.nr;
  const int64_t j0 = ni * s.panels_per_block, j1 = std::min(npanels, j0 + s.panels_per_block);
  const float* A = p.a + (p.a_off ? p.a_off[ci] : 0);
  const float* B = p.b_packed + (p.b_idx ? p.b_idx[ci] : 0) * packed_b_floats(ik, p.K, p.N);
  float* C = p.c + ci * p.c_stride;
  const int mr = ik.mr, nr = ik.nr;
  for (int64_t pc = 0; pc < p.K; pc += ik.kc) {
    const int64_t kc = std::min(ik.kc, p.K - pc);
    const bool last = pc + kc == p.K;
    TileEpilogue e;
    e.alpha = p.ep.alpha;
    e.accumulate = p.ep.accumulate || pc > 0;
    e.act = last ? p.ep.act : nullptr;
    for (int64_t ic = m0; ic < m1; ic += ik.mc) {
      const int64_t mc = std::min(ik.mc, m1 - ic);
      for (int64_t r = 0; r < mc; r += mr)
        ik.pack_a(A + (ic + r) * p.a_rs + pc * p.a_cs, p.a_rs, p.a_cs, int(std::min<int64_t>(mr, mc - r)), kc, ws + r * kc);
      for (int64_t j = j0; j < j1; ++j) {
        const float* bp = B + pc * npad + j * kc * nr;
        const int cols = int(std::min<int64_t>(nr, p.N - j * nr));
        e.bias = last && p.ep.bias ? p.ep.bias + j * nr : nullptr;
        float* cj = C + ic * p.ldc + j * nr;
        for (int64_t r = 0; r < mc; r += mr) {
          const int rows = int(std::min<int64_t>(mr, mc - r));
          ik.tiles[rows - 1](cols, kc, ws + r * kc, bp, cj + r * p.ldc, p.ldc, e);
        }
      }
    }
  }
}

}  // namespace

void sgemm(const IsaKernels& ik, const SgemmBatch& p, float* workspace, ThreadPool* pool) {
  if (p.M <= 0 || p.N <= 0 || p.count <= 0) return;
  const int slices = threads_for(pool, double(p.count) * double(p.M) * double(p.N) * double(p.K));
  const Split s = plan_split(ik, p, slices);
  const int64_t items = p.count * s.m_blocks * s.n_blocks;
  if (slices == 1 || items == 1) {
    for (int64_t it = 0; it < items; ++it) run_item(ik, p, s, it, workspace);
    return;
  }
  // Static round-robin: slice t takes items t, t + slices, ... with its own A workspace.
  const int64_t ws = ik.mc * ik.kc;
  pool->parallel_for(slices, 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t)
      for (int64_t it = t; it < items; it += slices) run_item(ik, p, s, it, workspace + t * ws);
  });
}

void sgemv_rows(const IsaKernels& ik, const SgemmBatch& p, const float* b, int64_t b_rs, const int64_t* b_off,
                ThreadPool* pool) {
  if (p.M <= 0 || p.N <= 0 || p.count <= 0) return;
  // Items: (product, row, column chunk); column chunks of >= 256 floats when threads help.
  const int slices = threads_for(pool, double(p.count) * double(p.M) * double(p.N) * double(p.K));
  int64_t chunk = p.N;
  if (slices > 1 && p.count * p.M < slices) chunk = std::max<int64_t>(256, div_up(div_up(p.N, slices), 64) * 64);
  const int64_t chunks = div_up(p.N, chunk);
  auto work = [&](int64_t begin, int64_t end) {
    for (int64_t it = begin; it < end; ++it) {
      const int64_t ci = it / (p.M * chunks), m = (it / chunks) % p.M, n0 = (it % chunks) * chunk;
      const int64_t n = std::min(chunk, p.N - n0);
      TileEpilogue e = p.ep;
      if (e.bias) e.bias += n0;
      const float* a = p.a + (p.a_off ? p.a_off[ci] : 0) + m * p.a_rs;
      ik.gemv(n, p.K, a, p.a_cs, b + (b_off ? b_off[ci] : 0) + n0, b_rs, p.c + ci * p.c_stride + m * p.ldc + n0, e);
    }
  };
  const int64_t items = p.count * p.M * chunks;
  if (slices > 1 && items > 1) pool->parallel_for(items, 1, work);
  else work(0, items);
}

}  // namespace petrel::x86
