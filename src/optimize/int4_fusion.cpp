// INT4 fusion: the weight-only 4-bit pattern `petrel quantize --bits 4 --weights-only` writes
// (docs/quantization.md), kept 4-bit at run time instead of being folded to float:
//
//   DequantizeLinear(W int4|uint4 const 2-D, scale const, [zp const]; axis = K axis, block_size)
//     -> MatMul(A, ·) [-> Add(bias const [N])]                => petrel.Int4MatMul(A, W, s, zp, bias)
//     -> Gemm(A, ·, [C const [N]]) transA 0, alpha = beta = 1  => the same with transB
//
// The fused kernel (kernels/x86/int4_ops.cpp) unpacks W block by block inside the GEMM, so the
// model runs with ~1/6 of the float weights' memory. It runs before constant folding, which
// would otherwise turn the DequantizeLinear into a float constant. The DequantizeLinear itself
// disappears (dead nodes) once nothing else reads it. Conv weights (DQ -> Reshape -> Conv) are
// left alone and fold to float. PETREL_NO_INT4_FUSION=1 turns the pass off (the float path).
#include <cstdlib>

#include "optimize/pass.hpp"
#include "optimize/rewrite_util.hpp"

namespace petrel::opt {
namespace {

bool is_4bit(DataType t) { return t == DataType::kInt4 || t == DataType::kUInt4; }

struct BlockedW {
  ValueId q = kNoValue, scale = kNoValue, zp = kNoValue;
  int64_t block = 0;
};

// DQ of a 2-D 4-bit constant with blocks along `k_axis` and scales of the blocked shape.
std::optional<BlockedW> match_blocked_dq(const GraphView& view, ValueId v, int64_t k_axis) {
  const int p = view.producer(v);
  if (p < 0) return std::nullopt;
  const Node& dq = view.node(p);
  if (!is_op(dq, "DequantizeLinear") || dq.inputs.size() < 2 || dq.outputs.size() != 1) return std::nullopt;
  BlockedW b;
  b.q = dq.inputs[0], b.scale = dq.inputs[1], b.zp = dq.inputs.size() > 2 ? dq.inputs[2] : kNoValue;
  const Tensor* w = view.constant(b.q);
  const Tensor* s = view.constant(b.scale);
  if (w == nullptr || !is_4bit(w->dtype) || w->rank() != 2) return std::nullopt;
  auto axis = attr_i(dq, "axis", 1);
  auto block = attr_i(dq, "block_size", 0);
  if (!axis || !block || *block < 1) return std::nullopt;
  if ((*axis < 0 ? *axis + 2 : *axis) != k_axis) return std::nullopt;
  b.block = *block;
  Shape want = w->shape;
  want[size_t(k_axis)] = (want[size_t(k_axis)] + b.block - 1) / b.block;
  if (s == nullptr || s->dtype != DataType::kFloat || s->shape != want) return std::nullopt;
  if (b.zp != kNoValue) {
    const Tensor* z = view.constant(b.zp);
    if (z == nullptr || z->dtype != w->dtype || z->shape != want) return std::nullopt;
  }
  return b;
}

class Int4FusionPass final : public Pass {
 public:
  const char* name() const override { return "int4_fusion"; }
  void run(const GraphView& view, PatchList& out) override {
    const char* off = std::getenv("PETREL_NO_INT4_FUSION");
    if (off != nullptr && *off != '\0' && *off != '0') return;
    for (int i = 0; i < view.num_nodes(); ++i) {
      const Node& n = view.node(i);
      if ((is_op(n, "MatMul") || is_op(n, "Gemm")) && !has_fused_activation(n)) fuse(view, i, out);
    }
  }

 private:
  static void fuse(const GraphView& view, int i, PatchList& out) {
    const Node& mm = view.node(i);
    const bool gemm = is_op(mm, "Gemm");
    if (mm.inputs.size() < 2 || mm.outputs.size() != 1) return;
    int64_t tb = 0;
    if (gemm) {
      auto ta = attr_i(mm, "transA", 0);
      auto tbv = attr_i(mm, "transB", 0);
      auto al = attr_f(mm, "alpha", 1.f);
      auto be = attr_f(mm, "beta", 1.f);
      if (!ta || *ta != 0 || !tbv || (*tbv != 0 && *tbv != 1) || !al || *al != 1.f || !be || *be != 1.f) return;
      tb = *tbv;
    } else if (mm.inputs.size() != 2) {
      return;
    }
    // A: float with a known rank (Gemm: 2; MatMul: >= 1 — the kernel keeps A's leading dims).
    const StaticInfo& ai = view.info(mm.inputs[0]);
    if (ai.dtype != DataType::kFloat || !ai.has_shape || ai.shape.empty() || (gemm && ai.shape.size() != 2)) return;
    auto w = match_blocked_dq(view, mm.inputs[1], tb ? 1 : 0);
    if (!w) return;
    const Tensor* wt = view.constant(w->q);
    const int64_t N = wt->shape[tb ? 0 : 1];
    Patch p;
    p.rule = gemm ? "DequantizeLinear(int4)+Gemm" : "DequantizeLinear(int4)+MatMul";
    ValueId y = mm.outputs[0], bias = kNoValue;
    auto flat_bias = [&](ValueId v) -> ValueId {
      const Tensor* bt = view.constant(v);
      if (bt == nullptr || bt->dtype != DataType::kFloat || bt->numel() != N || bt->shape.empty() || bt->shape.back() != N) return kNoValue;
      if (bt->rank() == 1) return v;
      // [1, N] (Gemm's C): the same data seen as [N].
      if (bt->rank() != 2) return kNoValue;
      const ValueId flat = out.new_value(view.graph().values[size_t(v)].name);
      Tensor t = *bt;
      t.shape = {N};
      p.constants.emplace_back(flat, std::move(t));
      return flat;
    };
    if (gemm && mm.inputs.size() > 2 && mm.inputs[2] != kNoValue) {
      bias = flat_bias(mm.inputs[2]);
      if (bias == kNoValue) return;  // a C that is not one row: leave the Gemm alone
    } else if (!gemm) {
      const int a = view.sole_consumer(y);
      if (a >= 0 && is_op(view.node(a), "Add") && view.node(a).outputs.size() == 1 && view.node(a).inputs.size() == 2) {
        const Tensor* bt = view.constant(other_input(view.node(a), y));
        // Only a bias of rank <= the output's (else the Add would broadcast to a larger shape).
        if (bt != nullptr && bt->rank() <= int64_t(ai.shape.size())) {
          const ValueId b = flat_bias(other_input(view.node(a), y));
          if (b != kNoValue) {
            bias = b;
            y = view.node(a).outputs[0];
            p.remove.push_back(a);
          }
        }
      }
    }
    Node f = make_node("Int4MatMul", kPetrelDomain, {mm.inputs[0], w->q, w->scale, w->zp, bias}, {y}, mm.name);
    f.attrs.push_back(make_attr_int("transB", tb));
    f.attrs.push_back(make_attr_int("block_size", w->block));
    p.replace.emplace_back(i, std::move(f));
    out.propose(std::move(p));
  }
};

}  // namespace

std::unique_ptr<Pass> make_int4_fusion_pass() { return std::make_unique<Int4FusionPass>(); }

}  // namespace petrel::opt
