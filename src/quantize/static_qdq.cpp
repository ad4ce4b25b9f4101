// Static INT8 quantization: the plan (which nodes and tensors) and the QDQ rewrite.
#include <algorithm>
#include <set>

#include "quantize/graph_edit.hpp"
#include "quantize/quant_params.hpp"
#include "quantize/quantizer.hpp"

namespace petrel::quant {
namespace {

bool is_weighted(const std::string& op) { return op == "Conv" || op == "Gemm" || op == "MatMul"; }
bool is_quantizable(const Node& n) {
  static const std::set<std::string> ops = {"Conv", "Gemm", "MatMul", "Add", "Mul", "MaxPool", "AveragePool",
                                            "GlobalAveragePool", "Concat", "Relu", "Clip"};
  return n.domain.empty() && ops.count(n.op_type);
}
bool excluded(const Node& n, const QuantizeOptions& o) {
  for (const std::string& e : o.exclude)
    if (e == n.name || e == n.op_type) return true;
  return false;
}

// A Clip whose bounds are constants (or absent) can be fused.
bool fusable_activation(const Graph& g, const Node& n) {
  if (!n.domain.empty()) return false;
  if (n.op_type == "Relu") return true;
  if (n.op_type != "Clip") return false;
  for (size_t k = 1; k < n.inputs.size(); ++k)
    if (n.inputs[k] != kNoValue && !g.constant(n.inputs[k])) return false;
  return true;
}

// Output-channel axis of a weight: Conv axis 0; Gemm B [K,N] axis 1, transB [N,K] axis 0;
// MatMul B [..., K, N] the last axis.
int64_t weight_axis(const Node& n, const Tensor& w) {
  if (n.op_type == "Conv") return 0;
  if (n.op_type == "Gemm") {
    const Attribute* t = n.attr("transB");
    return t && t->type == AttrType::kInt && t->i ? 0 : 1;
  }
  return w.rank() - 1;
}

}  // namespace

StaticPlan plan_static(const Graph& g, const QuantizeOptions& o, const std::vector<size_t>* only,
                       const std::set<size_t>* keep_float) {
  StaticPlan p;
  std::vector<int> readers(g.values.size(), 0);
  std::vector<int> producer(g.values.size(), -1);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    for (ValueId v : g.nodes[i].inputs)
      if (v != kNoValue) readers[size_t(v)]++;
    for (ValueId v : g.nodes[i].implicit_inputs) readers[size_t(v)] += 2;  // never fused
    for (ValueId v : g.nodes[i].outputs)
      if (v != kNoValue) producer[size_t(v)] = int(i);
  }
  std::set<ValueId> outputs(g.outputs.begin(), g.outputs.end());
  std::set<ValueId> tensors;
  std::set<size_t> chosen;
  std::set<size_t> fused_acts;  // activations absorbed by their producer
  auto wanted = [&](size_t i) { return !only || std::find(only->begin(), only->end(), i) != only->end(); };
  auto in_float = [&](size_t i) { return excluded(g.nodes[i], o) || (keep_float && keep_float->count(i)); };
  auto add_tensor = [&](ValueId v) {
    if (v == kNoValue || g.constant(v)) return;
    if (outputs.count(v) && !o.quantize_outputs) return;
    tensors.insert(v);
  };
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if (!is_quantizable(n) || fused_acts.count(i) || !wanted(i)) continue;
    if (in_float(i)) {
      // Mixed precision with int8 fallback weights: the layer computes in float on float
      // activations, but its weights are still stored as int8 + DequantizeLinear.
      if (o.fallback_int8_weights && is_weighted(n.op_type) && !excluded(n, o)) chosen.insert(i);
      p.excluded.push_back(i);
      continue;
    }
    chosen.insert(i);
    const size_t n_act_inputs = (n.op_type == "Clip" || n.op_type == "Conv" || n.op_type == "Gemm") ? 1 : n.inputs.size();
    for (size_t k = 0; k < n.inputs.size() && k < n_act_inputs; ++k) add_tensor(n.inputs[k]);
    if ((n.op_type == "Gemm" || n.op_type == "Conv") && n.inputs.size() > 1 && !g.constant(n.inputs[1])) add_tensor(n.inputs[1]);
    if (n.outputs.empty() || n.outputs[0] == kNoValue) continue;
    ValueId out = n.outputs[0];
    // Conv/Gemm/MatMul/Add followed by their only reader Relu/Clip: Q/DQ after the activation.
    if ((is_weighted(n.op_type) || n.op_type == "Add") && readers[size_t(out)] == 1 && !outputs.count(out)) {
      for (size_t j = i + 1; j < g.nodes.size(); ++j) {
        const Node& a = g.nodes[j];
        if (a.inputs.empty() || a.inputs[0] != out) continue;
        if (fusable_activation(g, a) && !in_float(j)) {
          fused_acts.insert(j);
          chosen.insert(j);
          out = a.outputs.empty() ? kNoValue : a.outputs[0];
        }
        break;
      }
    }
    add_tensor(out);
    if (n.op_type == "MaxPool" && out == n.outputs[0] && n.outputs.size() == 1 && tensors.count(out) && tensors.count(n.inputs[0]))
      p.same_as[out] = n.inputs[0];
  }
  p.nodes.assign(chosen.begin(), chosen.end());
  p.tensors.assign(tensors.begin(), tensors.end());
  return p;
}

Status apply_static(Graph& g, const StaticPlan& plan, const std::map<ValueId, Range>& ranges, const QuantizeOptions& o,
                    QuantizeReport* report) {
  GraphEditor ed(g);
  const bool u8 = o.calib.unsigned_act;
  std::map<ValueId, QParams> params;
  for (ValueId v : plan.tensors) {
    auto it = ranges.find(v);
    if (it != ranges.end()) params[v] = activation_params(it->second, u8, o.calib.reduce_range);
  }
  for (auto [v, src] : plan.same_as)
    if (params.count(v) && params.count(src)) params[v] = params[src];

  // Activations: Q -> DQ after the producer; readers move to the DQ output.
  std::map<ValueId, ValueId> orig_of;  // DQ output -> the tensor it stands for
  int tensors = 0;
  // Tensors with identical parameters (MaxPool outputs and their inputs) share the constants.
  std::map<std::pair<float, int32_t>, std::pair<ValueId, ValueId>> shared;
  for (auto& [v, p] : params) {
    const std::string base = g.values[size_t(v)].name;
    auto key = std::make_pair(p.scale, p.zero_point);
    auto sh = shared.find(key);
    if (sh == shared.end()) {
      PETREL_ASSIGN_OR_RETURN(Tensor s, scalar_tensor(DataType::kFloat, p.scale));
      PETREL_ASSIGN_OR_RETURN(Tensor z, scalar_tensor(p.dtype, p.zero_point));
      const ValueId s_id = ed.add_constant(base + "_s", std::move(s));
      const ValueId z_id = ed.add_constant(base + "_zp", std::move(z));
      sh = shared.emplace(key, std::make_pair(s_id, z_id)).first;
    }
    const ValueId sv = sh->second.first, zv = sh->second.second;
    const ValueId qv = ed.add_value(base + "_q");
    const ValueId dv = ed.add_value(base + "_dq");
    ed.rewire(v, dv);
    ed.insert_after_value(v, make_node(ed.node_name(base + "_Q"), "QuantizeLinear", {v, sv, zv}, {qv}));
    ed.insert_after_value(v, make_node(ed.node_name(base + "_DQ"), "DequantizeLinear", {qv, sv, zv}, {dv}));
    if (ed.is_graph_output(v)) ed.take_over_output(v, dv, "_float");
    orig_of[dv] = v;
    ++tensors;
  }

  // Weights, biases and constant operands of the quantized nodes.
  // A constant as quantized data + DequantizeLinear. Symmetric weights and int32 biases have
  // zero point 0, which is DequantizeLinear's default: their zero-point input is omitted.
  auto dequant_const = [&](const std::string& base, Tensor q, Tensor scale, const Tensor* zp, int64_t axis) {
    const ValueId qv = ed.add_constant(base + "_q", std::move(q));
    const ValueId sv = ed.add_constant(base + "_s", std::move(scale));
    std::vector<ValueId> in{qv, sv};
    if (zp) in.push_back(ed.add_constant(base + "_zp", *zp));
    const ValueId dv = ed.add_value(base + "_dq");
    Node n = make_node(ed.node_name(base + "_DQ"), "DequantizeLinear", std::move(in), {dv});
    if (axis >= 0) n.attrs.push_back(int_attr("axis", axis));
    ed.insert_front(std::move(n));
    return dv;
  };
  for (size_t i : plan.nodes) {
    Node& n = g.nodes[i];
    if (report) report->quantized[n.op_type]++;
    if (is_weighted(n.op_type) && n.inputs.size() >= 2) {
      const ValueId wv = n.inputs[1];
      const Tensor* w = ed.constant(wv);
      if (!w || w->dtype != DataType::kFloat) continue;
      const int64_t axis = o.per_channel ? weight_axis(n, *w) : -1;
      auto wq = quantize_weight_int8(*w, axis);
      if (!wq) {
        if (report) report->skipped.push_back(n.label() + ": " + wq.status().message());
        continue;
      }
      const std::string wname = g.values[size_t(wv)].name;
      const bool per_axis = axis >= 0;
      PETREL_ASSIGN_OR_RETURN(Tensor sc, per_axis ? float_vector(wq->scales) : scalar_tensor(DataType::kFloat, wq->scales[0]));
      const std::vector<float> wscales = wq->scales;
      n.inputs[1] = dequant_const(wname, std::move(wq->q), std::move(sc), nullptr, per_axis ? axis : -1);
      ed.maybe_drop(wv);
      // Bias: int32 with scale s_x * s_w, only when the input is quantized and the bias is 1-D.
      const size_t bslot = 2;
      if (n.op_type == "MatMul" || n.inputs.size() <= bslot || n.inputs[bslot] == kNoValue) continue;
      const ValueId bv = n.inputs[bslot];
      const Tensor* b = ed.constant(bv);
      // The input was rewired to its DQ output above: find the original tensor's parameters.
      auto orig = orig_of.find(n.inputs[0]);
      auto pin = orig == orig_of.end() ? params.end() : params.find(orig->second);
      const Attribute* beta = n.attr("beta");
      if (!b || b->dtype != DataType::kFloat || b->rank() != 1 || pin == params.end() || (beta && beta->f != 1.0f)) continue;
      if (int64_t(wscales.size()) != b->numel() && wscales.size() != 1) continue;
      auto bq = quantize_bias_int32(*b, pin->second.scale, wscales);
      if (!bq) continue;
      // Per-tensor weights give one bias scale for every channel; a 1-element bias likewise.
      const bool bias_axis = per_axis && bq->scales.size() > 1;
      const std::vector<float> bscales = bq->scales;
      PETREL_ASSIGN_OR_RETURN(Tensor bsc, bias_axis ? float_vector(bscales) : scalar_tensor(DataType::kFloat, bscales[0]));
      n.inputs[bslot] = dequant_const(g.values[size_t(bv)].name, std::move(bq->q), std::move(bsc), nullptr, bias_axis ? 0 : -1);
      ed.maybe_drop(bv);
    } else if (n.op_type == "Add" || n.op_type == "Mul") {
      for (size_t k = 0; k < n.inputs.size(); ++k) {
        const ValueId cv = n.inputs[k];
        const Tensor* c = cv == kNoValue ? nullptr : ed.constant(cv);
        if (!c || c->dtype != DataType::kFloat) continue;
        auto cq = quantize_constant(*c, u8);
        if (!cq) continue;
        PETREL_ASSIGN_OR_RETURN(Tensor sc, scalar_tensor(DataType::kFloat, cq->p.scale));
        PETREL_ASSIGN_OR_RETURN(Tensor zp, scalar_tensor(cq->p.dtype, cq->p.zero_point));
        n.inputs[k] = dequant_const(g.values[size_t(cv)].name, std::move(cq->q), std::move(sc), &zp, -1);
        ed.maybe_drop(cv);
      }
    }
  }
  if (report) report->tensors += tensors;
  return ed.commit();
}

}  // namespace petrel::quant
