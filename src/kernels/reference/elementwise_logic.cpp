// Broadcasting comparisons (Equal Less Greater LessOrEqual GreaterOrEqual -> bool), logical
// And Or Xor on bool, BitShift on unsigned ints, BitwiseAnd BitwiseOr BitwiseXor on ints.
#include <string>
#include <string_view>

#include "kernels/reference/elementwise_util.hpp"

namespace petrel::ref {
namespace {

using namespace ew;

enum class LOp {
  kEqual, kLess, kGreater, kLessOrEqual, kGreaterOrEqual, kAnd, kOr, kXor, kShiftLeft,
  kShiftRight, kBitAnd, kBitOr, kBitXor,
};

bool is_compare(LOp op) { return op <= LOp::kGreaterOrEqual; }

class Logic final : public Kernel {
 public:
  Logic(LOp op, int64_t legacy_axis) : op_(op), legacy_axis_(legacy_axis) {}

  Status infer(OpContext& ctx) override {
    if (ctx.num_inputs() != 2 || !ctx.has_input(0) || !ctx.has_input(1)) return ctx.error("expects 2 inputs");
    const DataType t = ctx.input(0).dtype;
    if (ctx.input(1).dtype != t)
      return ctx.error("inputs must have the same dtype, got " + std::string(dtype_name(t)) + " and " +
                       std::string(dtype_name(ctx.input(1).dtype)));
    bool ok;
    switch (op_) {
      case LOp::kEqual:
        ok = dtype_is_float(t) || dtype_is_integer(t) || t == DataType::kBool || t == DataType::kString;
        break;
      case LOp::kLess: case LOp::kGreater: case LOp::kLessOrEqual: case LOp::kGreaterOrEqual:
        ok = dtype_is_float(t) || dtype_is_integer(t);
        break;
      case LOp::kAnd: case LOp::kOr: case LOp::kXor: ok = t == DataType::kBool; break;
      case LOp::kShiftLeft: case LOp::kShiftRight: ok = dtype_is_integer(t) && !dtype_is_signed(t); break;
      default: ok = dtype_is_integer(t); break;
    }
    if (!ok) return ctx.error("unsupported dtype " + std::string(dtype_name(t)));
    auto out_shape = broadcast_shapes(ctx.input(0).shape, rhs(ctx).shape);
    if (!out_shape) return ctx.error(out_shape.status().message());
    Shape out = std::move(out_shape).value();
    const bool to_bool = is_compare(op_) || op_ == LOp::kAnd || op_ == LOp::kOr || op_ == LOp::kXor;
    return ctx.set_output(0, to_bool ? DataType::kBool : t, std::move(out));
  }

  Status compute(OpContext& ctx) override {
    const Tensor& a = ctx.input(0);
    const Tensor b = rhs(ctx);
    Tensor& y = ctx.output(0);
    using B = uint8_t;
    switch (op_) {
      case LOp::kAnd: binary_loop<B, B, B>(a, b, y, [](B p, B q) { return B((p != 0) & (q != 0)); }); return Status::ok();
      case LOp::kOr: binary_loop<B, B, B>(a, b, y, [](B p, B q) { return B((p != 0) | (q != 0)); }); return Status::ok();
      case LOp::kXor: binary_loop<B, B, B>(a, b, y, [](B p, B q) { return B((p != 0) != (q != 0)); }); return Status::ok();
      default: break;
    }
    if (a.dtype == DataType::kString) {  // Equal only
      binary_loop<std::string, std::string, B>(a, b, y, [](const std::string& p, const std::string& q) { return B(p == q); });
      return Status::ok();
    }
    if (a.dtype == DataType::kBool) {  // Equal only
      binary_loop<B, B, B>(a, b, y, [](B p, B q) { return B((p != 0) == (q != 0)); });
      return Status::ok();
    }
    return dispatch_all_numeric(a.dtype, [&](auto tag) -> Status {
      using T = typename decltype(tag)::type;
      if (is_compare(op_)) {
        compare<T>(a, b, y);
        return Status::ok();
      }
      if constexpr (kIsInt<T>) {
        constexpr unsigned kBits = sizeof(T) * 8;
        switch (op_) {
          // Shifts by the width or more give 0 (numpy), instead of C++'s undefined behaviour.
          case LOp::kShiftLeft:
            binary_loop<T, T, T>(a, b, y, [](T p, T q) { return uint64_t(q) >= kBits ? T(0) : T(p << q); });
            break;
          case LOp::kShiftRight:
            binary_loop<T, T, T>(a, b, y, [](T p, T q) { return uint64_t(q) >= kBits ? T(0) : T(p >> q); });
            break;
          case LOp::kBitAnd: binary_loop<T, T, T>(a, b, y, [](T p, T q) { return T(p & q); }); break;
          case LOp::kBitOr: binary_loop<T, T, T>(a, b, y, [](T p, T q) { return T(p | q); }); break;
          case LOp::kBitXor: binary_loop<T, T, T>(a, b, y, [](T p, T q) { return T(p ^ q); }); break;
          default: return internal_error("logic op");
        }
        return Status::ok();
      }
      return internal_error("bitwise op on a float type");
    });
  }

 private:
  Tensor rhs(const OpContext& ctx) const {
    const Tensor& b = ctx.input(1);
    if (legacy_axis_ == std::numeric_limits<int64_t>::min()) return Tensor::view(b.dtype, b.shape, b.data);
    return legacy_broadcast_view(legacy_axis_, ctx.input(0), b);
  }

  template <typename T> void compare(const Tensor& a, const Tensor& b, Tensor& y) {
    using B = uint8_t;
    switch (op_) {
      case LOp::kEqual: binary_loop<T, T, B>(a, b, y, [](T p, T q) { return B(load(p) == load(q)); }); break;
      case LOp::kLess: binary_loop<T, T, B>(a, b, y, [](T p, T q) { return B(load(p) < load(q)); }); break;
      case LOp::kGreater: binary_loop<T, T, B>(a, b, y, [](T p, T q) { return B(load(p) > load(q)); }); break;
      case LOp::kLessOrEqual: binary_loop<T, T, B>(a, b, y, [](T p, T q) { return B(load(p) <= load(q)); }); break;
      case LOp::kGreaterOrEqual:
        binary_loop<T, T, B>(a, b, y, [](T p, T q) { return B(load(p) >= load(q)); });
        break;
      default: break;
    }
  }

  LOp op_;
  int64_t legacy_axis_;
};

struct OpName { std::string_view name; LOp op; };
constexpr OpName kOps[] = {
    {"Equal", LOp::kEqual}, {"Less", LOp::kLess}, {"Greater", LOp::kGreater},
    {"LessOrEqual", LOp::kLessOrEqual}, {"GreaterOrEqual", LOp::kGreaterOrEqual},
    {"And", LOp::kAnd}, {"Or", LOp::kOr}, {"Xor", LOp::kXor}, {"BitwiseAnd", LOp::kBitAnd},
    {"BitwiseOr", LOp::kBitOr}, {"BitwiseXor", LOp::kBitXor},
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_logic(const Node& n) {
  int64_t legacy_axis;
  PETREL_RETURN_IF_ERROR(legacy_broadcast_axis(n, legacy_axis));
  if (n.op_type == "BitShift") {
    PETREL_ASSIGN_OR_RETURN(std::string dir, attr_string(n, "direction", ""));
    if (dir == "LEFT") return std::unique_ptr<Kernel>(new Logic(LOp::kShiftLeft, legacy_axis));
    if (dir == "RIGHT") return std::unique_ptr<Kernel>(new Logic(LOp::kShiftRight, legacy_axis));
    if (!has_attr(n, "direction")) return invalid_model(n.label() + ": missing required attribute 'direction'");
    return unsupported(n.label() + ": direction '" + dir + "' (expected LEFT or RIGHT)");
  }
  for (const OpName& e : kOps)
    if (e.name == n.op_type) return std::unique_ptr<Kernel>(new Logic(e.op, legacy_axis));
  return unsupported(n.label() + ": not a logic op");
}

}  // namespace petrel::ref
