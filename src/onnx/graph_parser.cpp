// GraphProto / NodeProto / AttributeProto parsing. Values are resolved by name through the
// scope chain: a name a subgraph reads but does not define becomes one of its outer_refs and
// an implicit input of the node that owns the subgraph, so ordering and liveness see it.
#include "onnx/graph_parser.hpp"

#include <algorithm>
#include <cstring>
#include <unordered_set>

#include "onnx/opset.hpp"

namespace petrel::onnx {
namespace {

constexpr size_t kMaxDensifiedSparseBytes = size_t(256) << 20;

struct RawNode {
  Node node;
  std::vector<std::string> in_names, out_names;
  // Graph attributes, parsed after the enclosing graph's names are all known.
  std::vector<std::pair<size_t, WireReader>> graph_attrs;                       // attr index, bytes
  std::vector<std::pair<size_t, std::vector<WireReader>>> graphs_attrs;
};

ValueId resolve(Scope& s, const std::string& name) {
  ValueId id = s.graph->find(name);
  if (id != kNoValue) return id;
  if (!s.parent) return kNoValue;
  if (resolve(*s.parent, name) == kNoValue) return kNoValue;
  id = s.graph->add_value(name);
  s.graph->outer_refs.push_back(id);
  return id;
}

Status read_packed_or_single(WireReader& r, WireType t, WireType scalar, std::vector<uint64_t>& out) {
  auto one = [&](WireReader& rr) -> Status {
    uint64_t v = 0;
    if (scalar == WireType::kVarint) {
      PETREL_RETURN_IF_ERROR(rr.varint(v));
    } else {
      uint32_t w = 0;
      PETREL_RETURN_IF_ERROR(rr.fixed32(w));
      v = w;
    }
    out.push_back(v);
    return Status::ok();
  };
  if (t == WireType::kLen) {
    WireReader sub(nullptr, nullptr, nullptr);
    PETREL_RETURN_IF_ERROR(r.message(sub));
    while (!sub.done()) PETREL_RETURN_IF_ERROR(one(sub));
    return Status::ok();
  }
  if (t != scalar) return r.error("wrong wire type in a repeated attribute field");
  return one(r);
}

float bits_to_float(uint64_t v) {
  uint32_t w = uint32_t(v);
  float f;
  std::memcpy(&f, &w, 4);
  return f;
}

Status parse_attribute(WireReader r, ParseContext& ctx, Attribute& a, RawNode& rn, size_t index) {
  bool type_set = false;
  std::vector<uint64_t> ints, floats;
  while (!r.done()) {
    uint32_t field;
    WireType t;
    PETREL_RETURN_IF_ERROR(r.next_field(field, t));
    switch (field) {
      case 1: PETREL_RETURN_IF_ERROR(expect_wire(r, t, WireType::kLen, "AttributeProto", field)); PETREL_RETURN_IF_ERROR(r.string(a.name)); break;
      case 2: {
        PETREL_RETURN_IF_ERROR(expect_wire(r, t, WireType::kFixed32, "AttributeProto", field));
        uint32_t w;
        PETREL_RETURN_IF_ERROR(r.fixed32(w));
        a.f = bits_to_float(w);
        if (!type_set) a.type = AttrType::kFloat;
        break;
      }
      case 3: {
        PETREL_RETURN_IF_ERROR(expect_wire(r, t, WireType::kVarint, "AttributeProto", field));
        uint64_t v;
        PETREL_RETURN_IF_ERROR(r.varint(v));
        a.i = int64_t(v);
        if (!type_set) a.type = AttrType::kInt;
        break;
      }
      case 4: PETREL_RETURN_IF_ERROR(expect_wire(r, t, WireType::kLen, "AttributeProto", field)); PETREL_RETURN_IF_ERROR(r.string(a.s)); if (!type_set) a.type = AttrType::kString; break;
      case 5: case 10: case 22: case 23: {
        PETREL_RETURN_IF_ERROR(expect_wire(r, t, WireType::kLen, "AttributeProto", field));
        WireReader sub(nullptr, nullptr, nullptr);
        PETREL_RETURN_IF_ERROR(r.message(sub));
        Tensor tensor;
        if (field == 5 || field == 10) PETREL_RETURN_IF_ERROR(parse_tensor(sub, *ctx.src, tensor, nullptr));
        else PETREL_RETURN_IF_ERROR(parse_sparse_tensor(sub, *ctx.src, tensor));
        if (field == 5 || field == 22) { a.t = std::move(tensor); if (!type_set) a.type = field == 5 ? AttrType::kTensor : AttrType::kSparseTensor; }
        else { a.tensors.push_back(std::move(tensor)); if (!type_set) a.type = field == 10 ? AttrType::kTensors : AttrType::kSparseTensors; }
        break;
      }
      case 6: case 11: {
        PETREL_RETURN_IF_ERROR(expect_wire(r, t, WireType::kLen, "AttributeProto", field));
        WireReader sub(nullptr, nullptr, nullptr);
        PETREL_RETURN_IF_ERROR(r.message(sub));
        if (field == 6) { rn.graph_attrs.emplace_back(index, sub); if (!type_set) a.type = AttrType::kGraph; }
        else {
          auto it = std::find_if(rn.graphs_attrs.begin(), rn.graphs_attrs.end(), [&](auto& p) { return p.first == index; });
          if (it == rn.graphs_attrs.end()) { rn.graphs_attrs.push_back({index, {}}); it = rn.graphs_attrs.end() - 1; }
          it->second.push_back(sub);
          if (!type_set) a.type = AttrType::kGraphs;
        }
        break;
      }
      case 7: PETREL_RETURN_IF_ERROR(read_packed_or_single(r, t, WireType::kFixed32, floats)); if (!type_set) a.type = AttrType::kFloats; break;
      case 8: PETREL_RETURN_IF_ERROR(read_packed_or_single(r, t, WireType::kVarint, ints)); if (!type_set) a.type = AttrType::kInts; break;
      case 9: {
        PETREL_RETURN_IF_ERROR(expect_wire(r, t, WireType::kLen, "AttributeProto", field));
        std::string s;
        PETREL_RETURN_IF_ERROR(r.string(s));
        a.strings.push_back(std::move(s));
        if (!type_set) a.type = AttrType::kStrings;
        break;
      }
      case 14: case 15: {
        PETREL_RETURN_IF_ERROR(expect_wire(r, t, WireType::kLen, "AttributeProto", field));
        WireReader sub(nullptr, nullptr, nullptr);
        PETREL_RETURN_IF_ERROR(r.message(sub));
        TypeInfo ti;
        PETREL_RETURN_IF_ERROR(parse_type(sub, ti, 0));
        a.type_protos.push_back(std::move(ti));
        if (!type_set) a.type = field == 14 ? AttrType::kTypeProto : AttrType::kTypeProtos;
        break;
      }
      case 20: {
        PETREL_RETURN_IF_ERROR(expect_wire(r, t, WireType::kVarint, "AttributeProto", field));
        uint64_t v;
        PETREL_RETURN_IF_ERROR(r.varint(v));
        if (v > 14) return r.error("attribute has invalid type " + std::to_string(v));
        a.type = AttrType(int32_t(v));
        type_set = true;
        break;
      }
      case 21: return unsupported("attribute '" + a.name + "' references a function attribute (ref_attr_name), which is only valid inside functions");
      default: PETREL_RETURN_IF_ERROR(r.skip(t));
    }
  }
  for (uint64_t v : ints) a.ints.push_back(int64_t(v));
  for (uint64_t v : floats) a.floats.push_back(bits_to_float(v));
  return Status::ok();
}

Status parse_node(WireReader r, ParseContext& ctx, RawNode& rn) {
  Node& n = rn.node;
  while (!r.done()) {
    uint32_t field;
    WireType t;
    PETREL_RETURN_IF_ERROR(r.next_field(field, t));
    if (t != WireType::kLen) { PETREL_RETURN_IF_ERROR(r.skip(t)); continue; }
    switch (field) {
      case 1: rn.in_names.emplace_back(); PETREL_RETURN_IF_ERROR(r.string(rn.in_names.back())); break;
      case 2: rn.out_names.emplace_back(); PETREL_RETURN_IF_ERROR(r.string(rn.out_names.back())); break;
      case 3: PETREL_RETURN_IF_ERROR(r.string(n.name)); break;
      case 4: PETREL_RETURN_IF_ERROR(r.string(n.op_type)); break;
      case 7: PETREL_RETURN_IF_ERROR(r.string(n.domain)); break;
      case 5: {
        WireReader sub(nullptr, nullptr, nullptr);
        PETREL_RETURN_IF_ERROR(r.message(sub));
        n.attrs.emplace_back();
        Status st = parse_attribute(sub, ctx, n.attrs.back(), rn, n.attrs.size() - 1);
        if (!st) return st.with_context("node '" + n.name + "' (" + n.op_type + ") attribute '" + n.attrs.back().name + "'");
        break;
      }
      default: PETREL_RETURN_IF_ERROR(r.skip(t));
    }
  }
  if (n.op_type.empty()) return invalid_model("a node has no op_type (node '" + n.name + "')");
  if (n.domain == "ai.onnx") n.domain.clear();
  if (n.name.empty()) n.name = rn.out_names.empty() ? n.op_type : n.op_type + ":" + rn.out_names[0];
  auto it = ctx.opsets->find(n.domain);
  if (it == ctx.opsets->end()) {
    if (n.domain.empty()) return invalid_model(n.label() + ": the model imports no opset for the default domain");
    n.opset = 1;  // custom domains without an import: version unknown
  } else {
    n.opset = int(std::min<int64_t>(it->second, 1000));
  }
  return Status::ok();
}

// Kahn's algorithm; nodes end up in a stable topological order or we report a cycle.
Status topo_sort(Graph& g) {
  const size_t n = g.nodes.size();
  std::vector<int> producer(g.values.size(), -1);
  for (size_t i = 0; i < n; ++i)
    for (ValueId o : g.nodes[i].outputs)
      if (o != kNoValue) producer[size_t(o)] = int(i);
  std::vector<std::vector<int>> users(n);
  std::vector<int> indeg(n, 0);
  for (size_t i = 0; i < n; ++i) {
    std::unordered_set<int> deps;
    auto add = [&](ValueId v) { if (v != kNoValue && producer[size_t(v)] >= 0) deps.insert(producer[size_t(v)]); };
    for (ValueId v : g.nodes[i].inputs) add(v);
    for (ValueId v : g.nodes[i].implicit_inputs) add(v);
    for (int d : deps) { users[size_t(d)].push_back(int(i)); ++indeg[i]; }
  }
  std::vector<int> order, ready;
  for (size_t i = n; i-- > 0;)
    if (indeg[i] == 0) ready.push_back(int(i));
  std::sort(ready.begin(), ready.end(), std::greater<int>());
  while (!ready.empty()) {
    int i = ready.back();
    ready.pop_back();
    order.push_back(i);
    for (int u : users[size_t(i)])
      if (--indeg[size_t(u)] == 0) {
        ready.insert(std::upper_bound(ready.begin(), ready.end(), u, std::greater<int>()), u);
      }
  }
  if (order.size() != n) {
    for (size_t i = 0; i < n; ++i)
      if (indeg[i] > 0) return invalid_model("graph '" + g.name + "' has a cycle through " + g.nodes[i].label());
  }
  std::vector<Node> sorted;
  sorted.reserve(n);
  for (int i : order) sorted.push_back(std::move(g.nodes[size_t(i)]));
  g.nodes = std::move(sorted);
  return Status::ok();
}

}  // namespace

Status parse_sparse_tensor(WireReader r, TensorSource& src, Tensor& out) {
  Tensor values, indices;
  Shape dims;
  while (!r.done()) {
    uint32_t field;
    WireType t;
    PETREL_RETURN_IF_ERROR(r.next_field(field, t));
    if ((field == 1 || field == 2) && t == WireType::kLen) {
      WireReader sub(nullptr, nullptr, nullptr);
      PETREL_RETURN_IF_ERROR(r.message(sub));
      PETREL_RETURN_IF_ERROR(parse_tensor(sub, src, field == 1 ? values : indices, nullptr));
    } else if (field == 3) {
      std::vector<uint64_t> d;
      PETREL_RETURN_IF_ERROR(read_packed_or_single(r, t, WireType::kVarint, d));
      for (uint64_t v : d) dims.push_back(int64_t(v));
    } else {
      PETREL_RETURN_IF_ERROR(r.skip(t));
    }
  }
  if (values.dtype == DataType::kString || values.dtype == DataType::kUndefined || values.rank() != 1)
    return invalid_model("sparse tensor: values must be a 1-D numeric tensor");
  // Petrel keeps tensors dense: bound what a few bytes of sparse data may expand to.
  auto dense = checked_numel(dims);
  if (!dense) return invalid_model("sparse tensor: " + dense.status().message());
  if (packed_bytes(values.dtype, dense.value()) > kMaxDensifiedSparseBytes)
    return unsupported("sparse tensor of shape " + shape_to_string(dims) + " would densify to more than 256 MiB");
  PETREL_ASSIGN_OR_RETURN(out, Tensor::allocate(values.dtype, dims));
  const int64_t nnz = values.numel(), total = out.numel();
  if (indices.dtype != DataType::kInt64) return invalid_model("sparse tensor: indices must be int64");
  const bool linear = indices.rank() == 1;
  if (linear ? indices.numel() != nnz : (indices.rank() != 2 || indices.shape[0] != nnz || indices.shape[1] != int64_t(dims.size())))
    return invalid_model("sparse tensor: indices shape does not match values and dims");
  const size_t es = dtype_size(values.dtype);
  for (int64_t k = 0; k < nnz; ++k) {
    int64_t flat = 0;
    if (linear) {
      flat = indices.as<int64_t>()[k];
    } else {
      for (size_t d = 0; d < dims.size(); ++d) {
        int64_t ix = indices.as<int64_t>()[k * int64_t(dims.size()) + int64_t(d)];
        if (ix < 0 || ix >= dims[d]) return invalid_model("sparse tensor: index out of range");
        flat = flat * dims[d] + ix;
      }
    }
    if (flat < 0 || flat >= total) return invalid_model("sparse tensor: index out of range");
    std::memcpy(static_cast<uint8_t*>(out.data) + size_t(flat) * es, static_cast<const uint8_t*>(values.data) + size_t(k) * es, es);
  }
  return Status::ok();
}

Status parse_graph(WireReader r, ParseContext& ctx, Scope* parent, Graph& g) {
  if (ctx.depth > 32) return r.error("subgraphs nested more than 32 deep");
  std::vector<WireReader> node_r, init_r, sparse_r, in_r, out_r, vi_r;
  while (!r.done()) {
    uint32_t field;
    WireType t;
    PETREL_RETURN_IF_ERROR(r.next_field(field, t));
    if (t != WireType::kLen) { PETREL_RETURN_IF_ERROR(r.skip(t)); continue; }
    WireReader sub(nullptr, nullptr, nullptr);
    if (field == 2) { PETREL_RETURN_IF_ERROR(r.string(g.name)); continue; }
    PETREL_RETURN_IF_ERROR(r.message(sub));
    switch (field) {
      case 1: node_r.push_back(sub); break;
      case 5: init_r.push_back(sub); break;
      case 15: sparse_r.push_back(sub); break;
      case 11: in_r.push_back(sub); break;
      case 12: out_r.push_back(sub); break;
      case 13: vi_r.push_back(sub); break;
      default: break;
    }
  }
  auto define = [&](const std::string& name, const std::string& what) -> Result<ValueId> {
    if (name.empty()) return invalid_model("graph '" + g.name + "': " + what + " has an empty name");
    if (g.find(name) != kNoValue) return invalid_model("graph '" + g.name + "': value '" + name + "' is defined twice (" + what + ")");
    return g.add_value(name);
  };
  for (auto& ir : init_r) {
    Tensor t;
    std::string name;
    PETREL_RETURN_IF_ERROR(parse_tensor(ir, *ctx.src, t, &name));
    PETREL_ASSIGN_OR_RETURN(ValueId id, define(name, "initializer"));
    g.values[size_t(id)].type = TypeInfo{TypeInfo::Kind::kTensor, t.dtype, true, {}, nullptr};
    for (int64_t d : t.shape) g.values[size_t(id)].type.shape.push_back(Dim{d, {}});
    g.constants.emplace(id, std::move(t));
  }
  for (auto& sr : sparse_r) {
    // SparseTensorProto's values tensor carries the name.
    Tensor t;
    WireReader probe = sr;
    std::string name;
    while (!probe.done()) {
      uint32_t f; WireType wt;
      PETREL_RETURN_IF_ERROR(probe.next_field(f, wt));
      if (f == 1 && wt == WireType::kLen) {
        WireReader v(nullptr, nullptr, nullptr);
        PETREL_RETURN_IF_ERROR(probe.message(v));
        Tensor tmp;
        PETREL_RETURN_IF_ERROR(parse_tensor(v, *ctx.src, tmp, &name));
      } else {
        PETREL_RETURN_IF_ERROR(probe.skip(wt));
      }
    }
    PETREL_RETURN_IF_ERROR(parse_sparse_tensor(sr, *ctx.src, t));
    PETREL_ASSIGN_OR_RETURN(ValueId id, define(name, "sparse initializer"));
    g.constants.emplace(id, std::move(t));
  }
  for (auto& ir : in_r) {
    ValueInfo vi;
    PETREL_RETURN_IF_ERROR(parse_value_info(ir, vi));
    ValueId id = g.find(vi.name);
    if (id != kNoValue && g.constants.count(id)) {
      // Old models list initializers as inputs too; they stay constants.
      if (vi.type.kind != TypeInfo::Kind::kUnknown) g.values[size_t(id)].type = vi.type;
      continue;
    }
    PETREL_ASSIGN_OR_RETURN(id, define(vi.name, "graph input"));
    g.values[size_t(id)].type = vi.type;
    g.inputs.push_back(id);
  }
  // Nodes: parse, turn Constant nodes into initializers, define outputs.
  std::vector<RawNode> raw(node_r.size());
  std::vector<RawNode> kept;
  for (size_t i = 0; i < node_r.size(); ++i) {
    PETREL_RETURN_IF_ERROR(parse_node(node_r[i], ctx, raw[i]));
    Node& n = raw[i].node;
    if (n.op_type == "Constant" && n.domain.empty()) {
      if (raw[i].out_names.size() != 1) return invalid_model(n.label() + ": Constant must have exactly one output");
      Tensor t;
      PETREL_RETURN_IF_ERROR(constant_node_value(n, t));
      PETREL_ASSIGN_OR_RETURN(ValueId id, define(raw[i].out_names[0], n.label() + " output"));
      g.values[size_t(id)].type = TypeInfo{TypeInfo::Kind::kTensor, t.dtype, true, {}, nullptr};
      for (int64_t d : t.shape) g.values[size_t(id)].type.shape.push_back(Dim{d, {}});
      g.constants.emplace(id, std::move(t));
      continue;
    }
    for (const auto& o : raw[i].out_names) {
      if (o.empty()) { n.outputs.push_back(kNoValue); continue; }
      PETREL_ASSIGN_OR_RETURN(ValueId id, define(o, n.label() + " output"));
      n.outputs.push_back(id);
    }
    kept.push_back(std::move(raw[i]));
  }
  Scope scope{&g, parent};
  for (auto& rn : kept) {
    Node& n = rn.node;
    for (size_t k = 0; k < rn.in_names.size(); ++k) {
      const std::string& name = rn.in_names[k];
      if (name.empty()) { n.inputs.push_back(kNoValue); continue; }
      ValueId id = resolve(scope, name);
      if (id == kNoValue)
        return invalid_model(n.label() + ": input " + std::to_string(k) + " '" + name +
                             "' is not produced by any node and is not a graph input or initializer");
      n.inputs.push_back(id);
    }
    auto parse_sub = [&](WireReader sub, std::shared_ptr<Graph>& out) -> Status {
      out = std::make_shared<Graph>();
      ++ctx.depth;
      Status st = parse_graph(sub, ctx, &scope, *out);
      --ctx.depth;
      PETREL_RETURN_IF_ERROR(st.with_context(n.label() + " subgraph"));
      for (ValueId o : out->outer_refs) {
        ValueId pid = resolve(scope, out->values[size_t(o)].name);
        if (std::find(n.implicit_inputs.begin(), n.implicit_inputs.end(), pid) == n.implicit_inputs.end())
          n.implicit_inputs.push_back(pid);
      }
      return Status::ok();
    };
    for (auto& [idx, sub] : rn.graph_attrs) PETREL_RETURN_IF_ERROR(parse_sub(sub, n.attrs[idx].g));
    for (auto& [idx, subs] : rn.graphs_attrs)
      for (auto& sub : subs) {
        n.attrs[idx].graphs.emplace_back();
        PETREL_RETURN_IF_ERROR(parse_sub(sub, n.attrs[idx].graphs.back()));
      }
  }
  for (auto& orr : out_r) {
    ValueInfo vi;
    PETREL_RETURN_IF_ERROR(parse_value_info(orr, vi));
    ValueId id = resolve(scope, vi.name);
    if (id == kNoValue) return invalid_model("graph '" + g.name + "': output '" + vi.name + "' is not produced by any node");
    if (vi.type.kind != TypeInfo::Kind::kUnknown) g.values[size_t(id)].type = vi.type;
    g.outputs.push_back(id);
  }
  for (auto& vr : vi_r) {
    ValueInfo vi;
    PETREL_RETURN_IF_ERROR(parse_value_info(vr, vi));
    ValueId id = g.find(vi.name);
    if (id != kNoValue && g.values[size_t(id)].type.kind == TypeInfo::Kind::kUnknown) g.values[size_t(id)].type = vi.type;
  }
  for (auto& rn : kept) g.nodes.push_back(std::move(rn.node));
  PETREL_RETURN_IF_ERROR(normalize_opsets(g));
  return topo_sort(g);
}

}  // namespace petrel::onnx
