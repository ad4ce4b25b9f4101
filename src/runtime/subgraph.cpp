#include "runtime/subgraph.hpp"

#include <cstring>

namespace petrel {

Result<Body> Body::make(const std::shared_ptr<Graph>& sub, const Node& n, const Graph& parent) {
  Body b;
  PETREL_ASSIGN_OR_RETURN(b.exec, GraphExecutor::create(sub, false));
  for (ValueId o : sub->outer_refs) {
    const std::string& name = sub->values[size_t(o)].name;
    int slot = -1;
    for (size_t j = 0; j < n.implicit_inputs.size(); ++j)
      if (parent.values[size_t(n.implicit_inputs[j])].name == name) slot = int(j);
    if (slot < 0) return internal_error(n.label() + ": subgraph reads '" + name + "' which the node does not capture");
    b.outer_slot.push_back(slot);
  }
  b.outer.resize(b.outer_slot.size());
  return b;
}

Status Body::run(OpContext& ctx, const std::vector<Value>& in, std::vector<Value>& out) {
  for (size_t k = 0; k < outer_slot.size(); ++k) outer[k] = ctx.implicit_inputs[outer_slot[k]];
  return exec->run(in, outer, out);
}

Result<std::shared_ptr<Graph>> graph_attr(const Node& n, const char* name) {
  const Attribute* a = n.attr(name);
  if (!a || a->type != AttrType::kGraph || !a->g) return invalid_model(n.label() + ": missing graph attribute '" + name + "'");
  return a->g;
}

Result<Tensor> stack(const std::vector<Tensor>& items, DataType dt) {
  if (items.empty()) return Tensor::allocate(dt, {0});
  Shape s = items[0].shape;
  for (const Tensor& t : items)
    if (t.shape != s || t.dtype != items[0].dtype) return invalid_argument("scan outputs change shape between iterations");
  s.insert(s.begin(), int64_t(items.size()));
  PETREL_ASSIGN_OR_RETURN(Tensor out, Tensor::allocate(items[0].dtype, s));
  const size_t b = items[0].nbytes();
  for (size_t i = 0; i < items.size(); ++i) {
    if (out.dtype == DataType::kString) {
      for (int64_t e = 0; e < items[i].numel(); ++e) out.as<std::string>()[int64_t(i) * items[i].numel() + e] = items[i].as<std::string>()[e];
    } else if (b) {
      std::memcpy(static_cast<uint8_t*>(out.data) + i * b, items[i].data, b);
    }
  }
  return out;
}

Tensor row_view(const Tensor& t, int64_t i) {
  Shape s(t.shape.begin() + 1, t.shape.end());
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  Tensor v = Tensor::view(t.dtype, s, static_cast<const uint8_t*>(t.data) + size_t(i) * packed_bytes(t.dtype, n));
  if (t.dtype == DataType::kString) v.data = const_cast<std::string*>(t.as<std::string>() + i * n);
  v.owner = t.owner;
  return v;
}

Status take_scan_step(const std::vector<Value>& out, int n_state, std::vector<Value>& state,
                      std::vector<std::vector<Tensor>>& scans) {
  for (int k = 0; k < n_state; ++k) {
    PETREL_ASSIGN_OR_RETURN(Tensor c, out[size_t(k)].tensor.clone());
    state[size_t(k)] = Value::of(std::move(c));
  }
  for (size_t s = 0; s < scans.size(); ++s) {
    PETREL_ASSIGN_OR_RETURN(Tensor c, out[size_t(n_state) + s].tensor.clone());
    scans[s].push_back(std::move(c));
  }
  return Status::ok();
}

}  // namespace petrel
