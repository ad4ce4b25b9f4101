// Differential tests of the depthwise NHWC convolution (src/kernels/x86/dwconv_nhwc.hpp)
// against the reference Conv kernel (NCHW, group = channels), at every ISA level this CPU has.
// Channel counts sit around the vector widths (4, 8, 16 lanes: 1, 15, 16, 17, 31, 33), images
// are odd-sized and small enough that the border paths meet the interior blocks, and every
// specialised kernel (3x3 / 5x5, stride 1 / 2) runs with symmetric, asymmetric and no padding.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "core/fused_activation.hpp"
#include "core/thread_pool.hpp"
#include "kernels/reference/registry.hpp"
#include "kernels/x86/dwconv_nhwc.hpp"
#include "kernels/x86/isa.hpp"
#include "kernels/x86/sgemm.hpp"

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

Attribute ai(const std::string& n, int64_t v) {
  Attribute a;
  a.name = n;
  a.type = AttrType::kInt;
  a.i = v;
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
  int64_t n, c, h, w, kh, kw, stride, dil;
  int64_t pads[4];  // top, left, bottom, right
};

// The reference depthwise Conv (NCHW, bias, no activation).
Tensor reference_conv(const Case& cs, const Tensor& x, const Tensor& wt, const Tensor& b) {
  Node n;
  n.name = "dwconv";
  n.op_type = "Conv";
  n.opset = 17;
  n.inputs = {ValueId(0), ValueId(1), ValueId(2)};
  n.outputs = {ValueId(3)};
  n.attrs = {ais("strides", {cs.stride, cs.stride}), ais("dilations", {cs.dil, cs.dil}),
             ais("pads", {cs.pads[0], cs.pads[1], cs.pads[2], cs.pads[3]}), ai("group", cs.c)};
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

void check(const Case& cs, const FusedActivation& act, bool with_bias, int threads) {
  const Tensor x = random_tensor({cs.n, cs.c, cs.h, cs.w}, 1 + uint64_t(cs.c * 7 + cs.h));
  const Tensor wt = random_tensor({cs.c, 1, cs.kh, cs.kw}, 2 + uint64_t(cs.c));
  Tensor b = random_tensor({cs.c}, 3);
  if (!with_bias)
    for (int64_t i = 0; i < cs.c; ++i) b.as<float>()[i] = 0.0f;
  const Tensor want = reference_conv(cs, x, wt, b);
  ASSERT_EQ(want.rank(), 4);
  const std::vector<float> xs = to_nhwc(x);
  std::vector<float> expect = to_nhwc(want);
  for (float& v : expect) v = act.apply_one(v);
  x86::ConvNhwcShape s;
  s.n = cs.n, s.c = cs.c, s.h = cs.h, s.w = cs.w;
  s.co = cs.c, s.oh = want.shape[2], s.ow = want.shape[3];
  s.kh = cs.kh, s.kw = cs.kw, s.sh = s.sw = cs.stride, s.dh = s.dw = cs.dil, s.pad_top = cs.pads[0],
  s.pad_left = cs.pads[1];
  ThreadPool pool(threads);
  x86::ParallelPolicy saved = x86::parallel_policy();
  if (threads > 1) x86::set_parallel_policy({1.0, 1});  // split even these small convolutions
  for (Isa isa : {Isa::kPortable, Isa::kAvx2, Isa::kAvx512}) {
    if (!x86::isa_supported(isa)) continue;
    ASSERT_TRUE(x86::set_isa(isa));
    auto conv = x86::DwConvNhwc::make(s, wt.as<float>(), with_bias ? b.as<float>() : nullptr, act);
    ASSERT_TRUE(conv.is_ok()) << conv.status().to_string();
    for (int rep = 0; rep < 2; ++rep) {
      // Guard floats after the output: a store past the end would change them.
      std::vector<float> y(expect.size() + 16, 123.0f);
      conv.value()->run(xs.data(), y.data(), &pool);
      for (size_t i = expect.size(); i < y.size(); ++i) ASSERT_EQ(y[i], 123.0f) << "write past the output";
      for (size_t i = 0; i < expect.size(); ++i)
        ASSERT_NEAR(expect[i], y[i], 1e-5 * (std::fabs(expect[i]) + 1.0))
            << "isa " << x86::isa_name(isa) << " n " << cs.n << " c " << cs.c << " h " << cs.h << " w " << cs.w << " k "
            << cs.kh << "x" << cs.kw << " stride " << cs.stride << " dil " << cs.dil << " pads " << cs.pads[0] << ","
            << cs.pads[1] << "," << cs.pads[2] << "," << cs.pads[3] << " act " << act.name() << " threads " << threads
            << " element " << i << " (pixel " << i / size_t(cs.c) << ", channel " << i % size_t(cs.c) << ")";
    }
  }
  x86::reset_isa();
  x86::set_parallel_policy(saved);
}

TEST(DwConvNhwc, SpecialisedKernelsAroundTheVectorWidth) {
  FusedActivation relu;
  relu.kind = Activation::kRelu;
  for (int64_t k : {3, 5})
    for (int64_t stride : {1, 2})
      for (int64_t c : {1, 15, 16, 17, 31, 33}) {
        const int64_t p = k / 2;
        check({1, c, 11, 13, k, k, stride, 1, {p, p, p, p}}, relu, true, 1);  // "same" padding
        check({1, c, 9, 7, k, k, stride, 1, {0, 0, 0, 0}}, FusedActivation{}, true, 1);  // none
        check({1, c, 7, 12, k, k, stride, 1, {0, p, p, 0}}, FusedActivation{}, false, 1);  // asymmetric
      }
}

TEST(DwConvNhwc, WideRowsAndTinyImages) {
  const Case cases[] = {
      {1, 32, 5, 37, 3, 3, 1, 1, {1, 1, 1, 1}},   // several 8-pixel blocks and a remainder
      {1, 48, 6, 40, 3, 3, 2, 1, {1, 1, 1, 1}},   // stride 2, even width
      {1, 24, 7, 29, 5, 5, 1, 1, {2, 2, 2, 2}},   // 5x5 blocks of 4
      {1, 40, 8, 30, 5, 5, 2, 1, {2, 2, 2, 2}},   // 5x5 stride 2
      {1, 17, 1, 1, 3, 3, 1, 1, {1, 1, 1, 1}},    // one pixel: every tap but the centre padded
      {1, 16, 2, 3, 5, 5, 1, 1, {2, 2, 2, 2}},    // image smaller than the filter
      {1, 9, 3, 3, 5, 5, 2, 1, {3, 3, 3, 3}},     // padding wider than half the filter
      {2, 19, 6, 5, 3, 3, 1, 1, {1, 1, 1, 1}},    // batch 2
  };
  for (const Case& cs : cases) check(cs, FusedActivation{}, true, 1);
}

TEST(DwConvNhwc, GenericSizesStridesAndDilations) {
  const Case cases[] = {
      {1, 17, 9, 10, 3, 3, 1, 2, {2, 2, 2, 2}},   // dilation 2
      {1, 16, 11, 9, 7, 7, 2, 1, {3, 3, 3, 3}},   // 7x7
      {1, 33, 8, 8, 3, 5, 1, 1, {1, 2, 1, 2}},    // non-square
      {1, 15, 10, 11, 3, 3, 3, 1, {1, 1, 0, 0}},  // stride 3
      {1, 31, 6, 7, 1, 1, 1, 1, {0, 0, 0, 0}},    // 1x1
  };
  for (const Case& cs : cases) check(cs, FusedActivation{}, true, 1);
}

TEST(DwConvNhwc, FusedActivations) {
  const Activation kinds[] = {Activation::kRelu, Activation::kClip, Activation::kSwish, Activation::kHardSwish,
                              Activation::kSigmoid, Activation::kLeakyRelu};
  for (Activation kind : kinds) {
    FusedActivation a;
    a.kind = kind;
    if (kind == Activation::kClip) a.p0 = 0.0f, a.p1 = 0.5f;  // tight enough to clamp both ends
    if (kind == Activation::kLeakyRelu) a.p0 = 0.1f;
    check({1, 33, 9, 11, 3, 3, 1, 1, {1, 1, 1, 1}}, a, true, 1);
    check({1, 17, 9, 11, 5, 5, 2, 1, {2, 2, 2, 2}}, a, true, 1);
  }
}

TEST(DwConvNhwc, TwoThreads) {
  FusedActivation swish;
  swish.kind = Activation::kSwish;
  check({2, 35, 13, 11, 3, 3, 1, 1, {1, 1, 1, 1}}, swish, true, 2);
  check({1, 20, 15, 14, 5, 5, 2, 1, {2, 2, 2, 2}}, FusedActivation{}, true, 2);
}

TEST(DwConvNhwc, RejectsBadGeometry) {
  x86::ConvNhwcShape s;  // all sizes zero
  std::vector<float> w(9, 0.0f);
  EXPECT_FALSE(x86::DwConvNhwc::make(s, w.data(), nullptr, FusedActivation{}).is_ok());
  s.n = 1, s.h = s.w = s.oh = s.ow = 3, s.c = 4, s.co = 8, s.kh = s.kw = 3, s.pad_top = s.pad_left = 1;
  EXPECT_FALSE(x86::DwConvNhwc::make(s, w.data(), nullptr, FusedActivation{}).is_ok());  // a channel multiplier
}

}  // namespace
}  // namespace petrel
