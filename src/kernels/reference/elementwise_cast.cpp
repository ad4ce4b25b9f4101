// Cast and CastLike between all numeric types, bool, float16, bfloat16 and string.
// Strings follow numpy: numbers print like numpy's str() (shortest round-trip digits,
// positional for 1e-4 <= |x| < 1e16, otherwise d.ddde+XX); parsing accepts what Python's
// float()/int() accept, including inf/nan spellings.
#include <algorithm>
#include <charconv>
#include <cctype>
#include <cstring>
#include <iterator>
#include <string>

#include "kernels/reference/elementwise_util.hpp"

namespace petrel::ref {
namespace {

using namespace ew;

bool castable(DataType t) {
  return dtype_is_float(t) || dtype_is_integer(t) || t == DataType::kBool || t == DataType::kString;
}

// bool tensors are read and written as bytes: the data is untrusted and may hold values
// other than 0/1, which must not be read through a bool lvalue.
template <typename T> using Storage = std::conditional_t<std::is_same_v<T, bool>, uint8_t, T>;

// Cast to bfloat16 truncates the float32 bits, as the ONNX 1.12 reference (and its test data)
// does; NaN stays a quiet NaN instead of possibly truncating to inf.
inline BFloat16 bf16_truncate(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  BFloat16 b;
  b.bits = (u & 0x7fffffffu) > 0x7f800000u ? uint16_t((u >> 16) | 0x40) : uint16_t(u >> 16);
  return b;
}

template <typename To, typename From> void cast_loop(const Tensor& x, Tensor& y) {
  map_unary<Storage<From>, Storage<To>>(x, y, [](Storage<From> v) {
    if constexpr (std::is_same_v<From, bool>) return Storage<To>(convert<To, bool>(v != 0));
    else if constexpr (std::is_same_v<To, BFloat16>) return bf16_truncate(float(load(v)));
    else return Storage<To>(convert<To, From>(v));
  });
}

// Shortest round-trip decimal digits of |v| (no leading/trailing zeros) and the decimal
// exponent of the first digit. v must be finite and non-zero.
template <typename T> std::string shortest_digits(T v, int& exp10) {
  char buf[64];
  std::to_chars_result r{};
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    r = std::to_chars(buf, buf + sizeof(buf), v < 0 ? -v : v, std::chars_format::scientific);
  } else {  // float16/bfloat16: fewest digits whose parse rounds back to the same bits
    const float f = std::fabs(float(v));
    auto round_trips = [&] {
      float back = 0;
      std::from_chars(buf, r.ptr, back);
      return T(back).bits == T(f).bits;
    };
    for (int p = 0; p <= 9; ++p) {
      r = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::scientific, p);
      if (round_trips()) break;
      // At a power of two the rounding interval is asymmetric: the nearest p-digit decimal may
      // fall outside it while its neighbour on the other side of f is inside (numpy prints
      // float16 0.015625 as "0.01563").
      double d = 0;
      std::from_chars(buf, r.ptr, d);
      int e = 0;
      const char* ep = std::find(buf, r.ptr, 'e');
      if (ep < r.ptr) std::from_chars(ep + (ep[1] == '+' ? 2 : 1), r.ptr, e);
      const double step = std::pow(10.0, e - p);
      const double c = d < double(f) ? d + step : d - step;
      r = std::to_chars(buf, buf + sizeof(buf), c, std::chars_format::scientific, p);
      if (c > 0 && round_trips()) break;
    }
  }
  std::string digits;
  const char* p = buf;
  for (; p < r.ptr && *p != 'e'; ++p)
    if (*p != '.') digits += *p;
  exp10 = 0;
  if (p < r.ptr) std::from_chars(p + (p[1] == '+' ? 2 : 1), r.ptr, exp10);
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  return digits;
}

template <typename T> std::string format_float(T v) {
  const double d = double(load(v));
  if (d != d) return "nan";
  if (d == 1.0 / 0.0) return "inf";
  if (d == -1.0 / 0.0) return "-inf";
  std::string s = std::signbit(d) ? "-" : "";
  if (d == 0) return s + "0.0";
  int e = 0;
  const std::string dig = shortest_digits(v, e);
  const double a = std::fabs(d);
  if (a < 1e-4 || a >= 1e16) {
    s += dig[0];
    if (dig.size() > 1) s += "." + dig.substr(1);
    const int ae = e < 0 ? -e : e;
    s += e < 0 ? "e-" : "e+";
    if (ae < 10) s += '0';
    return s + std::to_string(ae);
  }
  if (e < 0) return s + "0." + std::string(size_t(-e - 1), '0') + dig;
  const size_t int_digits = size_t(e) + 1;
  if (dig.size() <= int_digits) return s + dig + std::string(int_digits - dig.size(), '0') + ".0";
  return s + dig.substr(0, int_digits) + "." + dig.substr(int_digits);
}

template <typename T> std::string format_value(Storage<T> v) {
  if constexpr (std::is_same_v<T, bool>) return v ? "True" : "False";
  else if constexpr (kIsFloat<T>) return format_float(v);
  else return std::to_string(v);
}

// Parses one string into T; false when it is not a number.
template <typename T> bool parse_value(const std::string& str, Storage<T>& out) {
  size_t b = 0, e = str.size();
  while (b < e && std::isspace(static_cast<unsigned char>(str[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(str[e - 1]))) --e;
  if constexpr (std::is_same_v<T, bool>) {
    const std::string_view t(str.data() + b, e - b);
    if (t == "True" || t == "true") { out = 1; return true; }
    if (t == "False" || t == "false" || t.empty()) { out = 0; return true; }
  }
  const char* first = str.data() + b;
  const char* last = str.data() + e;
  bool neg = false;
  if (first < last && (*first == '+' || *first == '-')) {  // from_chars rejects a leading '+'
    neg = *first == '-';
    ++first;
  }
  if (first == last || *first == '+' || *first == '-') return false;
  if constexpr (kIsInt<T>) {
    uint64_t u = 0;
    auto r = std::from_chars(first, last, u);
    if (r.ec == std::errc() && r.ptr == last) {
      out = neg ? T(0 - u) : T(u);
      return true;
    }
  }
  using P = std::conditional_t<std::is_same_v<T, double> || kIsInt<T>, double, float>;
  P f = 0;
  auto r = std::from_chars(first, last, f);
  if (r.ptr != last || (r.ec != std::errc() && r.ec != std::errc::result_out_of_range)) return false;
  if (r.ec == std::errc::result_out_of_range)  // overflow -> inf, underflow -> 0 (like strtod)
    f = std::fabs(f) < P(1) ? P(0) : std::numeric_limits<P>::infinity();
  if (neg) f = -f;
  out = Storage<T>(convert<T, P>(f));
  return true;
}

Status cast_tensor(OpContext& ctx, const Tensor& x, Tensor& y) {
  const int64_t n = x.numel();
  if (x.dtype == y.dtype) {
    if (x.dtype == DataType::kString) {
      for (int64_t i = 0; i < n; ++i) y.as<std::string>()[i] = x.as<std::string>()[i];
    } else if (y.nbytes()) {
      std::memcpy(y.data, x.data, y.nbytes());
    }
    return Status::ok();
  }
  if (x.dtype == DataType::kString) {
    return dispatch_with_bool(y.dtype, [&](auto tag) -> Status {
      using T = typename decltype(tag)::type;
      const std::string* s = x.as<std::string>();
      Storage<T>* o = y.as<Storage<T>>();
      for (int64_t i = 0; i < n; ++i)
        if (!parse_value<T>(s[i], o[i])) return ctx.error("cannot parse '" + s[i].substr(0, 64) + "' as " + std::string(dtype_name(y.dtype)));
      return Status::ok();
    });
  }
  if (y.dtype == DataType::kString) {
    return dispatch_with_bool(x.dtype, [&](auto tag) -> Status {
      using T = typename decltype(tag)::type;
      const Storage<T>* p = x.as<Storage<T>>();
      std::string* o = y.as<std::string>();
      for (int64_t i = 0; i < n; ++i) o[i] = format_value<T>(p[i]);
      return Status::ok();
    });
  }
  return dispatch_with_bool(x.dtype, [&](auto from) -> Status {
    using F = typename decltype(from)::type;
    return dispatch_with_bool(y.dtype, [&](auto to) -> Status {
      using T = typename decltype(to)::type;
      cast_loop<T, F>(x, y);
      return Status::ok();
    });
  });
}

class Cast final : public Kernel {
 public:
  explicit Cast(DataType to, bool like) : to_(to), like_(like) {}

  Status infer(OpContext& ctx) override {
    if (ctx.num_inputs() != (like_ ? 2 : 1) || !ctx.has_input(0) || (like_ && !ctx.has_input(1)))
      return ctx.error(like_ ? "expects 2 inputs" : "expects 1 input");
    const Tensor& x = ctx.input(0);
    const DataType to = like_ ? ctx.input(1).dtype : to_;
    if (!castable(x.dtype)) return ctx.unsupported_error("cast from " + std::string(dtype_name(x.dtype)));
    if (!castable(to)) return ctx.unsupported_error("cast to " + std::string(dtype_name(to)));
    return ctx.set_output(0, to, x.shape);
  }

  Status compute(OpContext& ctx) override { return cast_tensor(ctx, ctx.input(0), ctx.output(0)); }

 private:
  DataType to_;
  bool like_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_cast(const Node& n) {
  if (n.op_type == "CastLike") return std::unique_ptr<Kernel>(new Cast(DataType::kUndefined, true));
  int64_t to = 0;
  const Attribute* a = n.attr("to");
  if (a && a->type == AttrType::kString) {  // opset < 6 spelled the type: to="FLOAT"
    static const char* const kNames[] = {"UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32",
                                         "INT64", "STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64"};
    for (int i = 1; i < int(std::size(kNames)); ++i)
      if (a->s == kNames[i]) to = i;
    if (a->s == "BFLOAT16") to = int64_t(DataType::kBFloat16);
    if (to == 0) return unsupported(n.label() + ": cast to '" + a->s + "'");
  } else {
    PETREL_ASSIGN_OR_RETURN(to, attr_int_required(n, "to"));
  }
  if (to < 0 || to > kMaxDataType || !dtype_is_valid(int32_t(to)))
    return invalid_model(n.label() + ": 'to' is not a valid data type: " + std::to_string(to));
  if (!castable(DataType(to)))
    return unsupported(n.label() + ": cast to " + std::string(dtype_name(DataType(to))));
  return std::unique_ptr<Kernel>(new Cast(DataType(to), false));
}

}  // namespace petrel::ref
