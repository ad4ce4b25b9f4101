#include "quantize/graph_edit.hpp"

#include "optimize/optimizer.hpp"

namespace petrel::quant {

GraphEditor::GraphEditor(Graph& g) : g_(g) {
  producer_.assign(g.values.size(), -1);
  uses_.resize(g.values.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    for (ValueId o : n.outputs)
      if (o != kNoValue) producer_[size_t(o)] = int(i);
    for (size_t k = 0; k < n.inputs.size(); ++k)
      if (n.inputs[k] != kNoValue) uses_[size_t(n.inputs[k])].emplace_back(i, k);
    for (ValueId v : n.implicit_inputs) captured_.insert(v);
  }
  outputs_.insert(g.outputs.begin(), g.outputs.end());
  for (const Node& n : g.nodes) node_names_.insert(n.name);
}

std::string GraphEditor::node_name(const std::string& base) {
  std::string name = base;
  for (int k = 1; node_names_.count(name); ++k) name = base + "_" + std::to_string(k);
  node_names_.insert(name);
  return name;
}

std::string GraphEditor::unique_name(const std::string& base) {
  std::string name = base;
  for (int k = 1; g_.find(name) != kNoValue; ++k) name = base + "_" + std::to_string(k);
  return name;
}

ValueId GraphEditor::add_value(const std::string& base) { return g_.add_value(unique_name(base)); }

ValueId GraphEditor::add_constant(const std::string& base, Tensor t) {
  ValueId id = add_value(base);
  TypeInfo& ti = g_.values[size_t(id)].type;
  ti.kind = TypeInfo::Kind::kTensor;
  ti.dtype = t.dtype;
  ti.has_shape = true;
  for (int64_t d : t.shape) ti.shape.push_back(Dim{d, {}});
  g_.constants[id] = std::move(t);
  return id;
}

int GraphEditor::producer(ValueId v) const { return size_t(v) < producer_.size() ? producer_[size_t(v)] : -1; }

const std::vector<std::pair<size_t, size_t>>& GraphEditor::uses(ValueId v) const {
  return size_t(v) < uses_.size() ? uses_[size_t(v)] : no_uses_;
}

bool GraphEditor::is_graph_output(ValueId v) const { return outputs_.count(v) != 0; }

void GraphEditor::insert_after_value(ValueId v, Node n) {
  const int p = producer(v);
  if (p < 0) front_.push_back(std::move(n));
  else after_[size_t(p)].push_back(std::move(n));
}

void GraphEditor::insert_before(size_t i, Node n) { before_[i].push_back(std::move(n)); }
void GraphEditor::insert_front(Node n) { front_.push_back(std::move(n)); }

void GraphEditor::rewire(ValueId from, ValueId to) {
  for (auto [i, k] : uses(from)) g_.nodes[i].inputs[k] = to;
}

void GraphEditor::take_over_output(ValueId from, ValueId to, const std::string& suffix) {
  std::string old = g_.values[size_t(from)].name;
  g_.by_name.erase(old);
  g_.by_name.erase(g_.values[size_t(to)].name);
  g_.values[size_t(from)].name = unique_name(old + suffix);
  g_.by_name[g_.values[size_t(from)].name] = from;
  g_.values[size_t(to)].name = old;
  g_.values[size_t(to)].type = g_.values[size_t(from)].type;
  g_.by_name[old] = to;
  for (ValueId& o : g_.outputs)
    if (o == from) o = to;
}

Status GraphEditor::commit() {
  std::vector<Node> nodes;
  nodes.reserve(g_.nodes.size() + front_.size());
  for (Node& n : front_) nodes.push_back(std::move(n));
  for (size_t i = 0; i < g_.nodes.size(); ++i) {
    if (auto it = before_.find(i); it != before_.end())
      for (Node& n : it->second) nodes.push_back(std::move(n));
    nodes.push_back(std::move(g_.nodes[i]));
    if (auto it = after_.find(i); it != after_.end())
      for (Node& n : it->second) nodes.push_back(std::move(n));
  }
  g_.nodes = std::move(nodes);
  front_.clear();
  before_.clear();
  after_.clear();
  std::set<ValueId> read;
  for (const Node& n : g_.nodes) {
    read.insert(n.inputs.begin(), n.inputs.end());
    read.insert(n.implicit_inputs.begin(), n.implicit_inputs.end());
  }
  for (ValueId v : drop_)
    if (!read.count(v) && !outputs_.count(v)) g_.constants.erase(v);
  drop_.clear();
  return opt::verify_graph(g_);
}

Node make_node(const std::string& name, const std::string& op, std::vector<ValueId> in, std::vector<ValueId> out) {
  Node n;
  n.name = name;
  n.op_type = op;
  n.opset = 17;
  n.inputs = std::move(in);
  n.outputs = std::move(out);
  return n;
}

Attribute int_attr(const std::string& name, int64_t v) {
  Attribute a;
  a.name = name;
  a.type = AttrType::kInt;
  a.i = v;
  return a;
}

Result<Tensor> scalar_tensor(DataType dt, double v) {
  PETREL_ASSIGN_OR_RETURN(Tensor t, Tensor::allocate(dt, {}));
  switch (dt) {
    case DataType::kFloat: t.as<float>()[0] = float(v); break;
    case DataType::kUInt8: t.as<uint8_t>()[0] = uint8_t(v); break;
    case DataType::kInt8: t.as<int8_t>()[0] = int8_t(v); break;
    case DataType::kInt32: t.as<int32_t>()[0] = int32_t(v); break;
    case DataType::kInt64: t.as<int64_t>()[0] = int64_t(v); break;
    default: return unsupported("scalar of type " + std::string(dtype_name(dt)));
  }
  return t;
}

Result<Tensor> float_vector(const std::vector<float>& v) {
  PETREL_ASSIGN_OR_RETURN(Tensor t, Tensor::allocate(DataType::kFloat, {int64_t(v.size())}));
  for (size_t i = 0; i < v.size(); ++i) t.as<float>()[i] = v[i];
  return t;
}

}  // namespace petrel::quant
