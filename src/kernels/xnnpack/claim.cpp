// The XNNPACK provider's per-op capability check. It looks only at what is known before input
// shapes are bound (op, attributes, constant operands, float inputs); shapes are checked when
// the partition is lowered, and a rejection there makes the partition run on reference kernels.
#include <set>
#include <string>

#include "core/fused_activation.hpp"
#include "kernels/reference/common.hpp"
#include "kernels/xnnpack/lower.hpp"

namespace petrel::xnnpack {
namespace {

bool const_float(const Graph& g, const Node& n, size_t i, int rank) {
  if (i >= n.inputs.size() || n.inputs[i] == kNoValue) return false;
  const Tensor* t = g.constant(n.inputs[i]);
  return t != nullptr && t->dtype == DataType::kFloat && (rank < 0 || t->rank() == rank);
}
bool absent_or_const_float(const Graph& g, const Node& n, size_t i) {
  return i >= n.inputs.size() || n.inputs[i] == kNoValue || const_float(g, n, i, -1);
}
int64_t int_attr(const Node& n, const char* name, int64_t dflt) {
  auto r = ref::attr_int(n, name, dflt);
  return r ? r.value() : -999;
}
float float_attr(const Node& n, const char* name, float dflt) {
  auto r = ref::attr_float(n, name, dflt);
  return r ? r.value() : -999.0f;
}
bool activation_ok(const Node& n) {
  auto fa = FusedActivation::from_node(n);
  if (!fa) return false;
  switch (fa.value().kind) {
    case Activation::kNone: case Activation::kRelu: case Activation::kClip: case Activation::kLeakyRelu:
    case Activation::kSigmoid: case Activation::kHardSigmoid: case Activation::kHardSwish: case Activation::kSwish:
      return true;
    default:
      return false;
  }
}

}  // namespace

bool is_heavy(const Node& n) {
  static const std::set<std::string> heavy = {"Conv", "Gemm", "MatMul", "FusedMatMul", "MaxPool", "AveragePool"};
  return heavy.count(n.op_type) > 0;
}

bool claims(const Node& n, const Graph& g, const std::vector<bool>& is_float, bool fully_connected) {
  if (!n.implicit_inputs.empty() || n.inputs.empty() || n.outputs.empty()) return false;
  if (!(n.domain.empty() || (n.domain == "petrel" && (n.op_type == "FusedMatMul" || n.op_type == "ChannelShuffle")))) return false;
  if (is_float.empty() || !is_float[0]) return false;
  for (size_t i = 1; i < n.outputs.size(); ++i)
    if (n.outputs[i] != kNoValue) return false;  // MaxPool indices, Dropout mask, ...
  const std::string& op = n.op_type;
  if (op == "Conv")
    return const_float(g, n, 1, 4) && absent_or_const_float(g, n, 2) && activation_ok(n) && n.inputs.size() <= 3;
  if (!fully_connected && (op == "Gemm" || op == "MatMul" || op == "FusedMatMul")) return false;
  if (op == "Gemm")
    return const_float(g, n, 1, 2) && absent_or_const_float(g, n, 2) && int_attr(n, "transA", 0) == 0 &&
           float_attr(n, "alpha", 1) == 1.0f && float_attr(n, "beta", 1) == 1.0f && activation_ok(n);
  if (op == "MatMul" || op == "FusedMatMul")
    return const_float(g, n, 1, 2) && absent_or_const_float(g, n, 2) && activation_ok(n);
  if (op == "GlobalAveragePool") return true;
  if (op == "ReduceMean") {  // global average pooling written as a mean over H and W
    std::vector<int64_t> axes;
    if (n.inputs.size() == 1) {
      auto a = ref::attr_ints(n, "axes");
      if (!a) return false;
      axes = a.value();
    } else if (n.inputs.size() == 2 && g.constant(n.inputs[1]) != nullptr) {
      auto a = tensor_to_int64s(*g.constant(n.inputs[1]));
      if (!a) return false;
      axes = a.value();
    }
    return axes == std::vector<int64_t>{2, 3};
  }
  if (op == "Flatten") {  // only right after a global pooling (lowering re-checks H = W = 1)
    if (int_attr(n, "axis", 1) != 1) return false;
    for (const Node& p : g.nodes)
      for (ValueId v : p.outputs)
        if (v == n.inputs[0]) return p.op_type == "GlobalAveragePool" || p.op_type == "ReduceMean";
    return false;
  }
  if (op == "MaxPool" || op == "AveragePool")
    return (op == "MaxPool" || int_attr(n, "ceil_mode", 0) == 0) && int_attr(n, "storage_order", 0) == 0;
  if (op == "Relu" || op == "Sigmoid" || op == "HardSigmoid" || op == "HardSwish" || op == "LeakyRelu" || op == "Elu" || op == "Abs" ||
      op == "Neg" || op == "Floor" || op == "Ceil" || op == "Sqrt")
    return true;
  if (op == "Concat") {  // runs natively between XNNPACK stages, on NHWC buffers
    for (size_t i = 1; i < is_float.size(); ++i)
      if (!is_float[i] || g.constant(n.inputs[i]) != nullptr) return false;
    return g.constant(n.inputs[0]) == nullptr && n.attr("axis") != nullptr;
  }
  if (op == "ChannelShuffle") return true;  // native, on NHWC buffers (lowering checks the shape)
  if (op == "Slice") {  // native: one axis, step 1, constant parameters
    if (n.inputs.size() < 3 || n.inputs.size() > 5) return false;
    for (size_t i = 1; i < n.inputs.size(); ++i) {
      const Tensor* t = n.inputs[i] == kNoValue ? nullptr : g.constant(n.inputs[i]);
      if (t == nullptr || t->numel() != 1) return false;
      auto v = tensor_to_int64s(*t);
      if (!v || (i == 4 && v.value()[0] != 1)) return false;
    }
    return true;
  }
  if (op == "Clip") return absent_or_const_float(g, n, 1) && absent_or_const_float(g, n, 2);
  if (op == "Add" || op == "Mul" || op == "Sub" || op == "Div" || op == "Max" || op == "Min")
    return n.inputs.size() == 2 && is_float.size() == 2 && is_float[1];
  return false;
}

}  // namespace petrel::xnnpack
