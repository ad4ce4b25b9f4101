// GFLOP/s of the NHWC convolution (conv_nhwc.hpp; not a test). Usage:
//   petrel_conv_bench [--threads T] [--reps R] [--cold N] H W Cin Cout k stride pad [...]
// Each group of seven numbers is one square k x k convolution of an H x W x Cin image; prints
// the best time of R runs and the largest difference from a direct loop on a sample of outputs.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "kernels/x86/conv_nhwc.hpp"

using namespace petrel;
using namespace petrel::x86;

int main(int argc, char** argv) {
  int threads = 1, reps = 30, copies = 1;
  std::vector<long> v;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--cold") && i + 1 < argc) copies = std::max(1, std::atoi(argv[++i]));
    else v.push_back(std::atol(argv[i]));
  }
  if (v.empty() || v.size() % 7 != 0) {
    std::fprintf(stderr, "usage: petrel_conv_bench [--threads T] [--reps R] H W Cin Cout k stride pad [...]\n");
    return 2;
  }
  ThreadPool pool(threads);
  for (size_t g = 0; g < v.size(); g += 7) {
    ConvNhwcShape s;
    s.h = v[g], s.w = v[g + 1], s.c = v[g + 2], s.co = v[g + 3], s.kh = s.kw = v[g + 4], s.sh = s.sw = v[g + 5];
    s.pad_top = s.pad_left = v[g + 6];
    s.oh = (s.h + 2 * s.pad_top - s.kh) / s.sh + 1, s.ow = (s.w + 2 * s.pad_left - s.kw) / s.sw + 1;
    std::vector<float> x(size_t(s.h * s.w * s.c)), w(size_t(s.co * s.c * s.kh * s.kw)), b(size_t(s.co)),
        y(size_t(s.oh * s.ow * s.co));
    for (size_t i = 0; i < x.size(); ++i) x[i] = float(i % 7) * 0.1f - 0.3f;
    for (size_t i = 0; i < w.size(); ++i) w[i] = float(i % 5) * 0.01f - 0.02f;
    for (size_t i = 0; i < b.size(); ++i) b[i] = float(i % 3) * 0.1f;
    auto conv = ConvNhwc::make(s, w.data(), b.data(), FusedActivation{}, threads);
    if (!conv) { std::fprintf(stderr, "%s\n", conv.status().message().c_str()); return 1; }
    // --cold N: N copies of the filter, run in turn, so that (as in a whole network) the
    // packed weights come from memory rather than from a cache the last run warmed.
    std::vector<std::unique_ptr<ConvNhwc>> extra;
    for (int c = 1; c < copies; ++c) extra.push_back(std::move(ConvNhwc::make(s, w.data(), b.data(), FusedActivation{}, threads).value()));
    double best = 1e30;
    for (int r = 0; r < reps; ++r) {
      for (auto& e : extra) e->run(x.data(), y.data(), nullptr, &pool);
      const auto t0 = std::chrono::steady_clock::now();
      conv.value()->run(x.data(), y.data(), nullptr, &pool);
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    double err = 0;
    for (long oy = 0; oy < s.oh; oy += 5)
      for (long ox = 0; ox < s.ow; ox += 3)
        for (long o = 0; o < s.co; o += 7) {
          double ref = b[size_t(o)];
          for (long ky = 0; ky < s.kh; ++ky)
            for (long kx = 0; kx < s.kw; ++kx) {
              const long iy = oy * s.sh - s.pad_top + ky, ix = ox * s.sw - s.pad_left + kx;
              if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) continue;
              for (long c = 0; c < s.c; ++c)
                ref += double(x[size_t((iy * s.w + ix) * s.c + c)]) * w[size_t(((o * s.c + c) * s.kh + ky) * s.kw + kx)];
            }
          err = std::max(err, std::abs(ref - double(y[size_t((oy * s.ow + ox) * s.co + o)])));
        }
    const double flop = 2.0 * conv.value()->macs();
    std::printf("conv %ldx%ldx%ld->%ld k%ld s%ld: M=%ld N=%ld K=%ld  %.1f us  %.1f GFLOP/s  max err %.2g\n", long(s.h),
                long(s.w), long(s.c), long(s.co), long(s.kh), long(s.sh), long(s.oh * s.ow), long(s.co),
                long(s.c * s.kh * s.kw), best * 1e6, flop / best / 1e9, err);
  }
  return 0;
}
