#include "model_stats.hpp"

#include "core/fused_activation.hpp"

namespace petrel::cli {
namespace {

// Multiply-accumulates of the matrix ops at the planned shapes; -1 where a shape is unknown.
int64_t node_macs(const Node& n, const GraphExecutor& ex) {
  auto shape_of = [&](ValueId id, Shape& s) {
    if (id == kNoValue) return false;
    const Value& v = ex.planned_value(id);
    if (!v.is_tensor() || v.tensor.dtype == DataType::kUndefined) return false;
    s = v.tensor.shape;
    return true;
  };
  auto numel = [](const Shape& s) { int64_t x = 1; for (auto d : s) x *= d; return x; };
  Shape a, b, y;
  // petrel.Int4MatMul: A [..., K] times a 4-bit W (int4_fusion), y [..., N]: same count.
  const bool matmul = n.op_type == "MatMul" ||
                      (n.domain == "petrel" && (n.op_type == "FusedMatMul" || n.op_type == "Int4MatMul"));
  if (n.op_type == "Conv" || n.op_type == "ConvTranspose" || matmul || n.op_type == "Gemm") {
    if (n.inputs.size() < 2 || !shape_of(n.inputs[0], a) || !shape_of(n.inputs[1], b) || !shape_of(n.outputs[0], y)) return -1;
    if (b.empty() || a.empty()) return 0;
    if (n.op_type == "Conv") return b[0] ? numel(y) * (numel(b) / b[0]) : 0;
    if (n.op_type == "ConvTranspose") return b[0] ? numel(a) * (numel(b) / b[0]) : 0;
    if (matmul) return numel(y) * a.back();
    const Attribute* ta = n.attr("transA");
    int64_t k = (ta && ta->i) ? a[0] : a.back();
    return numel(y) * k;
  }
  return 0;
}

}  // namespace

int64_t count_macs(const Session::Impl& s, int* unknown) {
  int64_t macs = 0;
  *unknown = 0;
  const Graph& g = *s.model->graph;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    int64_t m = node_macs(g.nodes[i], *s.exec);
    if (m < 0) ++*unknown; else macs += m;
  }
  return macs;
}

int64_t count_macs_of(const std::string& path, const std::vector<Tensor>& inputs, int* unknown) {
  *unknown = 0;
  SessionOptions so;
  so.xnnpack = false;  // provider partitions hide their nodes' shapes from the executor
  auto sr = Session::open(path, so);
  if (!sr) return 0;
  Session& s = *sr.value();
  for (size_t i = 0; i < inputs.size() && i < s.inputs().size(); ++i)
    if (!s.set_input(i, inputs[i].dtype, inputs[i].shape, inputs[i].data)) return 0;
  Session::Impl& impl = session_internals(s);
  if (!impl.exec->plan(impl.bound)) return 0;
  return count_macs(impl, unknown);
}

std::string op_label(const Node& n) {
  std::string s = n.domain.empty() || n.domain == "ai.onnx" ? n.op_type : n.domain + "." + n.op_type;
  if (const Attribute* a = n.attr(kFusedActivationAttr); a != nullptr && a->type == AttrType::kString) s.append("+").append(a->s);
  return s;
}

}  // namespace petrel::cli
