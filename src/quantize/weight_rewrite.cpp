// Dynamic quantization (MatMulInteger) and INT4 weight-only quantization (blocked DQ).
#include <algorithm>

#include "quantize/graph_edit.hpp"
#include "quantize/quant_params.hpp"
#include "quantize/quantizer.hpp"

namespace petrel::quant {
namespace {

bool excluded(const Node& n, const QuantizeOptions& o) {
  for (const std::string& e : o.exclude)
    if (e == n.name || e == n.op_type) return true;
  return false;
}

int64_t int_attr_or(const Node& n, const char* name, int64_t dflt) {
  const Attribute* a = n.attr(name);
  return a && a->type == AttrType::kInt ? a->i : dflt;
}
float float_attr_or(const Node& n, const char* name, float dflt) {
  const Attribute* a = n.attr(name);
  return a && a->type == AttrType::kFloat ? a->f : dflt;
}

Result<Tensor> transpose_2d(const Tensor& w) {
  PETREL_ASSIGN_OR_RETURN(Tensor t, Tensor::allocate(w.dtype, {w.shape[1], w.shape[0]}));
  const int64_t r = w.shape[0], c = w.shape[1];
  for (int64_t i = 0; i < r; ++i)
    for (int64_t j = 0; j < c; ++j) t.as<float>()[j * r + i] = w.as<float>()[i * c + j];
  return t;
}

}  // namespace

Status apply_dynamic(Graph& g, const QuantizeOptions& o, QuantizeReport* report) {
  GraphEditor ed(g);
  const size_t count = g.nodes.size();
  for (size_t i = 0; i < count; ++i) {
    Node& n = g.nodes[i];
    if (!n.domain.empty() || (n.op_type != "MatMul" && n.op_type != "Gemm")) continue;
    if (excluded(n, o)) {
      if (report) report->excluded.push_back(n.name + " (" + n.op_type + ")");
      continue;
    }
    if (n.inputs.size() < 2 || n.outputs.empty() || n.outputs[0] == kNoValue) continue;
    const Tensor* w = ed.constant(n.inputs[1]);
    if (!w || w->dtype != DataType::kFloat || w->rank() != 2 || ed.constant(n.inputs[0])) continue;
    const bool gemm = n.op_type == "Gemm";
    if (gemm && int_attr_or(n, "transA", 0)) {
      if (report) report->skipped.push_back(n.label() + ": transA is not supported by dynamic quantization");
      continue;
    }
    const float alpha = gemm ? float_attr_or(n, "alpha", 1.f) : 1.f;
    const float beta = gemm ? float_attr_or(n, "beta", 1.f) : 1.f;
    Tensor wk = *w;  // [K, N]
    if (gemm && int_attr_or(n, "transB", 0)) {
      PETREL_ASSIGN_OR_RETURN(wk, transpose_2d(*w));
    }
    auto wq = quantize_weight_int8(wk, o.per_channel ? 1 : -1);
    if (!wq) return wq.status().with_context(n.label());
    std::vector<float> scales = wq->scales;
    for (float& s : scales) s *= alpha;
    const std::string base = n.name.empty() ? g.values[size_t(n.outputs[0])].name : n.name;
    const ValueId x = n.inputs[0], y = n.outputs[0];
    const ValueId xq = ed.add_value(base + "_input_quantized"), xs = ed.add_value(base + "_input_scale"),
                  xz = ed.add_value(base + "_input_zero_point");
    const ValueId wqv = ed.add_constant(g.values[size_t(n.inputs[1])].name + "_quantized", std::move(wq->q));
    PETREL_ASSIGN_OR_RETURN(Tensor wz, scalar_tensor(DataType::kInt8, 0));
    const ValueId wzv = ed.add_constant(base + "_weight_zero_point", std::move(wz));
    PETREL_ASSIGN_OR_RETURN(Tensor wsc, scales.size() == 1 ? scalar_tensor(DataType::kFloat, scales[0]) : float_vector(scales));
    const ValueId wsv = ed.add_constant(base + "_weight_scale", std::move(wsc));
    const ValueId acc = ed.add_value(base + "_int32"), accf = ed.add_value(base + "_int32_float"),
                  sc = ed.add_value(base + "_scale");
    ed.maybe_drop(n.inputs[1]);
    // C of Gemm: beta * C added in float after rescaling.
    ValueId bias = kNoValue;
    if (gemm && n.inputs.size() > 2 && n.inputs[2] != kNoValue) {
      bias = n.inputs[2];
      if (beta != 1.f) {
        const Tensor* c = ed.constant(bias);
        if (!c || c->dtype != DataType::kFloat) {
          if (report) report->skipped.push_back(n.label() + ": beta != 1 with a non-constant C");
          continue;
        }
        PETREL_ASSIGN_OR_RETURN(Tensor cb, c->clone());
        for (int64_t e = 0; e < cb.numel(); ++e) cb.as<float>()[e] *= beta;
        bias = ed.add_constant(g.values[size_t(bias)].name + "_beta", std::move(cb));
      }
    }
    const ValueId scaled = bias == kNoValue ? y : ed.add_value(base + "_scaled");
    std::vector<Node> seq;
    seq.push_back(make_node(ed.node_name(base + "_DynamicQuantizeLinear"), "DynamicQuantizeLinear", {x}, {xq, xs, xz}));
    seq.push_back(make_node(ed.node_name(base + "_MatMulInteger"), "MatMulInteger", {xq, wqv, xz, wzv}, {acc}));
    Node cast = make_node(ed.node_name(base + "_Cast"), "Cast", {acc}, {accf});
    cast.attrs.push_back(int_attr("to", int64_t(DataType::kFloat)));
    seq.push_back(std::move(cast));
    seq.push_back(make_node(ed.node_name(base + "_scale_Mul"), "Mul", {xs, wsv}, {sc}));
    seq.push_back(make_node(ed.node_name(base + "_output_Mul"), "Mul", {accf, sc}, {scaled}));
    if (bias != kNoValue) seq.push_back(make_node(ed.node_name(base + "_bias_Add"), "Add", {scaled, bias}, {y}));
    // The original node is replaced: the sequence goes before it and it becomes an Identity-free
    // no-op by taking the last node's place.
    Node last = std::move(seq.back());
    seq.pop_back();
    for (Node& s : seq) ed.insert_before(i, std::move(s));
    n = std::move(last);
    if (report) report->quantized[gemm ? "Gemm" : "MatMul"]++;
  }
  return ed.commit();
}

Status apply_weight_only_int4(Graph& g, const QuantizeOptions& o, QuantizeReport* report) {
  if (o.block < 16 || (o.block & (o.block - 1)) != 0)
    return invalid_argument("--block must be a power of two >= 16 (ONNX Runtime's blocked DequantizeLinear), got " + std::to_string(o.block));
  GraphEditor ed(g);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    Node& n = g.nodes[i];
    if (!n.domain.empty() || (n.op_type != "Conv" && n.op_type != "Gemm" && n.op_type != "MatMul")) continue;
    if (excluded(n, o)) {
      if (report) report->excluded.push_back(n.name + " (" + n.op_type + ")");
      continue;
    }
    if (n.inputs.size() < 2) continue;
    const ValueId wv = n.inputs[1];
    const Tensor* w = ed.constant(wv);
    if (!w || w->dtype != DataType::kFloat) continue;
    // Blocks run along the reduction axis: MatMul/Gemm K; Conv weights [M, C/g, kh, kw] are
    // viewed as [M, C/g*kh*kw] (a Reshape after the DequantizeLinear restores them).
    Tensor w2 = *w;
    int64_t axis;
    if (n.op_type == "Conv") {
      if (w->rank() < 3) continue;
      w2.shape = {w->shape[0], w->numel() / std::max<int64_t>(1, w->shape[0])};
      axis = 1;
    } else if (n.op_type == "Gemm") {
      if (w->rank() != 2) continue;
      axis = int_attr_or(n, "transB", 0) ? 1 : 0;
    } else {
      if (w->rank() < 2) continue;
      axis = w->rank() - 2;
    }
    auto bq = quantize_blocked_int4(w2, axis, o.block);
    if (!bq) return bq.status().with_context(n.label());
    const std::string wname = g.values[size_t(wv)].name;
    const ValueId qv = ed.add_constant(wname + "_int4", std::move(bq->q));
    const ValueId sv = ed.add_constant(wname + "_scale", std::move(bq->scales));
    ValueId dv = ed.add_value(wname + "_dequantized");
    Node dq = make_node(ed.node_name(wname + "_DequantizeLinear"), "DequantizeLinear", {qv, sv}, {dv});
    dq.attrs.push_back(int_attr("axis", axis));
    dq.attrs.push_back(int_attr("block_size", o.block));
    ed.insert_front(std::move(dq));
    if (n.op_type == "Conv") {
      PETREL_ASSIGN_OR_RETURN(Tensor shape, Tensor::allocate(DataType::kInt64, {w->rank()}));
      for (int64_t d = 0; d < w->rank(); ++d) shape.as<int64_t>()[d] = w->shape[size_t(d)];
      const ValueId shv = ed.add_constant(wname + "_shape", std::move(shape));
      const ValueId rv = ed.add_value(wname + "_reshaped");
      ed.insert_front(make_node(ed.node_name(wname + "_Reshape"), "Reshape", {dv, shv}, {rv}));
      dv = rv;
    }
    n.inputs[1] = dv;
    ed.maybe_drop(wv);
    if (report) report->quantized[n.op_type]++;
  }
  return ed.commit();
}

}  // namespace petrel::quant
