// The patch model of the optimizer: a pass never edits the graph. It looks at a snapshot
// (GraphView) and proposes Patches; the PassManager applies them, re-sorts, verifies, and drops
// any patch that would leave the graph broken. Node indices in a patch refer to the snapshot the
// pass was given.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/graph.hpp"

namespace petrel::opt {

struct Patch {
  std::string rule;                              // what fired, for statistics ("Conv+Relu")
  std::vector<int> remove;                       // nodes to delete
  std::vector<std::pair<int, Node>> replace;     // node index -> its replacement
  std::vector<std::pair<int, Node>> add;         // new node, placed before this node index
  // Every use of `first` now reads `second`. `first` must not be a graph output or be captured
  // by a subgraph (Body binds captured values by name).
  std::vector<std::pair<ValueId, ValueId>> rewire;
  // New constants, keyed by a fresh value (PatchList::new_value) or by an output of a node the
  // patch removes (folding keeps the ValueId, so no rewire is needed).
  std::vector<std::pair<ValueId, Tensor>> constants;
};

// What a pass returns: its patches (independent of each other; the manager rejects a patch that
// touches a node an earlier one already touched) and the values they create.
class PatchList {
 public:
  explicit PatchList(const Graph& g) : graph_(&g), base_(ValueId(g.values.size())) {}

  // A new value with a unique name derived from `hint`; `type` may be left unknown.
  ValueId new_value(const std::string& hint, TypeInfo type = {});
  void propose(Patch p) { patches_.push_back(std::move(p)); }

  const std::vector<Patch>& patches() const { return patches_; }
  std::vector<Patch>& patches() { return patches_; }
  const std::vector<ValueInfo>& new_values() const { return new_values_; }
  ValueId base() const { return base_; }

 private:
  const Graph* graph_;
  ValueId base_;
  std::vector<ValueInfo> new_values_;
  std::vector<Patch> patches_;
};

}  // namespace petrel::opt
