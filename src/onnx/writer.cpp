#include "onnx/writer.hpp"

#include <cstdio>
#include <cstring>

#include "onnx/opset.hpp"

namespace petrel::onnx {
namespace {

constexpr size_t kAlign = 64;

class Writer {
 public:
  std::vector<uint8_t> buf;

  void varint(uint64_t v) {
    while (v >= 0x80) { buf.push_back(uint8_t(v | 0x80)); v >>= 7; }
    buf.push_back(uint8_t(v));
  }
  static size_t varint_size(uint64_t v) { size_t n = 1; while (v >= 0x80) { v >>= 7; ++n; } return n; }
  void tag(uint32_t field, uint32_t wire) { varint(uint64_t(field) << 3 | wire); }
  void field_varint(uint32_t f, uint64_t v) { tag(f, 0); varint(v); }
  void field_bytes(uint32_t f, const void* p, size_t n) {
    tag(f, 2);
    varint(n);
    const uint8_t* b = static_cast<const uint8_t*>(p);
    buf.insert(buf.end(), b, b + n);
  }
  void field_string(uint32_t f, const std::string& s) { field_bytes(f, s.data(), s.size()); }
  void field_float(uint32_t f, float x) {
    tag(f, 5);
    uint8_t b[4];
    std::memcpy(b, &x, 4);
    buf.insert(buf.end(), b, b + 4);
  }
  // Starts a length-delimited sub-message with a fixed 5-byte length (patched by end()).
  size_t begin(uint32_t f) {
    tag(f, 2);
    size_t at = buf.size();
    buf.insert(buf.end(), 5, 0);
    return at;
  }
  Status end(size_t at) {
    size_t len = buf.size() - at - 5;
    if (len >= (uint64_t(1) << 32)) return out_of_range("a message of the model exceeds 4 GiB; use external data");
    for (int i = 0; i < 5; ++i) buf[at + size_t(i)] = uint8_t(((len >> (7 * i)) & 0x7f) | (i < 4 ? 0x80 : 0));
    return Status::ok();
  }
};

Status write_tensor(Writer& w, uint32_t field, const Tensor& t, const std::string& name, size_t align = kAlign) {
  size_t at = w.begin(field);
  for (int64_t d : t.shape) w.field_varint(1, uint64_t(d));
  w.field_varint(2, uint64_t(t.dtype));
  if (!name.empty()) w.field_string(8, name);
  if (t.dtype == DataType::kString) {
    for (int64_t i = 0; i < t.numel(); ++i) w.field_string(6, t.as<std::string>()[i]);
  } else {
    const size_t n = t.nbytes();
    // Pad with a doc_string (field 12) so the raw bytes start `align`-byte aligned in the file.
    const size_t head = 1 + Writer::varint_size(n);
    if ((w.buf.size() + head) % align != 0) {
      size_t pad = (align - (w.buf.size() + 2 + head) % align) % align;
      w.tag(12, 2);
      w.varint(pad);
      w.buf.insert(w.buf.end(), pad, ' ');
    }
    w.field_bytes(9, t.data, n);
  }
  return w.end(at);
}

void write_type(Writer& w, uint32_t field, const TypeInfo& t) {
  size_t at = w.begin(field);
  if (t.kind == TypeInfo::Kind::kTensor) {
    size_t tt = w.begin(1);
    if (t.dtype != DataType::kUndefined) w.field_varint(1, uint64_t(t.dtype));
    if (t.has_shape) {
      size_t sh = w.begin(2);
      for (const Dim& d : t.shape) {
        size_t dm = w.begin(1);
        if (d.is_static()) w.field_varint(1, uint64_t(d.value));
        else if (!d.param.empty()) w.field_string(2, d.param);
        (void)w.end(dm);
      }
      (void)w.end(sh);
    }
    (void)w.end(tt);
  } else if ((t.kind == TypeInfo::Kind::kSequence || t.kind == TypeInfo::Kind::kOptional) && t.elem) {
    size_t st = w.begin(t.kind == TypeInfo::Kind::kSequence ? 4 : 9);
    write_type(w, 1, *t.elem);
    (void)w.end(st);
  }
  (void)w.end(at);
}

void write_value_info(Writer& w, uint32_t field, const ValueInfo& vi) {
  size_t at = w.begin(field);
  w.field_string(1, vi.name);
  if (vi.type.kind != TypeInfo::Kind::kUnknown) write_type(w, 2, vi.type);
  (void)w.end(at);
}

Status write_graph(Writer& w, uint32_t field, const Graph& g, const std::string& name, bool compact = false);

Status write_attribute(Writer& w, const Attribute& a) {
  size_t at = w.begin(5);
  w.field_string(1, a.name);
  w.field_varint(20, uint64_t(a.type));
  switch (a.type) {
    case AttrType::kFloat: w.field_float(2, a.f); break;
    case AttrType::kInt: w.field_varint(3, uint64_t(a.i)); break;
    case AttrType::kString: w.field_string(4, a.s); break;
    case AttrType::kTensor: PETREL_RETURN_IF_ERROR(write_tensor(w, 5, a.t, "")); break;
    case AttrType::kGraph: PETREL_RETURN_IF_ERROR(write_graph(w, 6, *a.g, a.g->name)); break;
    case AttrType::kFloats: for (float f : a.floats) w.field_float(7, f); break;
    case AttrType::kInts: for (int64_t i : a.ints) w.field_varint(8, uint64_t(i)); break;
    case AttrType::kStrings: for (const auto& s : a.strings) w.field_string(9, s); break;
    case AttrType::kTensors: for (const auto& t : a.tensors) PETREL_RETURN_IF_ERROR(write_tensor(w, 10, t, "")); break;
    case AttrType::kGraphs: for (const auto& g : a.graphs) PETREL_RETURN_IF_ERROR(write_graph(w, 11, *g, g->name)); break;
    case AttrType::kTypeProto: if (!a.type_protos.empty()) write_type(w, 14, a.type_protos[0]); break;
    case AttrType::kTypeProtos: for (const auto& t : a.type_protos) write_type(w, 15, t); break;
    default: return unsupported("cannot write attribute '" + a.name + "' of type " + attr_type_name(a.type));
  }
  return w.end(at);
}

// Alignment of an initializer's raw bytes: 64, or with `compact` just the element size (what
// zero-copy loading needs; 1-byte types then need no padding at all).
size_t raw_alignment(const Tensor& t, bool compact) {
  if (!compact) return kAlign;
  const size_t e = dtype_size(t.dtype);
  return e == 0 ? 1 : e > 8 ? 8 : e;
}

Status write_graph(Writer& w, uint32_t field, const Graph& g, const std::string& name, bool compact) {
  size_t at = w.begin(field);
  w.field_string(2, name.empty() ? "graph" : name);
  auto vname = [&](ValueId id) { return id == kNoValue ? std::string() : g.values[size_t(id)].name; };
  for (const Node& n : g.nodes) {
    size_t nn = w.begin(1);
    for (ValueId id : n.inputs) w.field_string(1, vname(id));
    for (ValueId id : n.outputs) w.field_string(2, vname(id));
    w.field_string(3, n.name);
    w.field_string(4, n.op_type);
    if (!n.domain.empty()) w.field_string(7, n.domain);
    for (const Attribute& a : n.attrs)
      if (a.name.empty() || a.name[0] != '_') PETREL_RETURN_IF_ERROR(write_attribute(w, a));  // '_': internal, never written
    PETREL_RETURN_IF_ERROR(w.end(nn));
  }
  // Initializers in value order, so the output is deterministic.
  for (size_t id = 0; id < g.values.size(); ++id) {
    const Tensor* t = g.constant(ValueId(id));
    if (t) PETREL_RETURN_IF_ERROR(write_tensor(w, 5, *t, g.values[id].name, raw_alignment(*t, compact)));
  }
  for (ValueId id : g.inputs) write_value_info(w, 11, g.values[size_t(id)]);
  for (ValueId id : g.outputs) write_value_info(w, 12, g.values[size_t(id)]);
  return w.end(at);
}

}  // namespace

Result<std::vector<uint8_t>> serialize_model(const Model& m, const WriteOptions& o) {
  if (!m.graph) return invalid_argument("the model has no graph");
  if (o.default_opset < kIrOpset || o.default_opset > kMaxWriteOpset)
    return unsupported("cannot write default-domain opset " + std::to_string(o.default_opset));
  Writer w;
  // IR version 8 (ONNX 1.10+) is enough for opset 17; opset 19 came with IR 9, and opset 21
  // (INT4/UINT4 tensors) with IR 10.
  w.field_varint(1, o.default_opset >= 21 ? 10 : o.default_opset >= 19 ? 9 : 8);
  w.field_string(2, "petrel");
  w.field_string(3, "0.1.0");
  if (!m.domain.empty()) w.field_string(4, m.domain);
  if (m.model_version) w.field_varint(5, uint64_t(m.model_version));
  bool has_default = false;
  for (const auto& [d, v] : m.opset_imports) {
    size_t at = w.begin(8);
    const bool def = d.empty() || d == "ai.onnx";
    has_default |= def;
    if (!def) w.field_string(1, d);
    w.field_varint(2, uint64_t(def ? o.default_opset : v));
    PETREL_RETURN_IF_ERROR(w.end(at));
  }
  if (!has_default) {
    size_t at = w.begin(8);
    w.field_varint(2, uint64_t(o.default_opset));
    PETREL_RETURN_IF_ERROR(w.end(at));
  }
  PETREL_RETURN_IF_ERROR(write_graph(w, 7, *m.graph, m.graph->name, o.compact));
  for (const auto& [k, v] : m.metadata) {
    size_t at = w.begin(14);
    w.field_string(1, k);
    w.field_string(2, v);
    PETREL_RETURN_IF_ERROR(w.end(at));
  }
  return std::move(w.buf);
}

Status write_model(const Model& m, const std::string& path, const WriteOptions& o) {
  PETREL_ASSIGN_OR_RETURN(auto bytes, serialize_model(m, o));
  std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return io_error("cannot write " + tmp);
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  ok &= std::fclose(f) == 0;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return io_error("error writing " + path);
  }
  return Status::ok();
}

}  // namespace petrel::onnx
