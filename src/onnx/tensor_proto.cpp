// TensorProto / TypeProto / ValueInfoProto parsing. Raw data stays in the mapping when it is
// aligned for its element type; typed fields (float_data, int32_data, ...) are decoded into
// owned storage. Every count is checked against the dims before anything is written.
#include <cstring>
#include <vector>

#include "onnx/proto_parse.hpp"

namespace petrel::onnx {
namespace {

// Collects a repeated numeric field, packed or not.
struct RepeatedField {
  std::vector<const uint8_t*> chunks;  // packed ranges
  std::vector<size_t> sizes;
  std::vector<uint64_t> scalars;       // unpacked values (varint or fixed, as raw bits)
};

Status collect(WireReader& r, WireType t, WireType scalar_type, RepeatedField& f) {
  if (t == WireType::kLen) {
    const uint8_t* b;
    size_t n;
    PETREL_RETURN_IF_ERROR(r.bytes(b, n));
    f.chunks.push_back(b);
    f.sizes.push_back(n);
    return Status::ok();
  }
  if (t != scalar_type) return r.error("wrong wire type for a repeated numeric field");
  uint64_t v = 0;
  if (t == WireType::kVarint) {
    PETREL_RETURN_IF_ERROR(r.varint(v));
  } else if (t == WireType::kFixed32) {
    uint32_t w = 0;
    PETREL_RETURN_IF_ERROR(r.fixed32(w));
    v = w;
  } else {
    PETREL_RETURN_IF_ERROR(r.fixed64(v));
  }
  f.scalars.push_back(v);
  return Status::ok();
}

// Decodes all values of a repeated field as uint64 bit patterns, bounded by `limit` values.
Status decode(const RepeatedField& f, WireType scalar_type, const uint8_t* base, size_t limit,
              std::vector<uint64_t>& out) {
  out = f.scalars;
  for (size_t c = 0; c < f.chunks.size(); ++c) {
    WireReader r(f.chunks[c], f.chunks[c] + f.sizes[c], base);
    while (!r.done()) {
      if (out.size() > limit) return r.error("more values than the tensor's dims allow");
      uint64_t v = 0;
      if (scalar_type == WireType::kVarint) {
        PETREL_RETURN_IF_ERROR(r.varint(v));
      } else if (scalar_type == WireType::kFixed32) {
        uint32_t w = 0;
        PETREL_RETURN_IF_ERROR(r.fixed32(w));
        v = w;
      } else {
        PETREL_RETURN_IF_ERROR(r.fixed64(v));
      }
      out.push_back(v);
    }
  }
  return Status::ok();
}

bool safe_relative_path(const std::string& p) {
  if (p.empty() || p[0] == '/' || p.find('\0') != std::string::npos || p.find('\\') != std::string::npos) return false;
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string::npos) end = p.size();
    if (p.compare(start, end - start, "..") == 0) return false;
    start = end + 1;
  }
  return true;
}

Status resolve_external(TensorSource& src, const std::vector<std::pair<std::string, std::string>>& kv,
                        size_t expected, const std::string& tname, const uint8_t*& data,
                        std::shared_ptr<MappedFile>& holder) {
  std::string location;
  uint64_t offset = 0, length = 0;
  bool has_length = false;
  for (const auto& [k, v] : kv) {
    if (k == "location") location = v;
    else if (k == "offset" || k == "length") {
      char* end = nullptr;
      errno = 0;
      unsigned long long x = std::strtoull(v.c_str(), &end, 10);
      if (v.empty() || *end || errno) return invalid_model("tensor '" + tname + "': bad external data " + k + " '" + v + "'");
      if (k == "offset") offset = x; else { length = x; has_length = true; }
    }
  }
  if (!src.allow_external) return invalid_model("tensor '" + tname + "': external data is not allowed here");
  if (!safe_relative_path(location))
    return invalid_model("tensor '" + tname + "': external data location '" + location + "' must be a relative path inside the model folder");
  if (has_length && length != expected)
    return invalid_model("tensor '" + tname + "': external data length " + std::to_string(length) +
                         " does not match its dims (" + std::to_string(expected) + " bytes)");
  std::string path = (src.external_dir.empty() ? std::string(".") : src.external_dir) + "/" + location;
  auto it = src.external_files.find(path);
  if (it == src.external_files.end()) {
    auto f = MappedFile::open(path);
    if (!f) return invalid_model("tensor '" + tname + "': external data: " + f.status().message());
    it = src.external_files.emplace(path, std::move(f).value()).first;
  }
  const auto& file = it->second;
  if (offset > file->size() || expected > file->size() - offset)
    return invalid_model("tensor '" + tname + "': external data [" + std::to_string(offset) + ", +" +
                         std::to_string(expected) + ") runs past the end of " + location + " (" +
                         std::to_string(file->size()) + " bytes)");
  data = file->data() + offset;
  holder = file;
  return Status::ok();
}

}  // namespace

Status parse_tensor(WireReader r, TensorSource& src, Tensor& out, std::string* name_out) {
  Shape dims;
  int32_t raw_type = 0;
  std::string name;
  const uint8_t* raw = nullptr;
  size_t raw_size = 0;
  bool has_raw = false;
  RepeatedField floats, int32s, int64s, doubles, uint64s, dims_f;
  std::vector<std::pair<const uint8_t*, size_t>> strings;
  std::vector<std::pair<std::string, std::string>> external;
  int64_t location = 0;
  const size_t start = r.offset();
  while (!r.done()) {
    uint32_t field;
    WireType t;
    PETREL_RETURN_IF_ERROR(r.next_field(field, t));
    switch (field) {
      case 1: PETREL_RETURN_IF_ERROR(collect(r, t, WireType::kVarint, dims_f)); break;
      case 2: {
        PETREL_RETURN_IF_ERROR(expect_wire(r, t, WireType::kVarint, "TensorProto", field));
        uint64_t v;
        PETREL_RETURN_IF_ERROR(r.varint(v));
        raw_type = int32_t(v);
        if (v > 1000) raw_type = -1;
        break;
      }
      case 4: PETREL_RETURN_IF_ERROR(collect(r, t, WireType::kFixed32, floats)); break;
      case 5: PETREL_RETURN_IF_ERROR(collect(r, t, WireType::kVarint, int32s)); break;
      case 6: {
        PETREL_RETURN_IF_ERROR(expect_wire(r, t, WireType::kLen, "TensorProto", field));
        const uint8_t* b; size_t n;
        PETREL_RETURN_IF_ERROR(r.bytes(b, n));
        strings.emplace_back(b, n);
        break;
      }
      case 7: PETREL_RETURN_IF_ERROR(collect(r, t, WireType::kVarint, int64s)); break;
      case 8: PETREL_RETURN_IF_ERROR(expect_wire(r, t, WireType::kLen, "TensorProto", field)); PETREL_RETURN_IF_ERROR(r.string(name)); break;
      case 9:
        PETREL_RETURN_IF_ERROR(expect_wire(r, t, WireType::kLen, "TensorProto", field));
        PETREL_RETURN_IF_ERROR(r.bytes(raw, raw_size));
        has_raw = true;
        break;
      case 10: PETREL_RETURN_IF_ERROR(collect(r, t, WireType::kFixed64, doubles)); break;
      case 11: PETREL_RETURN_IF_ERROR(collect(r, t, WireType::kVarint, uint64s)); break;
      case 13: {
        PETREL_RETURN_IF_ERROR(expect_wire(r, t, WireType::kLen, "TensorProto", field));
        WireReader kv(nullptr, nullptr, nullptr);
        PETREL_RETURN_IF_ERROR(r.message(kv));
        std::string k, v;
        while (!kv.done()) {
          uint32_t f2; WireType t2;
          PETREL_RETURN_IF_ERROR(kv.next_field(f2, t2));
          if ((f2 == 1 || f2 == 2) && t2 == WireType::kLen) PETREL_RETURN_IF_ERROR(kv.string(f2 == 1 ? k : v));
          else PETREL_RETURN_IF_ERROR(kv.skip(t2));
        }
        external.emplace_back(k, v);
        break;
      }
      case 14: {
        PETREL_RETURN_IF_ERROR(expect_wire(r, t, WireType::kVarint, "TensorProto", field));
        uint64_t v;
        PETREL_RETURN_IF_ERROR(r.varint(v));
        location = int64_t(v);
        break;
      }
      default: PETREL_RETURN_IF_ERROR(r.skip(t));
    }
  }
  if (name_out) *name_out = name;
  const std::string label = "tensor '" + name + "' (at byte " + std::to_string(start) + ")";
  std::vector<uint64_t> dv;
  PETREL_RETURN_IF_ERROR(decode(dims_f, WireType::kVarint, src.file ? src.file->data() : nullptr, 1024, dv));
  for (uint64_t d : dv) dims.push_back(int64_t(d));
  if (!dtype_is_valid(raw_type)) return invalid_model(label + ": invalid data_type " + std::to_string(raw_type));
  const DataType dt = DataType(raw_type);
  auto numel_r = checked_numel(dims);
  if (!numel_r) return invalid_model(label + ": " + numel_r.status().message());
  const int64_t n = numel_r.value();
  if (dtype_size(dt) == 0 && dt != DataType::kUInt4 && dt != DataType::kInt4)
    return unsupported(label + ": data type " + std::string(dtype_name(dt)));
  const size_t expected = dt == DataType::kString ? 0 : packed_bytes(dt, n);
  const uint8_t* base = src.file ? src.file->data() : nullptr;
  // The mapping the raw bytes live in; views keep it alive.
  std::shared_ptr<MappedFile> holder = src.file;

  if (location == 1 || !external.empty()) {
    if (dt == DataType::kString) return invalid_model(label + ": string tensors cannot use external data");
    const uint8_t* data = nullptr;
    PETREL_RETURN_IF_ERROR(resolve_external(src, external, expected, name, data, holder));
    raw = data;
    raw_size = expected;
    has_raw = true;
  }

  if (dt == DataType::kString) {
    if (int64_t(strings.size()) != n)
      return invalid_model(label + ": has " + std::to_string(strings.size()) + " strings but its dims need " + std::to_string(n));
    PETREL_ASSIGN_OR_RETURN(out, Tensor::allocate(dt, dims));
    for (int64_t i = 0; i < n; ++i)
      out.as<std::string>()[i].assign(reinterpret_cast<const char*>(strings[size_t(i)].first), strings[size_t(i)].second);
    return Status::ok();
  }

  if (has_raw) {
    if (raw_size != expected)
      return invalid_model(label + ": raw data has " + std::to_string(raw_size) + " bytes but its dims and type need " + std::to_string(expected));
    size_t align = dtype_size(dt) ? dtype_size(dt) : 1;
    if (align > 8) align = 8;
    if (holder && reinterpret_cast<uintptr_t>(raw) % align == 0) {
      out = Tensor::view(dt, dims, raw);
      out.owner = std::shared_ptr<void>(holder, const_cast<uint8_t*>(holder->data()));
      src.zero_copy_bytes += expected;
      return Status::ok();
    }
    PETREL_ASSIGN_OR_RETURN(out, Tensor::allocate(dt, dims));
    if (expected) std::memcpy(out.data, raw, expected);
    src.copied_bytes += expected;
    return Status::ok();
  }

  // Typed fields: pick the one the type is stored in.
  const RepeatedField* f = &int32s;
  WireType wt = WireType::kVarint;
  size_t per_elem = 1;  // values per element (complex types have 2)
  switch (dt) {
    case DataType::kFloat: f = &floats; wt = WireType::kFixed32; break;
    case DataType::kComplex64: f = &floats; wt = WireType::kFixed32; per_elem = 2; break;
    case DataType::kDouble: f = &doubles; wt = WireType::kFixed64; break;
    case DataType::kComplex128: f = &doubles; wt = WireType::kFixed64; per_elem = 2; break;
    case DataType::kInt64: f = &int64s; break;
    case DataType::kUInt32: case DataType::kUInt64: f = &uint64s; break;
    default: break;  // int32_data holds every narrower type, float16/bfloat16 bits, bool
  }
  std::vector<uint64_t> vals;
  size_t want = (dt == DataType::kUInt4 || dt == DataType::kInt4) ? (size_t(n) + 1) / 2 : size_t(n) * per_elem;
  PETREL_RETURN_IF_ERROR(decode(*f, wt, base, want, vals));
  if (vals.size() != want)
    return invalid_model(label + ": has " + std::to_string(vals.size()) + " values but its dims need " + std::to_string(want));
  PETREL_ASSIGN_OR_RETURN(out, Tensor::allocate(dt, dims));
  src.copied_bytes += expected;
  uint8_t* o = static_cast<uint8_t*>(out.data);
  for (size_t i = 0; i < vals.size(); ++i) {
    uint64_t v = vals[i];
    switch (dt) {
      case DataType::kFloat: case DataType::kComplex64: { uint32_t w = uint32_t(v); std::memcpy(o + 4 * i, &w, 4); break; }
      case DataType::kDouble: case DataType::kComplex128: case DataType::kInt64: case DataType::kUInt64:
        std::memcpy(o + 8 * i, &v, 8); break;
      case DataType::kInt32: case DataType::kUInt32: { uint32_t w = uint32_t(v); std::memcpy(o + 4 * i, &w, 4); break; }
      case DataType::kInt16: case DataType::kUInt16: case DataType::kFloat16: case DataType::kBFloat16: {
        uint16_t w = uint16_t(v); std::memcpy(o + 2 * i, &w, 2); break;
      }
      case DataType::kBool: o[i] = v ? 1 : 0; break;
      default: o[i] = uint8_t(v); break;  // int8/uint8/float8/4-bit pairs
    }
  }
  return Status::ok();
}

Status parse_type(WireReader r, TypeInfo& out, int depth) {
  if (depth > 16) return r.error("type nesting too deep");
  while (!r.done()) {
    uint32_t field;
    WireType t;
    PETREL_RETURN_IF_ERROR(r.next_field(field, t));
    if (t != WireType::kLen || (field != 1 && field != 4 && field != 5 && field != 9 && field != 8)) {
      PETREL_RETURN_IF_ERROR(r.skip(t));
      continue;
    }
    WireReader sub(nullptr, nullptr, nullptr);
    PETREL_RETURN_IF_ERROR(r.message(sub));
    if (field == 1 || field == 8) {  // tensor_type / sparse_tensor_type
      out.kind = TypeInfo::Kind::kTensor;
      while (!sub.done()) {
        uint32_t f2; WireType t2;
        PETREL_RETURN_IF_ERROR(sub.next_field(f2, t2));
        if (f2 == 1 && t2 == WireType::kVarint) {
          uint64_t v;
          PETREL_RETURN_IF_ERROR(sub.varint(v));
          out.dtype = dtype_is_valid(int32_t(v)) ? DataType(int32_t(v)) : DataType::kUndefined;
        } else if (f2 == 2 && t2 == WireType::kLen) {
          out.has_shape = true;
          WireReader shp(nullptr, nullptr, nullptr);
          PETREL_RETURN_IF_ERROR(sub.message(shp));
          while (!shp.done()) {
            uint32_t f3; WireType t3;
            PETREL_RETURN_IF_ERROR(shp.next_field(f3, t3));
            if (f3 != 1 || t3 != WireType::kLen) { PETREL_RETURN_IF_ERROR(shp.skip(t3)); continue; }
            if (out.shape.size() >= 1024) return shp.error("too many dimensions");
            WireReader dim(nullptr, nullptr, nullptr);
            PETREL_RETURN_IF_ERROR(shp.message(dim));
            Dim d;
            while (!dim.done()) {
              uint32_t f4; WireType t4;
              PETREL_RETURN_IF_ERROR(dim.next_field(f4, t4));
              if (f4 == 1 && t4 == WireType::kVarint) {
                uint64_t v;
                PETREL_RETURN_IF_ERROR(dim.varint(v));
                d.value = int64_t(v) >= 0 ? int64_t(v) : -1;
              } else if (f4 == 2 && t4 == WireType::kLen) {
                PETREL_RETURN_IF_ERROR(dim.string(d.param));
              } else {
                PETREL_RETURN_IF_ERROR(dim.skip(t4));
              }
            }
            out.shape.push_back(std::move(d));
          }
        } else {
          PETREL_RETURN_IF_ERROR(sub.skip(t2));
        }
      }
    } else if (field == 4 || field == 9) {  // sequence_type / optional_type: elem_type = 1
      out.kind = field == 4 ? TypeInfo::Kind::kSequence : TypeInfo::Kind::kOptional;
      out.elem = std::make_shared<TypeInfo>();
      while (!sub.done()) {
        uint32_t f2; WireType t2;
        PETREL_RETURN_IF_ERROR(sub.next_field(f2, t2));
        if (f2 == 1 && t2 == WireType::kLen) {
          WireReader et(nullptr, nullptr, nullptr);
          PETREL_RETURN_IF_ERROR(sub.message(et));
          PETREL_RETURN_IF_ERROR(parse_type(et, *out.elem, depth + 1));
        } else {
          PETREL_RETURN_IF_ERROR(sub.skip(t2));
        }
      }
    } else {
      out.kind = TypeInfo::Kind::kMap;
    }
  }
  return Status::ok();
}

Status parse_value_info(WireReader r, ValueInfo& out) {
  while (!r.done()) {
    uint32_t field;
    WireType t;
    PETREL_RETURN_IF_ERROR(r.next_field(field, t));
    if (field == 1 && t == WireType::kLen) {
      PETREL_RETURN_IF_ERROR(r.string(out.name));
    } else if (field == 2 && t == WireType::kLen) {
      WireReader sub(nullptr, nullptr, nullptr);
      PETREL_RETURN_IF_ERROR(r.message(sub));
      PETREL_RETURN_IF_ERROR(parse_type(sub, out.type, 0));
    } else {
      PETREL_RETURN_IF_ERROR(r.skip(t));
    }
  }
  return Status::ok();
}

}  // namespace petrel::onnx
