// QDQ fusion of the data-movement and averaging ops `petrel quantize` wraps in Q/DQ (beside
// qdq_fusion.cpp, which handles the GEMM-based ops):
//
//   DQ(x_q, s, zp) -> GlobalAveragePool -> Q(s_y, zp_y)  => petrel.QGlobalAveragePool(x_q, s, zp, s_y, zp_y)
//   DQ(x_q, s, zp) -> AveragePool (2-D) -> Q(s_y, zp_y)  => petrel.QAveragePool(same) + the pool's attributes
//   DQ(a_q, s_a, zp_a), DQ(b_q, ...), ... -> Concat -> Q(s_y, zp_y)
//       => petrel.QConcat(s_y, zp_y, a_q, s_a, zp_a, b_q, s_b, zp_b, ...) + axis
//
// The kernels (kernels/x86/qpool.cpp) sum the quantized values in int32 and requantize once;
// a Concat whose inputs already have the output's scale and zero point is a plain byte copy.
// Every parameter must be a per-tensor constant (as for qdq_fusion); the DequantizeLinear nodes
// stay while something else reads them. It runs after qdq_fusion, so its inputs may come from
// the ops that pass made (dtypes unknown to the optimizer: the kernels check them).
// PETREL_NO_QDQ_FUSION=1 turns this pass off too; PETREL_NO_QDQ_POOL_FUSION=1 this pass alone.
#include <cmath>
#include <cstdlib>
#include <optional>

#include "optimize/pass.hpp"
#include "optimize/rewrite_util.hpp"

namespace petrel::opt {
namespace {

bool is_8bit(DataType t) { return t == DataType::kUInt8 || t == DataType::kInt8; }

// A per-tensor (De)QuantizeLinear's parameters: constant float scale > 0, optional constant
// 8-bit zero point. (The same test as qdq_fusion's; kept here so the two passes stay separate.)
bool per_tensor_params(const GraphView& view, const Node& n, DataType* type) {
  if (n.inputs.size() < 2 || n.outputs.size() != 1) return false;
  const Tensor* st = view.constant(n.inputs[1]);
  if (st == nullptr || st->dtype != DataType::kFloat || st->numel() != 1) return false;
  const float s = st->as<float>()[0];
  if (!(s > 0.f) || !std::isfinite(s)) return false;
  *type = DataType::kUInt8;
  if (n.inputs.size() > 2 && n.inputs[2] != kNoValue) {
    const Tensor* zt = view.constant(n.inputs[2]);
    if (zt == nullptr || zt->numel() != 1 || !is_8bit(zt->dtype)) return false;
    *type = zt->dtype;
  }
  return true;
}

// DQ of a non-constant 8-bit activation: its node, or null.
const Node* match_dq(const GraphView& view, ValueId v) {
  const int p = view.producer(v);
  if (p < 0) return nullptr;
  const Node& dq = view.node(p);
  DataType t;
  if (!is_op(dq, "DequantizeLinear") || !per_tensor_params(view, dq, &t)) return nullptr;
  // The dtype may be unknown: the output of an op qdq_fusion made (whose kernel checks it).
  const DataType xt = view.info(dq.inputs[0]).dtype;
  if (view.constant(dq.inputs[0]) != nullptr || (xt != t && xt != DataType::kUndefined)) return nullptr;
  return &dq;
}

// The QuantizeLinear that alone reads y: its index, or -1.
int match_q_after(const GraphView& view, ValueId y) {
  const int c = view.sole_consumer(y);
  if (c < 0) return -1;
  const Node& q = view.node(c);
  DataType t;
  if (!is_op(q, "QuantizeLinear") || q.inputs[0] != y || !per_tensor_params(view, q, &t)) return -1;
  if (attr_i(q, "saturate", 1).value_or(0) != 1) return -1;
  return c;
}

ValueId input_or_none(const Node& n, size_t i) { return i < n.inputs.size() ? n.inputs[i] : kNoValue; }

class QdqPoolFusionPass final : public Pass {
 public:
  const char* name() const override { return "qdq_pool_fusion"; }
  void run(const GraphView& view, PatchList& out) override {
    for (const char* var : {"PETREL_NO_QDQ_FUSION", "PETREL_NO_QDQ_POOL_FUSION"}) {
      const char* off = std::getenv(var);
      if (off != nullptr && *off != '\0' && *off != '0') return;
    }
    for (int i = 0; i < view.num_nodes(); ++i) {
      const Node& n = view.node(i);
      if (is_op(n, "GlobalAveragePool") || is_op(n, "AveragePool")) fuse_pool(view, i, out);
      else if (is_op(n, "Concat")) fuse_concat(view, i, out);
    }
  }

 private:
  static void fuse_pool(const GraphView& view, int i, PatchList& out) {
    const Node& pool = view.node(i);
    const bool global = is_op(pool, "GlobalAveragePool");
    if (pool.inputs.size() != 1 || pool.outputs.size() != 1) return;
    const Node* dq = match_dq(view, pool.inputs[0]);
    if (dq == nullptr) return;
    // AveragePool: 2-D only (the kernel checks the input's rank).
    if (!global && attr_is(pool, "kernel_shape").value_or(std::vector<int64_t>{}).size() != 2) return;
    const int q = match_q_after(view, pool.outputs[0]);
    if (q < 0) return;
    const Node& qn = view.node(q);
    Patch p;
    p.rule = global ? "GlobalAveragePool" : "AveragePool";
    Node f = pool;
    f.op_type = global ? "QGlobalAveragePool" : "QAveragePool";
    f.domain = kPetrelDomain;
    f.inputs = {dq->inputs[0], dq->inputs[1], input_or_none(*dq, 2), qn.inputs[1], input_or_none(qn, 2)};
    f.outputs = {qn.outputs[0]};
    p.replace.emplace_back(i, std::move(f));
    p.remove.push_back(q);
    out.propose(std::move(p));
  }

  static void fuse_concat(const GraphView& view, int i, PatchList& out) {
    const Node& cat = view.node(i);
    if (cat.inputs.empty() || cat.outputs.size() != 1) return;
    if (!attr_i(cat, "axis", 0)) return;
    const int q = match_q_after(view, cat.outputs[0]);
    if (q < 0) return;
    const Node& qn = view.node(q);
    Node f = cat;
    f.op_type = "QConcat";
    f.domain = kPetrelDomain;
    f.inputs = {qn.inputs[1], input_or_none(qn, 2)};
    for (ValueId v : cat.inputs) {
      const Node* dq = v == kNoValue ? nullptr : match_dq(view, v);
      if (dq == nullptr) return;
      f.inputs.insert(f.inputs.end(), {dq->inputs[0], dq->inputs[1], input_or_none(*dq, 2)});
    }
    f.outputs = {qn.outputs[0]};
    Patch p;
    p.rule = "Concat";
    p.replace.emplace_back(i, std::move(f));
    p.remove.push_back(q);
    out.propose(std::move(p));
  }
};

}  // namespace

std::unique_ptr<Pass> make_qdq_pool_fusion_pass() { return std::make_unique<QdqPoolFusionPass>(); }

}  // namespace petrel::opt
