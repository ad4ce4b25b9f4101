// A read-only snapshot of a graph for passes: producers, uses, constants, and (computed on first
// request) static dtypes and shapes from the reference kernels' infer.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/graph.hpp"
#include "kernels/kernel.hpp"

namespace petrel::opt {

// What is known about a value before any input data is seen.
struct StaticInfo {
  DataType dtype = DataType::kUndefined;  // kUndefined: unknown
  bool has_shape = false;                 // every dim known
  Shape shape;
};

class GraphView {
 public:
  explicit GraphView(const Graph& g);

  const Graph& graph() const { return *g_; }
  const Node& node(int i) const { return g_->nodes[size_t(i)]; }
  int num_nodes() const { return int(g_->nodes.size()); }

  // Index of the node producing v, or -1 (graph input, constant, outer value, unknown).
  int producer(ValueId v) const;
  // One entry per use: the consuming node (repeated if it reads v twice); implicit (subgraph)
  // uses included.
  const std::vector<int>& consumers(ValueId v) const;
  int use_count(ValueId v) const { return int(consumers(v).size()) + (is_graph_output(v) ? 1 : 0); }
  bool is_graph_output(ValueId v) const;
  // Read by a subgraph of some node (listed in implicit_inputs).
  bool captured(ValueId v) const;
  // The one node that reads v, when v has exactly one use, is not a graph output and is not
  // captured; -1 otherwise. The test a fusion makes before swallowing v.
  int sole_consumer(ValueId v) const;
  const Tensor* constant(ValueId v) const { return v == kNoValue ? nullptr : g_->constant(v); }
  // A constant holding one element, as a double (float or integer types).
  std::optional<double> scalar(ValueId v) const;
  // Static dtype/shape (computed once per view by running kernel infer over the graph).
  const StaticInfo& info(ValueId v) const;
  bool is_float(ValueId v) const;
  // Index of the input `v` at which node i reads it (the first one), or -1.
  int input_index(int node, ValueId v) const;

 private:
  void compute_static() const;
  static void compute_small(const Node& n, Kernel& k, const std::vector<const Value*>& ins,
                            const std::vector<uint8_t>& known, std::vector<Value>& outs);

  const Graph* g_;
  std::vector<int> producer_;
  std::vector<std::vector<int>> consumers_;
  std::vector<uint8_t> output_, captured_;
  mutable std::vector<StaticInfo> info_;
  mutable bool info_done_ = false;
};

}  // namespace petrel::opt
