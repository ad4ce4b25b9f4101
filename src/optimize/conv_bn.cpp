// Conv + BatchNormalization (inference) -> Conv with scaled weights and a new bias:
//   s = scale / sqrt(var + eps);  W'[m] = W[m] * s[m];  B'[m] = (B[m] - mean[m]) * s[m] + beta[m]
#include <cmath>

#include "optimize/pass.hpp"
#include "optimize/rewrite_util.hpp"

namespace petrel::opt {
namespace {

const Tensor* float_vector(const GraphView& view, ValueId v, int64_t n) {
  const Tensor* t = view.constant(v);
  if (t == nullptr || t->dtype != DataType::kFloat || t->rank() != 1 || t->shape[0] != n) return nullptr;
  return t;
}

class ConvBnPass final : public Pass {
 public:
  const char* name() const override { return "conv_bn"; }
  void run(const GraphView& view, PatchList& out) override {
    for (int i = 0; i < view.num_nodes(); ++i) {
      const Node& conv = view.node(i);
      if (!is_op(conv, "Conv") || conv.inputs.size() < 2 || conv.outputs.size() != 1 || has_fused_activation(conv)) continue;
      const int b = view.sole_consumer(conv.outputs[0]);
      if (b < 0) continue;
      const Node& bn = view.node(b);
      if (!is_op(bn, "BatchNormalization") || bn.inputs.size() != 5 || bn.inputs[0] != conv.outputs[0]) continue;
      if (attr_i(bn, "training_mode", 0) != 0) continue;
      bool extra_used = false;
      for (size_t k = 1; k < bn.outputs.size(); ++k) extra_used |= bn.outputs[k] != kNoValue && view.use_count(bn.outputs[k]) > 0;
      if (extra_used || bn.outputs[0] == kNoValue) continue;
      auto eps = attr_f(bn, "epsilon", 1e-5f);
      const Tensor* w = view.constant(conv.inputs[1]);
      if (!eps || w == nullptr || w->dtype != DataType::kFloat || w->rank() < 3 || w->shape[0] <= 0) continue;
      const int64_t M = w->shape[0];
      const Tensor* cb = conv.inputs.size() > 2 && conv.inputs[2] != kNoValue ? float_vector(view, conv.inputs[2], M) : nullptr;
      if (conv.inputs.size() > 2 && conv.inputs[2] != kNoValue && cb == nullptr) continue;
      const Tensor* scale = float_vector(view, bn.inputs[1], M);
      const Tensor* beta = float_vector(view, bn.inputs[2], M);
      const Tensor* mean = float_vector(view, bn.inputs[3], M);
      const Tensor* var = float_vector(view, bn.inputs[4], M);
      if (!scale || !beta || !mean || !var) continue;

      Tensor nw = float_tensor(w->shape, {});
      Tensor nb = float_tensor({M}, {});
      if (nw.data == nullptr || nb.data == nullptr) continue;
      const int64_t per = w->numel() / M;
      bool finite = true;
      for (int64_t m = 0; m < M; ++m) {
        const double s = double(scale->as<float>()[m]) / std::sqrt(double(var->as<float>()[m]) + double(*eps));
        finite &= std::isfinite(s);
        for (int64_t k = 0; k < per; ++k) nw.as<float>()[m * per + k] = float(double(w->as<float>()[m * per + k]) * s);
        const double b0 = cb ? double(cb->as<float>()[m]) : 0.0;
        nb.as<float>()[m] = float((b0 - double(mean->as<float>()[m])) * s + double(beta->as<float>()[m]));
      }
      if (!finite) continue;  // a zero variance with eps 0: leave the BN to report it at run time
      Patch p;
      p.rule = "Conv+BatchNormalization";
      const ValueId wid = out.new_value(view.graph().values[size_t(conv.inputs[1])].name);
      const ValueId bid = out.new_value(view.graph().values[size_t(bn.outputs[0])].name + "_bias");
      p.constants.emplace_back(wid, std::move(nw));
      p.constants.emplace_back(bid, std::move(nb));
      Node nc = conv;
      nc.inputs = {conv.inputs[0], wid, bid};
      nc.outputs = {bn.outputs[0]};
      p.replace.emplace_back(i, std::move(nc));
      p.remove.push_back(b);
      out.propose(std::move(p));
    }
  }
};

}  // namespace

std::unique_ptr<Pass> make_conv_bn_pass() { return std::make_unique<ConvBnPass>(); }

}  // namespace petrel::opt
