// petrel inspect MODEL: what a model is and what running it will cost. --optimized shows the
// graph the optimizer leaves (node by node) and how often each rewrite fired.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>

#include "api/session_impl.hpp"
#include "cli_common.hpp"
#include "commands.hpp"
#include "model_stats.hpp"

namespace petrel::cli {
namespace {

std::string value_name(const Graph& g, ValueId v) {
  if (v == kNoValue) return "-";
  const std::string& n = g.values[size_t(v)].name;
  return g.constant(v) ? n + "=" + shape_to_string(g.constant(v)->shape) : n;
}

void print_optimized(const Session::Impl& impl, bool json) {
  const opt::OptimizeStats& st = impl.opt_stats;
  if (json) {
    std::printf(", \"optimizer\": {\"nodes_before\": %d, \"nodes_after\": %d, \"rounds\": %d, \"rewrites\": {",
                st.nodes_before, st.nodes_after, st.iterations);
    for (size_t i = 0; i < st.counts.size(); ++i)
      std::printf("%s\"%s: %s\": %d", i ? ", " : "", st.counts[i].pass.c_str(), st.counts[i].rule.c_str(), st.counts[i].count);
    std::printf("}}");
    return;
  }
  std::printf("optimizer:  %d -> %d nodes in %d round%s%s\n", st.nodes_before, st.nodes_after, st.iterations,
              st.iterations == 1 ? "" : "s", impl.opt_status ? "" : (" (stopped: " + impl.opt_status.message() + ")").c_str());
  for (const opt::RuleCount& c : st.counts) std::printf("  %-22s %-28s %d\n", c.pass.c_str(), c.rule.c_str(), c.count);
  for (const std::string& r : st.rejected) std::printf("  rejected: %s\n", r.c_str());
  const Graph& g = *impl.model->graph;
  std::printf("graph:\n");
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    std::string ins, outs;
    for (ValueId v : n.inputs) ins.append(ins.empty() ? "" : ", ").append(value_name(g, v));
    for (ValueId v : n.outputs) outs.append(outs.empty() ? "" : ", ").append(value_name(g, v));
    std::printf("  %4zu %-26s (%s) -> %s\n", i, op_label(n).c_str(), ins.c_str(), outs.c_str());
  }
}

}  // namespace

int cmd_inspect(const InspectArgs& args) {
  if (is_bundle_file(args.model)) return cmd_inspect_bundle(args);
  ShapeOverrides ov;
  if (Status st = parse_overrides(args.dims, args.shapes, ov); !st) return report(st);
  const double t0 = now_ms();
  SessionOptions so;
  so.xnnpack = false;  // inspect describes the model's own nodes, not provider partitions
  so.optimize = args.optimized;  // plain inspect describes the file as it is
  auto sr = Session::open(args.model, so);
  if (!sr) return report(sr.status());
  const double load_ms = now_ms() - t0;
  Session& s = *sr.value();
  Session::Impl& impl = session_internals(s);
  const Graph& g = *impl.model->graph;

  // Plan at concrete shapes (symbolic dims = 1 unless --dim/--shape say otherwise).
  std::vector<Tensor> dummies;
  std::string plan_note;
  bool planned = true;
  for (const TensorInfo& in : s.inputs()) {
    if (!in.is_tensor) { planned = false; break; }
    auto shape = resolve_shape(in, ov);
    if (!shape) return report(shape.status());
    // Planning reads no input data: a non-null placeholder pointer of the right size suffices.
    auto t = Tensor::allocate(in.dtype == DataType::kUndefined ? DataType::kFloat : in.dtype, shape.value());
    if (!t) return report(t.status());
    dummies.push_back(std::move(t).value());
    if (Status st = s.set_input(in.name, dummies.back().dtype, dummies.back().shape, dummies.back().data); !st) return report(st);
    for (size_t d = 0; d < in.shape.size(); ++d)
      if (in.shape[d] < 0 && plan_note.find(in.dim_names[d] + "=") == std::string::npos)
        plan_note += (plan_note.empty() ? "" : ", ") + (in.dim_names[d].empty() ? "?" : in.dim_names[d]) + "=" + std::to_string(shape.value()[d]);
  }
  Status plan_st = planned ? s.plan() : unsupported("inputs are not all tensors");

  std::map<std::string, int> hist;
  for (const Node& n : g.nodes) hist[op_label(n)]++;
  int64_t params = 0;
  size_t param_bytes = 0;
  for (const auto& [id, t] : g.constants) {
    params += t.numel();
    param_bytes += t.dtype == DataType::kString ? 0 : t.nbytes();
  }
  int unknown = 0;
  const int64_t macs = plan_st ? count_macs(impl, &unknown) : 0;
  std::error_code ec;
  const auto file_size = std::filesystem::file_size(args.model, ec);
  const ModelInfo& mi = s.model_info();
  auto type_str = [&](ValueId id) { return g.values[size_t(id)].type.to_string(); };
  std::vector<std::pair<std::string, int>> ops(hist.begin(), hist.end());
  std::sort(ops.begin(), ops.end(), [](auto& x, auto& y) { return x.second != y.second ? x.second > y.second : x.first < y.first; });

  if (args.json) {
    std::printf("{\"model\": \"%s\", \"file_bytes\": %llu, \"ir_version\": %lld, \"opset\": %lld, \"nodes\": %zu, ",
                args.model.c_str(), (unsigned long long)file_size, (long long)mi.ir_version, (long long)mi.opset, g.nodes.size());
    std::printf("\"parameters\": %lld, \"parameter_bytes\": %zu, \"zero_copy_bytes\": %zu, \"copied_bytes\": %zu, ",
                (long long)params, param_bytes, mi.zero_copy_bytes, mi.copied_bytes);
    std::printf("\"macs\": %lld, \"arena_bytes\": %zu, \"load_ms\": %.3f, \"ops\": {", (long long)(plan_st ? macs : -1), s.arena_bytes(), load_ms);
    for (size_t i = 0; i < ops.size(); ++i) std::printf("%s\"%s\": %d", i ? ", " : "", ops[i].first.c_str(), ops[i].second);
    std::printf("}");
    if (args.optimized) print_optimized(impl, true);
    std::printf("}\n");
    return kExitOk;
  }
  std::printf("model:      %s (%s)\n", args.model.c_str(), format_bytes(double(file_size)).c_str());
  std::printf("producer:   %s, IR version %lld, opset %lld\n", mi.producer.empty() ? "?" : mi.producer.c_str(), (long long)mi.ir_version, (long long)mi.opset);
  for (ValueId id : g.inputs) std::printf("input:      %s %s\n", g.values[size_t(id)].name.c_str(), type_str(id).c_str());
  for (ValueId id : g.outputs) std::printf("output:     %s %s\n", g.values[size_t(id)].name.c_str(), type_str(id).c_str());
  std::printf("nodes:      %zu (", g.nodes.size());
  for (size_t i = 0; i < ops.size(); ++i) std::printf("%s%s %d", i ? ", " : "", ops[i].first.c_str(), ops[i].second);
  std::printf(")\n");
  std::printf("parameters: %lld (%s; %s used in place from the file, %s copied)\n", (long long)params, format_bytes(double(param_bytes)).c_str(),
              format_bytes(double(mi.zero_copy_bytes)).c_str(), format_bytes(double(mi.copied_bytes)).c_str());
  if (plan_st) {
    const ExecutorStats& st = impl.exec->stats();
    std::printf("MACs:       %.4g M%s%s\n", double(macs) / 1e6, unknown ? " (+ nodes with runtime-dependent shapes)" : "",
                plan_note.empty() ? "" : (" at " + plan_note).c_str());
    std::printf("arena:      %zu bytes (%s) planned%s; %d static, %d folded, %d dynamic nodes\n", s.arena_bytes(),
                format_bytes(double(s.arena_bytes())).c_str(), plan_note.empty() ? "" : (" at " + plan_note).c_str(),
                st.static_nodes, st.folded_nodes, st.dynamic_nodes);
  } else {
    std::printf("arena:      not planned (%s)\n", plan_st.to_string().c_str());
  }
  std::printf("load:       %.2f ms\n", load_ms);
  if (args.optimized) print_optimized(impl, false);
  return plan_st || !planned ? kExitOk : report(plan_st);
}

}  // namespace petrel::cli
