#include "optimize/optimizer.hpp"

#include <unordered_set>

namespace petrel::opt {

void OptimizeStats::add(const std::string& pass, const std::string& rule, int n) {
  for (RuleCount& c : counts)
    if (c.pass == pass && c.rule == rule) { c.count += n; return; }
  counts.push_back({pass, rule, n});
}

int OptimizeStats::count(const std::string& pass) const {
  int n = 0;
  for (const RuleCount& c : counts)
    if (c.pass == pass) n += c.count;
  return n;
}

namespace {

// The nodes a patch removes or replaces; two patches of one round may not share any.
std::vector<int> touched(const Patch& p) {
  std::vector<int> t = p.remove;
  for (const auto& r : p.replace) t.push_back(r.first);
  return t;
}

// Drops constants nothing reads any more (folded-away weights, old Conv weights after BN
// folding) so that owned copies do not outlive their use.
void prune_constants(Graph& g) {
  std::unordered_set<ValueId> used(g.outputs.begin(), g.outputs.end());
  for (const Node& n : g.nodes) {
    used.insert(n.inputs.begin(), n.inputs.end());
    used.insert(n.implicit_inputs.begin(), n.implicit_inputs.end());
  }
  std::erase_if(g.constants, [&](const auto& kv) { return !used.count(kv.first); });
}

}  // namespace

Status PassManager::run(Graph& g, const OptimizeOptions& options, OptimizeStats* stats) {
  OptimizeStats local;
  OptimizeStats& st = stats ? *stats : local;
  st.nodes_before = int(g.nodes.size());
  // A graph that is already inconsistent is left alone: passes assume the invariants.
  if (Status v = verify_graph(g); !v) return v.with_context("optimizer input");
  for (int it = 0; it < options.max_iterations; ++it) {
    int changed = 0;
    for (auto& pass : passes_) {
      PatchList list(g);
      {
        GraphView view(g);
        pass->run(view, list);
      }
      if (list.patches().empty()) continue;
      std::vector<size_t> accepted;
      std::vector<uint8_t> busy(g.nodes.size(), 0);
      for (size_t k = 0; k < list.patches().size(); ++k) {
        bool ok = true;
        for (int i : touched(list.patches()[k])) ok &= i >= 0 && size_t(i) < busy.size() && !busy[size_t(i)];
        if (!ok) continue;  // proposed again next round, against the new graph
        for (int i : touched(list.patches()[k])) busy[size_t(i)] = 1;
        accepted.push_back(k);
      }
      auto all = apply_patches(g, list, accepted);
      std::vector<size_t> applied;
      if (all) {
        g = std::move(all).value();
        applied = accepted;
      } else {
        // Some patch is wrong (a pass bug): find it by applying them one at a time.
        for (size_t k : accepted) {
          std::vector<size_t> trial = applied;
          trial.push_back(k);
          auto r = apply_patches(g, list, trial);
          if (r) applied = trial;
          else st.rejected.push_back(std::string(pass->name()) + " " + list.patches()[k].rule + ": " + r.status().message());
        }
        if (!applied.empty()) {
          auto r = apply_patches(g, list, applied);
          if (!r) return r.status().with_context(pass->name());
          g = std::move(r).value();
        }
      }
      for (size_t k : applied) st.add(pass->name(), list.patches()[k].rule);
      changed += int(applied.size());
    }
    st.iterations = it + 1;
    if (changed == 0) break;
  }
  prune_constants(g);
  st.nodes_after = int(g.nodes.size());
  return verify_graph(g);
}

std::vector<std::unique_ptr<Pass>> default_passes() {
  std::vector<std::unique_ptr<Pass>> v;
  v.push_back(make_identity_elimination_pass());
  v.push_back(make_shape_simplify_pass());
  v.push_back(make_qdq_fusion_pass());  // before folding turns weight DequantizeLinear into floats
  v.push_back(make_int4_fusion_pass());  // likewise for 4-bit weights
  v.push_back(make_qdq_pool_fusion_pass());  // after qdq_fusion: reads what it made
  v.push_back(make_constant_folding_pass());
  v.push_back(make_conv_bn_pass());
  v.push_back(make_layer_norm_fusion_pass());
  v.push_back(make_gelu_fusion_pass());
  v.push_back(make_hard_swish_pass());
  v.push_back(make_channel_shuffle_pass());
  v.push_back(make_bias_fusion_pass());
  v.push_back(make_activation_fusion_pass());
  v.push_back(make_dead_node_pass());
  return v;
}

Status optimize_graph(Graph& g, OptimizeStats* stats, const OptimizeOptions& options) {
  PassManager pm;
  for (auto& p : default_passes()) pm.add(std::move(p));
  return pm.run(g, options, stats);
}

}  // namespace petrel::opt
