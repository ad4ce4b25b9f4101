// ModelProto → Model, and the test-data readers (TensorProto, SequenceProto, OptionalProto files).
#include <filesystem>
#include <map>

#include "onnx/graph_parser.hpp"

namespace petrel::onnx {
namespace {

Status parse_model(WireReader r, TensorSource& src, Model& m) {
  // Opset imports first (fields can come in any order), then the graph.
  std::vector<WireReader> graphs;
  while (!r.done()) {
    uint32_t field;
    WireType t;
    PETREL_RETURN_IF_ERROR(r.next_field(field, t));
    switch (field) {
      case 1: {
        PETREL_RETURN_IF_ERROR(expect_wire(r, t, WireType::kVarint, "ModelProto", field));
        uint64_t v;
        PETREL_RETURN_IF_ERROR(r.varint(v));
        m.ir_version = int64_t(v);
        break;
      }
      case 5: {
        PETREL_RETURN_IF_ERROR(expect_wire(r, t, WireType::kVarint, "ModelProto", field));
        uint64_t v;
        PETREL_RETURN_IF_ERROR(r.varint(v));
        m.model_version = int64_t(v);
        break;
      }
      case 2: case 3: case 4: case 6: {
        PETREL_RETURN_IF_ERROR(expect_wire(r, t, WireType::kLen, "ModelProto", field));
        std::string* s = field == 2 ? &m.producer_name : field == 3 ? &m.producer_version : field == 4 ? &m.domain : &m.doc_string;
        PETREL_RETURN_IF_ERROR(r.string(*s));
        break;
      }
      case 7: {
        PETREL_RETURN_IF_ERROR(expect_wire(r, t, WireType::kLen, "ModelProto", field));
        WireReader sub(nullptr, nullptr, nullptr);
        PETREL_RETURN_IF_ERROR(r.message(sub));
        graphs.push_back(sub);
        break;
      }
      case 8: case 14: {
        PETREL_RETURN_IF_ERROR(expect_wire(r, t, WireType::kLen, "ModelProto", field));
        WireReader sub(nullptr, nullptr, nullptr);
        PETREL_RETURN_IF_ERROR(r.message(sub));
        std::string k, sv;
        int64_t version = 0;
        while (!sub.done()) {
          uint32_t f2; WireType t2;
          PETREL_RETURN_IF_ERROR(sub.next_field(f2, t2));
          if ((f2 == 1 || (field == 14 && f2 == 2)) && t2 == WireType::kLen) {
            PETREL_RETURN_IF_ERROR(sub.string(f2 == 1 ? k : sv));
          } else if (field == 8 && f2 == 2 && t2 == WireType::kVarint) {
            uint64_t v;
            PETREL_RETURN_IF_ERROR(sub.varint(v));
            version = int64_t(v);
          } else {
            PETREL_RETURN_IF_ERROR(sub.skip(t2));
          }
        }
        if (field == 8) m.opset_imports.emplace_back(k, version);
        else m.metadata.emplace_back(k, sv);
        break;
      }
      default: PETREL_RETURN_IF_ERROR(r.skip(t));
    }
  }
  if (graphs.size() != 1) return invalid_model(graphs.empty() ? "the file has no graph (is it an ONNX model?)" : "the model has more than one graph");
  std::map<std::string, int64_t> opsets;
  for (auto& [d, v] : m.opset_imports) opsets[d == "ai.onnx" ? "" : d] = v;
  if (opsets.empty()) opsets[""] = 1;  // IR version 1-2 models have no opset_import
  ParseContext ctx{&src, &opsets, 0};
  m.graph = std::make_shared<Graph>();
  PETREL_RETURN_IF_ERROR(parse_graph(graphs[0], ctx, nullptr, *m.graph));
  return Status::ok();
}

Result<std::shared_ptr<Model>> load(std::shared_ptr<MappedFile> file, const LoadOptions& opts, std::string dir) {
  auto m = std::make_shared<Model>();
  m->file = file;
  TensorSource src;
  src.file = file;
  src.external_dir = opts.external_data_dir.empty() ? dir : opts.external_data_dir;
  src.allow_external = opts.allow_external_data;
  if (file->size() == 0) return invalid_model("the model file is empty");
  WireReader r(file->data(), file->data() + file->size(), file->data());
  Status st = parse_model(r, src, *m);
  // A wire-format error at the top level usually means the file is no ONNX model at all.
  if (!st && st.message().rfind("protobuf:", 0) == 0) return invalid_model("not a valid ONNX protobuf: " + st.message());
  PETREL_RETURN_IF_ERROR(st);
  m->zero_copy_bytes = src.zero_copy_bytes;
  m->copied_bytes = src.copied_bytes;
  return m;
}


// SequenceProto: elem_type 2, tensor_values 3, sequence_values 5, optional_values 7.
Status parse_sequence(WireReader r, TensorSource& src, Value& out, int depth) {
  std::vector<Tensor> items;
  DataType elem = DataType::kUndefined;
  while (!r.done()) {
    uint32_t field;
    WireType t;
    PETREL_RETURN_IF_ERROR(r.next_field(field, t));
    if (field == 3 && t == WireType::kLen) {
      WireReader sub(nullptr, nullptr, nullptr);
      PETREL_RETURN_IF_ERROR(r.message(sub));
      Tensor tensor;
      PETREL_RETURN_IF_ERROR(parse_tensor(sub, src, tensor, nullptr));
      elem = tensor.dtype;
      items.push_back(std::move(tensor));
    } else if (field == 5 || field == 7) {
      return unsupported("nested sequences in test data");
    } else {
      PETREL_RETURN_IF_ERROR(r.skip(t));
    }
  }
  (void)depth;
  out = Value::of_sequence(std::move(items), elem);
  return Status::ok();
}

// OptionalProto: elem_type 2, tensor_value 3, sequence_value 5.
Status parse_optional(WireReader r, TensorSource& src, Value& out, int depth) {
  out = Value{};
  while (!r.done()) {
    uint32_t field;
    WireType t;
    PETREL_RETURN_IF_ERROR(r.next_field(field, t));
    if ((field == 3 || field == 5) && t == WireType::kLen) {
      WireReader sub(nullptr, nullptr, nullptr);
      PETREL_RETURN_IF_ERROR(r.message(sub));
      if (field == 3) {
        Tensor tensor;
        PETREL_RETURN_IF_ERROR(parse_tensor(sub, src, tensor, nullptr));
        out = Value::of(std::move(tensor));
      } else {
        PETREL_RETURN_IF_ERROR(parse_sequence(sub, src, out, depth + 1));
      }
    } else {
      PETREL_RETURN_IF_ERROR(r.skip(t));
    }
  }
  return Status::ok();
}

}  // namespace

int64_t Model::opset(const std::string& d) const {
  for (auto& [dom, v] : opset_imports)
    if (dom == d || (d.empty() && dom == "ai.onnx")) return v;
  return 0;
}

Result<std::shared_ptr<Model>> load_model(const std::string& path, const LoadOptions& opts) {
  PETREL_ASSIGN_OR_RETURN(auto file, MappedFile::open(path));
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  auto r = load(std::move(file), opts, dir);
  if (!r) return r.status().with_context(path);
  return r;
}

Result<std::shared_ptr<Model>> load_model_from_memory(const uint8_t* data, size_t size, const LoadOptions& opts) {
  return load(MappedFile::borrow(data, size), opts, opts.external_data_dir.empty() ? "." : opts.external_data_dir);
}

Result<Value> load_value_file(const std::string& path, TypeInfo::Kind kind) {
  PETREL_ASSIGN_OR_RETURN(auto file, MappedFile::open(path));
  TensorSource src;
  // Test data is small: decode into owned storage (no views into a mapping we drop).
  src.allow_external = false;
  WireReader r(file->data(), file->data() + file->size(), file->data());
  Value v;
  if (kind == TypeInfo::Kind::kSequence) {
    PETREL_RETURN_IF_ERROR(parse_sequence(r, src, v, 0).with_context(path));
  } else if (kind == TypeInfo::Kind::kOptional) {
    PETREL_RETURN_IF_ERROR(parse_optional(r, src, v, 0).with_context(path));
  } else {
    Tensor t;
    PETREL_RETURN_IF_ERROR(parse_tensor(r, src, t, nullptr).with_context(path));
    v = Value::of(std::move(t));
  }
  return v;
}

Result<Tensor> load_tensor_file(const std::string& path) {
  PETREL_ASSIGN_OR_RETURN(Value v, load_value_file(path, TypeInfo::Kind::kTensor));
  return std::move(v.tensor);
}

}  // namespace petrel::onnx
