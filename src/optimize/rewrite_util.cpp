#include "optimize/rewrite_util.hpp"

#include <algorithm>
#include <cstring>

#include "core/fused_activation.hpp"

namespace petrel::opt {

std::optional<int64_t> attr_i(const Node& n, const char* name, int64_t dflt) {
  const Attribute* a = n.attr(name);
  if (a == nullptr) return dflt;
  if (a->type != AttrType::kInt) return std::nullopt;
  return a->i;
}

std::optional<float> attr_f(const Node& n, const char* name, float dflt) {
  const Attribute* a = n.attr(name);
  if (a == nullptr) return dflt;
  if (a->type == AttrType::kInt) return float(a->i);  // as the kernels read it
  if (a->type != AttrType::kFloat) return std::nullopt;
  return a->f;
}

std::optional<std::string> attr_s(const Node& n, const char* name, const std::string& dflt) {
  const Attribute* a = n.attr(name);
  if (a == nullptr) return dflt;
  if (a->type != AttrType::kString) return std::nullopt;
  return a->s;
}

std::optional<std::vector<int64_t>> attr_is(const Node& n, const char* name) {
  const Attribute* a = n.attr(name);
  if (a == nullptr) return std::vector<int64_t>{};
  if (a->type != AttrType::kInts) return std::nullopt;
  return a->ints;
}

Attribute make_attr_int(const char* name, int64_t v) {
  Attribute a;
  a.name = name;
  a.type = AttrType::kInt;
  a.i = v;
  return a;
}

Attribute make_attr_ints(const char* name, std::vector<int64_t> v) {
  Attribute a;
  a.name = name;
  a.type = AttrType::kInts;
  a.ints = std::move(v);
  return a;
}

Attribute make_attr_float(const char* name, float v) {
  Attribute a;
  a.name = name;
  a.type = AttrType::kFloat;
  a.f = v;
  return a;
}

Attribute make_attr_string(const char* name, std::string v) {
  Attribute a;
  a.name = name;
  a.type = AttrType::kString;
  a.s = std::move(v);
  return a;
}

Node make_node(const std::string& op, const std::string& domain, std::vector<ValueId> inputs,
               std::vector<ValueId> outputs, const std::string& base) {
  Node n;
  n.name = base;
  n.name.append("/").append(op);
  n.op_type = op;
  n.domain = domain;
  n.inputs = std::move(inputs);
  n.outputs = std::move(outputs);
  return n;
}

Tensor float_tensor(const Shape& shape, const std::vector<float>& data) {
  auto t = Tensor::allocate(DataType::kFloat, shape);
  if (!t) return Tensor{};
  if (!data.empty()) std::memcpy(t->data, data.data(), std::min(t->nbytes(), data.size() * sizeof(float)));
  return std::move(t).value();
}

Tensor int64_tensor(const Shape& shape, const std::vector<int64_t>& data) {
  auto t = Tensor::allocate(DataType::kInt64, shape);
  if (!t) return Tensor{};
  if (!data.empty()) std::memcpy(t->data, data.data(), std::min(t->nbytes(), data.size() * sizeof(int64_t)));
  return std::move(t).value();
}

ValueId other_input(const Node& n, ValueId v) {
  if (n.inputs.size() != 2) return kNoValue;
  if (n.inputs[0] == v) return n.inputs[1];
  if (n.inputs[1] == v) return n.inputs[0];
  return kNoValue;
}

std::optional<std::vector<int64_t>> shape_op_result(const Node& n, const Shape& s) {
  const int64_t r = int64_t(s.size());
  auto start = attr_i(n, "start", 0), end = attr_i(n, "end", r);
  if (!start || !end) return std::nullopt;
  auto clampd = [r](int64_t v) { return std::clamp(v < 0 ? v + r : v, int64_t(0), r); };
  const int64_t b = clampd(*start), e = std::max(b, clampd(*end));
  return std::vector<int64_t>(s.begin() + b, s.begin() + e);
}

bool scalar_is(const GraphView& view, ValueId v, double want, double rel) {
  auto s = view.scalar(v);
  return s && near(*s, want, rel);
}

bool has_fused_activation(const Node& n) { return n.attr(kFusedActivationAttr) != nullptr; }

}  // namespace petrel::opt
