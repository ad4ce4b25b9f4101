// Tensor <-> JSON: datatype names, shape checks, nested data flattening, per-dtype value checks.
#include "serve/oip_tensor.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace petrel::serve::oip {

using nlohmann::json;

namespace {

struct NameMap {
  DataType type;
  std::string_view name;
};
constexpr NameMap kNames[] = {
    {DataType::kBool, "BOOL"},     {DataType::kUInt8, "UINT8"},   {DataType::kUInt16, "UINT16"},
    {DataType::kUInt32, "UINT32"}, {DataType::kUInt64, "UINT64"}, {DataType::kInt8, "INT8"},
    {DataType::kInt16, "INT16"},   {DataType::kInt32, "INT32"},   {DataType::kInt64, "INT64"},
    {DataType::kFloat16, "FP16"},  {DataType::kFloat, "FP32"},    {DataType::kDouble, "FP64"},
    {DataType::kString, "BYTES"},
};

// Integer value of a JSON number, accepting floats only when they are whole numbers (some
// clients serialise every number as a float). Range is checked by the caller.
template <typename T>
bool to_integer(const json& v, T& out) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > uint64_t(std::numeric_limits<T>::max())) return false;
    out = T(u);
    return true;
  }
  if (v.is_number_integer()) {
    int64_t s = v.get<int64_t>();
    if constexpr (std::is_unsigned_v<T>) {
      if (s < 0 || uint64_t(s) > uint64_t(std::numeric_limits<T>::max())) return false;
    } else {
      if (s < int64_t(std::numeric_limits<T>::min()) || s > int64_t(std::numeric_limits<T>::max())) return false;
    }
    out = T(s);
    return true;
  }
  if (v.is_number_float()) {
    double d = v.get<double>();
    // Bounds in double: 2^63 / 2^64 are exact, so `<` keeps the cast defined.
    double lo = std::is_unsigned_v<T> ? 0.0 : double(std::numeric_limits<T>::min());
    double hi_excl = std::is_same_v<T, uint64_t> ? 18446744073709551616.0
                     : std::is_same_v<T, int64_t> ? 9223372036854775808.0
                                                  : double(std::numeric_limits<T>::max()) + 1.0;
    if (!(d >= lo && d < hi_excl) || d != std::floor(d)) return false;
    out = T(d);
    return true;
  }
  return false;
}

bool store_float(double d, DataType t, uint8_t* dst) {
  if (!std::isfinite(d)) return false;
  if (t == DataType::kDouble) {
    std::memcpy(dst, &d, 8);
    return true;
  }
  // A value is refused only when it would round to infinity: below the largest finite value
  // plus half a step it rounds to that value. "3.4028235e38", the shortest text of FLT_MAX
  // that clients print, is slightly above FLT_MAX itself.
  if (t == DataType::kFloat) {
    if (std::fabs(d) >= 0x1.ffffffp+127) return false;  // FLT_MAX + half an ulp
    float f = float(d);
    std::memcpy(dst, &f, 4);
    return true;
  }
  if (std::fabs(d) >= 65520.0) return false;  // 65504 (the largest finite half) + half a step
  uint16_t h = Float16::from_float(float(d));
  std::memcpy(dst, &h, 2);
  return true;
}

template <typename T>
bool store_int(const json& v, uint8_t* dst) {
  T x{};
  if (!to_integer(v, x)) return false;
  std::memcpy(dst, &x, sizeof(T));
  return true;
}

bool store_element(const json& v, DataType t, uint8_t* dst) {
  switch (t) {
    case DataType::kBool:
      if (v.is_boolean()) { *dst = v.get<bool>() ? 1 : 0; return true; }
      if (v.is_number_integer() || v.is_number_unsigned()) {  // 0/1 from clients without booleans
        int64_t x = v.is_number_unsigned() ? int64_t(std::min<uint64_t>(v.get<uint64_t>(), 2)) : v.get<int64_t>();
        if (x != 0 && x != 1) return false;
        *dst = uint8_t(x);
        return true;
      }
      return false;
    case DataType::kUInt8: return store_int<uint8_t>(v, dst);
    case DataType::kUInt16: return store_int<uint16_t>(v, dst);
    case DataType::kUInt32: return store_int<uint32_t>(v, dst);
    case DataType::kUInt64: return store_int<uint64_t>(v, dst);
    case DataType::kInt8: return store_int<int8_t>(v, dst);
    case DataType::kInt16: return store_int<int16_t>(v, dst);
    case DataType::kInt32: return store_int<int32_t>(v, dst);
    case DataType::kInt64: return store_int<int64_t>(v, dst);
    case DataType::kFloat: case DataType::kFloat16: case DataType::kDouble:
      return v.is_number() && store_float(v.get<double>(), t, dst);
    default: return false;
  }
}

bool is_float_type(DataType t) { return t == DataType::kFloat || t == DataType::kFloat16 || t == DataType::kDouble; }

// The numbers of a lifted "data" array (oip_numbers.hpp), converted from the text with the same
// values nlohmann would give: correctly rounded decimals (from_chars, and strtod for the
// out-of-range cases it leaves alone: overflow to infinity, underflow to zero or a subnormal),
// and integer literals read as integers first, so "-0" is +0.
Status convert_lifted(const detail::DataText& data, DataType t, size_t elem, int64_t expected, uint8_t* dst,
                      int64_t& count, const std::string& where) {
  const char* p = data.text.data();
  const char* const end = p + data.text.size();
  while (p < end) {
    const char c = *p;
    if (c == '[' || c == ']' || c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++p;
      continue;
    }
    double d = 0;
    auto r = std::from_chars(p, end, d);
    const char* q = r.ptr;
    if (r.ec == std::errc::result_out_of_range) {
      // The token ends where the JSON number grammar says (checked by the scanner).
      q = p;
      while (q < end && *q != ',' && *q != ']' && *q != ' ' && *q != '\t' && *q != '\n' && *q != '\r') ++q;
      d = std::strtod(std::string(p, q).c_str(), nullptr);
    } else if (r.ec != std::errc()) {
      return internal_error(where + ": data[" + std::to_string(count) + "]: the number scanner and reader disagree");
    }
    if (d == 0 && std::string_view(p, size_t(q - p)).find_first_of(".eE") == std::string_view::npos) d = 0.0;
    if (count >= expected)
      return invalid_argument(where + ": data has more elements than the shape's " + std::to_string(expected));
    if (!store_float(d, t, dst + size_t(count) * elem))
      return invalid_argument(where + ": data[" + std::to_string(count) + "] = " +
                              std::string(p, size_t(std::min<ptrdiff_t>(q - p, 64))) + " is not a valid " +
                              std::string(datatype_name(t)) + " value");
    ++count;
    p = q;
  }
  return Status::ok();
}

// Flattens nested arrays (row-major) into dst, stopping at `expected` elements. Recursion is
// bounded by the JSON depth limit the caller checked before parsing.
Status flatten(const json& v, DataType t, size_t elem, int64_t expected, uint8_t* dst, int64_t& count,
               const std::string& where) {
  if (v.is_array()) {
    for (const json& x : v) PETREL_RETURN_IF_ERROR(flatten(x, t, elem, expected, dst, count, where));
    return Status::ok();
  }
  if (count >= expected)
    return invalid_argument(where + ": data has more elements than the shape's " + std::to_string(expected));
  if (!store_element(v, t, dst + size_t(count) * elem))
    return invalid_argument(where + ": data[" + std::to_string(count) + "] = " + v.dump(-1, ' ', false, json::error_handler_t::replace).substr(0, 64) +
                            " is not a valid " + std::string(datatype_name(t)) + " value");
  ++count;
  return Status::ok();
}

// A name for an error message: JSON-quoted (control bytes escaped), cut to 64 bytes.
std::string quote(const std::string& s) {
  std::string q = json(s.substr(0, 64)).dump(-1, ' ', false, json::error_handler_t::replace);
  return s.size() > 64 ? q.substr(0, q.size() - 1) + "...\"" : q;
}

// A float as the shortest decimal that round-trips through float, held in a double so the JSON
// writer prints that short form (0.1f -> 0.1, not 0.10000000149011612).
double short_double(float f) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf - 1, f);
  *r.ptr = 0;
  return std::strtod(buf, nullptr);
}

}  // namespace

std::string_view datatype_name(DataType t) {
  for (const auto& n : kNames)
    if (n.type == t) return n.name;
  return "";
}

DataType datatype_from_name(std::string_view name) {
  for (const auto& n : kNames)
    if (n.name == name) return n.type;
  return DataType::kUndefined;
}

int64_t Tensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Result<Tensor> make_tensor(std::string name, DataType dtype, std::vector<int64_t> shape, const void* data,
                           size_t size_bytes) {
  if (datatype_name(dtype).empty() || dtype == DataType::kString)
    return unsupported("tensor '" + name + "': dtype " + std::string(dtype_name(dtype)) + " has no OIP datatype here");
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0 || (d > 0 && n > std::numeric_limits<int64_t>::max() / d))
      return invalid_argument("tensor '" + name + "': bad shape");
    n *= d;
  }
  if (uint64_t(n) * dtype_size(dtype) != size_bytes)
    return invalid_argument("tensor '" + name + "': " + std::to_string(size_bytes) + " bytes for " +
                            std::to_string(n) + " elements");
  Tensor t{std::move(name), dtype, std::move(shape), {}};
  t.bytes.resize(size_bytes);
  if (size_bytes) std::memcpy(t.bytes.data(), data, size_bytes);
  return t;
}

namespace detail {

Result<Tensor> parse_tensor(const json& j, const Limits& limits, const std::string& where, int64_t& total,
                            const DataText* lifted) {
  if (!j.is_object()) return invalid_argument(where + ": must be an object");
  Tensor t;
  auto name = j.find("name");
  if (name == j.end() || !name->is_string()) return invalid_argument(where + ": \"name\" (string) is required");
  t.name = name->get<std::string>();
  if (t.name.empty() || t.name.size() > limits.max_name_length)
    return invalid_argument(where + ": name must have 1.." + std::to_string(limits.max_name_length) + " bytes");
  const std::string label = where + " (" + quote(t.name) + ")";

  auto dt = j.find("datatype");
  if (dt == j.end() || !dt->is_string()) return invalid_argument(label + ": \"datatype\" (string) is required");
  t.dtype = datatype_from_name(dt->get_ref<const std::string&>());
  if (t.dtype == DataType::kUndefined)
    return invalid_argument(label + ": unknown datatype " + quote(dt->get_ref<const std::string&>()) +
                            " (BOOL, UINT8..UINT64, INT8..INT64, FP16, FP32, FP64)");
  if (t.dtype == DataType::kString) return unsupported(label + ": BYTES tensors are not supported");

  auto sh = j.find("shape");
  if (sh == j.end() || !sh->is_array()) return invalid_argument(label + ": \"shape\" (array) is required");
  if (sh->size() > limits.max_rank)
    return out_of_range(label + ": rank " + std::to_string(sh->size()) + " exceeds the limit " +
                        std::to_string(limits.max_rank));
  int64_t n = 1;
  for (const json& d : *sh) {
    int64_t v = 0;
    if (!to_integer(d, v) || v < 0) return invalid_argument(label + ": shape entries must be integers >= 0");
    // Checked before multiplying: the product never overflows and never exceeds the limit.
    if (v > 0 && n > limits.max_tensor_elements / v)
      return out_of_range(label + ": shape has more than " + std::to_string(limits.max_tensor_elements) +
                          " elements (limit)");
    n *= v;
    t.shape.push_back(v);
  }
  if (total > limits.max_total_elements - n)
    return out_of_range(label + ": the message has more than " + std::to_string(limits.max_total_elements) +
                        " elements in all (limit)");
  total += n;

  auto params = j.find("parameters");
  if (params != j.end()) {
    if (!params->is_object()) return invalid_argument(label + ": \"parameters\" must be an object");
    if (params->contains("binary_data_size"))
      return unsupported(label + ": the binary tensor data extension is not supported; send JSON \"data\"");
  }
  auto data = j.find("data");
  if (data == j.end()) return invalid_argument(label + ": \"data\" is required");
  size_t elem = dtype_size(t.dtype);
  t.bytes.resize(size_t(n) * elem);
  int64_t count = 0;
  if (lifted && !lifted->text.empty() && data->is_array() && data->empty()) {
    // The scanner took this array out of the text the parser saw (oip_numbers.hpp).
    if (is_float_type(t.dtype)) {
      PETREL_RETURN_IF_ERROR(convert_lifted(*lifted, t.dtype, elem, n, t.bytes.data(), count, label));
    } else {  // integers and booleans keep the JSON path's exact rules
      json values = json::parse(lifted->text.begin(), lifted->text.end(), nullptr, /*allow_exceptions=*/false);
      // A number the JSON parser cannot hold (1e400) makes the whole body invalid on its path.
      if (values.is_discarded()) return invalid_argument(label + ": data is not valid JSON (a number out of range)");
      PETREL_RETURN_IF_ERROR(flatten(values, t.dtype, elem, n, t.bytes.data(), count, label));
    }
  } else {
    PETREL_RETURN_IF_ERROR(flatten(*data, t.dtype, elem, n, t.bytes.data(), count, label));
  }
  if (count != n)
    return invalid_argument(label + ": shape has " + std::to_string(n) + " elements but data has " +
                            std::to_string(count));
  return t;
}

json tensor_to_json(const Tensor& t) {
  json data = json::array();
  int64_t n = t.numel();
  const uint8_t* p = t.bytes.data();
  auto& arr = data.get_ref<json::array_t&>();
  arr.reserve(size_t(n));
  for (int64_t i = 0; i < n; ++i) {
    switch (t.dtype) {
#define PETREL_OIP_EMIT(DT, T)                 \
  case DT: {                                   \
    T x;                                       \
    std::memcpy(&x, p + size_t(i) * sizeof(T), sizeof(T)); \
    arr.emplace_back(x);                       \
    break;                                     \
  }
      PETREL_OIP_EMIT(DataType::kUInt8, uint8_t)
      PETREL_OIP_EMIT(DataType::kUInt16, uint16_t)
      PETREL_OIP_EMIT(DataType::kUInt32, uint32_t)
      PETREL_OIP_EMIT(DataType::kUInt64, uint64_t)
      PETREL_OIP_EMIT(DataType::kInt8, int8_t)
      PETREL_OIP_EMIT(DataType::kInt16, int16_t)
      PETREL_OIP_EMIT(DataType::kInt32, int32_t)
      PETREL_OIP_EMIT(DataType::kInt64, int64_t)
      PETREL_OIP_EMIT(DataType::kDouble, double)
#undef PETREL_OIP_EMIT
      case DataType::kBool: arr.emplace_back(p[i] != 0); break;
      case DataType::kFloat: {
        float f;
        std::memcpy(&f, p + size_t(i) * 4, 4);
        // JSON has no NaN/Inf: they become null, which a reader rejects as not a number.
        if (std::isfinite(f)) arr.emplace_back(short_double(f)); else arr.emplace_back(nullptr);
        break;
      }
      case DataType::kFloat16: {
        uint16_t h;
        std::memcpy(&h, p + size_t(i) * 2, 2);
        float f = Float16::to_float(h);
        if (std::isfinite(f)) arr.emplace_back(short_double(f)); else arr.emplace_back(nullptr);
        break;
      }
      default: arr.emplace_back(nullptr); break;
    }
  }
  json shape = json::array();
  for (int64_t d : t.shape) shape.push_back(d);
  return json{{"name", t.name}, {"datatype", std::string(datatype_name(t.dtype))}, {"shape", std::move(shape)},
              {"data", std::move(data)}};
}

}  // namespace detail
}  // namespace petrel::serve::oip
