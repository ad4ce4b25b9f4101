// Groups the nodes XNNPACK claims into partitions and replaces each with one XnnpackPartition
// node. A partition is a maximal run of consecutive claimed nodes in the graph's topological
// order: every value a run reads from outside was produced before it and every value it
// exports is read after it, so replacing a run by one node can never create a cycle.
#include <set>
#include <unordered_map>

#include "kernels/xnnpack/lower.hpp"
#include "kernels/xnnpack/provider.hpp"

namespace petrel::xnnpack {
namespace {

// Ops whose output 0 has the dtype of their input 0 (enough to follow float32 through a CNN or
// transformer when the file declares no intermediate types).
bool keeps_dtype(const Node& n) {
  static const std::set<std::string> ops = {
      "Conv", "ConvTranspose", "Gemm", "MatMul", "FusedMatMul", "MaxPool", "AveragePool", "GlobalAveragePool",
      "GlobalMaxPool", "Relu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "LeakyRelu", "Elu", "Abs", "Neg",
      "Floor", "Ceil", "Sqrt", "Add", "Mul", "Sub", "Div", "Max", "Min", "Flatten", "Reshape", "Transpose",
      "Squeeze", "Unsqueeze", "Concat", "Split", "Slice", "Softmax", "LayerNormalization", "BatchNormalization",
      "Pad", "Resize", "Identity", "Dropout", "Erf", "Tanh", "Exp", "Pow", "ReduceMean", "Gelu", "Expand", "Tile",
      "Gather", "Where", "InstanceNormalization", "LRN", "PRelu", "Softplus", "Selu", "Mish", "ChannelShuffle"};
  return ops.count(n.op_type) > 0;
}

std::vector<bool> float_values(const Graph& g) {
  std::vector<bool> f(g.values.size(), false);
  for (size_t v = 0; v < g.values.size(); ++v) {
    const TypeInfo& t = g.values[v].type;
    if (t.kind == TypeInfo::Kind::kTensor && t.dtype == DataType::kFloat) f[v] = true;
  }
  for (const auto& [id, t] : g.constants) f[size_t(id)] = t.dtype == DataType::kFloat;
  for (const Node& n : g.nodes) {
    if (n.inputs.empty() || n.outputs.empty() || n.outputs[0] == kNoValue) continue;
    const ValueId in0 = n.op_type == "Where" && n.inputs.size() > 1 ? n.inputs[1] : n.inputs[0];
    if (in0 != kNoValue && f[size_t(in0)] && keeps_dtype(n)) f[size_t(n.outputs[0])] = true;
  }
  return f;
}

// Moves nodes [b, e) of `g` into a subgraph and puts one partition node in their place.
Node make_partition(const Graph& g, size_t b, size_t e, int index, const std::vector<int>& uses_outside) {
  auto sub = std::make_shared<Graph>();
  sub->name = "xnnpack_partition_" + std::to_string(index);
  std::unordered_map<ValueId, ValueId> map;
  std::set<ValueId> produced;
  for (size_t i = b; i < e; ++i)
    for (ValueId v : g.nodes[i].outputs)
      if (v != kNoValue) produced.insert(v);
  auto inner = [&](ValueId v) {
    auto it = map.find(v);
    if (it != map.end()) return it->second;
    const ValueId id = sub->add_value(g.values[size_t(v)].name);
    sub->values[size_t(id)].type = g.values[size_t(v)].type;
    map[v] = id;
    if (const Tensor* c = g.constant(v)) sub->constants[id] = *c;
    return id;
  };
  Node part;
  part.name = sub->name;
  part.domain = kPartitionDomain;
  part.op_type = kPartitionOp;
  for (size_t i = b; i < e; ++i) {
    Node n = g.nodes[i];
    for (ValueId& v : n.inputs) {
      if (v == kNoValue) continue;
      const bool outside = !produced.count(v) && g.constant(v) == nullptr && !map.count(v);
      const ValueId id = inner(v);
      if (outside) {
        sub->inputs.push_back(id);
        part.inputs.push_back(v);
      }
      v = id;
    }
    for (ValueId& v : n.outputs) {
      if (v == kNoValue) continue;
      const ValueId outer = v;
      v = inner(outer);
      if (uses_outside[size_t(outer)] > 0) {
        sub->outputs.push_back(v);
        part.outputs.push_back(outer);
      }
    }
    sub->nodes.push_back(std::move(n));
  }
  Attribute a;
  a.name = kSubgraphAttr;
  a.type = AttrType::kGraph;
  a.g = sub;
  part.attrs.push_back(std::move(a));
  return part;
}

}  // namespace

Status partition_graph(Graph& g, PartitionStats* stats, const PartitionOptions& options) {
  if (!available()) return Status::ok();
  const std::vector<bool> is_float = float_values(g);
  const size_t nn = g.nodes.size();
  std::vector<bool> claimed(nn, false);
  for (size_t i = 0; i < nn; ++i) {
    const Node& n = g.nodes[i];
    std::vector<bool> in_float;
    for (ValueId v : n.inputs) in_float.push_back(v != kNoValue && is_float[size_t(v)]);
    claimed[i] = claims(n, g, in_float, options.fully_connected);
  }
  // Runs of claimed nodes; a run without a heavy op is not worth its boundary copies.
  std::vector<std::pair<size_t, size_t>> runs;
  for (size_t i = 0; i < nn;) {
    if (!claimed[i]) { ++i; continue; }
    size_t j = i;
    bool heavy = false;
    while (j < nn && claimed[j]) heavy |= is_heavy(g.nodes[j++]);
    if (heavy) runs.emplace_back(i, j);
    i = j;
  }
  if (stats) {
    stats->total_nodes = int(nn);
    stats->partitions = int(runs.size());
    stats->claimed_nodes = 0;
    for (auto [b, e] : runs) stats->claimed_nodes += int(e - b);
  }
  if (runs.empty()) return Status::ok();
  // Uses of each value by nodes outside its run (and by graph outputs), run by run.
  std::vector<Node> out;
  out.reserve(nn);
  size_t next = 0;
  int index = 0;
  for (auto [b, e] : runs) {
    for (; next < b; ++next) out.push_back(std::move(g.nodes[next]));
    std::vector<int> uses_outside(g.values.size(), 0);
    for (size_t i = 0; i < nn; ++i) {
      if (i >= b && i < e) continue;
      for (ValueId v : g.nodes[i].inputs)
        if (v != kNoValue) ++uses_outside[size_t(v)];
      for (ValueId v : g.nodes[i].implicit_inputs)
        if (v != kNoValue) ++uses_outside[size_t(v)];
    }
    for (ValueId v : g.outputs) ++uses_outside[size_t(v)];
    out.push_back(make_partition(g, b, e, index++, uses_outside));
    next = e;
  }
  for (; next < nn; ++next) out.push_back(std::move(g.nodes[next]));
  g.nodes = std::move(out);
  return Status::ok();
}

}  // namespace petrel::xnnpack
