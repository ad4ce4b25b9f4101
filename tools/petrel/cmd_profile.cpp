// petrel profile MODEL --data X [--limit N] [--bins K] [--ood-percentile P] -o profile.json:
// the calibration profile (output confidence/energy histograms, OOD thresholds, input
// statistics) that drift monitoring and OOD flags compare live traffic against. Ship it in a
// bundle with `petrel pack --calibration profile.json`.
#include <cstdio>
#include <fstream>

#include "cli_common.hpp"
#include "commands.hpp"
#include "data_args.hpp"
#include "onnx/model.hpp"
#include "quantize/runner.hpp"
#include "telemetry/profile.hpp"

namespace petrel::cli {

Result<std::vector<quant::InputSpec>> model_inputs(const std::string& path);

int cmd_profile(const ProfileArgs& a) {
  if (a.threads < 1) return report(invalid_argument("--threads must be >= 1"));
  if (a.bins < 1 || a.bins > 1000) return report(invalid_argument("--bins must be in 1..1000"));
  if (!(a.ood_percentile > 0 && a.ood_percentile < 100)) return report(invalid_argument("--ood-percentile must be in (0, 100)"));
  auto model = onnx::load_model(a.model);
  if (!model) return report(model.status());
  const Graph& g = *model.value()->graph;
  auto inputs = model_inputs(a.model);
  if (!inputs) return report(inputs.status());
  auto dopt = to_data_options(a.data_opts);
  if (!dopt) return report(dopt.status());
  auto data = quant::open_dataset(a.data, inputs.value(), dopt.value());
  if (!data) return report(data.status().with_context("--data"));
  quant::RunnerOptions ro;
  ro.threads = a.threads;
  ro.xnnpack = !a.no_xnnpack;
  auto runner = quant::GraphRunner::create(g, ro);
  if (!runner) return report(runner.status());

  telemetry::ProfileBuilder builder;
  const int64_t n = data.value()->size();
  ProgressBar bar(a.progress || stderr_is_tty());
  std::vector<telemetry::TensorRef> in_refs, out_refs;
  for (int64_t i = 0; i < n; ++i) {
    bar.update("profiling", i, n);
    auto sample = data.value()->get(i);
    if (!sample) return report(sample.status().with_context("sample " + std::to_string(i)));
    Status st = runner.value()->run(sample.value());
    if (!st) return report(st.with_context("sample " + std::to_string(i)));
    in_refs.clear();
    out_refs.clear();
    for (size_t k = 0; k < g.inputs.size() && k < sample.value().size(); ++k)
      in_refs.push_back(telemetry::ref_of(g.values[size_t(g.inputs[k])].name, sample.value()[k]));
    for (size_t k = 0; k < g.outputs.size() && k < runner.value()->num_outputs(); ++k) {
      const Value& v = runner.value()->output(k);
      if (v.is_tensor()) out_refs.push_back(telemetry::ref_of(g.values[size_t(g.outputs[k])].name, v.tensor));
    }
    st = builder.add(in_refs, out_refs);
    if (!st) return report(st.with_context("sample " + std::to_string(i)));
  }
  bar.update("profiling", n, n);
  bar.finish();
  auto profile = builder.finish(telemetry::ProfileOptions{size_t(a.bins), a.ood_percentile});
  if (!profile) return report(profile.status());
  const std::string json = telemetry::profile_to_json(profile.value()) + "\n";
  std::ofstream f(a.output, std::ios::binary | std::ios::trunc);
  if (!f.write(json.data(), std::streamsize(json.size())) || !f.flush()) return report(io_error("cannot write " + a.output));

  const auto& p = profile.value();
  std::printf("profile:    %s (%lld samples from %s)\n", a.output.c_str(), (long long)p.samples, data.value()->describe().c_str());
  for (const auto& o : p.outputs) {
    std::printf("output %s: %s, %lld classes, confidence below %.4f", o.name.c_str(), telemetry::score_kind_name(o.kind),
                (long long)o.classes, o.confidence_threshold);
    if (o.kind == telemetry::ScoreKind::kLogits) std::printf(" / energy above %.4f", o.energy_threshold);
    std::printf(" is OOD (%g%% of the data is inside)\n", o.ood_percentile);
  }
  for (const auto& in : p.inputs) std::printf("input %s: mean %.5g, std %.5g\n", in.name.c_str(), in.mean, in.std);
  return kExitOk;
}

}  // namespace petrel::cli
