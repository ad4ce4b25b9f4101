// petrel bench MODEL: latency percentiles, load time, peak RSS, arena bytes and achieved
// GFLOP/s, with the same deterministic inputs and JSON fields as ../shared/peers/ort/ort_bench.mjs
// so that ratios against ONNX Runtime are one jq away. --sustained S reports latency per
// 10-second window and the trend; --profile prints time per op type.
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>

#include "api/session_impl.hpp"
#include "cli_common.hpp"
#include "commands.hpp"
#include "kernels/x86/isa.hpp"
#include "model_stats.hpp"

namespace petrel::cli {
namespace {

double pct(const std::vector<double>& sorted, double p) {  // nearest rank, as ort_bench.mjs
  long i = long(std::ceil(p / 100 * double(sorted.size()))) - 1;
  i = std::clamp(i, 0L, long(sorted.size()) - 1);
  return sorted[size_t(i)];
}

double peak_rss_mb() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_maxrss) / 1024.0;  // Linux reports KiB
}

double r3(double x) { return std::round(x * 1000) / 1000; }

}  // namespace

int cmd_bench(const BenchArgs& a) {
  if (a.threads < 1 || a.runs < 1 || a.warmup < 0 || a.sustained_s < 0) return report(invalid_argument("--threads/--runs must be >= 1, --warmup/--sustained >= 0"));
  ShapeOverrides ov;
  if (Status st = parse_overrides(a.dims, a.shapes, ov); !st) return report(st);
  int64_t lo = 0, hi = 100;
  if (!a.int_range.empty() && std::sscanf(a.int_range.c_str(), "%ld,%ld", &lo, &hi) != 2)
    return report(invalid_argument("--int-range expects LO,HI"));
  SessionOptions so;
  so.threads = a.threads;
  so.xnnpack = !a.no_xnnpack;
  so.optimize = !a.no_optimize;
  double t0 = now_ms();
  auto sr = Session::open(a.model, so);
  if (!sr) return report(sr.status());
  const double load_ms = now_ms() - t0;
  Session& s = *sr.value();
  Session::Impl& impl = session_internals(s);

  InputGenerator gen(1234, lo, hi);
  std::vector<Tensor> inputs;
  inputs.reserve(s.inputs().size());
  for (const TensorInfo& in : s.inputs()) {
    auto shape = resolve_shape(in, ov);
    if (!shape) return report(shape.status());
    auto t = gen.make(in.dtype, shape.value());
    if (!t) return report(t.status().with_context("input '" + in.name + "'"));
    inputs.push_back(std::move(t).value());
    if (Status st = s.set_input(in.name, inputs.back().dtype, inputs.back().shape, inputs.back().data); !st) return report(st);
  }
  t0 = now_ms();
  if (Status st = s.run(); !st) return report(st);
  const double first_ms = now_ms() - t0;
  for (int i = 0; i < a.warmup; ++i)
    if (Status st = s.run(); !st) return report(st);
  if (a.profile) impl.exec->set_profiling(true);
  std::vector<double> times;
  times.reserve(size_t(a.runs));
  for (int i = 0; i < a.runs; ++i) {
    t0 = now_ms();
    Status st = s.run();
    times.push_back(now_ms() - t0);
    if (!st) return report(st);
  }
  std::vector<double> sorted = times;
  std::sort(sorted.begin(), sorted.end());
  const double median = pct(sorted, 50);
  // Peak RSS is taken before counting MACs, which opens a second (planned, never run) session.
  double rss_mb = peak_rss_mb();
  int unknown = 0;
  const int64_t macs = count_macs_of(a.model, inputs, &unknown);
  const double gflops = median > 0 ? 2.0 * double(macs) / (median * 1e6) : 0;

  // Sustained load: median per 10-second window; trend = last window / first window - 1.
  std::vector<double> windows;
  if (a.sustained_s > 0) {
    const double end = now_ms() + a.sustained_s * 1000.0;
    std::vector<double> w;
    double wstart = now_ms();
    while (now_ms() < end) {
      t0 = now_ms();
      if (Status st = s.run(); !st) return report(st);
      w.push_back(now_ms() - t0);
      if (now_ms() - wstart >= 10000.0 || now_ms() >= end) {
        std::sort(w.begin(), w.end());
        windows.push_back(pct(w, 50));
        w.clear();
        wstart = now_ms();
      }
    }
  }
  const double trend = windows.size() >= 2 ? windows.back() / windows.front() - 1 : 0;
  const double mean = std::accumulate(times.begin(), times.end(), 0.0) / double(times.size());

  if (a.json) {
    std::printf("{\"runtime\": \"petrel %s\", \"model\": \"%s\", \"threads\": %d, \"load_ms\": %g, \"first_run_ms\": %g, "
                "\"median_ms\": %g, \"p90_ms\": %g, \"p99_ms\": %g, \"min_ms\": %g, \"mean_ms\": %g, \"peak_rss_mb\": %.1f, "
                "\"arena_bytes\": %zu, \"macs\": %lld, \"gflops\": %.3f, \"isa\": \"%s\"",
                version(), a.model.c_str(), a.threads, r3(load_ms), r3(first_ms), r3(median), r3(pct(sorted, 90)),
                r3(pct(sorted, 99)), r3(sorted[0]), r3(mean), rss_mb, s.arena_bytes(), (long long)macs, gflops,
                x86::isa_name(x86::active_isa()));
    if (!windows.empty()) {
      std::printf(", \"window_median_ms\": [");
      for (size_t i = 0; i < windows.size(); ++i) std::printf("%s%g", i ? ", " : "", r3(windows[i]));
      std::printf("], \"trend\": %.4f", trend);
    }
    std::printf("}\n");
  } else {
    std::printf("model:     %s (%d thread%s, SIMD kernels: %s)\n", a.model.c_str(), a.threads, a.threads > 1 ? "s" : "",
                x86::isa_name(x86::active_isa()));
    std::printf("load:      %.3f ms   first run: %.3f ms\n", load_ms, first_ms);
    std::printf("latency:   median %.3f ms  p90 %.3f  p99 %.3f  min %.3f  mean %.3f  (%d runs after %d warm-up)\n", median,
                pct(sorted, 90), pct(sorted, 99), sorted[0], mean, a.runs, a.warmup);
    std::printf("compute:   %.4g GMACs, %.2f GFLOP/s%s\n", double(macs) / 1e9, gflops, unknown ? " (some shapes unknown)" : "");
    std::printf("memory:    arena %s, peak RSS %.1f MiB\n", format_bytes(double(s.arena_bytes())).c_str(), rss_mb);
    if (!windows.empty()) {
      std::printf("sustained: median per 10 s window:");
      for (double w : windows) std::printf(" %.3f", w);
      std::printf(" ms; trend first→last %+.1f%%\n", 100 * trend);
    }
  }
  if (a.profile) {
    std::map<std::string, std::pair<double, int>> by_op;
    const Graph& g = *impl.model->graph;
    double total = 0;
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      auto& e = by_op[op_label(g.nodes[i])];
      e.first += impl.exec->node_ms()[i] / a.runs;
      e.second++;
      total += impl.exec->node_ms()[i] / a.runs;
    }
    std::vector<std::pair<std::string, std::pair<double, int>>> rows(by_op.begin(), by_op.end());
    std::sort(rows.begin(), rows.end(), [](auto& x, auto& y) { return x.second.first > y.second.first; });
    std::FILE* out = a.json ? stderr : stdout;
    std::fprintf(out, "profile (mean per run):\n");
    for (auto& [op, v] : rows)
      std::fprintf(out, "  %-24s %9.3f ms %5.1f%%  (%d nodes)\n", op.c_str(), v.first, total > 0 ? 100 * v.first / total : 0.0, v.second);
  }
  return kExitOk;
}

}  // namespace petrel::cli
