// Static QDQ graph structure, dynamic and INT4 rewrites, on small graphs built in code.
#include <gtest/gtest.h>

#include <cmath>

#include "onnx/model.hpp"
#include "onnx/opset.hpp"
#include "onnx/writer.hpp"
#include "quantize/quantizer.hpp"
#include "unit/opt_test_util.hpp"

namespace petrel::quant {
namespace {

using test::a_int;
using test::ftensor;
using test::GraphBuilder;
using test::ramp;

// x[1,2,4,4] -> Conv(3x2x1x1, bias) -> Relu -> GlobalAveragePool -> Flatten -> Gemm(transB) -> y
std::shared_ptr<Graph> small_cnn(int64_t trans_b = 1) {
  GraphBuilder b;
  ValueId x = b.input("x", {1, 2, 4, 4});
  ValueId w = b.constant("conv_w", ftensor({3, 2, 1, 1}, ramp(6, 0.5f, 1)));
  ValueId cb = b.constant("conv_b", ftensor({3}, {0.1f, -0.2f, 0.3f}));
  ValueId c = b.node("Conv", {x, w, cb});
  ValueId r = b.node("Relu", {c});
  ValueId p = b.node("GlobalAveragePool", {r});
  ValueId f = b.node("Flatten", {p});
  ValueId gw = b.constant("fc_w", trans_b ? ftensor({5, 3}, ramp(15, 0.3f, 2)) : ftensor({3, 5}, ramp(15, 0.3f, 2)));
  ValueId gb = b.constant("fc_b", ftensor({5}, {0.01f, 0.02f, 0.03f, 0.04f, 0.05f}));
  ValueId y = b.node("Gemm", {f, gw, gb}, {a_int("transB", trans_b)});
  b.output(y);
  return std::make_shared<Graph>(b.graph());
}

int count_op(const Graph& g, const std::string& op) {
  int n = 0;
  for (const Node& nd : g.nodes) n += nd.op_type == op;
  return n;
}
const Node* producer(const Graph& g, ValueId v) {
  for (const Node& n : g.nodes)
    for (ValueId o : n.outputs)
      if (o == v) return &n;
  return nullptr;
}
const Node* find(const Graph& g, const std::string& op) {
  for (const Node& n : g.nodes)
    if (n.op_type == op) return &n;
  return nullptr;
}

std::vector<float> run(const Graph& g, const Tensor& x) {
  auto r = GraphRunner::create(g, {});
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  Status st = r.value()->run({x});
  EXPECT_TRUE(st.is_ok()) << st.to_string();
  const Tensor& t = r.value()->output(0).tensor;
  return std::vector<float>(t.as<float>(), t.as<float>() + t.numel());
}

struct Quantized {
  Graph g;
  StaticPlan plan;
  std::map<ValueId, Range> ranges;
};

Quantized quantize_static(const Graph& src, const QuantizeOptions& o) {
  Quantized q{src, {}, {}};
  q.plan = plan_static(q.g, o);
  auto data = open_dataset("random:8", {{"x", DataType::kFloat, {1, 2, 4, 4}}}, {});
  EXPECT_TRUE(data.is_ok()) << data.status().to_string();
  auto stats = collect_stats(q.g, q.plan.tensors, *data.value(), o);
  EXPECT_TRUE(stats.is_ok()) << stats.status().to_string();
  for (auto& [v, s] : stats.value()) q.ranges[v] = choose_range(s, o.calib);
  Status st = apply_static(q.g, q.plan, q.ranges, o, nullptr);
  EXPECT_TRUE(st.is_ok()) << st.to_string();
  return q;
}

TEST(StaticQdq, PlanFusesReluAndSkipsGraphOutputs) {
  auto g = small_cnn();
  QuantizeOptions o;
  StaticPlan p = plan_static(*g, o);
  // Conv, Relu (fused), GlobalAveragePool, Gemm.
  EXPECT_EQ(p.nodes.size(), 4u);
  std::set<std::string> names;
  for (ValueId v : p.tensors) names.insert(g->values[size_t(v)].name);
  const std::string conv_out = g->values[size_t(g->nodes[0].outputs[0])].name;
  EXPECT_TRUE(names.count("x"));
  EXPECT_FALSE(names.count(conv_out)) << "Conv output feeds only Relu: fused, no Q/DQ between";
  EXPECT_EQ(names.size(), 4u);  // x, Relu out, GAP out, Flatten out (Gemm input); not y
  o.quantize_outputs = true;
  EXPECT_EQ(plan_static(*g, o).tensors.size(), 5u);
  o.exclude = {"Gemm"};
  o.quantize_outputs = false;
  StaticPlan pe = plan_static(*g, o);
  EXPECT_EQ(pe.excluded.size(), 1u);
  EXPECT_EQ(pe.nodes.size(), 3u);
}

TEST(StaticQdq, GraphStructureScalesAndBias) {
  auto g = small_cnn();
  QuantizeOptions o;
  Quantized q = quantize_static(*g, o);
  EXPECT_EQ(count_op(q.g, "QuantizeLinear"), 4);
  EXPECT_EQ(count_op(q.g, "DequantizeLinear"), 4 + 2 + 2);  // activations, weights, biases
  const Node* conv = find(q.g, "Conv");
  ASSERT_NE(conv, nullptr);
  // Weight: int8 per output channel (axis 0), no zero point (symmetric).
  const Node* wdq = producer(q.g, conv->inputs[1]);
  ASSERT_NE(wdq, nullptr);
  EXPECT_EQ(wdq->op_type, "DequantizeLinear");
  ASSERT_NE(wdq->attr("axis"), nullptr);
  EXPECT_EQ(wdq->attr("axis")->i, 0);
  EXPECT_EQ(wdq->inputs.size(), 2u);
  const Tensor* wq = q.g.constant(wdq->inputs[0]);
  ASSERT_NE(wq, nullptr);
  EXPECT_EQ(wq->dtype, DataType::kInt8);
  const Tensor* ws = q.g.constant(wdq->inputs[1]);
  ASSERT_EQ(ws->numel(), 3);
  // Input: DQ of a uint8 Q of x.
  const Node* xdq = producer(q.g, conv->inputs[0]);
  ASSERT_NE(xdq, nullptr);
  EXPECT_EQ(xdq->op_type, "DequantizeLinear");
  const Tensor* xs = q.g.constant(xdq->inputs[1]);
  EXPECT_EQ(q.g.constant(xdq->inputs[2])->dtype, DataType::kUInt8);
  // Bias: int32 with scale s_x * s_w[c].
  const Node* bdq = producer(q.g, conv->inputs[2]);
  ASSERT_NE(bdq, nullptr);
  const Tensor* bq = q.g.constant(bdq->inputs[0]);
  EXPECT_EQ(bq->dtype, DataType::kInt32);
  const Tensor* bs = q.g.constant(bdq->inputs[1]);
  for (int c = 0; c < 3; ++c) EXPECT_FLOAT_EQ(bs->as<float>()[c], xs->as<float>()[0] * ws->as<float>()[c]);
  // The fused Relu reads the Conv directly; the Q follows the Relu.
  const Node* relu = find(q.g, "Relu");
  EXPECT_EQ(producer(q.g, relu->inputs[0])->op_type, "Conv");
  // Gemm with transB=1: weight channels on axis 0.
  const Node* gemm = find(q.g, "Gemm");
  EXPECT_EQ(producer(q.g, gemm->inputs[1])->attr("axis")->i, 0);
  // The graph output keeps its name and stays float (produced by the Gemm).
  EXPECT_EQ(producer(q.g, q.g.outputs[0])->op_type, "Gemm");
  // The float weights are gone.
  EXPECT_EQ(q.g.find("conv_w") == kNoValue || !q.g.constant(q.g.find("conv_w")), true);
}

TEST(StaticQdq, GemmWithoutTransBUsesAxis1AndOutputsStayClose) {
  auto g = small_cnn(0);
  QuantizeOptions o;
  Quantized q = quantize_static(*g, o);
  const Node* gemm = find(q.g, "Gemm");
  EXPECT_EQ(producer(q.g, gemm->inputs[1])->attr("axis")->i, 1);
  auto x = ftensor({1, 2, 4, 4}, ramp(32, 0.45f, 5));
  auto a = run(*g, x), b = run(q.g, x);
  ASSERT_EQ(a.size(), b.size());
  double err = 0, sig = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    err += (a[i] - b[i]) * (a[i] - b[i]);
    sig += a[i] * a[i];
  }
  EXPECT_LT(std::sqrt(err / sig), 0.08) << "quantized model output too far from float";
  EXPECT_GT(std::sqrt(err), 0.0) << "quantization changed nothing: Q/DQ not applied?";
}

TEST(StaticQdq, QuantizedOutputKeepsItsName) {
  auto g = small_cnn();
  QuantizeOptions o;
  o.quantize_outputs = true;
  Quantized q = quantize_static(*g, o);
  const ValueId out = q.g.outputs[0];
  EXPECT_EQ(q.g.values[size_t(out)].name, g->values[size_t(g->outputs[0])].name);
  EXPECT_EQ(producer(q.g, out)->op_type, "DequantizeLinear");
}

TEST(StaticQdq, SharedWeightsGetUniqueNodeNames) {
  // Two Convs reading the same weight and bias (ONNX Runtime rejects duplicate node names).
  GraphBuilder b;
  ValueId x = b.input("x", {1, 2, 4, 4});
  ValueId w = b.constant("w", ftensor({2, 2, 1, 1}, ramp(4, 0.5f, 1)));
  ValueId cb = b.constant("b", ftensor({2}, {0.1f, -0.1f}));
  ValueId c1 = b.node("Conv", {x, w, cb});
  b.output(b.node("Conv", {c1, w, cb}));
  Graph g = b.graph();
  QuantizeOptions o;
  Quantized q = quantize_static(g, o);
  std::set<std::string> names;
  for (const Node& n : q.g.nodes) EXPECT_TRUE(names.insert(n.name).second) << "duplicate node name " << n.name;
  EXPECT_EQ(count_op(q.g, "DequantizeLinear"), 2 + 4);
}

TEST(StaticQdq, WrittenModelReloadsAndRuns) {
  auto g = small_cnn();
  QuantizeOptions o;
  Quantized q = quantize_static(*g, o);
  onnx::Model m;
  m.graph = std::make_shared<Graph>(q.g);
  onnx::WriteOptions wo;
  wo.compact = true;
  auto bytes = onnx::serialize_model(m, wo);
  ASSERT_TRUE(bytes.is_ok()) << bytes.status().to_string();
  auto loaded = onnx::load_model_from_memory(bytes->data(), bytes->size());
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  auto x = ftensor({1, 2, 4, 4}, ramp(32, 0.45f, 5));
  EXPECT_EQ(run(*loaded.value()->graph, x), run(q.g, x));
}

TEST(WeightOnlyInt4, BlockedDequantizeLinearAndClose) {
  // MatMul with B [64, 8]: blocks of 32 along K (axis 0).
  GraphBuilder b;
  ValueId x = b.input("x", {1, 64});
  ValueId w = b.constant("w", ftensor({64, 8}, ramp(512, 0.2f, 3)));
  b.output(b.node("MatMul", {x, w}));
  auto g = std::make_shared<Graph>(b.graph());
  Graph q = *g;
  QuantizeOptions o;
  o.mode = QuantMode::kWeightOnly;
  o.block = 32;
  QuantizeReport rep;
  ASSERT_TRUE(apply_weight_only_int4(q, o, &rep).is_ok());
  EXPECT_EQ(rep.quantized["MatMul"], 1);
  const Node* dq = find(q, "DequantizeLinear");
  ASSERT_NE(dq, nullptr);
  EXPECT_EQ(dq->attr("block_size")->i, 32);
  EXPECT_EQ(dq->attr("axis")->i, 0);
  EXPECT_EQ(q.constant(dq->inputs[0])->dtype, DataType::kInt4);
  EXPECT_EQ(q.constant(dq->inputs[1])->shape, (Shape{2, 8}));
  auto xt = ftensor({1, 64}, ramp(64, 1.0f, 9));
  auto a = run(*g, xt), c = run(q, xt);
  double err = 0, sig = 0;
  for (size_t i = 0; i < a.size(); ++i) { err += (a[i] - c[i]) * (a[i] - c[i]); sig += a[i] * a[i]; }
  EXPECT_LT(std::sqrt(err / sig), 0.15);
  o.block = 24;  // not a power of two
  Graph q2 = *g;
  EXPECT_FALSE(apply_weight_only_int4(q2, o, nullptr).is_ok());
}

TEST(WeightOnlyInt4, ConvWeightsReshapedToReductionAxis) {
  auto g = small_cnn();
  Graph q = *g;
  QuantizeOptions o;
  o.mode = QuantMode::kWeightOnly;
  ASSERT_TRUE(apply_weight_only_int4(q, o, nullptr).is_ok());
  const Node* conv = find(q, "Conv");
  const Node* rs = producer(q, conv->inputs[1]);
  ASSERT_NE(rs, nullptr);
  EXPECT_EQ(rs->op_type, "Reshape");
  const Node* dq = producer(q, rs->inputs[0]);
  EXPECT_EQ(q.constant(dq->inputs[0])->shape, (Shape{3, 2}));  // [M, C*kh*kw]
  auto x = ftensor({1, 2, 4, 4}, ramp(32, 0.45f, 5));
  EXPECT_EQ(run(q, x).size(), 5u);
}

TEST(WeightOnlyInt4, WrittenAtOpset21AndReloaded) {
  auto g = small_cnn();
  QuantizeOptions o;
  o.mode = QuantMode::kWeightOnly;
  onnx::Model m;
  m.graph = std::make_shared<Graph>(*g);
  ASSERT_TRUE(apply_weight_only_int4(*m.graph, o, nullptr).is_ok());
  onnx::WriteOptions wo;
  wo.default_opset = 21;
  wo.compact = true;
  auto bytes = onnx::serialize_model(m, wo);
  ASSERT_TRUE(bytes.is_ok()) << bytes.status().to_string();
  auto loaded = onnx::load_model_from_memory(bytes->data(), bytes->size());
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  EXPECT_EQ(loaded.value()->opset(""), 21);
  EXPECT_EQ(loaded.value()->ir_version, 10);
  int int4 = 0;
  for (auto& [id, t] : loaded.value()->graph->constants) int4 += t.dtype == DataType::kInt4;
  EXPECT_EQ(int4, 2);
  auto x = ftensor({1, 2, 4, 4}, ramp(32, 0.45f, 5));
  EXPECT_EQ(run(*loaded.value()->graph, x), run(*m.graph, x));
  wo.default_opset = 22;
  EXPECT_FALSE(onnx::serialize_model(m, wo).is_ok());
}

TEST(WriterOpset, ReduceAxesBecomeAnInputFrom18) {
  GraphBuilder b;
  ValueId x = b.input("x", {2, 3});
  b.output(b.node("ReduceMean", {x}, {test::a_ints("axes", {1})}));
  Graph g = b.graph();
  Graph g17 = g;
  ASSERT_TRUE(onnx::denormalize_for_opset(g17, 17).is_ok());
  EXPECT_EQ(g17.nodes[0].inputs.size(), 1u);
  ASSERT_TRUE(onnx::denormalize_for_opset(g, 18).is_ok());
  ASSERT_EQ(g.nodes[0].inputs.size(), 2u);
  EXPECT_EQ(g.nodes[0].attr("axes"), nullptr);
  EXPECT_EQ(g.constant(g.nodes[0].inputs[1])->as<int64_t>()[0], 1);
  auto xt = ftensor({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(run(g, xt), (std::vector<float>{2, 5}));
  GraphBuilder b2;
  ValueId y = b2.input("y", {1, 4, 2, 2});
  ValueId s = b2.constant("s", ftensor({2}, {1, 1}));
  b2.output(b2.node("GroupNormalization", {y, s, s}, {a_int("num_groups", 2)}));
  Graph gn = b2.graph();
  EXPECT_EQ(onnx::denormalize_for_opset(gn, 21).code(), StatusCode::kUnsupported);
  EXPECT_FALSE(onnx::denormalize_for_opset(gn, 16).is_ok());
}

TEST(Dynamic, MatMulIntegerChain) {
  GraphBuilder b;
  ValueId x = b.input("x", {1, 4, 16});
  ValueId w = b.constant("w", ftensor({16, 8}, ramp(128, 0.3f, 4)));
  b.output(b.node("MatMul", {x, w}));
  auto g = std::make_shared<Graph>(b.graph());
  Graph q = *g;
  QuantizeOptions o;
  o.mode = QuantMode::kDynamic;
  ASSERT_TRUE(apply_dynamic(q, o, nullptr).is_ok());
  EXPECT_EQ(count_op(q, "DynamicQuantizeLinear"), 1);
  EXPECT_EQ(count_op(q, "MatMulInteger"), 1);
  EXPECT_EQ(count_op(q, "MatMul"), 0);
  EXPECT_EQ(q.values[size_t(q.outputs[0])].name, g->values[size_t(g->outputs[0])].name);
  auto xt = ftensor({1, 4, 16}, ramp(64, 1.0f, 6));
  auto a = run(*g, xt), c = run(q, xt);
  double err = 0, sig = 0;
  for (size_t i = 0; i < a.size(); ++i) { err += (a[i] - c[i]) * (a[i] - c[i]); sig += a[i] * a[i]; }
  EXPECT_LT(std::sqrt(err / sig), 0.03);
  EXPECT_GT(err, 0.0);
}

}  // namespace
}  // namespace petrel::quant
