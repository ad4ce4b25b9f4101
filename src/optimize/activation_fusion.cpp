// Activation fusion: Conv, ConvTranspose, Gemm, MatMul and petrel.FusedMatMul absorb the
// activation that is the only reader of their output, as "_petrel_activation" attributes
// (core/fused_activation.hpp). The producer takes over the activation's output ValueId.
// Also fused: the two-reader patterns y·Sigmoid(y) (Swish) and y·HardSigmoid(y) with
// alpha 1/6, beta 1/2 (HardSwish), whose only readers are the pattern itself.
#include <limits>

#include "core/fused_activation.hpp"
#include "optimize/pass.hpp"
#include "optimize/rewrite_util.hpp"

namespace petrel::opt {
namespace {

bool is_target(const Node& n) {
  return is_op(n, "Conv") || is_op(n, "ConvTranspose") || is_op(n, "Gemm") || is_op(n, "MatMul") ||
         is_petrel_op(n, "FusedMatMul") || is_petrel_op(n, "DynQMatMul") ||  // DynQMatMul: qdq_fusion
         is_petrel_op(n, "Int4MatMul");                                       // int4_fusion
}

bool is_hard_swish_sigmoid(const Node& n) {
  auto alpha = attr_f(n, "alpha", 0.2f), beta = attr_f(n, "beta", 0.5f);
  return alpha && beta && near(*alpha, 1.0 / 6.0, 1e-6) && near(*beta, 0.5, 1e-6);
}

// The activation computed by node `a` from its input 0, or nullopt if `a` is not one the
// contract has (or its parameters are not constants).
std::optional<FusedActivation> activation_of(const GraphView& view, const Node& a) {
  if (a.outputs.size() != 1 || a.outputs[0] == kNoValue || a.inputs.empty()) return std::nullopt;
  FusedActivation fa;
  if (is_op(a, "Relu") && a.inputs.size() == 1) {
    fa.kind = Activation::kRelu;
  } else if (is_op(a, "Sigmoid") && a.inputs.size() == 1) {
    fa.kind = Activation::kSigmoid;
  } else if (is_op(a, "HardSwish") && a.inputs.size() == 1) {
    fa.kind = Activation::kHardSwish;
  } else if (is_op(a, "LeakyRelu") && a.inputs.size() == 1) {
    auto alpha = attr_f(a, "alpha", 0.01f);
    if (!alpha) return std::nullopt;
    fa.kind = Activation::kLeakyRelu;
    fa.p0 = *alpha;
  } else if (is_op(a, "HardSigmoid") && a.inputs.size() == 1) {
    auto alpha = attr_f(a, "alpha", 0.2f), beta = attr_f(a, "beta", 0.5f);
    if (!alpha || !beta) return std::nullopt;
    fa.kind = Activation::kHardSigmoid;
    fa.p0 = *alpha;
    fa.p1 = *beta;
  } else if (is_op(a, "Gelu") && a.inputs.size() == 1) {
    auto approx = attr_s(a, "approximate", "none");
    if (!approx || (*approx != "none" && *approx != "tanh")) return std::nullopt;
    fa.kind = *approx == "tanh" ? Activation::kGeluTanh : Activation::kGelu;
  } else if (is_op(a, "Clip") && a.inputs.size() <= 3) {
    fa.kind = Activation::kClip;
    fa.p0 = -std::numeric_limits<float>::infinity();
    fa.p1 = std::numeric_limits<float>::infinity();
    for (size_t k = 1; k < a.inputs.size(); ++k) {
      if (a.inputs[k] == kNoValue) continue;
      const Tensor* t = view.constant(a.inputs[k]);
      if (t == nullptr || t->numel() != 1 || !dtype_is_float(t->dtype)) return std::nullopt;
      (k == 1 ? fa.p0 : fa.p1) = float(element_as_double(*t, 0));
    }
  } else {
    return std::nullopt;
  }
  return fa;
}

class ActivationFusionPass final : public Pass {
 public:
  const char* name() const override { return "activation_fusion"; }
  void run(const GraphView& view, PatchList& out) override {
    for (int i = 0; i < view.num_nodes(); ++i) {
      const Node& n = view.node(i);
      if (!is_target(n) || n.outputs.size() != 1 || n.outputs[0] == kNoValue || n.inputs.size() < 2) continue;
      if (has_fused_activation(n)) continue;
      // Gemm and MatMul also take integers; the contract is for float outputs only.
      if (!is_op(n, "Conv") && !is_op(n, "ConvTranspose") && !view.is_float(n.inputs[1]) && !view.is_float(n.inputs[0])) continue;
      const ValueId y = n.outputs[0];
      Patch p;
      FusedActivation fa;
      ValueId result = kNoValue;
      const int c = view.sole_consumer(y);
      if (c >= 0 && view.node(c).inputs[0] == y) {
        auto a = activation_of(view, view.node(c));
        if (!a) continue;
        fa = *a;
        p.remove.push_back(c);
        result = view.node(c).outputs[0];
        p.rule = n.op_type + "+" + fa.name();
      } else if (!match_gated(view, y, fa, p, result)) {
        continue;
      } else {
        p.rule = n.op_type + "+" + fa.name();
      }
      Node fused = n;
      fused.outputs[0] = result;
      fa.write_to(fused);
      p.replace.emplace_back(i, std::move(fused));
      out.propose(std::move(p));
    }
  }

 private:
  // y·Sigmoid(y) or y·HardSigmoid(y) (alpha 1/6, beta 1/2): y read by exactly the gate and the Mul.
  static bool match_gated(const GraphView& view, ValueId y, FusedActivation& fa, Patch& p, ValueId& result) {
    if (view.is_graph_output(y) || view.captured(y)) return false;
    const auto& uses = view.consumers(y);
    if (uses.size() != 2 || uses[0] == uses[1]) return false;
    for (int k = 0; k < 2; ++k) {
      const Node& gate = view.node(uses[size_t(k)]);
      const Node& mul = view.node(uses[size_t(1 - k)]);
      if (!is_op(mul, "Mul") || gate.inputs.size() != 1 || gate.outputs.size() != 1) continue;
      if (is_op(gate, "Sigmoid")) fa.kind = Activation::kSwish;
      else if (is_op(gate, "HardSigmoid") && is_hard_swish_sigmoid(gate)) fa.kind = Activation::kHardSwish;
      else continue;
      const ValueId g = gate.outputs[0];
      if (g == kNoValue || view.sole_consumer(g) != uses[size_t(1 - k)] || other_input(mul, g) != y) continue;
      if (mul.outputs.size() != 1 || mul.outputs[0] == kNoValue) continue;
      p.remove.push_back(uses[size_t(k)]);
      p.remove.push_back(uses[size_t(1 - k)]);
      result = mul.outputs[0];
      return true;
    }
    return false;
  }
};

class HardSwishPass final : public Pass {
 public:
  const char* name() const override { return "hard_swish"; }
  // HardSigmoid(x)·x with alpha 1/6, beta 1/2 is HardSwish(x) for any producer of x.
  void run(const GraphView& view, PatchList& out) override {
    for (int i = 0; i < view.num_nodes(); ++i) {
      const Node& hs = view.node(i);
      if (!is_op(hs, "HardSigmoid") || hs.inputs.size() != 1 || hs.outputs.size() != 1 || !is_hard_swish_sigmoid(hs)) continue;
      const int m = view.sole_consumer(hs.outputs[0]);
      if (m < 0) continue;
      const Node& mul = view.node(m);
      if (!is_op(mul, "Mul") || mul.outputs.size() != 1 || other_input(mul, hs.outputs[0]) != hs.inputs[0]) continue;
      Patch p;
      p.rule = "HardSigmoid*x";
      p.remove.push_back(i);
      p.replace.emplace_back(m, make_node("HardSwish", "", {hs.inputs[0]}, mul.outputs, mul.name));
      out.propose(std::move(p));
    }
  }
};

}  // namespace

std::unique_ptr<Pass> make_activation_fusion_pass() { return std::make_unique<ActivationFusionPass>(); }
std::unique_ptr<Pass> make_hard_swish_pass() { return std::make_unique<HardSwishPass>(); }

}  // namespace petrel::opt
