// petrel profile MODEL --data X [--limit N] [--bins K] [--ood-percentile P] -o profile.json:
// the calibration profile (output confidence/energy histograms, OOD thresholds, input
// statistics) that drift monitoring and OOD flags compare live traffic against. Ship it in a
// bundle with `petrel pack --calibration profile.json`.
// petrel drift MODEL --profile profile.json --data X: the same monitoring offline on a data
// set: PSI per output and input, and the OOD rate, as the router would report them.
#include <cstdio>
#include <fstream>
#include <functional>

#include "cli_common.hpp"
#include "commands.hpp"
#include "data_args.hpp"
#include "onnx/model.hpp"
#include "quantize/runner.hpp"
#include "telemetry/drift.hpp"
#include "telemetry/profile.hpp"

namespace petrel::cli {

Result<std::vector<quant::InputSpec>> model_inputs(const std::string& path);

namespace {

using SampleFn = std::function<Status(const std::vector<telemetry::TensorRef>& ins, const std::vector<telemetry::TensorRef>& outs)>;

// Runs every sample of --data through the model and hands its inputs and outputs to `fn`.
// Returns the data's description for the summary.
Result<std::string> for_each_sample(const std::string& model_path, const std::string& data_path, const DataArgs& data_args, int threads,
                                    bool xnnpack, bool progress, const char* stage, const SampleFn& fn) {
  PETREL_ASSIGN_OR_RETURN(auto model, onnx::load_model(model_path));
  const Graph& g = *model->graph;
  PETREL_ASSIGN_OR_RETURN(auto inputs, model_inputs(model_path));
  PETREL_ASSIGN_OR_RETURN(auto dopt, to_data_options(data_args));
  auto data = quant::open_dataset(data_path, inputs, dopt);
  if (!data) return data.status().with_context("--data");
  quant::RunnerOptions ro;
  ro.threads = threads;
  ro.xnnpack = xnnpack;
  PETREL_ASSIGN_OR_RETURN(auto runner, quant::GraphRunner::create(g, ro));
  const int64_t n = data.value()->size();
  ProgressBar bar(progress || stderr_is_tty());
  std::vector<telemetry::TensorRef> in_refs, out_refs;
  for (int64_t i = 0; i < n; ++i) {
    bar.update(stage, i, n);
    auto sample = data.value()->get(i);
    if (!sample) return sample.status().with_context("sample " + std::to_string(i));
    Status st = runner->run(sample.value());
    if (!st) return st.with_context("sample " + std::to_string(i));
    in_refs.clear();
    out_refs.clear();
    for (size_t k = 0; k < g.inputs.size() && k < sample.value().size(); ++k)
      in_refs.push_back(telemetry::ref_of(g.values[size_t(g.inputs[k])].name, sample.value()[k]));
    for (size_t k = 0; k < g.outputs.size() && k < runner->num_outputs(); ++k) {
      const Value& v = runner->output(k);
      if (v.is_tensor()) out_refs.push_back(telemetry::ref_of(g.values[size_t(g.outputs[k])].name, v.tensor));
    }
    st = fn(in_refs, out_refs);
    if (!st) return st.with_context("sample " + std::to_string(i));
  }
  bar.update(stage, n, n);
  bar.finish();
  return data.value()->describe();
}

}  // namespace

int cmd_profile(const ProfileArgs& a) {
  if (a.threads < 1) return report(invalid_argument("--threads must be >= 1"));
  if (a.bins < 1 || a.bins > 1000) return report(invalid_argument("--bins must be in 1..1000"));
  if (!(a.ood_percentile > 0 && a.ood_percentile < 100)) return report(invalid_argument("--ood-percentile must be in (0, 100)"));
  telemetry::ProfileBuilder builder;
  auto described = for_each_sample(a.model, a.data, a.data_opts, a.threads, !a.no_xnnpack, a.progress, "profiling",
                                   [&](const auto& ins, const auto& outs) { return builder.add(ins, outs); });
  if (!described) return report(described.status());
  auto profile = builder.finish(telemetry::ProfileOptions{size_t(a.bins), a.ood_percentile});
  if (!profile) return report(profile.status());
  const std::string json = telemetry::profile_to_json(profile.value()) + "\n";
  std::ofstream f(a.output, std::ios::binary | std::ios::trunc);
  if (!f.write(json.data(), std::streamsize(json.size())) || !f.flush()) return report(io_error("cannot write " + a.output));

  const auto& p = profile.value();
  std::printf("profile:    %s (%lld samples from %s)\n", a.output.c_str(), (long long)p.samples, described.value().c_str());
  for (const auto& o : p.outputs) {
    std::printf("output %s: %s, %lld classes, confidence below %.4f", o.name.c_str(), telemetry::score_kind_name(o.kind),
                (long long)o.classes, o.confidence_threshold);
    if (o.kind == telemetry::ScoreKind::kLogits) std::printf(" / energy above %.4f", o.energy_threshold);
    std::printf(" is OOD (%g%% of the data is inside)\n", o.ood_percentile);
  }
  for (const auto& in : p.inputs) std::printf("input %s: mean %.5g, std %.5g\n", in.name.c_str(), in.mean, in.std);
  return kExitOk;
}

int cmd_drift(const DriftArgs& a) {
  if (a.threads < 1) return report(invalid_argument("--threads must be >= 1"));
  auto profile = telemetry::read_profile_file(a.profile);
  if (!profile) return report(profile.status());
  // The window holds the whole run: one PSI over all samples (the router slides it instead).
  const size_t window = a.data_opts.limit > 0 ? size_t(a.data_opts.limit) : size_t(1) << 20;
  telemetry::DriftMonitor drift(profile.value(), telemetry::DriftOptions{window});
  auto ood = telemetry::OodDetector::create(profile.value());
  int64_t samples = 0, flagged = 0;
  std::vector<float> row;
  auto described = for_each_sample(a.model, a.data, a.data_opts, a.threads, !a.no_xnnpack, a.progress, "monitoring",
                                   [&](const auto& ins, const auto& outs) {
    drift.observe(ins.data(), ins.size(), outs.data(), outs.size());
    for (const auto& o : outs) {
      if (!ood || o.name != ood->output_name() || o.dtype != DataType::kFloat || o.rank < 1 || o.dims[o.rank - 1] != ood->classes()) continue;
      const int64_t c = ood->classes();
      for (int64_t r = 0; r < o.numel() / c; ++r) {
        flagged += ood->check(static_cast<const float*>(o.data) + r * c, c).ood;
        ++samples;
      }
    }
    return Status::ok();
  });
  if (!described) return report(described.status());
  const telemetry::DriftSnapshot s = drift.snapshot();
  if (a.json) {
    std::printf("{\"samples\": %lld, \"ood_rate\": %.6f, \"max_psi\": %.6f, \"output_confidence_psi\": {", (long long)samples,
                samples ? double(flagged) / double(samples) : 0.0, s.max_psi);
    for (size_t i = 0; i < s.output_confidence.size(); ++i)
      std::printf("%s\"%s\": %.6f", i ? ", " : "", s.output_confidence[i].name.c_str(), s.output_confidence[i].psi);
    std::printf("}, \"input_mean_psi\": {");
    for (size_t i = 0; i < s.input_mean.size(); ++i) std::printf("%s\"%s\": %.6f", i ? ", " : "", s.input_mean[i].name.c_str(), s.input_mean[i].psi);
    std::printf("}}\n");
    return kExitOk;
  }
  std::printf("data:       %s\n", described.value().c_str());
  for (const auto& e : s.output_confidence) std::printf("PSI output %s confidence: %.4f (%zu samples)\n", e.name.c_str(), e.psi, e.samples);
  for (const auto& e : s.input_mean) std::printf("PSI input %s sample mean: %.4f (%zu samples)\n", e.name.c_str(), e.psi, e.samples);
  std::printf("drift:      %.4f (%s)\n", s.max_psi, s.max_psi < 0.1 ? "stable" : s.max_psi < 0.25 ? "moderate shift" : "significant shift");
  if (ood) std::printf("OOD:        %.2f%% of %lld samples (the profile's percentile flags %.2f%% of its own data)\n",
                       samples ? 100.0 * double(flagged) / double(samples) : 0.0, (long long)samples, 100 - profile->outputs[0].ood_percentile);
  return kExitOk;
}

}  // namespace petrel::cli
