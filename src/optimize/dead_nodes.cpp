// Dead-node elimination: a node none of whose outputs reaches a graph output is removed. Nodes
// that own subgraphs are kept (conservatively: their bodies are not analysed here).
#include "optimize/pass.hpp"

namespace petrel::opt {
namespace {

bool has_subgraph(const Node& n) {
  for (const Attribute& a : n.attrs)
    if (a.type == AttrType::kGraph || a.type == AttrType::kGraphs) return true;
  return false;
}

class DeadNodePass final : public Pass {
 public:
  const char* name() const override { return "dead_nodes"; }
  void run(const GraphView& view, PatchList& out) override {
    const Graph& g = view.graph();
    std::vector<uint8_t> live(g.values.size(), 0);
    for (ValueId v : g.outputs)
      if (v >= 0 && size_t(v) < live.size()) live[size_t(v)] = 1;
    for (int i = view.num_nodes() - 1; i >= 0; --i) {
      const Node& n = view.node(i);
      bool keep = has_subgraph(n);
      for (ValueId v : n.outputs) keep |= v != kNoValue && live[size_t(v)];
      if (!keep) {
        Patch p;
        p.rule = n.op_type;
        p.remove.push_back(i);
        out.propose(std::move(p));
        continue;
      }
      for (ValueId v : n.inputs)
        if (v != kNoValue) live[size_t(v)] = 1;
      for (ValueId v : n.implicit_inputs) live[size_t(v)] = 1;
    }
  }
};

}  // namespace

std::unique_ptr<Pass> make_dead_node_pass() { return std::make_unique<DeadNodePass>(); }

}  // namespace petrel::opt
