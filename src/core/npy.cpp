#include "core/npy.hpp"

#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

namespace petrel {
namespace {

struct Descr {
  const char* text;
  DataType dtype;
};
const Descr kDescrs[] = {
    {"<f4", DataType::kFloat}, {"<f8", DataType::kDouble}, {"<f2", DataType::kFloat16},
    {"|i1", DataType::kInt8},  {"|u1", DataType::kUInt8},  {"<i2", DataType::kInt16},
    {"<u2", DataType::kUInt16}, {"<i4", DataType::kInt32}, {"<u4", DataType::kUInt32},
    {"<i8", DataType::kInt64}, {"<u8", DataType::kUInt64}, {"|b1", DataType::kBool},
};

// Finds the value text after 'key': in the header dict.
bool find_value(const std::string& h, const std::string& key, std::string& out) {
  size_t p = h.find("'" + key + "'");
  if (p == std::string::npos) return false;
  p = h.find(':', p);
  if (p == std::string::npos) return false;
  ++p;
  while (p < h.size() && h[p] == ' ') ++p;
  size_t e = p;
  if (p < h.size() && h[p] == '(') e = h.find(')', p);
  else if (p < h.size() && h[p] == '\'') e = h.find('\'', p + 1);
  else e = h.find_first_of(",}", p) - 1;
  if (e == std::string::npos || e < p) return false;
  out = h.substr(p, e - p + 1);
  return true;
}

}  // namespace

Result<NpyHeader> parse_npy_header(const uint8_t* data, size_t size) {
  if (size < 10 || std::memcmp(data, "\x93NUMPY", 6) != 0) return invalid_argument("not a .npy file (bad magic)");
  const uint8_t major = data[6];
  size_t header_len, off;
  if (major == 1) {
    header_len = size_t(data[8]) | size_t(data[9]) << 8;
    off = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12) return invalid_argument(".npy header truncated");
    header_len = size_t(data[8]) | size_t(data[9]) << 8 | size_t(data[10]) << 16 | size_t(data[11]) << 24;
    off = 12;
  } else {
    return invalid_argument(".npy format version " + std::to_string(major) + " is not supported");
  }
  if (header_len > size - off) return invalid_argument(".npy header runs past the end of the file");
  std::string h(reinterpret_cast<const char*>(data + off), header_len);
  std::string descr, fortran, shape;
  if (!find_value(h, "descr", descr) || !find_value(h, "fortran_order", fortran) || !find_value(h, "shape", shape))
    return invalid_argument(".npy header lacks descr, fortran_order or shape");
  if (fortran.rfind("True", 0) == 0) return unsupported(".npy in Fortran order is not supported; save it C-contiguous");
  DataType dt = DataType::kUndefined;
  for (const Descr& d : kDescrs)
    if (descr == std::string("'") + d.text + "'") dt = d.dtype;
  if (dt == DataType::kUndefined) return unsupported(".npy dtype " + descr + " is not supported (little-endian numeric or bool only)");
  Shape s;
  size_t p = 1;
  while (p < shape.size()) {
    while (p < shape.size() && (shape[p] == ' ' || shape[p] == ',')) ++p;
    if (p >= shape.size() || shape[p] == ')') break;
    if (shape[p] < '0' || shape[p] > '9') return invalid_argument(".npy shape " + shape + " is malformed");
    int64_t v = 0;
    while (p < shape.size() && shape[p] >= '0' && shape[p] <= '9') {
      if (v > kMaxElements) return invalid_argument(".npy shape " + shape + " is too large");
      v = v * 10 + (shape[p++] - '0');
    }
    s.push_back(v);
    if (s.size() > 64) return invalid_argument(".npy shape has too many dimensions");
  }
  auto n = checked_numel(s);
  if (!n) return invalid_argument(".npy shape " + shape_to_string(s) + ": " + n.status().message());
  const size_t need = packed_bytes(dt, n.value());
  const size_t body = off + header_len;
  if (size - body < need)
    return invalid_argument(".npy data has " + std::to_string(size - body) + " bytes, shape " + shape_to_string(s) + " needs " + std::to_string(need));
  NpyHeader hd;
  hd.dtype = dt;
  hd.shape = std::move(s);
  hd.data_offset = body;
  hd.data_bytes = need;
  return hd;
}

Result<Tensor> parse_npy(const uint8_t* data, size_t size) {
  PETREL_ASSIGN_OR_RETURN(NpyHeader h, parse_npy_header(data, size));
  PETREL_ASSIGN_OR_RETURN(Tensor t, Tensor::allocate(h.dtype, h.shape));
  if (h.data_bytes) std::memcpy(t.data, data + h.data_offset, h.data_bytes);
  return t;
}

Result<Tensor> read_npy(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return not_found("cannot open " + path);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto r = parse_npy(bytes.data(), bytes.size());
  if (!r) return r.status().with_context(path);
  return r;
}

Result<std::vector<uint8_t>> encode_npy(const Tensor& t) {
  const char* descr = nullptr;
  for (const Descr& d : kDescrs)
    if (d.dtype == t.dtype) descr = d.text;
  if (!descr) return unsupported("cannot write " + std::string(dtype_name(t.dtype)) + " tensors to .npy");
  std::string shape = "(";
  for (size_t i = 0; i < t.shape.size(); ++i) shape += std::to_string(t.shape[i]) + (t.shape.size() == 1 || i + 1 < t.shape.size() ? "," : "");
  shape += ")";
  std::string h = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  size_t total = 10 + h.size() + 1;
  h.append((64 - total % 64) % 64, ' ');
  h += '\n';
  const uint16_t len = uint16_t(h.size());
  std::vector<uint8_t> out;
  out.reserve(10 + h.size() + t.nbytes());
  const char magic[] = "\x93NUMPY\x01\x00";
  out.insert(out.end(), magic, magic + 8);
  out.push_back(uint8_t(len & 0xff));
  out.push_back(uint8_t(len >> 8));
  out.insert(out.end(), h.begin(), h.end());
  const auto* p = static_cast<const uint8_t*>(t.data);
  out.insert(out.end(), p, p + t.nbytes());
  return out;
}

Status write_npy(const std::string& path, const Tensor& t) {
  PETREL_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, encode_npy(t));
  std::ofstream f(path, std::ios::binary);
  if (!f) return io_error("cannot write " + path);
  f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  if (!f) return io_error("error writing " + path);
  return Status::ok();
}

}  // namespace petrel
