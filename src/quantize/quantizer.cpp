// quantize_model: load, preprocess, calibrate, rewrite, (sensitivity), write.
#include "quantize/quantizer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>

#include "onnx/model.hpp"
#include "onnx/opset.hpp"
#include "onnx/writer.hpp"
#include "optimize/optimizer.hpp"

namespace petrel::quant {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Float outputs of one run, flattened (for the sensitivity error).
Status float_outputs(const GraphRunner& r, size_t n, std::vector<std::vector<float>>& out) {
  out.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const Value& v = r.output(i);
    out[i].clear();
    if (!v.is_tensor() || v.tensor.dtype != DataType::kFloat) continue;
    out[i].assign(v.tensor.as<float>(), v.tensor.as<float>() + v.tensor.numel());
  }
  return Status::ok();
}

}  // namespace

// Graph inputs keep their min/max under entropy calibration: their range is set by the
// preprocessing, and KL happily clips e.g. the bright pixels of a mostly-background image.
std::map<ValueId, Range> ranges_for(const Graph& g, const std::map<ValueId, TensorStats>& stats, const CalibConfig& c) {
  std::map<ValueId, Range> r;
  for (auto& [v, s] : stats) {
    if (s.count == 0) continue;
    CalibConfig cc = c;
    if (c.method == CalibMethod::kEntropy && std::find(g.inputs.begin(), g.inputs.end(), v) != g.inputs.end())
      cc.method = CalibMethod::kMinMax;
    r[v] = choose_range(s, cc);
  }
  return r;
}

Result<std::vector<LayerSensitivity>> layer_sensitivity(const Graph& g, const StaticPlan& full,
                                                        const std::map<ValueId, Range>& ranges, Dataset& data,
                                                        const QuantizeOptions& o, int64_t samples) {
  samples = std::min<int64_t>(samples, data.size());
  const size_t nout = g.outputs.size();
  // Reference outputs of the float model.
  PETREL_ASSIGN_OR_RETURN(auto ref_runner, GraphRunner::create(g, o.runner));
  std::vector<std::vector<std::vector<float>>> ref(static_cast<size_t>(samples));
  std::vector<std::vector<Tensor>> inputs(static_cast<size_t>(samples));
  for (int64_t s = 0; s < samples; ++s) {
    PETREL_ASSIGN_OR_RETURN(inputs[size_t(s)], data.get(s));
    PETREL_RETURN_IF_ERROR(ref_runner->run(inputs[size_t(s)]));
    PETREL_RETURN_IF_ERROR(float_outputs(*ref_runner, nout, ref[size_t(s)]));
  }
  std::vector<size_t> layers;
  for (size_t i : full.nodes)
    if (g.nodes[i].op_type != "Relu" && g.nodes[i].op_type != "Clip") layers.push_back(i);
  std::vector<LayerSensitivity> out;
  std::vector<std::vector<float>> got;
  int64_t done = 0;
  for (size_t i : layers) {
    if (o.progress) o.progress("sensitivity", done++, int64_t(layers.size()));
    Graph q = g;
    const std::vector<size_t> only{i};
    StaticPlan p = plan_static(q, o, &only);
    PETREL_RETURN_IF_ERROR(apply_static(q, p, ranges, o, nullptr));
    PETREL_ASSIGN_OR_RETURN(auto runner, GraphRunner::create(q, o.runner));
    double sig = 0, err = 0;
    for (int64_t s = 0; s < samples; ++s) {
      PETREL_RETURN_IF_ERROR(runner->run(inputs[size_t(s)]));
      PETREL_RETURN_IF_ERROR(float_outputs(*runner, nout, got));
      for (size_t k = 0; k < nout; ++k)
        for (size_t e = 0; e < got[k].size() && e < ref[size_t(s)][k].size(); ++e) {
          const double y = ref[size_t(s)][k][e], d = y - got[k][e];
          sig += y * y;
          err += d * d;
        }
    }
    LayerSensitivity ls;
    ls.node = g.nodes[i].name;
    ls.op = g.nodes[i].op_type;
    ls.index = i;
    ls.sqnr_db = err > 0 ? 10 * std::log10(sig / err) : INFINITY;
    ls.rel_l2 = sig > 0 ? std::sqrt(err / sig) : 0;
    out.push_back(ls);
  }
  if (o.progress) o.progress("sensitivity", done, int64_t(layers.size()));
  std::stable_sort(out.begin(), out.end(), [](const LayerSensitivity& a, const LayerSensitivity& b) { return a.sqnr_db < b.sqnr_db; });
  return out;
}

Status preprocess_graph(Graph& g) {
  opt::PassManager pm;
  pm.add(opt::make_identity_elimination_pass());
  pm.add(opt::make_constant_folding_pass());
  pm.add(opt::make_conv_bn_pass());
  pm.add(opt::make_dead_node_pass());
  opt::OptimizeStats st;
  return pm.run(g, {}, &st);
}

Result<std::map<ValueId, TensorStats>> collect_stats(const Graph& g, const std::vector<ValueId>& tensors, Dataset& data,
                                                     const QuantizeOptions& o) {
  Graph probe = g;
  std::vector<size_t> slot(tensors.size());
  for (size_t k = 0; k < tensors.size(); ++k) {
    auto it = std::find(probe.outputs.begin(), probe.outputs.end(), tensors[k]);
    slot[k] = size_t(it - probe.outputs.begin());
    if (it == probe.outputs.end()) probe.outputs.push_back(tensors[k]);
  }
  PETREL_ASSIGN_OR_RETURN(auto runner, GraphRunner::create(probe, o.runner));
  std::map<ValueId, TensorStats> stats;
  const int64_t n = data.size();
  for (int64_t s = 0; s < n; ++s) {
    if (o.progress) o.progress("calibrating", s, n);
    auto sample = data.get(s);
    if (!sample) return sample.status().with_context("calibration sample " + std::to_string(s));
    Status st = runner->run(sample.value());
    if (!st) return st.with_context("calibration sample " + std::to_string(s));
    for (size_t k = 0; k < tensors.size(); ++k) {
      const Value& v = runner->output(slot[k]);
      if (!v.is_tensor() || v.tensor.dtype != DataType::kFloat) continue;
      stats[tensors[k]].add(v.tensor.as<float>(), v.tensor.numel());
    }
  }
  if (o.progress) o.progress("calibrating", n, n);
  return stats;
}

Result<QuantizeReport> quantize_model(const std::string& in_path, const std::string& out_path, Dataset* calib,
                                      const QuantizeOptions& o) {
  QuantizeReport rep;
  if (o.calib.method == CalibMethod::kPercentile && !(o.calib.percentile > 50 && o.calib.percentile <= 100))
    return invalid_argument("--percentile must be in (50, 100]");
  if (o.mode == QuantMode::kStatic && !calib) return invalid_argument("static quantization needs calibration data (--calib)");
  if (o.sensitivity_samples > 0 && (o.mode != QuantMode::kStatic || !calib))
    return invalid_argument("--sensitivity needs static mode and calibration data");
  if (o.target_agreement != 0 && !(o.target_agreement > 0 && o.target_agreement <= 1))
    return invalid_argument("--target-agreement must be in (0, 1], e.g. 0.97");
  if (o.target_agreement > 0 && o.mode != QuantMode::kStatic) return invalid_argument("--target-agreement needs static mode");
  if (o.target_agreement > 0 && o.ranking_samples < 1) return invalid_argument("--ranking-samples must be >= 1");
  std::error_code ec;
  rep.bytes_before = size_t(std::filesystem::file_size(in_path, ec));
  PETREL_ASSIGN_OR_RETURN(auto model, onnx::load_model(in_path));
  Graph& g = *model->graph;
  if (o.preprocess) PETREL_RETURN_IF_ERROR(preprocess_graph(g).with_context("preprocessing"));
  rep.nodes_before = int(g.nodes.size());
  std::string how;
  if (o.mode == QuantMode::kStatic) {
    StaticPlan plan = plan_static(g, o);
    for (size_t i : plan.excluded) rep.excluded.push_back(g.nodes[i].name + " (" + g.nodes[i].op_type + ")");
    // Mixed precision measures agreement on samples calibration did not see: --agreement-data,
    // or else the last quarter of the calibration data, held out.
    Dataset* cal = calib;
    Dataset* agree = o.agreement_data;
    std::unique_ptr<Dataset> cal_part, held;
    if (o.target_agreement > 0 && !agree) {
      const int64_t n = calib->size(), h = n / 4;
      if (h < 4)
        return invalid_argument("--target-agreement without --agreement-data measures on the last quarter of the calibration "
                                "samples: give at least 16 of them (" + std::to_string(n) + " given) or --agreement-data");
      cal_part = dataset_window(*calib, 0, n - h);
      held = dataset_window(*calib, n - h, h);
      cal = cal_part.get();
      agree = held.get();
    }
    const auto t0 = std::chrono::steady_clock::now();
    PETREL_ASSIGN_OR_RETURN(auto stats, collect_stats(g, plan.tensors, *cal, o));
    rep.calib_seconds = seconds_since(t0);
    rep.calib_samples = cal->size();
    const auto ranges = ranges_for(g, stats, o.calib);
    for (auto& [v, r] : ranges)
      rep.ranges.push_back({g.values[size_t(v)].name, stats[v].min, stats[v].max, r.lo, r.hi});
    if (o.sensitivity_samples > 0) {
      PETREL_ASSIGN_OR_RETURN(rep.sensitivity, layer_sensitivity(g, plan, ranges, *cal, o, o.sensitivity_samples));
    }
    if (o.target_agreement > 0) {
      PETREL_ASSIGN_OR_RETURN(auto keep_float, choose_float_layers(g, ranges, *cal, *agree, o, &rep));
      rep.mixed.held_out = !o.agreement_data;
      plan = plan_static(g, o, nullptr, &keep_float);
    }
    PETREL_RETURN_IF_ERROR(apply_static(g, plan, ranges, o, &rep));
    how = std::string("static int8, ") + (o.calib.unsigned_act ? "u8" : "s8") + " activations" +
          (o.calib.reduce_range ? " (7-bit)" : "") + ", " + (o.per_channel ? "per-channel" : "per-tensor") +
          " s8 weights, " + calib_method_name(o.calib.method);
  } else if (o.mode == QuantMode::kDynamic) {
    PETREL_RETURN_IF_ERROR(apply_dynamic(g, o, &rep));
    how = "dynamic int8 (MatMulInteger), s8 weights";
  } else {
    PETREL_RETURN_IF_ERROR(apply_weight_only_int4(g, o, &rep));
    how = "weight-only int4, blocks of " + std::to_string(o.block);
  }
  // Write at the model's own opset (at least the IR's 17); INT4 needs 21.
  int64_t opset = std::clamp<int64_t>(model->opset(""), onnx::kIrOpset, onnx::kMaxWriteOpset);
  if (o.mode == QuantMode::kWeightOnly) opset = 21;
  PETREL_RETURN_IF_ERROR(onnx::denormalize_for_opset(g, opset));
  rep.opset = opset;
  model->metadata.emplace_back("petrel.quantization", how);
  // Int8 kernels clamp activations to 7 bits when a model was calibrated for them.
  if (o.mode == QuantMode::kStatic && o.calib.reduce_range) model->metadata.emplace_back("petrel.activation_bits", "7");
  onnx::WriteOptions wo;
  wo.default_opset = opset;
  wo.compact = true;
  PETREL_RETURN_IF_ERROR(onnx::write_model(*model, out_path, wo));
  rep.bytes_after = size_t(std::filesystem::file_size(out_path, ec));
  return rep;
}

}  // namespace petrel::quant
