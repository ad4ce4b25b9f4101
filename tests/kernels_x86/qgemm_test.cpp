// Differential tests of the int8 GEMM (src/kernels/x86/qgemm.*) against a plain C++ reference,
// at every level the CPU has (avx512 = VNNI, avx2, portable). Sizes sit around the register
// tiles (12 x 32 VNNI, 4 x 16 AVX2/portable) and K around the groups of 4. The integer part is
// exact, so u8/s8 outputs must match bit for bit (same float multiply, same rounding) and f32
// outputs to float rounding.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "core/thread_pool.hpp"
#include "kernels/x86/isa.hpp"
#include "kernels/x86/qgemm.hpp"
#include "kernels/x86/sgemm.hpp"

namespace petrel {
namespace {

using x86::Isa;
using x86::QOut;

struct Rng {
  uint64_t x;
  explicit Rng(uint64_t s) : x(s * 0x9E3779B97F4A7C15ull + 1) {}
  uint32_t next() {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    return uint32_t(x >> 11);
  }
};

std::vector<Isa> levels() {
  std::vector<Isa> v;
  for (Isa i : {Isa::kPortable, Isa::kAvx2, Isa::kAvx512})
    if (x86::isa_supported(i)) v.push_back(x86::qgemm_isa(i));
  return v;
}

struct Case {
  int64_t M, N, K;
  QOut out = QOut::kU8;
  bool a_signed = false;
  int a_max = 255;  // A bytes drawn in [0, a_max] (u8) — 127 exercises the AVX2 7-bit path
  bool bias = true;
  int32_t lo = 0, hi = 255;
  bool transposed_a = false;  // A read as [pixels x channels] of an NCHW buffer
  bool strided_c = false;     // C written column-major (NCHW output)
  int threads = 1;
};

void run_case(Isa qisa, const Case& cs, uint64_t seed) {
  Rng r(seed);
  const int64_t M = cs.M, N = cs.N, K = cs.K;
  std::vector<uint8_t> a(size_t(M * K));
  for (auto& v : a) v = uint8_t(r.next() % uint32_t(cs.a_max + 1));
  std::vector<int8_t> b(size_t(K * N));
  for (auto& v : b) v = int8_t(int(r.next() % 255) - 127);
  std::vector<int32_t> bias(static_cast<size_t>(N));
  for (auto& v : bias) v = int32_t(r.next() % 20001) - 10000;
  std::vector<float> scale(static_cast<size_t>(N)), fbias(static_cast<size_t>(N));
  for (int64_t n = 0; n < N; ++n) {
    scale[size_t(n)] = (0.5f + float(r.next() % 1000) / 1000.0f) / float(64 * std::max<int64_t>(1, K));
    fbias[size_t(n)] = float(int(r.next() % 200) - 100) / 50.0f;
  }
  const int32_t zp_a = cs.a_signed ? int32_t(r.next() % 20) - 10 : int32_t(r.next() % 256);
  const int32_t zp_y = cs.out == QOut::kS8 ? int32_t(r.next() % 40) - 20 : int32_t(r.next() % 256);
  auto A = [&](int64_t m, int64_t k) -> int32_t {
    const uint8_t v = cs.transposed_a ? a[size_t(k * M + m)] : a[size_t(m * K + k)];
    return cs.a_signed ? int32_t(int8_t(v)) : int32_t(v);
  };
  x86::QPackedB pb;
  ASSERT_TRUE(x86::qpack_b(qisa, b.data(), N, 1, K, N, pb));
  const size_t osize = cs.out == QOut::kF32 ? 4 : 1;
  std::vector<uint8_t> c(size_t(M * N) * osize, 0xcd);
  x86::QGemmParams p;
  p.M = M, p.N = N, p.K = K;
  p.a = a.data();
  p.a_rs = cs.transposed_a ? 1 : K, p.a_cs = cs.transposed_a ? M : 1;
  p.a_signed = cs.a_signed, p.zp_a = zp_a;
  p.b = &pb;
  p.c = c.data();
  p.c_rs = cs.strided_c ? 1 : N, p.c_cs = cs.strided_c ? M : 1;
  p.out = cs.out;
  p.bias = cs.bias ? bias.data() : nullptr;
  p.scale = scale.data();
  p.fbias = cs.out == QOut::kF32 && cs.bias ? fbias.data() : nullptr;
  p.zp_y = zp_y, p.lo = cs.lo, p.hi = cs.hi;
  x86::QGemmWorkspace ws;
  ThreadPool pool(cs.threads);
  ASSERT_TRUE(x86::qgemm(p, ws, &pool));
  int bad = 0;
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      int64_t acc = 0;
      for (int64_t k = 0; k < K; ++k) acc += int64_t(A(m, k) - zp_a) * b[size_t(k * N + n)];
      if (cs.bias) acc += bias[size_t(n)];
      const size_t at = size_t(cs.strided_c ? n * M + m : m * N + n);
      if (cs.out == QOut::kF32) {
        float want = float(acc) * scale[size_t(n)] + (cs.bias ? fbias[size_t(n)] : 0.0f);
        const float got = reinterpret_cast<const float*>(c.data())[at];
        if (std::fabs(got - want) > 1e-5f * (1 + std::fabs(want)) && bad++ < 5)
          ADD_FAILURE() << x86::qgemm_isa_name(qisa) << " " << M << "x" << N << "x" << K << " at " << m << "," << n
                        << ": " << got << " want " << want;
        continue;
      }
      const float f = std::nearbyint(float(int32_t(acc)) * scale[size_t(n)]);
      const int32_t want = std::min(cs.hi, std::max(cs.lo, int32_t(f) + zp_y));
      const int32_t got = cs.out == QOut::kU8 ? int32_t(c[at]) : int32_t(int8_t(c[at]));
      if (got != want && bad++ < 5)
        ADD_FAILURE() << x86::qgemm_isa_name(qisa) << " " << M << "x" << N << "x" << K << " at " << m << "," << n << ": "
                      << got << " want " << want;
    }
}

TEST(QGemm, SizesAroundTiles) {
  uint64_t seed = 1;
  for (Isa q : levels())
    for (int64_t M : {1, 3, 4, 5, 11, 12, 13, 25})
      for (int64_t N : {1, 7, 8, 15, 16, 17, 31, 32, 33, 65})
        for (int64_t K : {1, 3, 4, 5, 8, 17, 64, 67}) run_case(q, Case{M, N, K}, seed++);
}

TEST(QGemm, Outputs) {
  uint64_t seed = 100;
  for (Isa q : levels())
    for (int64_t M : {5, 13, 40})
      for (int64_t N : {9, 33}) {
        run_case(q, Case{M, N, 70, QOut::kS8, false, 255, true, -128, 127}, seed++);
        run_case(q, Case{M, N, 70, QOut::kS8, true, 255, true, -128, 127}, seed++);
        run_case(q, Case{M, N, 70, QOut::kF32}, seed++);
        run_case(q, Case{M, N, 70, QOut::kF32, false, 255, false}, seed++);
        run_case(q, Case{M, N, 70, QOut::kU8, false, 255, false}, seed++);
        // fused Relu6-like clamp and 7-bit outputs
        run_case(q, Case{M, N, 70, QOut::kU8, false, 255, true, 10, 200}, seed++);
        run_case(q, Case{M, N, 70, QOut::kU8, false, 127, true, 0, 127}, seed++);
      }
}

// Large A bytes everywhere: the AVX2 pair sums would saturate int16 without the split path.
TEST(QGemm, NoInt16Saturation) {
  for (Isa q : levels()) {
    Rng r(7);
    const int64_t M = 9, N = 20, K = 64;
    std::vector<uint8_t> a(size_t(M * K), 255);
    std::vector<int8_t> b(size_t(K * N));
    for (auto& v : b) v = (r.next() & 1) ? 127 : -127;
    x86::QPackedB pb;
    ASSERT_TRUE(x86::qpack_b(q, b.data(), N, 1, K, N, pb));
    std::vector<float> c(size_t(M * N)), scale(size_t(N), 1.0f);
    x86::QGemmParams p;
    p.M = M, p.N = N, p.K = K, p.a = a.data(), p.a_rs = K, p.b = &pb, p.c = c.data(), p.c_rs = N;
    p.out = QOut::kF32, p.scale = scale.data();
    x86::QGemmWorkspace ws;
    ASSERT_TRUE(x86::qgemm(p, ws, nullptr));
    for (int64_t n = 0; n < N; ++n) {
      int64_t want = 0;
      for (int64_t k = 0; k < K; ++k) want += 255 * b[size_t(k * N + n)];
      EXPECT_EQ(c[size_t(n)], float(want)) << x86::qgemm_isa_name(q) << " column " << n;
    }
  }
}

TEST(QGemm, SevenBitActivations) {
  uint64_t seed = 300;
  for (Isa q : levels())
    for (int64_t K : {7, 64, 300}) run_case(q, Case{17, 40, K, QOut::kU8, false, 127, true, 0, 127}, seed++);
}

TEST(QGemm, ConvLayouts) {
  uint64_t seed = 400;
  for (Isa q : levels())
    for (int64_t M : {1, 12, 49, 100}) {
      Case c{M, 40, 27};
      c.transposed_a = true;
      c.strided_c = true;
      run_case(q, c, seed++);
      c.out = QOut::kF32;
      run_case(q, c, seed++);
      c.out = QOut::kU8;
      c.strided_c = false;
      run_case(q, c, seed++);
    }
}

TEST(QGemm, DeepAndThreaded) {
  x86::ParallelPolicy saved = x86::parallel_policy(), low;
  low.min_macs_per_thread = 1000;
  x86::set_parallel_policy(low);
  uint64_t seed = 500;
  for (Isa q : levels()) {
    run_case(q, Case{30, 70, 4608}, seed++);
    Case c{200, 100, 300};
    c.threads = 2;
    run_case(q, c, seed++);
    c.M = 3;
    run_case(q, c, seed++);
    c.M = 1000, c.N = 20, c.K = 600;  // several row blocks
    run_case(q, c, seed++);
  }
  x86::set_parallel_policy(saved);
}

}  // namespace
}  // namespace petrel

namespace petrel {
// A of a conv read as [pixels x channels] (the NCHW layout the column packer handles): when every
// byte is below 128, no panel may take the AVX2 tile's exact (two-pass) path. The packer used to
// call every panel that is not 12 or 16 rows wide 8-bit, so AVX2 convs (4-row panels) were always
// exact and twice as slow, whatever their activations.
TEST(QGemm, SevenBitColumnPanelsTakeTheFastPath) {
  if (!x86::isa_supported(Isa::kAvx2)) GTEST_SKIP() << "no AVX2";
  for (Isa q : levels()) {
    const uint64_t before = x86::qgemm_exact_panels();
    run_case(q, Case{64, 33, 40, QOut::kU8, false, 127, true, 0, 255, /*transposed_a=*/true}, 900);
    EXPECT_EQ(x86::qgemm_exact_panels(), before) << x86::qgemm_isa_name(q);
    run_case(q, Case{64, 33, 40, QOut::kU8, false, 255, true, 0, 255, /*transposed_a=*/true}, 901);
    if (q == Isa::kAvx2) {
      EXPECT_GT(x86::qgemm_exact_panels(), before) << "8-bit panels must be exact";
    }
  }
}
}  // namespace petrel
