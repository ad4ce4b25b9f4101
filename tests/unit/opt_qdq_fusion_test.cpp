// qdq_fusion + the int8 kernels (petrel.QConv/QGemm/QAdd/DynQMatMul): golden tests. Each graph
// is the fake-quant float path (QuantizeLinear / DequantizeLinear around float ops, run on the
// reference kernels); after the pass the fused int8 kernel must give the same quantized result
// within one quantization step of the output, at every x86 level this CPU has.
#include "kernels/x86/isa.hpp"
#include "opt_test_util.hpp"

using namespace petrel;
using namespace petrel::test;

namespace {

Tensor scalar_of(DataType dt, int64_t v) {
  Tensor t = Tensor::allocate(dt, {}).value();
  if (dt == DataType::kUInt8) t.as<uint8_t>()[0] = uint8_t(v);
  else t.as<int8_t>()[0] = int8_t(v);
  return t;
}

struct QB {
  GraphBuilder b;
  DataType act = DataType::kUInt8;
  // Q then DQ of x with (s, zp): the fake-quantized activation.
  ValueId qdq(ValueId x, float s, int64_t zp) {
    ValueId sv = b.constant(fscalar(s)), zv = b.constant(scalar_of(act, zp));
    return b.node("DequantizeLinear", {b.node("QuantizeLinear", {x, sv, zv}), sv, zv});
  }
  ValueId q(ValueId x, float s, int64_t zp) { return b.node("QuantizeLinear", {x, b.constant(fscalar(s)), b.constant(scalar_of(act, zp))}); }
  // An int8 weight quantized per `axis` (symmetric), as DQ(w_q, s_w, axis); also returns the scales.
  ValueId weight(const Shape& shape, int axis, std::vector<float>& sw, int seed, bool nonzero_zp = false) {
    Tensor w = Tensor::allocate(DataType::kInt8, shape).value();
    const int64_t ch = shape[size_t(axis)];
    int64_t inner = 1;
    for (size_t d = size_t(axis) + 1; d < shape.size(); ++d) inner *= shape[d];
    std::vector<float> r = ramp(w.numel(), 1.0f, seed);
    for (int64_t i = 0; i < w.numel(); ++i) w.as<int8_t>()[i] = int8_t(std::lround(r[size_t(i)] * 63));
    sw.assign(size_t(ch), 0.f);
    for (int64_t c = 0; c < ch; ++c) sw[size_t(c)] = 0.01f * float(1 + c % 5);
    std::vector<ValueId> in = {b.constant(std::move(w)), b.constant(ftensor({ch}, sw))};
    if (nonzero_zp) {
      Tensor z = Tensor::allocate(DataType::kInt8, {ch}).value();
      for (int64_t c = 0; c < ch; ++c) z.as<int8_t>()[c] = int8_t(c % 3);
      in.push_back(b.constant(std::move(z)));
    }
    (void)inner;
    return b.node("DequantizeLinear", in, {a_int("axis", axis)});
  }
  ValueId bias(int64_t n, float sx, const std::vector<float>& sw, float mismatch = 1.0f) {
    Tensor t = Tensor::allocate(DataType::kInt32, {n}).value();
    std::vector<float> s(static_cast<size_t>(n));
    for (int64_t c = 0; c < n; ++c) {
      t.as<int32_t>()[c] = int32_t(c * 37 % 200) - 100;
      s[size_t(c)] = sx * sw[size_t(c)] * mismatch;
    }
    return b.node("DequantizeLinear", {b.constant(std::move(t)), b.constant(ftensor({n}, s))}, {a_int("axis", 0)});
  }
};

std::vector<x86::Isa> levels() {
  std::vector<x86::Isa> v;
  for (x86::Isa i : {x86::Isa::kPortable, x86::Isa::kAvx2, x86::Isa::kAvx512})
    if (x86::isa_supported(i)) v.push_back(i);
  return v;
}

// Runs g as is (fake-quant float path) and after qdq_fusion (at every level); outputs must
// agree within `step` (absolute; one output quantization step) plus float noise. Returns the
// fused graph.
Graph check_fused(const Graph& g, const std::vector<Tensor>& inputs, double step, opt::OptimizeStats* stats = nullptr) {
  std::vector<Tensor> want = run_graph(g, inputs);
  Graph h = g;
  opt::PassManager pm;
  pm.add(opt::make_qdq_fusion_pass());
  pm.add(opt::make_qdq_pool_fusion_pass());  // the optimizer runs it right after (pools, Concat)
  pm.add(opt::make_dead_node_pass());
  opt::OptimizeStats local;
  opt::OptimizeStats& st = stats ? *stats : local;
  EXPECT_TRUE(pm.run(h, {}, &st).is_ok());
  EXPECT_TRUE(st.rejected.empty());
  for (x86::Isa isa : levels()) {
    x86::set_isa(isa);
    std::vector<Tensor> got = run_graph(h, inputs);
    EXPECT_EQ(got.size(), want.size());
    for (size_t k = 0; k < got.size() && k < want.size(); ++k) {
      EXPECT_EQ(got[k].shape, want[k].shape);
      int bad = 0;
      for (int64_t i = 0; i < want[k].numel() && i < got[k].numel(); ++i) {
        const double x = element_as_double(got[k], i), y = element_as_double(want[k], i);
        if (std::fabs(x - y) > step * 1.001 + 1e-5 * std::fabs(y) && bad++ < 5)
          ADD_FAILURE() << x86::isa_name(isa) << " output " << k << " element " << i << ": " << x << " vs " << y;
      }
    }
  }
  x86::reset_isa();
  return h;
}

struct ConvCase {
  int64_t N = 1, C, M, H, W, k;
  int64_t stride = 1, pad = 0, dil = 1, group = 1;
  const char* act = "";  // "", "Relu", "Clip"
  DataType type = DataType::kUInt8;
  bool quantized_out = true;
};

// Checks c against the float graph; returns the fused graph and its input.
std::pair<Graph, Tensor> conv_case(const ConvCase& c) {
  QB q;
  q.act = c.type;
  const bool s8 = c.type == DataType::kInt8;
  ValueId x = q.b.input("x", {c.N, c.C, c.H, c.W});
  const float sx = 4.0f / 255, sy = 0.02f * std::sqrt(float(c.C / c.group * c.k * c.k));
  const int64_t zx = s8 ? 3 : 128, zy = s8 ? -5 : (c.act[0] ? 10 : 128);
  std::vector<float> sw;
  ValueId w = q.weight({c.M, c.C / c.group, c.k, c.k}, 0, sw, 7);
  std::vector<Attribute> at = {a_ints("strides", {c.stride, c.stride}), a_ints("pads", {c.pad, c.pad, c.pad, c.pad}),
                               a_ints("dilations", {c.dil, c.dil}), a_int("group", c.group)};
  ValueId y = q.b.node("Conv", {q.qdq(x, sx, zx), w, q.bias(c.M, sx, sw)}, at);
  if (std::string(c.act) == "Relu") y = q.b.node("Relu", {y});
  if (std::string(c.act) == "Clip") y = q.b.node("Clip", {y, q.b.constant(fscalar(0.f)), q.b.constant(fscalar(0.7f))});
  if (c.quantized_out) y = q.qdq(y, sy, zy);
  q.b.output(y);
  opt::OptimizeStats st;
  const int64_t n = c.N * c.C * c.H * c.W;
  Graph h = check_fused(q.b.graph(), {ftensor({c.N, c.C, c.H, c.W}, ramp(n, 1.0f, 3))}, c.quantized_out ? sy : 1e-4, &st);
  EXPECT_EQ(st.count("qdq_fusion"), 1) << c.C << "x" << c.M;
  EXPECT_EQ(ops(h).count("petrel.QConv"), 1u);
  return {h, ftensor({c.N, c.C, c.H, c.W}, ramp(n, 1.0f, 3))};
}

}  // namespace

TEST(QdqFusion, ConvShapes) {
  conv_case({1, 5, 17, 9, 9, 3, 1, 1, 1, 1, "Relu"});
  conv_case({2, 16, 33, 7, 6, 1});                                  // 1x1 stride 1: the direct path
  conv_case({1, 3, 40, 15, 13, 3, 2, 1, 2, 1, "Clip", DataType::kInt8});
  conv_case({1, 8, 12, 11, 11, 5, 2, 2, 1, 1, "Relu"});
  conv_case({1, 19, 19, 10, 9, 3, 2, 1, 1, 19, "Relu"});           // depthwise
  conv_case({1, 32, 32, 7, 7, 3, 1, 1, 1, 32, "Clip"});            // depthwise, stride 1
  conv_case({1, 6, 64, 5, 5, 1, 2, 0, 1, 1});                      // 1x1 stride 2: im2col
  conv_case({1, 4, 4, 9, 37, 3, 1, 1, 1, 4, "Clip"});              // depthwise, rows wide enough for SIMD
  conv_case({1, 4, 4, 9, 40, 3, 2, 1, 1, 4, "Relu"});              // depthwise stride 2, SIMD + edges
  conv_case({1, 3, 3, 8, 41, 5, 2, 2, 1, 3});
  // im2col on the AVX-512 masked rows (strides 1 and 2): rows over 64 bytes, dilation, windows wider
  // than the input, s8
  conv_case({1, 4, 8, 5, 70, 3, 1, 1, 2, 1, "Relu"});
  conv_case({1, 3, 6, 6, 130, 5, 1, 2, 1, 1});
  conv_case({1, 2, 4, 3, 3, 5, 1, 2, 1, 1, "Clip"});
  conv_case({1, 5, 7, 9, 66, 3, 1, 1, 1, 1, "Relu", DataType::kInt8});
  conv_case({1, 3, 5, 7, 150, 3, 2, 1, 1, 1, "Relu"});  // stride 2 over several 32-column blocks
  conv_case({1, 2, 5, 9, 71, 7, 2, 3, 1, 1});           // resnet's stem shape: 7x7 stride 2 pad 3
}

// Depthwise convs on the AVX-512 kernel (src/kernels/x86/qdepthwise*, strides 1 and 2) and on
// the scalar path (other strides, other levels): within one step of the float graph, and
// byte-identical across levels (integer sums, the same multiply and rounding everywhere).
TEST(QdqFusion, DepthwiseKernelsAgreeAtEveryLevel) {
  std::vector<ConvCase> cases = {
      {1, 32, 32, 112, 112, 3, 1, 1, 1, 32, "Clip"},  // mobilenet's first depthwise
      {1, 24, 24, 56, 56, 3, 2, 1, 1, 24, "Clip"},    // stride 2, 4 blocks per row
      {2, 16, 16, 14, 14, 3, 1, 1, 1, 16, "Relu"},    // batch 2, rows under one block
      {1, 8, 8, 7, 7, 3, 2, 1, 1, 8},                 // 7 -> 4
      {1, 5, 5, 17, 33, 5, 1, 2, 1, 5, "Relu"},       // 5x5 (the generic tap loop)
      {1, 6, 6, 20, 37, 3, 2, 2, 2, 6},               // dilation 2
      {1, 4, 4, 9, 18, 3, 2, 0, 1, 4, "Clip"},        // no padding
      {1, 3, 3, 12, 40, 3, 3, 1, 1, 3, "Relu"},       // stride 3: the scalar path
  };
  ConvCase s8{1, 12, 12, 19, 23, 3, 1, 1, 1, 12, "Relu"};
  s8.type = DataType::kInt8;
  cases.push_back(s8);
  ConvCase f32{1, 9, 9, 15, 21, 3, 2, 1, 1, 9};
  f32.quantized_out = false;
  cases.push_back(f32);
  for (const ConvCase& c : cases) {
    auto [h, x] = conv_case(c);
    std::vector<Tensor> first;
    for (x86::Isa isa : levels()) {
      x86::set_isa(isa);
      std::vector<Tensor> got = run_graph(h, {x});
      if (first.empty()) {
        first = std::move(got);
        continue;
      }
      ASSERT_EQ(got[0].numel(), first[0].numel());
      int bad = 0;
      for (int64_t i = 0; i < got[0].numel(); ++i)
        if (element_as_double(got[0], i) != element_as_double(first[0], i) && bad++ < 5)
          ADD_FAILURE() << x86::isa_name(isa) << " " << c.H << "x" << c.W << " k" << c.k << " s" << c.stride << " element " << i
                        << ": " << element_as_double(got[0], i) << " vs " << element_as_double(first[0], i);
    }
    x86::reset_isa();
  }
}

TEST(QdqFusion, ConvWithFloatOutput) {
  ConvCase c{1, 7, 20, 8, 8, 3, 1, 1, 1, 1};
  c.quantized_out = false;
  conv_case(c);
  c.group = 7, c.M = 7;
  conv_case(c);
}

TEST(QdqFusion, GemmAndMatMul) {
  QB q;
  ValueId x = q.b.input("x", {5, 40});
  const float sx = 4.0f / 255, sy = 0.15f;
  std::vector<float> sw;
  ValueId w = q.weight({33, 40}, 0, sw, 5);  // transB = 1: per output row
  ValueId g = q.b.node("Gemm", {q.qdq(x, sx, 128), w, q.bias(33, sx, sw)}, {a_int("transB", 1)});
  q.b.output(q.qdq(q.b.node("Relu", {g}), sy, 0));
  std::vector<float> sw2;
  ValueId x3 = q.b.input("x3", {2, 3, 40});
  ValueId w2 = q.weight({40, 17}, 1, sw2, 6);
  q.b.output(q.qdq(q.b.node("MatMul", {q.qdq(x3, sx, 120), w2}), sy, 128));
  opt::OptimizeStats st;
  Graph h = check_fused(q.b.graph(), {ftensor({5, 40}, ramp(200, 1, 4)), ftensor({2, 3, 40}, ramp(240, 1, 5))}, sy, &st);
  EXPECT_EQ(ops(h).count("petrel.QGemm"), 1u);
  EXPECT_EQ(ops(h)["petrel.QGemm"], 2);
}

TEST(QdqFusion, AddWithRelu) {
  QB q;
  ValueId a = q.b.input("a", {2, 3, 5, 7});
  ValueId b = q.b.input("b", {2, 3, 5, 7});
  q.b.output(q.qdq(q.b.node("Relu", {q.b.node("Add", {q.qdq(a, 4.0f / 255, 128), q.qdq(b, 3.0f / 255, 100)})}), 5.0f / 255, 0));
  Graph h = check_fused(q.b.graph(), {ftensor({2, 3, 5, 7}, ramp(210, 1, 6)), ftensor({2, 3, 5, 7}, ramp(210, 1, 7))}, 5.0 / 255);
  EXPECT_EQ(ops(h).count("petrel.QAdd"), 1u);
}

TEST(QdqFusion, DynamicMatMul) {
  QB q;
  ValueId x = q.b.input("x", {1, 6, 48});
  auto d = q.b.node_n("DynamicQuantizeLinear", {x}, 3);
  Tensor w = Tensor::allocate(DataType::kInt8, {48, 20}).value();
  std::vector<float> r = ramp(48 * 20, 1, 8);
  for (int64_t i = 0; i < w.numel(); ++i) w.as<int8_t>()[i] = int8_t(std::lround(r[size_t(i)] * 60));
  ValueId mmi = q.b.node("MatMulInteger", {d[0], q.b.constant(std::move(w)), d[2], q.b.constant(scalar_of(DataType::kInt8, 0))});
  ValueId f = q.b.node("Cast", {mmi}, {a_int("to", 1)});
  ValueId s = q.b.node("Mul", {d[1], q.b.constant(ftensor({20}, ramp(20, 0.01f, 9)))});
  ValueId y = q.b.node("Mul", {f, s});
  q.b.output(q.b.node("Add", {q.b.constant(ftensor({20}, ramp(20, 1, 10))), y}));
  opt::OptimizeStats st;
  Graph h = check_fused(q.b.graph(), {ftensor({1, 6, 48}, ramp(288, 1, 11))}, 1e-5, &st);
  EXPECT_EQ(ops(h), (std::map<std::string, int>{{"petrel.DynQMatMul", 1}}));
}

TEST(QdqFusion, LeavesWhatItCannotRunExactly) {
  QB q;
  ValueId x = q.b.input("x", {1, 4, 6, 6});
  const float sx = 4.0f / 255;
  std::vector<float> sw;
  // weights with a zero point
  ValueId w = q.weight({8, 4, 3, 3}, 0, sw, 2, true);
  q.b.output(q.qdq(q.b.node("Conv", {q.qdq(x, sx, 128), w}), 0.1f, 128));
  // a bias whose scale is not s_x * s_w
  std::vector<float> sw2;
  ValueId w2 = q.weight({8, 4, 3, 3}, 0, sw2, 3);
  q.b.output(q.qdq(q.b.node("Conv", {q.qdq(x, sx, 128), w2, q.bias(8, sx, sw2, 1.5f)}), 0.1f, 128));
  // the Conv's result also read in float: the Conv is fused with a float output, the Relu stays
  std::vector<float> sw3;
  ValueId w3 = q.weight({8, 4, 3, 3}, 0, sw3, 4);
  ValueId c3 = q.b.node("Conv", {q.qdq(x, sx, 128), w3});
  q.b.output(q.b.node("Relu", {c3}));
  q.b.output(c3);
  opt::OptimizeStats st;
  Graph h = check_fused(q.b.graph(), {ftensor({1, 4, 6, 6}, ramp(144, 1, 12))}, 1e-4, &st);
  EXPECT_EQ(ops(h)["Conv"], 2);
  EXPECT_EQ(ops(h)["petrel.QConv"], 1);
  EXPECT_EQ(ops(h)["Relu"], 1);
}

TEST(QdqFusion, MaxPoolWithSameParameters) {
  QB q;
  ValueId x = q.b.input("x", {1, 3, 11, 12});
  const float s = 4.0f / 255;
  ValueId dq = q.qdq(x, s, 128);
  std::vector<Attribute> at = {a_ints("kernel_shape", {3, 3}), a_ints("strides", {2, 2}), a_ints("pads", {1, 1, 1, 1})};
  q.b.output(q.qdq(q.b.node("MaxPool", {dq}, at), s, 128));
  q.b.output(q.qdq(q.b.node("MaxPool", {dq}, {a_ints("kernel_shape", {2, 2})}), s * 2, 128));  // other scale: stays
  opt::OptimizeStats st;
  Graph h = check_fused(q.b.graph(), {ftensor({1, 3, 11, 12}, ramp(396, 1, 13))}, 1e-6, &st);
  EXPECT_EQ(ops(h)["petrel.QMaxPool"], 1);
  EXPECT_EQ(ops(h)["MaxPool"], 1);
}

TEST(QdqFusion, DynamicMatMulTakesTheActivation) {
  QB q;
  ValueId x = q.b.input("x", {7, 33});
  auto d = q.b.node_n("DynamicQuantizeLinear", {x}, 3);
  Tensor w = Tensor::allocate(DataType::kInt8, {33, 18}).value();
  std::vector<float> r = ramp(33 * 18, 1, 14);
  for (int64_t i = 0; i < w.numel(); ++i) w.as<int8_t>()[i] = int8_t(std::lround(r[size_t(i)] * 60));
  ValueId mmi = q.b.node("MatMulInteger", {d[0], q.b.constant(std::move(w)), d[2]});
  ValueId s = q.b.node("Mul", {q.b.constant(fscalar(0.02f)), d[1]});
  ValueId y = q.b.node("Mul", {s, q.b.node("Cast", {mmi}, {a_int("to", 1)})});
  q.b.output(q.b.node("Gelu", {y}));
  opt::OptimizeStats st;
  Graph h = optimize_and_compare(q.b.graph(), passes(opt::make_qdq_fusion_pass(), opt::make_activation_fusion_pass()),
                                 {ftensor({7, 33}, ramp(231, 1, 15))}, &st, 1e-5);
  EXPECT_EQ(ops(h), (std::map<std::string, int>{{"petrel.DynQMatMul+Gelu", 1}}));
}

// The classifier tail: DQ -> GlobalAveragePool -> Q, then DQ -> Flatten -> Q with the same
// parameters; both run on the quantized tensor (u8 and s8, planes around the 16-byte sums).
TEST(QdqFusion, GlobalAveragePoolAndFlattenStayQuantized) {
  for (DataType t : {DataType::kUInt8, DataType::kInt8})
    for (int64_t hw : {1, 7, 9}) {
      QB q;
      q.act = t;
      const bool s8 = t == DataType::kInt8;
      ValueId x = q.b.input("x", {2, 5, hw, hw});
      const float sx = 4.0f / 255, sy = 1.5f / 255;
      ValueId g = q.qdq(q.b.node("GlobalAveragePool", {q.qdq(x, sx, s8 ? -3 : 120)}), sy, s8 ? 4 : 131);
      q.b.output(q.qdq(q.b.node("Flatten", {g}, {a_int("axis", 1)}), sy, s8 ? 4 : 131));
      const int64_t n = 2 * 5 * hw * hw;
      opt::OptimizeStats st;
      Graph h = check_fused(q.b.graph(), {ftensor({2, 5, hw, hw}, ramp(n, 2.0f, 16))}, sy, &st);
      EXPECT_EQ(ops(h)["petrel.QGlobalAveragePool"], 1) << hw;
      EXPECT_EQ(ops(h)["GlobalAveragePool"], 0);
      EXPECT_EQ(ops(h)["Flatten"], 1);
      EXPECT_EQ(ops(h)["QuantizeLinear"], 1);    // the input's
      EXPECT_EQ(ops(h)["DequantizeLinear"], 1);  // the output's
    }
}
