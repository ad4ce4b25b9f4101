// Post-training quantization of ONNX models into standard ONNX that ONNX Runtime also runs.
//
//   static (default)  QuantizeLinear/DequantizeLinear pairs on the activations around Conv, Gemm,
//                     MatMul, Add, Mul, MaxPool, AveragePool, GlobalAveragePool, Concat, Relu,
//                     Clip (a Relu/Clip that is the only reader of a Conv/Gemm/MatMul/Add output
//                     is fused: the pair goes after it); int8 weights per output channel
//                     (symmetric, [-127,127]) with DequantizeLinear; int32 bias with scale
//                     s_x*s_w; activations u8 (or s8), asymmetric, ranges from calibration.
//                     With a target agreement, the layers with the most output error per
//                     byte stay float until top-1 agreement with FP32 reaches it
//                     (mixed_precision.cpp).
//   dynamic           MatMul/Gemm with constant weights -> DynamicQuantizeLinear + MatMulInteger
//                     (int8 weights per column) + rescale: activations are quantized at run time.
//   weight-only INT4  Conv/Gemm/MatMul weights as opset-21 blocked DequantizeLinear of INT4
//                     tensors (blocks along the reduction axis); activations stay float.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/graph.hpp"
#include "quantize/calibration.hpp"
#include "quantize/dataset.hpp"
#include "quantize/runner.hpp"

namespace petrel::quant {

enum class QuantMode { kStatic, kDynamic, kWeightOnly };

struct QuantizeOptions {
  QuantMode mode = QuantMode::kStatic;
  CalibConfig calib;              // method, percentile, u8/s8, reduce_range
  bool per_channel = true;        // weights per output channel (else per tensor)
  int64_t block = 32;             // weight-only INT4 block size along the reduction axis
  std::vector<std::string> exclude;  // node names or op types kept in float
  bool quantize_outputs = false;  // also put Q/DQ on graph outputs
  bool preprocess = true;         // fold Conv+BN, constants, Identity/Dropout first
  int sensitivity_samples = 0;    // > 0: per-layer sensitivity over this many calibration samples
  // Accuracy-driven mixed precision (static mode, `--target-agreement`): when > 0, the layers
  // the sensitivity ranking puts worst stay in float, as few as needed for the top-1 agreement
  // with the float model to reach this fraction on `agreement_data`.
  double target_agreement = 0;
  // Samples the agreement is measured on (not owned). Null: the last quarter of the calibration
  // data, which is then held out of calibration.
  Dataset* agreement_data = nullptr;
  int ranking_samples = 8;        // calibration samples the sensitivity ranking runs
  // What a layer kept in float by mixed precision looks like: false, entirely float (no Q/DQ);
  // true, float activations but int8 weights (DequantizeLinear on the weight only), which
  // keeps the file near INT8 size (`--fallback weights-int8`).
  bool fallback_int8_weights = false;
  RunnerOptions runner;
  // Progress callback for calibration/sensitivity: (stage, done, total).
  std::function<void(const char*, int64_t, int64_t)> progress;
};

struct LayerSensitivity {
  std::string node, op;
  size_t index = 0;    // node index in the (preprocessed) graph
  double sqnr_db = 0;  // 10 log10(|y|^2 / |y - y_q|^2) of the model's outputs, only this layer quantized
  double rel_l2 = 0;   // |y - y_q| / |y|
};

struct QuantizeReport {
  size_t bytes_before = 0, bytes_after = 0;
  int nodes_before = 0;
  std::map<std::string, int> quantized;  // op type -> nodes quantized
  std::vector<std::string> excluded;     // "name (Op)" of quantizable nodes kept in float
  std::vector<std::string> skipped;      // "name (Op): why" for nodes that could not be quantized
  int tensors = 0;                       // activation tensors with Q/DQ
  int64_t calib_samples = 0;
  double calib_seconds = 0;
  int64_t opset = 17;
  std::vector<LayerSensitivity> sensitivity;  // worst first
  struct TensorRange {
    std::string name;
    double min, max;  // observed
    float lo, hi;     // chosen by the calibration method
  };
  std::vector<TensorRange> ranges;            // static mode: every calibrated tensor
  // Accuracy-driven mixed precision (target_agreement > 0).
  struct MixedPrecision {
    bool ran = false;
    double target = 0;
    int64_t samples = 0;          // agreement samples
    bool held_out = false;        // they are the held-out tail of the calibration data
    double int8_agreement = 0;    // every layer quantized
    double agreement = 0;         // the written model
    bool reached = false;
    int trials = 0;               // candidate models evaluated
    std::vector<std::pair<int, double>> tried;  // (layers in float, agreement) of each candidate
    std::vector<std::string> float_layers;  // "name (Op)" kept in float, most sensitive first
    int64_t float_weight_bytes = 0;         // float32 bytes of their weights and biases
  } mixed;
};

// Loads `in_path`, quantizes, writes `out_path`. `calib` is required for static mode (and for
// sensitivity), ignored otherwise.
Result<QuantizeReport> quantize_model(const std::string& in_path, const std::string& out_path, Dataset* calib,
                                      const QuantizeOptions& options);

// ---- the steps, for tests ----

// Which nodes and tensors static quantization touches.
struct StaticPlan {
  std::vector<size_t> nodes;            // quantized nodes (fused activations included)
  std::vector<ValueId> tensors;         // activation tensors that get Q/DQ
  std::map<ValueId, ValueId> same_as;   // tensor -> tensor whose parameters it reuses (MaxPool)
  std::vector<size_t> excluded;
};
// `only`: restrict to these node indices (sensitivity); null = every quantizable node.
// `keep_float`: node indices kept in float besides `o.exclude` (mixed precision); with
// o.fallback_int8_weights their Conv/Gemm/MatMul weights are still quantized.
StaticPlan plan_static(const Graph& g, const QuantizeOptions& o, const std::vector<size_t>* only = nullptr,
                       const std::set<size_t>* keep_float = nullptr);
// Activation statistics of `tensors` over `data` (values that turn out not float32 are absent).
Result<std::map<ValueId, TensorStats>> collect_stats(const Graph& g, const std::vector<ValueId>& tensors, Dataset& data,
                                                     const QuantizeOptions& o);
// Rewrites `g`. `ranges` holds a range for every plan tensor that is float (others are skipped).
Status apply_static(Graph& g, const StaticPlan& plan, const std::map<ValueId, Range>& ranges, const QuantizeOptions& o,
                    QuantizeReport* report);
// Each quantizable layer's output error when only it is quantized, worst first (Relu/Clip are
// judged with the layer they are fused to) over the first `samples` samples of `data`.
Result<std::vector<LayerSensitivity>> layer_sensitivity(const Graph& g, const StaticPlan& full,
                                                        const std::map<ValueId, Range>& ranges, Dataset& data,
                                                        const QuantizeOptions& o, int64_t samples);
// Graph inputs keep their min/max under entropy calibration (see quantizer.cpp).
std::map<ValueId, Range> ranges_for(const Graph& g, const std::map<ValueId, TensorStats>& stats, const CalibConfig& c);
// Accuracy-driven mixed precision: the set of node indices to keep in float so that the
// top-1 agreement of the static-INT8 model with `g` on `agree` reaches o.target_agreement.
// `g` is the preprocessed float graph, `ranges` its calibrated ranges. Fills report->mixed.
Result<std::set<size_t>> choose_float_layers(const Graph& g, const std::map<ValueId, Range>& ranges, Dataset& calib,
                                             Dataset& agree, const QuantizeOptions& o, QuantizeReport* report);
Status apply_dynamic(Graph& g, const QuantizeOptions& o, QuantizeReport* report);
Status apply_weight_only_int4(Graph& g, const QuantizeOptions& o, QuantizeReport* report);
// Runs the standard-ONNX-preserving cleanups (identity/dropout, constant folding, Conv+BN, dead nodes).
Status preprocess_graph(Graph& g);

}  // namespace petrel::quant
