// Patch application and graph verification.
#include <algorithm>
#include <functional>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "optimize/optimizer.hpp"

namespace petrel::opt {

ValueId PatchList::new_value(const std::string& hint, TypeInfo type) {
  std::string base = hint.empty() ? "v" : hint;
  for (int k = int(new_values_.size());; ++k) {
    std::string name = base;
    name.append("_opt").append(std::to_string(k));
    if (graph_->find(name) != kNoValue) continue;
    bool taken = false;
    for (const ValueInfo& vi : new_values_) taken |= vi.name == name;
    if (taken) continue;
    new_values_.push_back(ValueInfo{name, std::move(type)});
    return base_ + ValueId(new_values_.size() - 1);
  }
}

Status verify_graph(const Graph& g) {
  const size_t nv = g.values.size();
  std::vector<uint8_t> defined(nv, 0);
  auto in_range = [&](ValueId v) { return v >= 0 && size_t(v) < nv; };
  for (ValueId v : g.inputs) {
    if (!in_range(v)) return internal_error("graph input id out of range");
    defined[size_t(v)] = 1;
  }
  for (const auto& [v, t] : g.constants) {
    if (!in_range(v)) return internal_error("constant id out of range");
    defined[size_t(v)] = 1;
  }
  for (ValueId v : g.outer_refs) {
    if (!in_range(v)) return internal_error("outer value id out of range");
    defined[size_t(v)] = 1;
  }
  for (const Node& n : g.nodes) {
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      ValueId v = n.inputs[i];
      if (v == kNoValue) continue;
      if (!in_range(v) || !defined[size_t(v)])
        return internal_error(n.label() + ": input " + std::to_string(i) + " '" + (in_range(v) ? g.values[size_t(v)].name : "?") +
                              "' is not defined before the node");
    }
    for (ValueId v : n.implicit_inputs)
      if (!in_range(v) || !defined[size_t(v)]) return internal_error(n.label() + ": a value its subgraph reads is not defined before it");
    for (ValueId v : n.outputs) {
      if (v == kNoValue) continue;
      if (!in_range(v)) return internal_error(n.label() + ": output id out of range");
      if (defined[size_t(v)]) return internal_error(n.label() + ": output '" + g.values[size_t(v)].name + "' is defined twice");
      defined[size_t(v)] = 1;
    }
  }
  for (ValueId v : g.outputs)
    if (!in_range(v) || !defined[size_t(v)])
      return internal_error("graph output '" + (in_range(v) ? g.values[size_t(v)].name : "?") + "' is no longer produced");
  return Status::ok();
}

namespace {

// Stable topological sort: among ready nodes, the one that came first goes first.
Status topo_sort(Graph& g) {
  const size_t n = g.nodes.size();
  std::unordered_map<ValueId, size_t> producer;
  for (size_t i = 0; i < n; ++i)
    for (ValueId v : g.nodes[i].outputs)
      if (v != kNoValue) producer[v] = i;
  std::vector<std::vector<size_t>> users(n);
  std::vector<int> pending(n, 0);
  for (size_t i = 0; i < n; ++i) {
    auto dep = [&](ValueId v) {
      auto it = v == kNoValue ? producer.end() : producer.find(v);
      if (it == producer.end() || it->second == i) return;
      users[it->second].push_back(i);
      ++pending[i];
    };
    for (ValueId v : g.nodes[i].inputs) dep(v);
    for (ValueId v : g.nodes[i].implicit_inputs) dep(v);
  }
  std::priority_queue<size_t, std::vector<size_t>, std::greater<size_t>> ready;
  for (size_t i = 0; i < n; ++i)
    if (pending[i] == 0) ready.push(i);
  std::vector<Node> sorted;
  sorted.reserve(n);
  while (!ready.empty()) {
    size_t i = ready.top();
    ready.pop();
    sorted.push_back(std::move(g.nodes[i]));
    for (size_t u : users[i])
      if (--pending[u] == 0) ready.push(u);
  }
  if (sorted.size() != n) return internal_error("the rewritten graph has a cycle");
  g.nodes = std::move(sorted);
  return Status::ok();
}

}  // namespace

Result<Graph> apply_patches(const Graph& g, const PatchList& list, const std::vector<size_t>& selected) {
  Graph out = g;
  for (const ValueInfo& vi : list.new_values()) {
    ValueId id = out.add_value(vi.name);
    out.values[size_t(id)].type = vi.type;
  }
  const int nn = int(g.nodes.size());
  std::vector<int> action(size_t(nn), 0);  // 0 keep, 1 removed, 2 replaced
  std::vector<const Node*> replacement(size_t(nn), nullptr);
  std::vector<std::vector<const Node*>> before(size_t(nn) + 1);
  std::unordered_map<ValueId, ValueId> rewire;
  std::unordered_set<ValueId> outputs(g.outputs.begin(), g.outputs.end());
  std::unordered_set<ValueId> captured;
  for (const Node& n : g.nodes) captured.insert(n.implicit_inputs.begin(), n.implicit_inputs.end());
  auto valid_id = [&](ValueId v) { return v >= 0 && size_t(v) < out.values.size(); };
  for (size_t s : selected) {
    if (s >= list.patches().size()) return internal_error("patch index out of range");
    const Patch& p = list.patches()[s];
    for (int i : p.remove) {
      if (i < 0 || i >= nn || action[size_t(i)]) return internal_error(p.rule + ": node " + std::to_string(i) + " removed twice or out of range");
      action[size_t(i)] = 1;
    }
    for (const auto& [i, node] : p.replace) {
      if (i < 0 || i >= nn || action[size_t(i)]) return internal_error(p.rule + ": node " + std::to_string(i) + " replaced twice or out of range");
      action[size_t(i)] = 2;
      replacement[size_t(i)] = &node;
    }
    for (const auto& [i, node] : p.add) {
      if (i < 0 || i > nn) return internal_error(p.rule + ": insertion point out of range");
      before[size_t(i)].push_back(&node);
    }
    for (const auto& [from, to] : p.rewire) {
      if (!valid_id(from) || !valid_id(to) || from == to) return internal_error(p.rule + ": bad rewire");
      if (outputs.count(from) || captured.count(from)) return internal_error(p.rule + ": rewires a graph output or a captured value");
      if (!rewire.emplace(from, to).second) return internal_error(p.rule + ": value rewired twice");
    }
    for (const auto& [id, t] : p.constants) {
      if (!valid_id(id) || out.constants.count(id)) return internal_error(p.rule + ": bad constant");
      out.constants[id] = t;
    }
  }
  std::vector<Node> nodes;
  nodes.reserve(g.nodes.size());
  for (int i = 0; i <= nn; ++i) {
    for (const Node* a : before[size_t(i)]) nodes.push_back(*a);
    if (i == nn) break;
    if (action[size_t(i)] == 1) continue;
    nodes.push_back(action[size_t(i)] == 2 ? *replacement[size_t(i)] : std::move(out.nodes[size_t(i)]));
  }
  out.nodes = std::move(nodes);
  // Follow chains (a -> b, b -> c) so that patches made from one snapshot compose.
  auto resolve = [&](ValueId v) {
    for (size_t steps = 0; steps <= rewire.size(); ++steps) {
      auto it = rewire.find(v);
      if (it == rewire.end()) return v;
      v = it->second;
    }
    return kNoValue;  // a cycle: verification reports the undefined input
  };
  for (Node& n : out.nodes) {
    for (ValueId& v : n.inputs) {
      if (v == kNoValue || !rewire.count(v)) continue;
      v = resolve(v);
      if (v == kNoValue) return internal_error(n.label() + ": rewires form a cycle");
    }
    for (ValueId o : n.outputs)
      if (o != kNoValue && out.constants.count(o)) return internal_error(n.label() + ": its output is also a constant");
  }
  PETREL_RETURN_IF_ERROR(topo_sort(out));
  PETREL_RETURN_IF_ERROR(verify_graph(out));
  return out;
}

}  // namespace petrel::opt
