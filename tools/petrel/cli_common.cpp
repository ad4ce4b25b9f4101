#include "cli_common.hpp"

#include <chrono>
#include <cstdio>
#include <iostream>

namespace petrel::cli {

int exit_code_for(const Status& st) {
  switch (st.code()) {
    case StatusCode::kOk: return kExitOk;
    case StatusCode::kInvalidArgument: case StatusCode::kNotFound: return kExitUsage;
    case StatusCode::kInvalidModel: case StatusCode::kOutOfRange: return kExitBadModel;
    case StatusCode::kUnsupported: return kExitUnsupported;
    default: return kExitError;
  }
}

int report(const Status& st) {
  std::cerr << "error: " << st.to_string() << "\n";
  return exit_code_for(st);
}

static bool parse_int(const std::string& s, int64_t& v) {
  if (s.empty() || s.size() > 18) return false;
  v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  return true;
}

Status parse_overrides(const std::vector<std::string>& dims, const std::vector<std::string>& shapes, ShapeOverrides& out) {
  for (const auto& d : dims) {
    size_t eq = d.find('=');
    int64_t v;
    if (eq == std::string::npos || eq == 0 || !parse_int(d.substr(eq + 1), v))
      return invalid_argument("--dim expects NAME=SIZE with a non-negative integer, got '" + d + "'");
    out.dims[d.substr(0, eq)] = v;
  }
  for (const auto& s : shapes) {
    size_t eq = s.find('=');
    if (eq == std::string::npos || eq == 0) return invalid_argument("--shape expects INPUT=AxBxC, got '" + s + "'");
    Shape shape;
    std::string rest = s.substr(eq + 1);
    size_t p = 0;
    while (!rest.empty()) {
      size_t x = rest.find('x', p);
      std::string part = rest.substr(p, x == std::string::npos ? std::string::npos : x - p);
      int64_t v;
      if (!parse_int(part, v)) return invalid_argument("--shape " + s + ": '" + part + "' is not a dimension");
      shape.push_back(v);
      if (x == std::string::npos) break;
      p = x + 1;
    }
    PETREL_RETURN_IF_ERROR(checked_numel(shape).status().with_context("--shape " + s));
    out.shapes[s.substr(0, eq)] = shape;
  }
  return Status::ok();
}

Result<Shape> resolve_shape(const TensorInfo& info, const ShapeOverrides& o) {
  auto it = o.shapes.find(info.name);
  if (it != o.shapes.end()) return it->second;
  Shape s;
  for (size_t d = 0; d < info.shape.size(); ++d) {
    if (info.shape[d] >= 0) { s.push_back(info.shape[d]); continue; }
    auto di = o.dims.find(info.dim_names[d]);
    s.push_back(di == o.dims.end() ? 1 : di->second);
  }
  PETREL_RETURN_IF_ERROR(checked_numel(s).status().with_context("input '" + info.name + "'"));
  return s;
}

uint64_t InputGenerator::next() {
  state_ += 0x9e3779b97f4a7c15ull;
  uint64_t z = state_;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

Result<Tensor> InputGenerator::make(DataType dt, const Shape& shape) {
  PETREL_ASSIGN_OR_RETURN(Tensor t, Tensor::allocate(dt, shape));
  const int64_t n = t.numel();
  for (int64_t i = 0; i < n; ++i) {
    switch (dt) {
      case DataType::kFloat: t.as<float>()[i] = float(unit() * 2 - 1); break;
      case DataType::kDouble: t.as<double>()[i] = unit() * 2 - 1; break;
      case DataType::kFloat16: t.as<Float16>()[i] = Float16(float(unit() * 2 - 1)); break;
      case DataType::kInt64: t.as<int64_t>()[i] = lo_ + int64_t(unit() * double(hi_ - lo_)); break;
      case DataType::kInt32: t.as<int32_t>()[i] = int32_t(lo_ + int64_t(unit() * double(hi_ - lo_))); break;
      case DataType::kBool: t.as<uint8_t>()[i] = unit() < 0.5 ? 1 : 0; break;
      case DataType::kUInt8: t.as<uint8_t>()[i] = uint8_t(unit() * 256); break;
      case DataType::kInt8: t.as<int8_t>()[i] = int8_t(int(unit() * 256) - 128); break;
      default: return unsupported("cannot generate random " + std::string(dtype_name(dt)) + " input; pass --input");
    }
  }
  return t;
}

std::string format_bytes(double b) {
  char buf[64];
  if (b >= 1 << 20) std::snprintf(buf, sizeof buf, "%.2f MiB", b / (1 << 20));
  else if (b >= 1 << 10) std::snprintf(buf, sizeof buf, "%.1f KiB", b / (1 << 10));
  else std::snprintf(buf, sizeof buf, "%.0f B", b);
  return buf;
}

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace petrel::cli
