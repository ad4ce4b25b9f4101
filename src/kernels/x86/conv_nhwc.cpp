#include "kernels/x86/conv_nhwc.hpp"

#include <algorithm>
#include <cstring>

#include "kernels/x86/conv_nhwc_pack.hpp"
#include "kernels/x86/isa.hpp"

namespace petrel::x86 {

namespace {
int64_t div_up(int64_t a, int64_t b) { return (a + b - 1) / b; }
}  // namespace

Result<std::unique_ptr<ConvNhwc>> ConvNhwc::make(const ConvNhwcShape& s, const float* weight, const float* bias,
                                                 const FusedActivation& act, int threads) {
  if (s.n < 1 || s.h < 1 || s.w < 1 || s.c < 1 || s.oh < 1 || s.ow < 1 || s.co < 1 || s.kh < 1 || s.kw < 1 || s.sh < 1 ||
      s.sw < 1 || s.dh < 1 || s.dw < 1 || s.pad_top < 0 || s.pad_left < 0)
    return invalid_argument("convolution geometry");
  auto k = std::unique_ptr<ConvNhwc>(new ConvNhwc());
  k->s_ = s;
  k->k_ = s.kh * s.kw * s.c;
  k->ik_ = &active_kernels();
  k->use_avx512_pack_ = k->ik_->isa == Isa::kAvx512 && k->ik_->mr == 14;
  k->act_ = act;
  k->slices_ = std::max(1, threads);
  if (bias != nullptr) k->bias_.assign(bias, bias + s.co);
  // Whole filter rows per packing step when the channels are too few for the 16-wide transpose.
  k->merge_rows_ = s.dw == 1 && s.kw > 1 && s.c < 16;
  k->zero_.assign(size_t(s.kw * s.c), 0.0f);
  // B(k, o) with k = (ky * kw + kx) * C + ci, the order in which pack_rows walks an NHWC pixel.
  const int64_t taps = s.kh * s.kw;
  std::vector<float> t(size_t(k->k_ * s.co));
  for (int64_t o = 0; o < s.co; ++o)
    for (int64_t ci = 0; ci < s.c; ++ci)
      for (int64_t y = 0; y < taps; ++y) t[size_t((y * s.c + ci) * s.co + o)] = weight[(o * s.c + ci) * taps + y];
  const IsaKernels& ik = *k->ik_;
  // Depth blocks: as few as the caches allow, split evenly (a short last block costs a pass
  // over C for little work).
  // Three of the SGEMM's blocks measured best (AVX-512, Zen 4): the B panel (768 x 32) and the
  // A block (112 x 768) still stream from L2.
  const int64_t kmax = 3 * ik.kc;
  const int64_t blocks = div_up(k->k_, kmax);
  k->kc_ = div_up(k->k_, blocks);
  const int64_t npanels = div_up(s.co, ik.nr), npad = npanels * ik.nr;
  // Half of a 1 MB L2: beyond that the filter comes from L3 or memory on every run.
  k->stream_b_ = k->k_ * npad * int64_t(sizeof(float)) > (512 << 10);
  if (!k->packed_.reserve(k->k_ * npad) || !k->ws_.reserve(int64_t(k->slices_) * (ik.mc + 16) * k->kc_))
    return internal_error("out of memory for a convolution's packed filter");
  // Panel j of depth block pc at pc * npad + j * kc * nr (kc of that block), as sgemm's pack_b.
  for (int64_t pc = 0; pc < k->k_; pc += k->kc_) {
    const int64_t kc = std::min(k->kc_, k->k_ - pc);
    for (int64_t j = 0; j < npanels; ++j)
      ik.pack_b(t.data() + pc * s.co + j * ik.nr, s.co, 1, kc, int(std::min<int64_t>(ik.nr, s.co - j * ik.nr)),
                k->packed_.data() + pc * npad + j * kc * ik.nr);
  }
  return k;
}

// Packs rows [m0, m0 + rows) x columns [pc, pc + kc) of the implicit im2col matrix into one
// A panel: dst[k * mr + i]. A row is an output pixel; its columns are, tap by tap, the C
// channels of the input pixel under that tap (or zeros where the tap is in the padding). The
// tap boundaries are the same for every row, so the panel is packed one tap segment at a
// time, as a transpose of `rows` channel runs.
void ConvNhwc::pack_rows(const float* x, int64_t m0, int rows, int64_t pc, int64_t kc, float* dst, float* scratch) const {
  const ConvNhwcShape& s = s_;
  const int mr = ik_->mr;
  const int64_t per_image = s.oh * s.ow;
  int64_t oy[16], ox[16];
  const float* base[16];
  const float* src[16];
  for (int i = 0; i < rows; ++i) {
    const int64_t m = m0 + i, img = m / per_image;
    oy[i] = (m % per_image) / s.ow * s.sh - s.pad_top;
    ox[i] = m % s.ow * s.sw - s.pad_left;
    base[i] = x + img * s.h * s.w * s.c;
  }
  const bool avx512 = use_avx512_pack_;
  const int64_t row = s.kw * s.c;  // one filter row: kw pixels of C channels, contiguous in NHWC
  for (int64_t k = pc, end = pc + kc; k < end;) {
    if (merge_rows_) {
      // Few channels (a network's stem): a segment is a whole filter row, one run of input
      // floats per output pixel (gathered into `scratch` where it crosses the padding).
      const int64_t ky = k / row, within = k % row, len = std::min(row - within, end - k);
      const int64_t kx0 = within / s.c, kx1 = (within + len - 1) / s.c;
      for (int i = 0; i < rows; ++i) {
        const int64_t iy = oy[i] + ky * s.dh;
        if (iy < 0 || iy >= s.h) {
          src[i] = zero_.data();
        } else if (ox[i] + kx0 >= 0 && ox[i] + kx1 < s.w) {
          src[i] = base[i] + (iy * s.w + ox[i]) * s.c + within;
        } else {
          float* t = scratch + i * kc;
          for (int64_t e = 0; e < len; ++e) {
            const int64_t ix = ox[i] + (within + e) / s.c;
            t[e] = ix >= 0 && ix < s.w ? base[i][(iy * s.w + ix) * s.c + (within + e) % s.c] : 0.0f;
          }
          src[i] = t;
        }
      }
      float* d = dst + (k - pc) * mr;
#if defined(__x86_64__)
      if (avx512) pack_panel14_avx512(src, rows, len, d);
      else
#endif
        pack_panel_scalar(src, rows, mr, len, d);
      k += len;
      continue;
    }
    const int64_t tap = k / s.c, c0 = k % s.c, len = std::min(s.c - c0, end - k);
    const int64_t dy = (tap / s.kw) * s.dh, dx = (tap % s.kw) * s.dw;
    for (int i = 0; i < rows; ++i) {
      const int64_t iy = oy[i] + dy, ix = ox[i] + dx;
      src[i] = iy >= 0 && iy < s.h && ix >= 0 && ix < s.w ? base[i] + (iy * s.w + ix) * s.c + c0 : zero_.data();
    }
    float* d = dst + (k - pc) * mr;
#if defined(__x86_64__)
    if (avx512) pack_panel14_avx512(src, rows, len, d);
    else
#endif
      pack_panel_scalar(src, rows, mr, len, d);
    k += len;
  }
}

// Output rows are cut into `tiles` register tiles of balanced heights (within one row of
// each other, at most mr): 169 rows are 13 tiles of 13, not 12 of 14 and a 1-row tile, whose
// FMAs per loaded B vector are a fourteenth of a full tile's. Tile t starts at row t * M / tiles.
void ConvNhwc::run_block(const float* x, float* y, const float* residual, int64_t tiles, int64_t t0, int64_t t1,
                         int64_t j0, int64_t j1, float* ws) const {
  const IsaKernels& ik = *ik_;
  const int mr = ik.mr, nr = ik.nr;
  const int64_t M = s_.n * s_.oh * s_.ow, N = s_.co, npanels = div_up(N, nr), npad = npanels * nr;
  const auto row = [&](int64_t t) { return t * M / tiles; };
  const int64_t m0 = row(t0), m1 = row(t1);
  float* scratch = ws + (t1 - t0) * mr * kc_;  // each slice: the A block, then 16 rows of gather space
  j1 = std::min(j1, npanels);
  if (residual != nullptr && residual != y) {
    const int64_t c0 = j0 * nr, c1 = std::min(N, j1 * nr);  // only this block's columns
    for (int64_t m = m0; m < m1; ++m)
      std::memcpy(y + m * N + c0, residual + m * N + c0, size_t(c1 - c0) * sizeof(float));
  }
  for (int64_t pc = 0; pc < k_; pc += kc_) {
    const int64_t kc = std::min(kc_, k_ - pc);
    const bool last = pc + kc == k_;
    TileEpilogue e;
    e.accumulate = residual != nullptr || pc > 0;
    e.act = last && !act_.none() ? &act_ : nullptr;
    for (int64_t t = t0; t < t1; ++t) pack_rows(x, row(t), int(row(t + 1) - row(t)), pc, kc, ws + (t - t0) * mr * kc, scratch);
    for (int64_t j = j0; j < j1; ++j) {
      const float* bp = packed_.data() + pc * npad + j * kc * nr;
      const int cols = int(std::min<int64_t>(nr, N - j * nr));
      e.bias = last && !bias_.empty() ? bias_.data() + j * nr : nullptr;
      // The weights of a deep layer (7x7x512 -> 512: 9.4 MB) do not stay in any cache between
      // runs and are read once per row block: the first two row tiles of each panel prefetch
      // the next panel (half each, one line per k step) so that it is in L2 when it is needed
      // instead of being read at memory latency by the next panel's first tile. With many row
      // blocks the filter stays in L2 and this is not done.
      const float* next = j + 1 < j1 ? bp + kc * nr : nullptr;
      for (int64_t t = t0; t < t1; ++t) {
        const int rows = int(row(t + 1) - row(t));
        const int64_t half = t - t0;
        if (stream_b_ && next != nullptr && half < 2) {
          e.prefetch = next + half * kc * 16;  // a 64-byte line is 16 floats
          ik.tiles_pf[rows - 1](cols, kc, ws + (t - t0) * mr * kc, bp, y + row(t) * N + j * nr, N, e);
          continue;
        }
        ik.tiles[rows - 1](cols, kc, ws + (t - t0) * mr * kc, bp, y + row(t) * N + j * nr, N, e);
      }
    }
  }
}

void ConvNhwc::run(const float* x, float* y, const float* residual, ThreadPool* pool) {
  const IsaKernels& ik = *ik_;
  const int64_t M = s_.n * s_.oh * s_.ow;
  int threads = pool != nullptr ? std::min(pool->size(), slices_) : 1;
  threads = int(std::max<double>(1.0, std::min<double>(threads, macs() / std::max(1.0, parallel_policy().min_macs_per_thread))));
  // Blocks of at most mc / mr tiles (one packed A block each), at least one per thread, with
  // balanced tile counts.
  const int64_t tiles = div_up(M, ik.mr), per_block = ik.mc / ik.mr;
  const int64_t blocks = std::min(tiles, std::max<int64_t>(div_up(tiles, per_block), threads));
  const auto first = [&](int64_t b) { return b * tiles / blocks; };
  const int64_t npanels = div_up(s_.co, ik.nr);
  if (threads <= 1 || blocks == 1) {
    for (int64_t b = 0; b < blocks; ++b) run_block(x, y, residual, tiles, first(b), first(b + 1), 0, npanels, ws_.data());
    return;
  }
  const int64_t per_slice = (ik.mc + 16) * kc_;
  // Few output rows and a filter streamed from memory (ResNet's 7 x 7 layers: 49 rows, 2.4-9.4
  // MB): split the output channels instead, so that each thread reads its share of the filter
  // rather than all of it (packing A twice costs ~1/N of the product).
  if (stream_b_ && tiles <= 2 * per_block && npanels >= 2 * threads) {
    const int64_t rblocks = div_up(tiles, per_block);
    const auto rfirst = [&](int64_t b) { return b * tiles / rblocks; };
    pool->parallel_for(threads, 1, [&](int64_t begin, int64_t end) {
      for (int64_t t = begin; t < end; ++t)
        for (int64_t b = 0; b < rblocks; ++b)
          run_block(x, y, residual, tiles, rfirst(b), rfirst(b + 1), t * npanels / threads, (t + 1) * npanels / threads,
                    ws_.data() + t * per_slice);
    });
    return;
  }
  pool->parallel_for(threads, 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t)
      for (int64_t b = t; b < blocks; b += threads)
        run_block(x, y, residual, tiles, first(b), first(b + 1), 0, npanels, ws_.data() + t * per_slice);
  });
}

}  // namespace petrel::x86
