// Optional ops. An optional holding a value is represented by the value itself (a tensor or a
// sequence); an empty optional is a Value of kind kEmpty (or an omitted input).
#include "kernels/reference/misc_common.hpp"

namespace petrel::ref {
namespace {

// Passes a value through; tensor views are copied since the result may outlive their storage.
Status forward_value(OpContext& ctx, const Value& v) {
  if (v.is_tensor() && !v.tensor.owner) {
    PETREL_ASSIGN_OR_RETURN(Tensor c, v.tensor.clone());
    ctx.set_output_value(0, Value::of(std::move(c)));
  } else {
    ctx.set_output_value(0, v);
  }
  return Status::ok();
}

class OptionalKernel final : public DynamicKernel {
 public:
  Status compute(OpContext& ctx) override {
    if (!has_value(ctx, 0)) {
      ctx.set_output_value(0, Value{});
      return Status::ok();
    }
    return forward_value(ctx, ctx.input_value(0));
  }
};

class OptionalHasElementKernel final : public DynamicKernel {
 public:
  Status compute(OpContext& ctx) override {
    PETREL_ASSIGN_OR_RETURN(Tensor * out, ctx.allocate_output(0, DataType::kBool, {}));
    out->as<uint8_t>()[0] = has_value(ctx, 0) ? 1 : 0;
    return Status::ok();
  }
};

class OptionalGetElementKernel final : public DynamicKernel {
 public:
  Status compute(OpContext& ctx) override {
    if (!has_value(ctx, 0)) return ctx.error("the optional input is empty");
    return forward_value(ctx, ctx.input_value(0));
  }
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_optional(const Node& n) {
  const Attribute* t = n.attr("type");
  if (t && t->type != AttrType::kTypeProto)
    return invalid_model(n.label() + ": attribute 'type' must be a type_proto, got " + attr_type_name(t->type));
  return std::unique_ptr<Kernel>(new OptionalKernel());
}
Result<std::unique_ptr<Kernel>> make_optional_has_element(const Node&) {
  return std::unique_ptr<Kernel>(new OptionalHasElementKernel());
}
Result<std::unique_ptr<Kernel>> make_optional_get_element(const Node&) {
  return std::unique_ptr<Kernel>(new OptionalGetElementKernel());
}

}  // namespace petrel::ref
