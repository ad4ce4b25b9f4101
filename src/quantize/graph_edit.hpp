// Small graph surgery for the quantization rewrites: new values and constants with unique
// names, nodes inserted before/after existing ones or at the front, use rewiring, and a commit
// that rebuilds the node order, drops float constants nothing reads any more, and verifies.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/graph.hpp"

namespace petrel::quant {

class GraphEditor {
 public:
  explicit GraphEditor(Graph& g);

  Graph& graph() { return g_; }
  std::string unique_name(const std::string& base);  // for values
  std::string node_name(const std::string& base);    // unique among node names (and reserved)
  ValueId add_value(const std::string& base);
  ValueId add_constant(const std::string& base, Tensor t);
  const Tensor* constant(ValueId id) const { return g_.constant(id); }
  // Index of the node producing `v`, or -1 (graph input, constant, outer value).
  int producer(ValueId v) const;
  // (node index, input slot) of every reader among the original nodes.
  const std::vector<std::pair<size_t, size_t>>& uses(ValueId v) const;
  bool is_graph_output(ValueId v) const;
  bool captured(ValueId v) const { return captured_.count(v) != 0; }  // read by a subgraph

  // Places `n` right after the producer of `v` (at the front for inputs and constants).
  void insert_after_value(ValueId v, Node n);
  void insert_before(size_t node_index, Node n);
  void insert_front(Node n);
  // Makes every original reader of `from` read `to` instead (subgraph captures excepted).
  void rewire(ValueId from, ValueId to);
  // Makes `to` take over the name and graph-output role of `from`, which gets `from`'s name
  // plus `suffix`. Used when a graph output gets a Q/DQ pair after it.
  void take_over_output(ValueId from, ValueId to, const std::string& suffix);
  // Marks a constant as replaced: removed at commit when nothing reads it any more.
  void maybe_drop(ValueId constant) { drop_.insert(constant); }

  Status commit();

 private:
  Graph& g_;
  std::vector<int> producer_;
  std::vector<std::vector<std::pair<size_t, size_t>>> uses_;
  std::set<ValueId> captured_, outputs_;
  std::set<std::string> node_names_;
  std::vector<Node> front_;
  std::map<size_t, std::vector<Node>> before_, after_;
  std::set<ValueId> drop_;
  std::vector<std::pair<size_t, size_t>> no_uses_;
};

// Node construction helpers.
Node make_node(const std::string& name, const std::string& op, std::vector<ValueId> in, std::vector<ValueId> out);
Attribute int_attr(const std::string& name, int64_t v);
Result<Tensor> scalar_tensor(DataType dt, double v);
Result<Tensor> float_vector(const std::vector<float>& v);

}  // namespace petrel::quant
