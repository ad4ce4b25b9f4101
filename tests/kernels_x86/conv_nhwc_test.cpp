// Differential tests of the NHWC convolution (src/kernels/x86/conv_nhwc.hpp) against the
// reference Conv kernel (NCHW), at every ISA level this CPU has, on one and two threads.
// Sizes sit around the register tiles (14 x 32 AVX-512, 6 x 16 AVX2), the 16-channel packing
// transpose and the kc = 256 depth block (which can end in the middle of a tap).
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "core/fused_activation.hpp"
#include "core/thread_pool.hpp"
#include "kernels/reference/registry.hpp"
#include "kernels/x86/conv_nhwc.hpp"
#include "kernels/x86/isa.hpp"

namespace petrel {
namespace {

using x86::Isa;

Attribute ais(const std::string& n, std::vector<int64_t> v) {
  Attribute a;
  a.name = n;
  a.type = AttrType::kInts;
  a.ints = std::move(v);
  return a;
}

Tensor random_tensor(const Shape& s, uint64_t seed) {
  Tensor t = Tensor::allocate(DataType::kFloat, s).value();
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 12345;
  for (int64_t i = 0; i < t.numel(); ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    t.as<float>()[i] = float(x % 20001) / 10000.0f - 1.0f;
  }
  return t;
}

struct Case {
  int64_t n, c, h, w, co, k, stride, dil;
  int64_t pads[4];  // top, left, bottom, right
};

// The reference Conv (NCHW, bias, no activation).
Tensor reference_conv(const Case& cs, const Tensor& x, const Tensor& wt, const Tensor& b) {
  Node n;
  n.name = "conv";
  n.op_type = "Conv";
  n.opset = 17;
  n.inputs = {ValueId(0), ValueId(1), ValueId(2)};
  n.outputs = {ValueId(3)};
  n.attrs = {ais("strides", {cs.stride, cs.stride}), ais("dilations", {cs.dil, cs.dil}),
             ais("pads", {cs.pads[0], cs.pads[1], cs.pads[2], cs.pads[3]})};
  auto k = ref::find_kernel("", "Conv")(n);
  EXPECT_TRUE(k.is_ok());
  Value in[3] = {Value::of(x), Value::of(wt), Value::of(b)};
  const Value* ins[3] = {&in[0], &in[1], &in[2]};
  Value out;
  Value* outs[1] = {&out};
  bool known[4] = {false, true, true, false};
  OpContext ictx(n, OpContext::Phase::kInfer, ins, known, outs);
  EXPECT_TRUE(k.value()->infer(ictx).is_ok());
  out.tensor = Tensor::allocate(out.tensor.dtype, out.tensor.shape).value();
  OpContext cctx(n, OpContext::Phase::kCompute, ins, nullptr, outs);
  EXPECT_TRUE(k.value()->compute(cctx).is_ok());
  return out.tensor;
}

std::vector<float> to_nhwc(const Tensor& t) {
  const int64_t N = t.shape[0], C = t.shape[1], HW = t.shape[2] * t.shape[3];
  std::vector<float> v(size_t(t.numel()));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t p = 0; p < HW; ++p) v[size_t((n * HW + p) * C + c)] = t.as<float>()[(n * C + c) * HW + p];
  return v;
}

// residual: 0 none, 1 a separate buffer, 2 in place (y holds the residual on entry).
void check(const Case& cs, const FusedActivation& act, int residual, int threads) {
  const Tensor x = random_tensor({cs.n, cs.c, cs.h, cs.w}, 1 + uint64_t(cs.c));
  const Tensor wt = random_tensor({cs.co, cs.c, cs.k, cs.k}, 2 + uint64_t(cs.co));
  const Tensor b = random_tensor({cs.co}, 3);
  const Tensor want = reference_conv(cs, x, wt, b);
  ASSERT_EQ(want.rank(), 4);
  const std::vector<float> xs = to_nhwc(x);
  std::vector<float> expect = to_nhwc(want);
  const Tensor rt = random_tensor(want.shape, 4);
  const std::vector<float> res = to_nhwc(rt);
  for (size_t i = 0; i < expect.size(); ++i) expect[i] = act.apply_one(expect[i] + (residual ? res[i] : 0.0f));
  x86::ConvNhwcShape s;
  s.n = cs.n, s.c = cs.c, s.h = cs.h, s.w = cs.w;
  s.co = cs.co, s.oh = want.shape[2], s.ow = want.shape[3];
  s.kh = s.kw = cs.k, s.sh = s.sw = cs.stride, s.dh = s.dw = cs.dil, s.pad_top = cs.pads[0], s.pad_left = cs.pads[1];
  ThreadPool pool(threads);
  x86::ParallelPolicy saved = x86::parallel_policy();
  if (threads > 1) x86::set_parallel_policy({1.0, 1});  // split even these small convolutions
  for (Isa isa : {Isa::kPortable, Isa::kAvx2, Isa::kAvx512}) {
    if (!x86::isa_supported(isa)) continue;
    ASSERT_TRUE(x86::set_isa(isa));
    auto conv = x86::ConvNhwc::make(s, wt.as<float>(), b.as<float>(), act, threads);
    ASSERT_TRUE(conv.is_ok()) << conv.status().to_string();
    for (int rep = 0; rep < 2; ++rep) {  // a second run reuses the packed filter
      std::vector<float> y(expect.size(), 123.0f);
      if (residual == 2) y = res;
      conv.value()->run(xs.data(), y.data(), residual == 1 ? res.data() : residual == 2 ? y.data() : nullptr, &pool);
      double mean = 0;
      for (float v : expect) mean += std::fabs(v);
      mean /= double(expect.size());
      const double tol = 2e-5 * std::sqrt(double(cs.c * cs.k * cs.k));
      for (size_t i = 0; i < y.size(); ++i)
        ASSERT_NEAR(expect[i], y[i], tol * (std::fabs(expect[i]) + mean))
            << "isa " << x86::isa_name(isa) << " c " << cs.c << " co " << cs.co << " k " << cs.k << " stride " << cs.stride
            << " dil " << cs.dil << " residual " << residual << " threads " << threads << " element " << i;
    }
  }
  x86::reset_isa();
  x86::set_parallel_policy(saved);
}

TEST(ConvNhwc, PointwiseAroundTheTiles) {
  for (int64_t c : {1, 15, 16, 17, 33})
    for (int64_t co : {1, 31, 32, 33, 69}) check({1, c, 5, 6, co, 1, 1, 1, {0, 0, 0, 0}}, FusedActivation{}, 0, 1);
}

TEST(ConvNhwc, PaddedStridedDilatedAndBatched) {
  const Case cases[] = {
      {1, 3, 15, 16, 32, 3, 1, 1, {1, 1, 1, 1}},   // a network's stem: 3 channels
      {2, 17, 9, 11, 33, 3, 2, 1, {1, 0, 2, 1}},   // asymmetric padding, stride 2, batch 2
      {1, 16, 12, 13, 40, 3, 1, 2, {2, 2, 2, 2}},  // dilation 2
      {1, 8, 23, 19, 64, 7, 2, 1, {3, 3, 3, 3}},   // 7 x 7 stem-like
      {1, 33, 8, 9, 48, 3, 1, 1, {1, 1, 1, 1}},    // K = 297: the kc block ends inside a tap
      {1, 64, 7, 7, 65, 1, 2, 1, {0, 0, 0, 0}},    // strided 1 x 1 (a downsample)
      {1, 300, 4, 5, 20, 1, 1, 1, {0, 0, 0, 0}},   // K > kc for a 1 x 1
      {1, 15, 12, 11, 33, 9, 1, 1, {4, 4, 4, 4}},  // whole-filter-row packing, K = 1215 split mid-row
      {1, 3, 10, 9, 20, 3, 1, 2, {2, 2, 2, 2}},    // few channels but dilated: per-tap packing
  };
  for (const Case& cs : cases) check(cs, FusedActivation{}, 0, 1);
}

TEST(ConvNhwc, FusedResidualAndActivations) {
  FusedActivation relu;
  relu.kind = Activation::kRelu;
  FusedActivation swish;
  swish.kind = Activation::kSwish;
  const Case cs{1, 40, 10, 9, 36, 3, 1, 1, {1, 1, 1, 1}};
  for (int residual : {0, 1, 2}) {
    check(cs, relu, residual, 1);
    check(cs, swish, residual, 1);
  }
}

TEST(ConvNhwc, TwoThreads) {
  FusedActivation relu;
  relu.kind = Activation::kRelu;
  check({1, 24, 17, 15, 70, 3, 1, 1, {1, 1, 1, 1}}, relu, 1, 2);
  check({2, 20, 3, 5, 64, 1, 1, 1, {0, 0, 0, 0}}, FusedActivation{}, 0, 2);
}

// Row counts that are not a multiple of the tile height are cut into balanced tiles (169 rows:
// 13 x 13 at AVX-512), over several row blocks; a filter larger than 512 KB is prefetched
// panel by panel (the last panel of one depth block prefetches the next block's first).
TEST(ConvNhwc, BalancedTilesAndStreamedFilter) {
  check({1, 8, 13, 13, 33, 1, 1, 1, {0, 0, 0, 0}}, FusedActivation{}, 0, 1);    // M = 169
  check({1, 5, 27, 27, 32, 3, 1, 1, {1, 1, 1, 1}}, FusedActivation{}, 0, 1);    // M = 729
  check({1, 200, 5, 5, 330, 3, 1, 1, {1, 1, 1, 1}}, FusedActivation{}, 1, 1);   // 2.6 MB filter, M = 25
  // Two threads split these (few rows, streamed filter) by output channels, with a residual.
  check({1, 200, 7, 7, 330, 3, 1, 1, {1, 1, 1, 1}}, FusedActivation{}, 0, 2);
  check({1, 200, 7, 7, 330, 3, 1, 1, {1, 1, 1, 1}}, FusedActivation{}, 1, 2);
  check({1, 200, 11, 13, 140, 3, 1, 1, {1, 1, 1, 1}}, FusedActivation{}, 2, 2);
}

TEST(ConvNhwc, RejectsBadGeometry) {
  x86::ConvNhwcShape s;  // all sizes zero
  std::vector<float> w(1, 0.0f);
  EXPECT_FALSE(x86::ConvNhwc::make(s, w.data(), nullptr, FusedActivation{}, 1).is_ok());
}

}  // namespace
}  // namespace petrel
