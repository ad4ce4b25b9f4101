// Accuracy-driven mixed precision (--target-agreement) on a small classifier whose two best
// classes nearly tie, so that plain INT8 flips some answers.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "onnx/model.hpp"
#include "onnx/writer.hpp"
#include "quantize/evaluate.hpp"
#include "quantize/quantizer.hpp"
#include "unit/opt_test_util.hpp"

namespace petrel::quant {
namespace {

using test::a_int;
using test::ftensor;
using test::GraphBuilder;
using test::ramp;

// x[1,2,4,4] -> Conv(8x2x3x3, pad 1) -> Relu -> Conv(8x8x1x1) -> Relu -> GlobalAveragePool ->
// Flatten -> Gemm(4 classes). Classes 0 and 1 differ by 2% of a mixed-sign pattern: which one
// wins depends on the input, by a margin far below one activation quantization step.
std::shared_ptr<Graph> near_tie_classifier() {
  GraphBuilder b;
  ValueId x = b.input("x", {1, 2, 4, 4});
  ValueId w1 = b.constant("w1", ftensor({8, 2, 3, 3}, ramp(144, 0.5f, 3)));
  ValueId b1 = b.constant("b1", ftensor({8}, ramp(8, 0.1f, 4)));
  ValueId c1 = b.node("Conv", {x, w1, b1}, {test::a_ints("pads", {1, 1, 1, 1})});
  ValueId r1 = b.node("Relu", {c1});
  ValueId w2 = b.constant("w2", ftensor({8, 8, 1, 1}, ramp(64, 0.5f, 5)));
  ValueId c2 = b.node("Conv", {r1, w2});
  ValueId r2 = b.node("Relu", {c2});
  ValueId p = b.node("GlobalAveragePool", {r2});
  ValueId f = b.node("Flatten", {p});
  std::vector<float> fc(32);
  const std::vector<float> base = ramp(8, 1.0f, 6), pattern = ramp(8, 1.0f, 7);
  for (int k = 0; k < 8; ++k) {
    fc[size_t(k)] = base[size_t(k)];
    fc[size_t(8 + k)] = base[size_t(k)] + 0.02f * pattern[size_t(k)];
    fc[size_t(16 + k)] = -1.0f;
    fc[size_t(24 + k)] = -2.0f;
  }
  ValueId gw = b.constant("fc_w", ftensor({4, 8}, fc));
  ValueId y = b.node("Gemm", {f, gw}, {a_int("transB", 1)});
  b.output(y);
  return std::make_shared<Graph>(b.graph());
}

struct Data {
  std::unique_ptr<Dataset> all, calib, agree;
};
Data split_data(int64_t calib_n, int64_t agree_n) {
  Data d;
  auto all = open_dataset("random:" + std::to_string(calib_n + agree_n), {{"x", DataType::kFloat, {1, 2, 4, 4}}}, {});
  EXPECT_TRUE(all.is_ok()) << all.status().to_string();
  d.all = std::move(all).value();
  d.calib = dataset_window(*d.all, 0, calib_n);
  d.agree = dataset_window(*d.all, calib_n, agree_n);
  return d;
}

std::map<ValueId, Range> calibrate(const Graph& g, Dataset& calib, const QuantizeOptions& o) {
  const StaticPlan p = plan_static(g, o);
  auto stats = collect_stats(g, p.tensors, calib, o);
  EXPECT_TRUE(stats.is_ok()) << stats.status().to_string();
  return ranges_for(g, stats.value(), o.calib);
}

// Top-1 agreement of the static-INT8 model (keep_float in float) with `g`, measured by evaluate().
double measured_agreement(const Graph& g, const std::map<ValueId, Range>& ranges, const std::set<size_t>& keep_float,
                          Dataset& data, const QuantizeOptions& o) {
  Graph q = g;
  const StaticPlan p = plan_static(q, o, nullptr, &keep_float);
  EXPECT_TRUE(apply_static(q, p, ranges, o, nullptr).is_ok());
  std::vector<int64_t> labels(size_t(data.size()), 0);
  auto r = evaluate(q, &g, data, labels, {});
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  return r.is_ok() ? double(r->agree) / double(r->samples) : -1;
}

TEST(MixedPrecision, ReachesTargetWherePlainInt8Misses) {
  auto g = near_tie_classifier();
  Data d = split_data(64, 200);
  QuantizeOptions o;
  o.target_agreement = 0.995;
  const auto ranges = calibrate(*g, *d.calib, o);
  const double plain = measured_agreement(*g, ranges, {}, *d.agree, o);
  ASSERT_LT(plain, o.target_agreement) << "the model must be hard for plain INT8 for this test to mean anything";

  QuantizeReport rep;
  auto keep = choose_float_layers(*g, ranges, *d.calib, *d.agree, o, &rep);
  ASSERT_TRUE(keep.is_ok()) << keep.status().to_string();
  EXPECT_TRUE(rep.mixed.reached);
  EXPECT_DOUBLE_EQ(rep.mixed.int8_agreement, plain);
  EXPECT_GE(rep.mixed.agreement, o.target_agreement);
  EXPECT_FALSE(rep.mixed.float_layers.empty());
  // Fewer than all 4 layers (2 Conv, GlobalAveragePool, Gemm) stay float.
  EXPECT_LT(rep.mixed.float_layers.size(), 4u);
  EXPECT_EQ(rep.mixed.samples, 200);
  EXPECT_GE(rep.mixed.trials, 2);
  // The chosen model, rebuilt and measured independently, agrees as reported.
  EXPECT_DOUBLE_EQ(measured_agreement(*g, ranges, keep.value(), *d.agree, o), rep.mixed.agreement);
  // A Conv kept in float takes its fused Relu along: no Q/DQ between them.
  for (size_t i : keep.value())
    if (g->nodes[i].op_type == "Conv") {
      const ValueId out = g->nodes[i].outputs[0];
      bool relu_kept = false;
      for (size_t j : keep.value()) relu_kept |= g->nodes[j].op_type == "Relu" && g->nodes[j].inputs[0] == out;
      EXPECT_TRUE(relu_kept) << g->nodes[i].name;
    }
}

TEST(MixedPrecision, NothingStaysFloatWhenInt8AlreadyMeetsTheTarget) {
  auto g = near_tie_classifier();
  Data d = split_data(64, 100);
  QuantizeOptions o;
  const auto ranges = calibrate(*g, *d.calib, o);
  const double plain = measured_agreement(*g, ranges, {}, *d.agree, o);
  o.target_agreement = plain;  // exactly what plain INT8 gets
  QuantizeReport rep;
  auto keep = choose_float_layers(*g, ranges, *d.calib, *d.agree, o, &rep);
  ASSERT_TRUE(keep.is_ok()) << keep.status().to_string();
  EXPECT_TRUE(keep->empty());
  EXPECT_TRUE(rep.mixed.reached);
  EXPECT_EQ(rep.mixed.trials, 1);
  EXPECT_DOUBLE_EQ(rep.mixed.agreement, plain);
}

TEST(MixedPrecision, Int8WeightFallbackKeepsWeightsQuantized) {
  auto g = near_tie_classifier();
  QuantizeOptions o;
  o.fallback_int8_weights = true;
  std::set<size_t> keep;
  for (size_t i = 0; i < g->nodes.size(); ++i) keep.insert(i);  // every layer "float"
  const StaticPlan p = plan_static(*g, o, nullptr, &keep);
  EXPECT_TRUE(p.tensors.empty()) << "no activation is quantized";
  EXPECT_EQ(p.nodes.size(), 3u) << "2 Conv + Gemm keep int8 weights";
  o.fallback_int8_weights = false;
  const StaticPlan pf = plan_static(*g, o, nullptr, &keep);
  EXPECT_TRUE(pf.nodes.empty());
  EXPECT_TRUE(pf.tensors.empty());
}

TEST(MixedPrecision, EndToEndWritesAModelAndHoldsOutCalibrationData) {
  auto g = near_tie_classifier();
  onnx::Model m;
  m.graph = g;
  m.opset_imports = {{"", 17}};
  const auto dir = std::filesystem::temp_directory_path();
  const std::string in = (dir / "petrel_mp_in.onnx").string(), out = (dir / "petrel_mp_out.onnx").string();
  ASSERT_TRUE(onnx::write_model(m, in, {}).is_ok());
  auto data = open_dataset("random:64", {{"x", DataType::kFloat, {1, 2, 4, 4}}}, {});
  ASSERT_TRUE(data.is_ok());
  QuantizeOptions o;
  o.target_agreement = 1.0;
  auto rep = quantize_model(in, out, data.value().get(), o);
  ASSERT_TRUE(rep.is_ok()) << rep.status().to_string();
  EXPECT_TRUE(rep->mixed.held_out);
  EXPECT_EQ(rep->mixed.samples, 16);  // the last quarter
  EXPECT_EQ(rep->calib_samples, 48);
  EXPECT_TRUE(rep->mixed.reached);
  EXPECT_GT(rep->bytes_after, 0u);
  auto loaded = onnx::load_model(out);
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  // Too few samples to hold out a quarter, and a target outside (0, 1]: clear errors.
  auto few = open_dataset("random:8", {{"x", DataType::kFloat, {1, 2, 4, 4}}}, {});
  ASSERT_TRUE(few.is_ok());
  auto r1 = quantize_model(in, out, few.value().get(), o);
  ASSERT_FALSE(r1.is_ok());
  EXPECT_NE(r1.status().message().find("--agreement-data"), std::string::npos);
  o.target_agreement = 1.5;
  EXPECT_FALSE(quantize_model(in, out, data.value().get(), o).is_ok());
  std::filesystem::remove(in);
  std::filesystem::remove(out);
}

}  // namespace
}  // namespace petrel::quant
