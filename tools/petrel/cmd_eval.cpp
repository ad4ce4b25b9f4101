// petrel eval MODEL --data X --labels Y [--reference MODEL2] [--top K] [--json]: top-1/top-k
// accuracy and top-1 agreement with a reference model.
#include <cstdio>

#include "cli_common.hpp"
#include "commands.hpp"
#include "data_args.hpp"
#include "onnx/model.hpp"
#include "optimize/optimizer.hpp"
#include "quantize/evaluate.hpp"

namespace petrel::cli {

Result<std::vector<quant::InputSpec>> model_inputs(const std::string& path);

int cmd_eval(const EvalArgs& a) {
  if (a.threads < 1) return report(invalid_argument("--threads must be >= 1"));
  auto model = onnx::load_model(a.model);
  if (!model) return report(model.status());
  std::shared_ptr<onnx::Model> ref;
  if (!a.reference.empty()) {
    auto r = onnx::load_model(a.reference);
    if (!r) return report(r.status().with_context("--reference"));
    ref = std::move(r).value();
  }
  auto inputs = model_inputs(a.model);
  if (!inputs) return report(inputs.status());
  auto dopt = to_data_options(a.data_opts);
  if (!dopt) return report(dopt.status());
  auto data = quant::open_dataset(a.data, inputs.value(), dopt.value());
  if (!data) return report(data.status().with_context("--data"));
  auto labels = quant::read_labels(a.labels);
  if (!labels) return report(labels.status().with_context("--labels"));
  // Labels follow the whole file: drop those --offset skipped.
  std::vector<int64_t> lab = std::move(labels).value();
  if (a.data_opts.offset > 0) {
    if (int64_t(lab.size()) < a.data_opts.offset) return report(invalid_argument("--labels has fewer labels than --offset"));
    lab.erase(lab.begin(), lab.begin() + long(a.data_opts.offset));
  }
  quant::EvalOptions o;
  o.top = a.top;
  o.runner.threads = a.threads;
  o.runner.xnnpack = !a.no_xnnpack;
  // A --reduce-range model runs as a Session would run it: 7-bit clamped int8 ops.
  auto bits = opt::activation_bits_from_metadata(model.value()->metadata);
  if (!bits) return report(bits.status());
  o.runner.activation_bits = bits.value();
  ProgressBar bar(a.progress || (stderr_is_tty() && !a.json));
  o.progress = bar.callback();
  auto r = quant::evaluate(*model.value()->graph, ref ? ref->graph.get() : nullptr, *data.value(), lab, o);
  bar.finish();
  if (!r) return report(r.status());
  const quant::EvalResult& e = r.value();
  const double n = double(e.samples);
  if (a.json) {
    std::printf("{\"model\": \"%s\", \"samples\": %lld, \"classes\": %lld, \"top1\": %.6f, \"top%d\": %.6f, \"top1_correct\": %lld",
                a.model.c_str(), (long long)e.samples, (long long)e.classes, double(e.top1) / n, e.k, double(e.topk) / n, (long long)e.top1);
    if (e.has_reference)
      std::printf(", \"reference\": {\"model\": \"%s\", \"top1\": %.6f, \"top%d\": %.6f}, \"top1_agreement\": %.6f", a.reference.c_str(),
                  double(e.ref_top1) / n, e.k, double(e.ref_topk) / n, double(e.agree) / n);
    std::printf(", \"seconds\": %.3f}\n", e.seconds);
    return kExitOk;
  }
  std::printf("model:      %s\n", a.model.c_str());
  std::printf("data:       %s, %lld samples, %lld classes\n", data.value()->describe().c_str(), (long long)e.samples, (long long)e.classes);
  std::printf("top-1:      %.2f%% (%lld/%lld)\n", 100 * double(e.top1) / n, (long long)e.top1, (long long)e.samples);
  std::printf("top-%d:      %.2f%%\n", e.k, 100 * double(e.topk) / n);
  if (e.has_reference) {
    std::printf("reference:  %s: top-1 %.2f%%, top-%d %.2f%%\n", a.reference.c_str(), 100 * double(e.ref_top1) / n, e.k, 100 * double(e.ref_topk) / n);
    std::printf("agreement:  %.2f%% top-1 (%lld/%lld); accuracy change %+.2f points\n", 100 * double(e.agree) / n, (long long)e.agree,
                (long long)e.samples, 100 * double(e.top1 - e.ref_top1) / n);
  }
  std::printf("time:       %.2f s (%.3f ms/sample)\n", e.seconds, 1000 * e.seconds / n);
  return kExitOk;
}

}  // namespace petrel::cli
