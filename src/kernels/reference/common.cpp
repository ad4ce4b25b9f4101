#include "kernels/reference/common.hpp"

namespace petrel::ref {

static Status wrong_type(const Node& n, const char* name, const Attribute& a, const char* want) {
  return invalid_model(n.label() + ": attribute '" + name + "' must be " + want + ", got " + attr_type_name(a.type));
}

Result<int64_t> attr_int(const Node& n, const char* name, int64_t dflt) {
  const Attribute* a = n.attr(name);
  if (!a) return dflt;
  if (a->type != AttrType::kInt) return wrong_type(n, name, *a, "int");
  return a->i;
}

Result<int64_t> attr_int_required(const Node& n, const char* name) {
  const Attribute* a = n.attr(name);
  if (!a) return invalid_model(n.label() + ": missing required attribute '" + name + "'");
  if (a->type != AttrType::kInt) return wrong_type(n, name, *a, "int");
  return a->i;
}

Result<float> attr_float(const Node& n, const char* name, float dflt) {
  const Attribute* a = n.attr(name);
  if (!a) return dflt;
  if (a->type == AttrType::kInt) return float(a->i);  // some exporters write 0 instead of 0.0
  if (a->type != AttrType::kFloat) return wrong_type(n, name, *a, "float");
  return a->f;
}

Result<std::string> attr_string(const Node& n, const char* name, const std::string& dflt) {
  const Attribute* a = n.attr(name);
  if (!a) return dflt;
  if (a->type != AttrType::kString) return wrong_type(n, name, *a, "string");
  return a->s;
}

Result<std::vector<int64_t>> attr_ints(const Node& n, const char* name, std::vector<int64_t> dflt) {
  const Attribute* a = n.attr(name);
  if (!a) return dflt;
  if (a->type != AttrType::kInts) return wrong_type(n, name, *a, "ints");
  return a->ints;
}

Result<std::vector<float>> attr_floats(const Node& n, const char* name, std::vector<float> dflt) {
  const Attribute* a = n.attr(name);
  if (!a) return dflt;
  if (a->type != AttrType::kFloats) return wrong_type(n, name, *a, "floats");
  return a->floats;
}

bool has_attr(const Node& n, const char* name) { return n.attr(name) != nullptr; }

Result<int64_t> normalize_axis(const Node& n, int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return invalid_argument(n.label() + ": axis " + std::to_string(axis) + " out of range for rank " + std::to_string(rank));
  return axis < 0 ? axis + rank : axis;
}

Result<Shape> broadcast_shapes(const Shape& a, const Shape& b) {
  size_t r = std::max(a.size(), b.size());
  Shape out(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da == db || db == 1) out[i] = da;
    else if (da == 1) out[i] = db;
    else return invalid_argument("shapes " + shape_to_string(a) + " and " + shape_to_string(b) + " cannot be broadcast");
  }
  return out;
}

std::vector<int64_t> contiguous_strides(const Shape& s) {
  std::vector<int64_t> st(s.size());
  int64_t acc = 1;
  for (size_t i = s.size(); i-- > 0;) { st[i] = acc; acc *= s[i]; }
  return st;
}

std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out) {
  std::vector<int64_t> st(out.size(), 0);
  auto cs = contiguous_strides(in);
  size_t off = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i) st[off + i] = in[i] == 1 ? 0 : cs[i];
  return st;
}

BroadcastIter::BroadcastIter(const Shape& out, const std::vector<std::vector<int64_t>>& in_strides)
    : out_(out), strides_(in_strides) {}

Status read_int_input(OpContext& ctx, int i, std::vector<int64_t>& out) {
  if (!ctx.input_known(i)) return OpContext::needs_data();
  // Filled in place, so that a caller's vector keeps its capacity (no allocation per run).
  const Tensor& t = ctx.input(i);
  if (t.dtype != DataType::kInt64 && t.dtype != DataType::kInt32)
    return ctx.error("input " + std::to_string(i) + ": expected an int32/int64 tensor, got " + std::string(dtype_name(t.dtype)));
  out.resize(size_t(t.numel()));
  for (size_t k = 0; k < out.size(); ++k) out[k] = element_as_int64(t, int64_t(k));
  return Status::ok();
}

}  // namespace petrel::ref
