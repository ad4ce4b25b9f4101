// Differential tests of the XNNPACK provider: small graphs built in code run once on the
// reference kernels and once partitioned for XNNPACK; outputs must agree. Sizes sit around
// SIMD widths (7, 15, 16, 17, 33) so that edge tiles are exercised.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "core/fused_activation.hpp"
#include "core/thread_pool.hpp"
#include "kernels/xnnpack/provider.hpp"
#include "kernels/x86/isa.hpp"
#include "runtime/executor.hpp"
#include "runtime/providers.hpp"

namespace petrel {
namespace {

Attribute ai(const std::string& n, int64_t v) { Attribute a; a.name = n; a.type = AttrType::kInt; a.i = v; return a; }
Attribute af(const std::string& n, float v) { Attribute a; a.name = n; a.type = AttrType::kFloat; a.f = v; return a; }
Attribute ais(const std::string& n, std::vector<int64_t> v) { Attribute a; a.name = n; a.type = AttrType::kInts; a.ints = std::move(v); return a; }
Attribute as(const std::string& n, std::string v) { Attribute a; a.name = n; a.type = AttrType::kString; a.s = std::move(v); return a; }

Tensor random_tensor(const Shape& s, uint64_t seed, float scale = 1.0f) {
  Tensor t = Tensor::allocate(DataType::kFloat, s).value();
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (int64_t i = 0; i < t.numel(); ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    t.as<float>()[i] = scale * (float(x % 2001) / 1000.0f - 1.0f);
  }
  return t;
}

struct Builder {
  std::shared_ptr<Graph> g = std::make_shared<Graph>();
  uint64_t seed = 1;
  ValueId input(const std::string& name) {
    ValueId v = g->add_value(name);
    g->values[size_t(v)].type.kind = TypeInfo::Kind::kTensor;
    g->values[size_t(v)].type.dtype = DataType::kFloat;
    g->inputs.push_back(v);
    return v;
  }
  ValueId constant(Tensor t) {
    std::string name = "c";
    name.append(std::to_string(g->values.size()));
    ValueId v = g->add_value(name);
    g->values[size_t(v)].type.kind = TypeInfo::Kind::kTensor;
    g->values[size_t(v)].type.dtype = t.dtype;
    g->constants[v] = std::move(t);
    return v;
  }
  ValueId weights(const Shape& s, float scale = 0.3f) { return constant(random_tensor(s, seed++, scale)); }
  ValueId node(const std::string& op, std::vector<ValueId> ins, std::vector<Attribute> attrs = {}) {
    Node n;
    n.name = op;
    n.name.append(std::to_string(g->nodes.size()));
    n.op_type = op;
    n.opset = 17;
    n.inputs = std::move(ins);
    n.attrs = std::move(attrs);
    ValueId out = g->add_value(n.name + "_out");
    n.outputs = {out};
    g->nodes.push_back(std::move(n));
    return out;
  }
  void output(ValueId v) { g->outputs.push_back(v); }
};

std::shared_ptr<Graph> copy_graph(const Graph& g) { return std::make_shared<Graph>(g); }

std::vector<Value> run(std::shared_ptr<Graph> g, const std::vector<Tensor>& inputs, ThreadPool* pool = nullptr) {
  auto ex = GraphExecutor::create(g, true);
  EXPECT_TRUE(ex.is_ok()) << ex.status().to_string();
  if (!ex) return {};
  ex.value()->set_thread_pool(pool);
  std::vector<Value> in, out;
  for (const Tensor& t : inputs) in.push_back(Value::of(t));
  Status st = ex.value()->run(in, {}, out);
  EXPECT_TRUE(st.is_ok()) << st.to_string();
  // Outputs may point into the arena, which dies with the executor: copy them.
  for (Value& v : out)
    if (v.is_tensor()) v.tensor = v.tensor.clone().value();
  return out;
}

int count_partitions(const Graph& g) {
  int n = 0;
  for (const Node& node : g.nodes) n += node.op_type == xnnpack::kPartitionOp;
  return n;
}

// Runs `b`'s graph on the reference kernels and through the provider; compares.
void expect_same(const Builder& b, const std::vector<Tensor>& inputs, int want_partitions = 1, int threads = 1) {
  if (!xnnpack::available()) GTEST_SKIP() << "XNNPACK is not available on this CPU";
  auto ref = run(copy_graph(*b.g), inputs);
  auto pg = copy_graph(*b.g);
  ASSERT_TRUE(xnnpack::partition_graph(*pg).is_ok());
  EXPECT_EQ(count_partitions(*pg), want_partitions);
  ThreadPool pool(threads);
  auto got = run(pg, inputs, &pool);
  ASSERT_EQ(ref.size(), got.size());
  for (size_t o = 0; o < ref.size(); ++o) {
    const Tensor& r = ref[o].tensor;
    const Tensor& x = got[o].tensor;
    ASSERT_EQ(r.shape, x.shape) << "output " << o;
    float scale = 1e-6f;
    for (int64_t i = 0; i < r.numel(); ++i) scale = std::max(scale, std::fabs(r.as<float>()[i]));
    for (int64_t i = 0; i < r.numel(); ++i)
      ASSERT_NEAR(r.as<float>()[i], x.as<float>()[i], 2e-5f * scale + 1e-6f) << "output " << o << " element " << i;
  }
}

TEST(Xnnpack, ConvBiasReluAtSimdEdges) {
  for (int64_t c : {3, 16, 17}) {
    for (int64_t hw : {7, 15, 16}) {
      Builder b;
      ValueId x = b.input("x");
      ValueId y = b.node("Conv", {x, b.weights({c + 1, c, 3, 3}), b.weights({c + 1})}, {ais("pads", {1, 1, 1, 1})});
      b.output(b.node("Relu", {y}));
      expect_same(b, {random_tensor({1, c, hw, hw + 1}, 7)});
    }
  }
}

TEST(Xnnpack, StridedDilatedAutoPadConvWithClip) {
  Builder b;
  ValueId x = b.input("x");
  ValueId y = b.node("Conv", {x, b.weights({32, 16, 5, 5})}, {ais("strides", {2, 2}), as("auto_pad", "SAME_UPPER")});
  y = b.node("Conv", {y, b.weights({8, 32, 3, 3}), b.weights({8})}, {ais("dilations", {2, 2}), ais("pads", {2, 1, 2, 1})});
  b.output(b.node("Clip", {y, b.constant(random_tensor({}, 3, 0.0f)), b.constant([] {
                            Tensor t = Tensor::allocate(DataType::kFloat, {}).value();
                            t.as<float>()[0] = 6.0f;
                            return t;
                          }())}));
  expect_same(b, {random_tensor({2, 16, 33, 31}, 8)});
}

TEST(Xnnpack, DepthwiseAndGroupedConv) {
  for (int64_t stride : {1, 2}) {
    Builder b;
    ValueId x = b.input("x");
    ValueId y = b.node("Conv", {x, b.weights({33, 1, 3, 3}), b.weights({33})},
                       {ai("group", 33), ais("pads", {1, 1, 1, 1}), ais("strides", {stride, stride})});
    y = b.node("Conv", {y, b.weights({66, 1, 5, 5})}, {ai("group", 33), ais("pads", {2, 2, 2, 2})});  // multiplier 2
    y = b.node("Conv", {y, b.weights({12, 22, 1, 1})}, {ai("group", 3)});
    b.output(y);
    expect_same(b, {random_tensor({1, 33, 17, 15}, 9)});
  }
}

TEST(Xnnpack, ResidualPoolingAndClassifierHead) {
  Builder b;
  ValueId x = b.input("x");
  ValueId y = b.node("Conv", {x, b.weights({16, 16, 3, 3}), b.weights({16})}, {ais("pads", {1, 1, 1, 1})});
  y = b.node("Add", {y, x});
  y = b.node("MaxPool", {y}, {ais("kernel_shape", {3, 3}), ais("strides", {2, 2}), ais("pads", {1, 1, 1, 1})});
  y = b.node("AveragePool", {y}, {ais("kernel_shape", {2, 2}), ais("strides", {1, 1})});
  y = b.node("GlobalAveragePool", {y});
  y = b.node("Flatten", {y}, {ai("axis", 1)});  // after global pooling: a reshape in NHWC
  ValueId z = b.node("Gemm", {y, b.weights({10, 16}), b.weights({10})}, {ai("transB", 1)});
  b.output(b.node("Gemm", {z, b.weights({10, 7})}));
  expect_same(b, {random_tensor({3, 16, 15, 17}, 10)}, 1);
}

// ResNet blocks: Conv -> Add -> Relu with the Add's other operand a downsample Conv that comes
// later in node order (a fused native stage must run at the Add), an identity shortcut whose
// Add output is also a partition output (the Add result must exist: Relu not absorbed), and a
// Conv with a fused activation before the Add (not fusable). With PETREL_NATIVE_CONV=all every
// one of these Convs is native (provider_xnnpack_native_conv).
TEST(Xnnpack, ResidualBlocksWithDownsampleAfterTheConv) {
  Builder b;
  ValueId x = b.input("x");
  ValueId y = b.node("Conv", {x, b.weights({32, 16, 3, 3}), b.weights({32})}, {ais("pads", {1, 1, 1, 1}), ais("strides", {2, 2})});
  y = b.node("Relu", {y});
  y = b.node("Conv", {y, b.weights({32, 32, 3, 3}), b.weights({32})}, {ais("pads", {1, 1, 1, 1})});
  ValueId d = b.node("Conv", {x, b.weights({32, 16, 1, 1})}, {ais("strides", {2, 2})});
  ValueId s = b.node("Relu", {b.node("Add", {d, y})});
  ValueId t = b.node("Conv", {s, b.weights({32, 32, 1, 1}), b.weights({32})});
  ValueId sum = b.node("Add", {s, t});
  b.output(sum);
  ValueId u = b.node("Relu", {sum});
  ValueId w = b.node("Clip", {b.node("Conv", {u, b.weights({32, 32, 1, 1})}), b.constant(random_tensor({}, 3, 0.0f))});
  b.output(b.node("Add", {w, u}));
  expect_same(b, {random_tensor({2, 16, 15, 13}, 12)}, 1);
}

TEST(Xnnpack, MatMulWithConstantWeightsAndBias) {
  Builder b;
  ValueId x = b.input("x");
  ValueId y = b.node("MatMul", {x, b.weights({33, 17})});
  y = b.node("Add", {y, b.weights({17})});
  b.output(b.node("Relu", {y}));
  expect_same(b, {random_tensor({2, 7, 33}, 11)});
}

TEST(Xnnpack, ConstantBroadcastsAndSqueezeExcite) {
  Builder b;
  ValueId x = b.input("x");
  ValueId y = b.node("Conv", {x, b.weights({17, 8, 1, 1})});
  y = b.node("Mul", {y, b.weights({17, 1, 1})});      // per-channel scale: NCHW [C,1,1]
  y = b.node("Sub", {y, b.weights({1, 17, 1, 1})});
  Tensor d = Tensor::allocate(DataType::kFloat, {1}).value();
  d.as<float>()[0] = 1.7f;
  y = b.node("Div", {y, b.constant(d)});
  ValueId s = b.node("GlobalAveragePool", {y});
  s = b.node("Conv", {s, b.weights({17, 17, 1, 1}), b.weights({17})});
  s = b.node("Sigmoid", {s});
  y = b.node("Mul", {y, s});  // [N,C,H,W] * [N,C,1,1]
  y = b.node("HardSwish", {y});
  b.output(y);
  expect_same(b, {random_tensor({2, 8, 9, 16}, 12)});
}

TEST(Xnnpack, FusedActivationsOnConvAndGemm) {
  const std::vector<FusedActivation> acts = {
      {Activation::kRelu, 0, 0}, {Activation::kClip, -0.5f, 0.25f}, {Activation::kLeakyRelu, 0.1f, 0},
      {Activation::kSigmoid, 0, 0}, {Activation::kHardSwish, 0, 0}, {Activation::kSwish, 0, 0},
      {Activation::kHardSigmoid, 0.2f, 0.45f}, {Activation::kClip, -INFINITY, 0.5f}};
  for (const FusedActivation& fa : acts) {
    Builder b;
    ValueId x = b.input("x");
    ValueId y = b.node("Conv", {x, b.weights({16, 4, 3, 3}), b.weights({16})});
    fa.write_to(b.g->nodes.back());
    // The reference kernels apply fused activations too (the optimizer writes them); compare
    // against the explicit op so that this test does not depend on that.
    Builder plain;
    ValueId px = plain.input("x");
    ValueId py = plain.node("Conv", {px, plain.weights({16, 4, 3, 3}), plain.weights({16})});
    b.output(y);
    (void)py;
    if (!xnnpack::available()) GTEST_SKIP();
    auto pg = copy_graph(*b.g);
    ASSERT_TRUE(xnnpack::partition_graph(*pg).is_ok());
    Tensor in = random_tensor({1, 4, 9, 11}, 13);
    auto got = run(pg, {in});
    plain.output(py);
    auto ref = run(copy_graph(*plain.g), {in});
    ASSERT_EQ(got.size(), 1u);
    const Tensor& r = ref[0].tensor;
    for (int64_t i = 0; i < r.numel(); ++i)
      ASSERT_NEAR(fa.apply_one(r.as<float>()[i]), got[0].tensor.as<float>()[i], 1e-5f) << fa.name() << " element " << i;
  }
}

TEST(Xnnpack, CeilModeMaxPoolHardSigmoidAndSpatialMean) {
  for (int64_t hw : {13, 14}) {
    Builder b;
    ValueId x = b.input("x");
    ValueId y = b.node("Conv", {x, b.weights({16, 3, 3, 3})});
    y = b.node("MaxPool", {y}, {ais("kernel_shape", {3, 3}), ais("strides", {2, 2}), ai("ceil_mode", 1)});
    y = b.node("HardSigmoid", {y}, {af("alpha", 0.3f), af("beta", 0.4f)});
    ValueId k = b.node("ReduceMean", {y}, {ais("axes", {2, 3}), ai("keepdims", 1)});
    ValueId f = b.node("ReduceMean", {y}, {ais("axes", {2, 3}), ai("keepdims", 0)});
    ValueId g = b.node("GlobalAveragePool", {y});
    g = b.node("Flatten", {g}, {ai("axis", 1)});
    b.output(k);
    b.output(f);
    b.output(b.node("Gemm", {g, b.weights({16, 5})}));
    expect_same(b, {random_tensor({2, 3, hw, hw + 3}, 16)});
  }
}

TEST(Xnnpack, FireModulesConcatInsideOnePartition) {
  // SqueezeNet's fire module: squeeze 1x1, two expands, channel Concat (native between
  // XNNPACK stages), an output read both outside and by a later stage.
  Builder b;
  ValueId x = b.input("x");
  ValueId y = x;
  ValueId mid = kNoValue;
  for (int64_t f = 0; f < 2; ++f) {
    const int64_t cin = f == 0 ? 8 : 34;
    ValueId s = b.node("Relu", {b.node("Conv", {y, b.weights({5, cin, 1, 1}), b.weights({5})})});
    ValueId e1 = b.node("Relu", {b.node("Conv", {s, b.weights({17, 5, 1, 1}), b.weights({17})})});
    ValueId e3 = b.node("Relu", {b.node("Conv", {s, b.weights({17, 5, 3, 3}), b.weights({17})}, {ais("pads", {1, 1, 1, 1})})});
    y = b.node("Concat", {e1, e3}, {ai("axis", 1)});
    if (f == 0) mid = y;
  }
  b.output(mid);
  b.output(b.node("MaxPool", {y}, {ais("kernel_shape", {3, 3}), ais("strides", {2, 2}), ai("ceil_mode", 1)}));
  expect_same(b, {random_tensor({2, 8, 13, 11}, 17)});
}

TEST(Xnnpack, ShuffleNetUnitsStayInOnePartition) {
  // ShuffleNet v2 units: split the channels in halves (Slice), convolve one half (1x1, depthwise
  // 3x3, 1x1), Concat, ChannelShuffle (all three native between XNNPACK stages, on NHWC data).
  Builder b;
  ValueId x = b.input("x");
  ValueId y = b.node("Relu", {b.node("Conv", {x, b.weights({34, 5, 1, 1}), b.weights({34})})});
  auto i64 = [&](int64_t v) {
    Tensor t = Tensor::allocate(DataType::kInt64, {1}).value();
    t.as<int64_t>()[0] = v;
    return b.constant(std::move(t));
  };
  for (int u = 0; u < 2; ++u) {
    ValueId left = b.node("Slice", {y, i64(0), i64(17), i64(1)});
    ValueId right = b.node("Slice", {y, i64(17), i64(34), i64(-3), i64(1)});  // axis -3 = C
    ValueId r = b.node("Relu", {b.node("Conv", {right, b.weights({17, 17, 1, 1}), b.weights({17})})});
    r = b.node("Conv", {r, b.weights({17, 1, 3, 3}), b.weights({17})}, {ai("group", 17), ais("pads", {1, 1, 1, 1})});
    r = b.node("Relu", {b.node("Conv", {r, b.weights({17, 17, 1, 1}), b.weights({17})})});
    const ValueId cat = b.node("Concat", {left, r}, {ai("axis", 1)});
    y = b.node("ChannelShuffle", {cat}, {ai("groups", 2)});
    b.g->nodes.back().domain = "petrel";
  }
  b.output(y);
  expect_same(b, {random_tensor({2, 5, 9, 7}, 23)});
  expect_same(b, {random_tensor({1, 5, 16, 16}, 29)}, 1, 2);
}

TEST(Xnnpack, ThreeChannelImageInput) {
  // A network's input image: C = 3 takes the specialised NCHW -> NHWC interleave.
  Builder b;
  ValueId x = b.input("x");
  b.output(b.node("Conv", {x, b.weights({16, 3, 3, 3}), b.weights({16})}, {ais("strides", {2, 2}), ais("pads", {1, 1, 1, 1})}));
  expect_same(b, {random_tensor({2, 3, 17, 9}, 31)});
}

TEST(Xnnpack, FullyConnectedLayersGoToPetrelsSgemmFromAvx2Up) {
  // The session policy (runtime/providers.cpp): XNNPACK takes the conv run; the classifier's
  // Gemm stays outside the partition where the x86 SGEMM runs at AVX2 or better.
  if (!xnnpack::available()) GTEST_SKIP() << "XNNPACK is not available on this CPU";
  Builder b;
  ValueId x = b.input("x");
  ValueId c = b.node("Relu", {b.node("Conv", {x, b.weights({8, 3, 3, 3}), b.weights({8})})});
  ValueId f = b.node("Flatten", {b.node("GlobalAveragePool", {c})}, {ai("axis", 1)});
  b.output(b.node("Gemm", {f, b.weights({10, 8}), b.weights({10})}, {ai("transB", 1)}));
  auto g = copy_graph(*b.g);
  ProviderStats ps;
  ASSERT_TRUE(assign_providers(*g, true, &ps).is_ok());
  EXPECT_EQ(ps.xnnpack_partitions, 1);
  const bool sgemm = x86::active_isa() >= x86::Isa::kAvx2;
  EXPECT_EQ(ps.xnnpack_nodes, sgemm ? 4 : 5);
  bool gemm_outside = false;
  for (const Node& n : g->nodes) gemm_outside |= n.op_type == "Gemm";
  EXPECT_EQ(gemm_outside, sgemm);
  auto ref = run(copy_graph(*b.g), {random_tensor({2, 3, 9, 9}, 41)});
  auto got = run(g, {random_tensor({2, 3, 9, 9}, 41)});
  ASSERT_EQ(ref.size(), 1u);
  ASSERT_EQ(got.size(), 1u);
  for (int64_t i = 0; i < ref[0].tensor.numel(); ++i) EXPECT_NEAR(ref[0].tensor.as<float>()[i], got[0].tensor.as<float>()[i], 1e-4f);
  ASSERT_TRUE(assign_providers(*copy_graph(*b.g), false, &ps).is_ok());
  EXPECT_EQ(ps.xnnpack_partitions, 0);
}

TEST(Xnnpack, UnsupportedShapeFallsBackToReference) {
  // Padded average pooling is not lowered (divisor conventions differ): the whole partition
  // runs on the reference kernels and must still be exact.
  Builder b;
  ValueId x = b.input("x");
  ValueId y = b.node("Conv", {x, b.weights({8, 8, 3, 3})});
  y = b.node("AveragePool", {y}, {ais("kernel_shape", {3, 3}), ais("pads", {1, 1, 1, 1})});
  b.output(y);
  expect_same(b, {random_tensor({1, 8, 10, 10}, 14)});
}

TEST(Xnnpack, ReplansWhenInputShapesChangeAndUsesThreads) {
  Builder b;
  ValueId x = b.input("x");
  ValueId y = b.node("Conv", {x, b.weights({24, 3, 3, 3}), b.weights({24})}, {ais("pads", {1, 1, 1, 1})});
  b.output(b.node("Relu", {y}));
  expect_same(b, {random_tensor({1, 3, 16, 16}, 15)}, 1, 2);
  if (!xnnpack::available()) return;
  auto pg = copy_graph(*b.g);
  ASSERT_TRUE(xnnpack::partition_graph(*pg).is_ok());
  auto ex = GraphExecutor::create(pg, true).value();
  auto rex = GraphExecutor::create(copy_graph(*b.g), true).value();
  for (int64_t batch : {1, 3, 2}) {
    std::vector<Value> in = {Value::of(random_tensor({batch, 3, 16, 16}, uint64_t(batch)))}, out, rout;
    ASSERT_TRUE(ex->run(in, {}, out).is_ok());
    ASSERT_TRUE(rex->run(in, {}, rout).is_ok());
    ASSERT_EQ(out[0].tensor.shape, rout[0].tensor.shape);
    for (int64_t i = 0; i < out[0].tensor.numel(); ++i)
      ASSERT_NEAR(out[0].tensor.as<float>()[i], rout[0].tensor.as<float>()[i], 1e-4f);
  }
}

TEST(Xnnpack, IntegerGraphsAreLeftAlone) {
  Builder b;
  ValueId x = b.g->add_value("x");
  b.g->values[size_t(x)].type.kind = TypeInfo::Kind::kTensor;
  b.g->values[size_t(x)].type.dtype = DataType::kInt64;
  b.g->inputs.push_back(x);
  ValueId y = b.node("Add", {x, x});
  b.output(b.node("Relu", {y}));
  auto pg = copy_graph(*b.g);
  ASSERT_TRUE(xnnpack::partition_graph(*pg).is_ok());
  EXPECT_EQ(count_partitions(*pg), 0);
}

}  // namespace
}  // namespace petrel
