// GFLOP/s of the x86 SGEMM (not a test: bench/ reports it). Usage:
//   petrel_sgemm_bench [--isa avx512|avx2|portable] [--threads T] [--reps R] [--gelu] [MxNxK ...]
// Prints, per size, the packed-B product (constant weights: B packed once, outside the
// timing) and the product with B packed on every call (activations: attention's Q·Kᵀ, P·V).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/thread_pool.hpp"
#include "kernels/x86/sgemm.hpp"

using namespace petrel;
using namespace petrel::x86;

namespace {

double best_seconds(int reps, auto&& f) {
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1, reps = 20;
  FusedActivation act;
  std::vector<std::string> sizes;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--isa") && i + 1 < argc) {
      auto isa = parse_isa(argv[++i]);
      if (!isa || !set_isa(*isa)) { std::fprintf(stderr, "unsupported ISA %s\n", argv[i]); return 2; }
    } else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--gelu")) {
      act.kind = Activation::kGelu;
    } else if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) {
      reps = std::atoi(argv[++i]);
    } else {
      sizes.push_back(argv[i]);
    }
  }
  if (sizes.empty()) sizes = {"512x768x768", "384x768x3072", "128x1024x256", "128x128x64", "128x64x128", "64x1536x384"};
  const IsaKernels& ik = active_kernels();
  ThreadPool pool(threads);
  for (const std::string& s : sizes) {
    long M = 0, N = 0, K = 0;
    if (std::sscanf(s.c_str(), "%ldx%ldx%ld", &M, &N, &K) != 3) { std::fprintf(stderr, "bad size %s\n", s.c_str()); return 2; }
    std::vector<float> a(size_t(M * K)), b(size_t(K * N)), c(size_t(M * N));
    for (size_t i = 0; i < a.size(); ++i) a[i] = float(i % 7) * 0.1f - 0.3f;
    for (size_t i = 0; i < b.size(); ++i) b[i] = float(i % 5) * 0.1f - 0.2f;
    FloatBuffer pb, ws;
    if (!pb.reserve(packed_b_floats(ik, K, N)) || !ws.reserve(sgemm_workspace_floats(ik, sgemm_slices(&pool)))) return 1;
    SgemmBatch p;
    p.M = M, p.N = N, p.K = K;
    p.a = a.data(), p.a_rs = K, p.a_cs = 1;
    p.b_packed = pb.data();
    p.c = c.data(), p.ldc = N;
    p.ep.act = &act;
    pack_b(ik, {b.data(), N, 1}, nullptr, 1, K, N, pb.data(), &pool);
    const double flop = 2.0 * double(M) * double(N) * double(K);
    const double t_packed = best_seconds(reps, [&] { sgemm(ik, p, ws.data(), &pool); });
    const double t_full = best_seconds(reps, [&] {
      pack_b(ik, {b.data(), N, 1}, nullptr, 1, K, N, pb.data(), &pool);
      sgemm(ik, p, ws.data(), &pool);
    });
    double max_err = 0;  // spot check against a naive dot product
    for (long i = 0; i < M; i += 37)
      for (long j = 0; j < N; j += 13) {
        double ref = 0;
        for (long k = 0; k < K; ++k) ref += double(a[size_t(i * K + k)]) * double(b[size_t(k * N + j)]);
        max_err = std::max(max_err, std::abs(ref - double(c[size_t(i * N + j)])));
      }
    if (!act.none()) max_err = 0;  // the spot check knows no activation
    if (max_err > 1e-3 * double(K)) { std::fprintf(stderr, "%s: wrong result (max error %g)\n", s.c_str(), max_err); return 1; }
    std::printf("%-8s %-14s threads %d  packed B: %7.1f GFLOP/s (%.3f ms)  B packed per call: %7.1f GFLOP/s\n",
                isa_name(ik.isa), s.c_str(), threads, flop / t_packed * 1e-9, t_packed * 1e3, flop / t_full * 1e-9);
  }
  return 0;
}
