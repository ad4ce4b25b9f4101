// 7-bit activations (petrel.activation_bits = 7, `petrel quantize --reduce-range`): the fused
// int8 ops marked by opt::mark_activation_bits clamp their inputs and outputs to 7 bits, so the
// AVX2 int8 tile never takes its exact (two-pass, saturation-avoiding) path — checked with the
// GEMM's count of such panels — and the result stays within one output quantization step of
// the fake-quant float graph fed the input clipped to the 7-bit range.
#include "kernels/x86/isa.hpp"
#include "kernels/x86/qgemm.hpp"
#include "opt_test_util.hpp"

using namespace petrel;
using namespace petrel::test;

namespace {

Tensor zp_scalar(DataType dt, int64_t v) {
  Tensor t = Tensor::allocate(dt, {}).value();
  if (dt == DataType::kUInt8) t.as<uint8_t>()[0] = uint8_t(v);
  else t.as<int8_t>()[0] = int8_t(v);
  return t;
}

struct Spec {
  DataType act = DataType::kUInt8;
  bool conv = false;  // Conv 3x3 (im2col) instead of MatMul
  float sx = 2.0f / 127, sy = 0.f;
};
// 7-bit zero points: u8 in 0..127 (centre 64), s8 in -64..63 (centre 0).
int64_t zp7(DataType t) { return t == DataType::kUInt8 ? 64 : 0; }

// x -> Q/DQ (7-bit scale) -> MatMul|Conv (int8 per-channel weight, int32 bias) -> Q/DQ (sy).
Graph build(const Spec& s, const Shape& xs) {
  GraphBuilder b;
  ValueId x = b.input("x", xs);
  auto qdq = [&](ValueId v, float sc) {
    ValueId sv = b.constant(fscalar(sc)), zv = b.constant(zp_scalar(s.act, zp7(s.act)));
    return b.node("DequantizeLinear", {b.node("QuantizeLinear", {v, sv, zv}), sv, zv});
  };
  const int64_t K = s.conv ? xs[1] : xs.back(), N = 19;
  const Shape ws = s.conv ? Shape{N, K, 3, 3} : Shape{K, N};
  Tensor w = Tensor::allocate(DataType::kInt8, ws).value();
  std::vector<float> r = ramp(w.numel(), 1.0f, 7);
  for (int64_t i = 0; i < w.numel(); ++i) w.as<int8_t>()[i] = int8_t(std::lround(r[size_t(i)] * 63));
  std::vector<float> sw(static_cast<size_t>(N));
  for (int64_t c = 0; c < N; ++c) sw[size_t(c)] = 0.01f * float(1 + c % 4);
  ValueId wv = b.node("DequantizeLinear", {b.constant(std::move(w)), b.constant(ftensor({N}, sw))}, {a_int("axis", s.conv ? 0 : 1)});
  ValueId xq = qdq(x, s.sx);
  ValueId y;
  if (s.conv) {
    Tensor bias = Tensor::allocate(DataType::kInt32, {N}).value();
    std::vector<float> bs(static_cast<size_t>(N));
    for (int64_t c = 0; c < N; ++c) bias.as<int32_t>()[c] = int32_t(c * 13 % 50) - 25, bs[size_t(c)] = s.sx * sw[size_t(c)];
    ValueId bv = b.node("DequantizeLinear", {b.constant(std::move(bias)), b.constant(ftensor({N}, bs))}, {a_int("axis", 0)});
    y = b.node("Conv", {xq, wv, bv}, {a_ints("pads", {1, 1, 1, 1})});
  } else {
    y = b.node("MatMul", {xq, wv});
  }
  if (s.sy > 0) y = qdq(y, s.sy);
  b.output(y);
  return b.graph();
}

std::vector<x86::Isa> levels() {
  std::vector<x86::Isa> v;
  for (x86::Isa i : {x86::Isa::kPortable, x86::Isa::kAvx2, x86::Isa::kAvx512})
    if (x86::isa_supported(i)) v.push_back(i);
  return v;
}

void check(Spec s, const Shape& xs) {
  int64_t n = 1;
  for (int64_t d : xs) n *= d;
  // Inputs over [-2, 2): about half lie past the 7-bit range [-64, 63]·sx = [-1, 1) and quantize
  // (at the graph input, 8-bit QuantizeLinear) to bytes above 127.
  const std::vector<float> x = ramp(n, 1.0f, 5);
  std::vector<float> xc = x;
  const float lo = float(-64) * s.sx, hi = float(63) * s.sx;
  for (float& v : xc) v = std::clamp(v, lo, hi);
  // The output scale: 7 bits over twice the float result's range, so the reference's output
  // stays inside 7 bits too.
  const std::vector<Tensor> fl = run_graph(build(s, xs), {ftensor(xs, xc)});
  ASSERT_EQ(fl.size(), 1u);
  float m = 0.f;
  for (int64_t i = 0; i < fl[0].numel(); ++i) m = std::max(m, std::fabs(fl[0].as<float>()[i]));
  s.sy = 2.0f * m / 63.0f;
  const Graph g = build(s, xs);
  const std::vector<Tensor> want = run_graph(g, {ftensor(xs, xc)});
  Graph h = g;
  opt::PassManager pm;
  pm.add(opt::make_qdq_fusion_pass());
  pm.add(opt::make_dead_node_pass());
  opt::OptimizeStats st;
  ASSERT_TRUE(pm.run(h, {}, &st).is_ok());
  ASSERT_EQ(st.count("qdq_fusion"), 1);
  Graph h7 = h;
  EXPECT_EQ(opt::mark_activation_bits(h7, 7), 1);
  EXPECT_EQ(opt::mark_activation_bits(h, 8), 0);
  for (x86::Isa isa : levels()) {
    ASSERT_TRUE(x86::set_isa(isa));
    const uint64_t before = x86::qgemm_exact_panels();
    const std::vector<Tensor> got = run_graph(h7, {ftensor(xs, x)});
    if (isa == x86::Isa::kAvx2) {
      EXPECT_EQ(x86::qgemm_exact_panels(), before) << "a 7-bit panel took the exact path";
    }
    ASSERT_EQ(got.size(), 1u);
    for (int64_t i = 0; i < want[0].numel(); ++i)
      ASSERT_NEAR(got[0].as<float>()[i], want[0].as<float>()[i], s.sy * 1.001 + 1e-6) << x86::isa_name(isa) << " element " << i;
    if (isa == x86::Isa::kAvx2) {
      // Without the mark the same input has bytes > 127: the exact path, which this test
      // would otherwise not be able to tell apart.
      const uint64_t b8 = x86::qgemm_exact_panels();
      (void)run_graph(h, {ftensor(xs, x)});
      EXPECT_GT(x86::qgemm_exact_panels(), b8);
    }
  }
  x86::reset_isa();
}

}  // namespace

TEST(ActivationBits, MatMulU8) { check({DataType::kUInt8, false}, {37, 70}); }
TEST(ActivationBits, MatMulS8) { check({DataType::kInt8, false}, {9, 33}); }
TEST(ActivationBits, ConvU8) { check({DataType::kUInt8, true}, {1, 5, 9, 11}); }
TEST(ActivationBits, ConvS8) { check({DataType::kInt8, true}, {1, 6, 7, 8}); }

TEST(ActivationBits, Metadata) {
  EXPECT_EQ(opt::activation_bits_from_metadata({}).value(), 8);
  EXPECT_EQ(opt::activation_bits_from_metadata({{"other", "x"}, {"petrel.activation_bits", "7"}}).value(), 7);
  EXPECT_EQ(opt::activation_bits_from_metadata({{"petrel.activation_bits", "8"}}).value(), 8);
  auto bad = opt::activation_bits_from_metadata({{"petrel.activation_bits", "six"}});
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().to_string().find("must be 7 or 8"), std::string::npos);
}
