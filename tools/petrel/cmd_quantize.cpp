// petrel quantize MODEL -o OUT [--calib DATA]: static INT8 (default), --dynamic, or INT4
// weight-only; prints a summary (sizes, nodes quantized per op type, excluded nodes; with
// --target-agreement the agreement reached and the layers kept in float) and, with
// --sensitivity, the per-layer error table.
#include <cstdio>
#include <sstream>

#include "cli_common.hpp"
#include "commands.hpp"
#include "data_args.hpp"
#include "onnx/model.hpp"
#include "quantize/quantizer.hpp"

namespace petrel::cli {

Result<std::vector<quant::InputSpec>> model_inputs(const std::string& path) {
  PETREL_ASSIGN_OR_RETURN(auto m, onnx::load_model(path));
  std::vector<quant::InputSpec> out;
  const Graph& g = *m->graph;
  for (ValueId id : g.inputs) {
    const ValueInfo& vi = g.values[size_t(id)];
    quant::InputSpec s;
    s.name = vi.name;
    s.dtype = vi.type.dtype == DataType::kUndefined ? DataType::kFloat : vi.type.dtype;
    for (const Dim& d : vi.type.shape) s.shape.push_back(d.is_static() ? d.value : -1);
    out.push_back(std::move(s));
  }
  return out;
}

int cmd_quantize(const QuantizeArgs& a) {
  quant::QuantizeOptions o;
  int modes = int(a.dynamic) + int(a.weights_only);
  if (modes > 1) return report(invalid_argument("choose one of --dynamic and --weights-only"));
  if (a.weights_only) {
    if (a.bits != 4) return report(invalid_argument("--weights-only quantizes to INT4: give --bits 4"));
    o.mode = quant::QuantMode::kWeightOnly;
  } else if (a.bits != 8) {
    return report(invalid_argument("--bits 4 needs --weights-only (INT4 activations are not supported)"));
  } else if (a.dynamic) {
    o.mode = quant::QuantMode::kDynamic;
  }
  auto method = quant::parse_calib_method(a.method);
  if (!method) return report(method.status());
  o.calib.method = method.value();
  o.calib.percentile = a.percentile;
  if (a.activations != "u8" && a.activations != "s8") return report(invalid_argument("--activations must be u8 or s8"));
  o.calib.unsigned_act = a.activations == "u8";
  o.calib.reduce_range = a.reduce_range;
  o.per_channel = !a.per_tensor;
  o.block = a.block;
  for (const std::string& e : a.exclude) {
    std::stringstream ss(e);
    std::string item;
    while (std::getline(ss, item, ','))
      if (!item.empty()) o.exclude.push_back(item);
  }
  o.quantize_outputs = a.quantize_outputs;
  o.preprocess = !a.no_preprocess;
  if (a.sensitivity) o.sensitivity_samples = a.sensitivity_samples;
  if (a.sensitivity && a.sensitivity_samples < 1) return report(invalid_argument("--sensitivity-samples must be >= 1"));
  if (a.threads < 1) return report(invalid_argument("--threads must be >= 1"));
  o.target_agreement = a.target_agreement;
  o.ranking_samples = a.ranking_samples;
  if (a.fallback != "float" && a.fallback != "weights-int8") return report(invalid_argument("--fallback must be float or weights-int8"));
  o.fallback_int8_weights = a.fallback == "weights-int8";
  if (!a.agreement_data.empty() && a.target_agreement <= 0)
    return report(invalid_argument("--agreement-data is used by --target-agreement: give that too"));
  if (a.agreement_limit < 0 || a.agreement_offset < 0)
    return report(invalid_argument("--agreement-limit and --agreement-offset must be >= 0"));
  o.runner.threads = a.threads;
  o.runner.xnnpack = !a.no_xnnpack;
  ProgressBar bar(a.progress || stderr_is_tty());
  o.progress = bar.callback();

  std::unique_ptr<quant::Dataset> data, agree;
  if (o.mode == quant::QuantMode::kStatic) {
    if (a.calib.empty()) return report(invalid_argument("static quantization needs --calib DATA (or use --dynamic / --weights-only)"));
    auto inputs = model_inputs(a.model);
    if (!inputs) return report(inputs.status());
    auto dopt = to_data_options(a.data);
    if (!dopt) return report(dopt.status());
    auto d = quant::open_dataset(a.calib, inputs.value(), dopt.value());
    if (!d) return report(d.status().with_context("--calib"));
    data = std::move(d).value();
    if (!a.agreement_data.empty()) {
      dopt->limit = a.agreement_limit;
      dopt->offset = a.agreement_offset;
      auto ad = quant::open_dataset(a.agreement_data, inputs.value(), dopt.value());
      if (!ad) return report(ad.status().with_context("--agreement-data"));
      agree = std::move(ad).value();
      o.agreement_data = agree.get();
    }
  }
  auto r = quant::quantize_model(a.model, a.output, data.get(), o);
  bar.finish();
  if (!r) return report(r.status());
  const quant::QuantizeReport& rep = r.value();
  std::printf("quantized %s -> %s\n", a.model.c_str(), a.output.c_str());
  char pct[32] = "";
  if (o.calib.method == quant::CalibMethod::kPercentile) std::snprintf(pct, sizeof pct, " %g", o.calib.percentile);
  if (data)
    std::printf("  calibration:  %lld samples of %s, %d tensors, %.1f s (%s%s)\n", (long long)rep.calib_samples,
                data->describe().c_str(), rep.tensors, rep.calib_seconds, quant::calib_method_name(o.calib.method),
                pct);
  std::printf("  size:         %s -> %s (%.3fx)\n", format_bytes(double(rep.bytes_before)).c_str(),
              format_bytes(double(rep.bytes_after)).c_str(), rep.bytes_before ? double(rep.bytes_after) / double(rep.bytes_before) : 0.0);
  int total = 0;
  std::string per_op;
  for (auto& [op, n] : rep.quantized) {
    per_op += (per_op.empty() ? "" : ", ") + op + " " + std::to_string(n);
    total += n;
  }
  std::printf("  quantized:    %d of %d nodes (%s)\n", total, rep.nodes_before, per_op.empty() ? "none" : per_op.c_str());
  std::string ex;
  for (auto& e : rep.excluded) ex += (ex.empty() ? "" : ", ") + e;
  std::printf("  excluded:     %s\n", ex.empty() ? "none" : ex.c_str());
  if (rep.mixed.ran) {
    const auto& m = rep.mixed;
    std::printf("  agreement:    %.2f%% top-1 with the float model on %lld %s samples (all INT8: %.2f%%; target %.2f%%%s)\n",
                100 * m.agreement, (long long)m.samples, m.held_out ? "held-out calibration" : "--agreement-data",
                100 * m.int8_agreement, 100 * m.target, m.reached ? ", reached" : ", NOT reached");
    std::string fl;
    for (auto& l : m.float_layers) fl += (fl.empty() ? "" : ", ") + l;
    std::printf("  float layers: %zu (%s float32 weights): %s\n", m.float_layers.size(),
                format_bytes(double(m.float_weight_bytes)).c_str(), fl.empty() ? "none" : fl.c_str());
    std::printf("  search:       %d candidate models\n", m.trials);
    if (a.verbose)
      for (auto& [k, ag] : m.tried) std::printf("    %3d layers in float: %.2f%%\n", k, 100 * ag);
  }
  for (auto& s : rep.skipped) std::printf("  skipped:      %s\n", s.c_str());
  std::printf("  opset:        %lld\n", (long long)rep.opset);
  if (a.verbose && !rep.ranges.empty()) {
    std::printf("\nranges (observed min..max -> quantized range):\n");
    for (auto& r : rep.ranges)
      std::printf("  %-50s %10.4g .. %-10.4g -> %10.4g .. %.4g\n", r.name.c_str(), r.min, r.max, double(r.lo), double(r.hi));
  }
  if (!rep.sensitivity.empty()) {
    std::printf("\nsensitivity (only this layer quantized; %d samples; worst first):\n", o.sensitivity_samples);
    std::printf("  %-40s %-18s %10s %10s\n", "node", "op", "SQNR dB", "rel L2");
    for (auto& s : rep.sensitivity)
      std::printf("  %-40s %-18s %10.2f %10.5f\n", s.node.c_str(), s.op.c_str(), s.sqnr_db, s.rel_l2);
  }
  return kExitOk;
}

}  // namespace petrel::cli
