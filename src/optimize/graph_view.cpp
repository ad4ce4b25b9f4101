#include "optimize/graph_view.hpp"

#include <algorithm>

#include "optimize/eval.hpp"
#include "optimize/rewrite_util.hpp"

namespace petrel::opt {
namespace {

const std::vector<int> kNoUses;

// Ops whose first output has the dtype of their first input; used when shapes are unknown so
// that fusions can still tell float from integer tensors.
bool keeps_dtype(const Node& n) {
  static const char* const kOps[] = {
      "Add", "Sub", "Mul", "Div", "Relu", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh",
      "Erf", "Sqrt", "Pow", "Neg", "Abs", "Exp", "Clip", "Gelu", "Softmax", "Conv", "ConvTranspose",
      "MatMul", "Gemm", "FusedMatMul", "Reshape", "Transpose", "Flatten", "Squeeze", "Unsqueeze",
      "Identity", "Dropout", "BatchNormalization", "LayerNormalization", "MaxPool", "AveragePool",
      "GlobalAveragePool", "ReduceMean", "Concat", "Slice", "Expand", "Pad", "Resize", "Reciprocal",
  };
  if (!n.domain.empty() && n.domain != "petrel") return false;
  for (const char* op : kOps)
    if (n.op_type == op) return true;
  return false;
}

}  // namespace

GraphView::GraphView(const Graph& g) : g_(&g) {
  const size_t nv = g.values.size();
  producer_.assign(nv, -1);
  consumers_.assign(nv, {});
  output_.assign(nv, 0);
  captured_.assign(nv, 0);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    for (ValueId v : n.outputs)
      if (v >= 0 && size_t(v) < nv) producer_[size_t(v)] = int(i);
    for (ValueId v : n.inputs)
      if (v >= 0 && size_t(v) < nv) consumers_[size_t(v)].push_back(int(i));
    for (ValueId v : n.implicit_inputs)
      if (v >= 0 && size_t(v) < nv) {
        consumers_[size_t(v)].push_back(int(i));
        captured_[size_t(v)] = 1;
      }
  }
  for (ValueId v : g.outputs)
    if (v >= 0 && size_t(v) < nv) output_[size_t(v)] = 1;
}

int GraphView::producer(ValueId v) const {
  return v >= 0 && size_t(v) < producer_.size() ? producer_[size_t(v)] : -1;
}

const std::vector<int>& GraphView::consumers(ValueId v) const {
  return v >= 0 && size_t(v) < consumers_.size() ? consumers_[size_t(v)] : kNoUses;
}

bool GraphView::is_graph_output(ValueId v) const { return v >= 0 && size_t(v) < output_.size() && output_[size_t(v)]; }
bool GraphView::captured(ValueId v) const { return v >= 0 && size_t(v) < captured_.size() && captured_[size_t(v)]; }

int GraphView::sole_consumer(ValueId v) const {
  if (v == kNoValue || is_graph_output(v) || captured(v)) return -1;
  const auto& c = consumers(v);
  return c.size() == 1 ? c[0] : -1;
}

std::optional<double> GraphView::scalar(ValueId v) const {
  const Tensor* t = constant(v);
  if (t == nullptr || t->numel() != 1 || t->dtype == DataType::kString) return std::nullopt;
  if (!dtype_is_float(t->dtype) && !dtype_is_integer(t->dtype)) return std::nullopt;
  return element_as_double(*t, 0);
}

int GraphView::input_index(int node, ValueId v) const {
  const Node& n = g_->nodes[size_t(node)];
  for (size_t i = 0; i < n.inputs.size(); ++i)
    if (n.inputs[i] == v) return int(i);
  return -1;
}

const StaticInfo& GraphView::info(ValueId v) const {
  static const StaticInfo kUnknown;
  if (!info_done_) compute_static();
  return v >= 0 && size_t(v) < info_.size() ? info_[size_t(v)] : kUnknown;
}

bool GraphView::is_float(ValueId v) const {
  const Tensor* t = constant(v);
  return dtype_is_float(t ? t->dtype : info(v).dtype);
}

// Shape chains (Shape -> Gather -> Concat -> Slice/Reshape) decide later shapes: the data of
// small values computable from constants and static shapes is worked out too, so that one
// view sees through a whole chain. `outs` holds infer's result; on success its tensors get data.
void GraphView::compute_small(const Node& n, Kernel& k, const std::vector<const Value*>& ins,
                              const std::vector<uint8_t>& known, std::vector<Value>& outs) {
  constexpr size_t kSmall = 64 << 10;
  if (is_op(n, "Shape") && ins.size() == 1 && ins[0] != nullptr && outs.size() == 1) {
    auto dims = shape_op_result(n, ins[0]->tensor.shape);
    if (dims) outs[0] = Value::of(int64_tensor({int64_t(dims->size())}, *dims));
    return;
  }
  if (!k.deterministic()) return;
  size_t bytes = 0;
  for (size_t i = 0; i < ins.size(); ++i) {
    if (ins[i] == nullptr) continue;
    if (!known[i] || !ins[i]->is_tensor() || ins[i]->tensor.dtype == DataType::kString) return;
    bytes += ins[i]->tensor.nbytes();
  }
  for (const Value& v : outs) {
    if (!v.is_tensor() || v.tensor.dtype == DataType::kString) return;
    bytes += v.tensor.nbytes();
  }
  if (bytes > kSmall) return;
  std::vector<Value> computed;
  if (compute_node(n, k, ins, computed)) outs = std::move(computed);
}

// Runs every node's infer over what the declarations say: graph inputs with fully static
// declared shapes, constants with their data. A node with an unknown input shape, no reference
// kernel, or a failing infer leaves its outputs unknown (dtype still propagated where obvious).
void GraphView::compute_static() const {
  info_done_ = true;
  const Graph& g = *g_;
  info_.assign(g.values.size(), StaticInfo{});
  std::vector<Value> vals(g.values.size());
  std::vector<uint8_t> shape_known(g.values.size(), 0), data_known(g.values.size(), 0);
  for (const auto& [id, t] : g.constants) {
    if (id < 0 || size_t(id) >= vals.size()) continue;
    vals[size_t(id)] = Value::of(t);
    shape_known[size_t(id)] = data_known[size_t(id)] = 1;
    info_[size_t(id)] = {t.dtype, true, t.shape};
  }
  for (ValueId id : g.inputs) {
    const TypeInfo& t = g.values[size_t(id)].type;
    if (t.kind != TypeInfo::Kind::kTensor) continue;
    StaticInfo& si = info_[size_t(id)];
    si.dtype = t.dtype;
    bool all = t.has_shape && t.dtype != DataType::kUndefined;
    Shape s;
    for (const Dim& d : t.shape) {
      all &= d.is_static();
      s.push_back(d.value);
    }
    if (!all) continue;
    si.has_shape = true;
    si.shape = s;
    vals[size_t(id)] = Value::of(Tensor{t.dtype, s, nullptr, nullptr});
    shape_known[size_t(id)] = 1;
  }
  for (const Node& n : g.nodes) {
    bool all = n.implicit_inputs.empty();
    std::vector<const Value*> ins;
    std::vector<uint8_t> known;
    for (ValueId v : n.inputs) {
      if (v == kNoValue || size_t(v) >= vals.size()) { ins.push_back(nullptr); known.push_back(0); continue; }
      all &= shape_known[size_t(v)] != 0;
      ins.push_back(&vals[size_t(v)]);
      known.push_back(data_known[size_t(v)]);
    }
    bool done = false;
    if (all) {
      if (auto k = make_ref_kernel(n)) {
        std::vector<Value> outs;
        if (infer_node(n, *k, ins, known, outs)) {
          done = true;
          compute_small(n, *k, ins, known, outs);
          for (size_t j = 0; j < n.outputs.size(); ++j) {
            ValueId o = n.outputs[j];
            if (o == kNoValue || size_t(o) >= vals.size() || !outs[j].is_tensor()) continue;
            shape_known[size_t(o)] = 1;
            data_known[size_t(o)] = outs[j].tensor.data != nullptr;
            info_[size_t(o)] = {outs[j].tensor.dtype, true, outs[j].tensor.shape};
            vals[size_t(o)] = std::move(outs[j]);
          }
        }
      }
    }
    if (!done && keeps_dtype(n) && !n.inputs.empty() && !n.outputs.empty() && n.inputs[0] != kNoValue &&
        n.outputs[0] != kNoValue && size_t(n.inputs[0]) < info_.size() && size_t(n.outputs[0]) < info_.size())
      info_[size_t(n.outputs[0])].dtype = info_[size_t(n.inputs[0])].dtype;
  }
}

}  // namespace petrel::opt
