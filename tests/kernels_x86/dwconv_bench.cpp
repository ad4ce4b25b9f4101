// Time of the depthwise NHWC convolution (dwconv_nhwc.hpp) against XNNPACK's on the same shape
// (not a test). Usage:
//   petrel_dwconv_bench [--reps R] [--act relu|swish] H W C k stride pad [...]
// Each group of six numbers is one k x k depthwise convolution of an H x W x C image, one
// thread; prints the best of R runs of each and the largest difference between the two.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#if defined(PETREL_HAVE_XNNPACK)
#include <xnnpack.h>
#endif

#include "kernels/x86/dwconv_nhwc.hpp"

using namespace petrel;
using namespace petrel::x86;

namespace {
struct Span {
  float* p;
  size_t n;
  float* data() { return p; }
  size_t size() const { return n; }
  float& operator[](size_t i) { return p[i]; }
};
template <typename F> double best_of(int reps, F&& f) {
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
  int reps = 50;
  FusedActivation act;
  std::vector<long> v;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--act") && i + 1 < argc) {
      ++i;
      act.kind = !std::strcmp(argv[i], "relu") ? Activation::kRelu : !std::strcmp(argv[i], "swish") ? Activation::kSwish
                                                                                                  : Activation::kNone;
    } else v.push_back(std::atol(argv[i]));
  }
  if (v.empty() || v.size() % 6 != 0) {
    std::fprintf(stderr, "usage: petrel_dwconv_bench [--reps R] [--act relu|swish] H W C k stride pad [...]\n");
    return 2;
  }
#if defined(PETREL_HAVE_XNNPACK)
  if (xnn_initialize(nullptr) != xnn_status_success) return 1;
#endif
  std::printf("%-24s %10s %10s %9s %9s %8s\n", "shape (HxWxC k s)", "xnnpack us", "petrel us", "xnn GF/s", "ours GF/s",
              "max diff");
  for (size_t g = 0; g < v.size(); g += 6) {
    ConvNhwcShape s;
    s.h = v[g], s.w = v[g + 1], s.c = s.co = v[g + 2], s.kh = s.kw = v[g + 3], s.sh = s.sw = v[g + 4];
    s.pad_top = s.pad_left = v[g + 5];
    s.oh = (s.h + 2 * s.pad_top - s.kh) / s.sh + 1, s.ow = (s.w + 2 * s.pad_left - s.kw) / s.sw + 1;
    // Activations 64-byte aligned, as in a partition (XNNPACK's arena and Petrel's buffers).
    std::vector<float> xb(size_t(s.h * s.w * s.c) + 32), w(size_t(s.c * s.kh * s.kw)), b(size_t(s.c)),
        yb(size_t(s.oh * s.ow * s.c) + 32), y2b(yb.size());
    auto align = [](std::vector<float>& v) { return reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(v.data()) + 63) & ~uintptr_t(63)); };
    Span x{align(xb), xb.size() - 16}, y{align(yb), yb.size() - 16}, y2{align(y2b), y2b.size() - 16};
    for (size_t i = 0; i < x.size(); ++i) x[i] = float(i % 7) * 0.1f - 0.3f;
    for (size_t i = 0; i < w.size(); ++i) w[i] = float(i % 5) * 0.01f - 0.02f;
    for (size_t i = 0; i < b.size(); ++i) b[i] = float(i % 3) * 0.1f;
    auto conv = DwConvNhwc::make(s, w.data(), b.data(), act);
    if (!conv) { std::fprintf(stderr, "%s\n", conv.status().message().c_str()); return 1; }
    const double ours = best_of(reps, [&] { conv.value()->run(x.data(), y.data(), nullptr); });
    double xnn = 0, diff = 0;
#if defined(PETREL_HAVE_XNNPACK)
    // XNNPACK's depthwise layout: [kh][kw][C].
    std::vector<float> wx(w.size());
    for (long c = 0; c < s.c; ++c)
      for (long t = 0; t < s.kh * s.kw; ++t) wx[size_t(t * s.c + c)] = w[size_t(c * s.kh * s.kw + t)];
    const float lo = act.kind == Activation::kRelu ? 0.0f : -INFINITY;
    xnn_operator_t op = nullptr;
    const uint32_t p = uint32_t(s.pad_top);
    if (xnn_create_convolution2d_nhwc_f32(p, p, p, p, uint32_t(s.kh), uint32_t(s.kw), uint32_t(s.sh), uint32_t(s.sw), 1, 1,
                                          uint32_t(s.c), 1, 1, size_t(s.c), size_t(s.c), wx.data(), b.data(), lo, INFINITY,
                                          XNN_FLAG_DEPTHWISE_CONVOLUTION, &op) != xnn_status_success ||
        xnn_setup_convolution2d_nhwc_f32(op, 1, size_t(s.h), size_t(s.w), x.data(), y2.data(), nullptr) !=
            xnn_status_success) {
      std::fprintf(stderr, "XNNPACK rejected the shape\n");
      return 1;
    }
    xnn = best_of(reps, [&] { xnn_run_operator(op, nullptr); });
    xnn_delete_operator(op);
    if (act.kind != Activation::kSwish)
      for (size_t i = 0; i + 16 < y.size(); ++i) diff = std::max(diff, double(std::fabs(y[i] - y2[i])));
#endif
    const double flop = 2.0 * conv.value()->macs();
    char name[64];
    std::snprintf(name, sizeof name, "%ldx%ldx%ld k%ld s%ld", long(s.h), long(s.w), long(s.c), long(s.kh), long(s.sh));
    std::printf("%-24s %10.1f %10.1f %9.1f %9.1f %8.2g\n", name, xnn * 1e6, ours * 1e6, xnn > 0 ? flop / xnn / 1e9 : 0.0,
                flop / ours / 1e9, diff);
  }
  return 0;
}
