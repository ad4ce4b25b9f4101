#include "core/fused_activation.hpp"

#include <algorithm>
#include <cmath>

namespace petrel {
namespace {

struct Entry {
  const char* name;
  Activation kind;
  int params;
};
constexpr Entry kEntries[] = {
    {"Relu", Activation::kRelu, 0},       {"Clip", Activation::kClip, 2},
    {"LeakyRelu", Activation::kLeakyRelu, 1}, {"Sigmoid", Activation::kSigmoid, 0},
    {"HardSigmoid", Activation::kHardSigmoid, 2}, {"HardSwish", Activation::kHardSwish, 0},
    {"Swish", Activation::kSwish, 0},     {"Gelu", Activation::kGelu, 0},
    {"GeluTanh", Activation::kGeluTanh, 0},
};

}  // namespace

Result<FusedActivation> FusedActivation::from_node(const Node& node) {
  FusedActivation fa;
  const Attribute* a = node.attr(kFusedActivationAttr);
  if (a == nullptr) return fa;
  for (const Entry& e : kEntries) {
    if (a->s != e.name) continue;
    fa.kind = e.kind;
    if (e.params > 0) {
      const Attribute* p = node.attr(kFusedActivationParamsAttr);
      if (p == nullptr || int(p->floats.size()) < e.params)
        return invalid_model(node.label() + ": fused activation " + e.name + " needs " + std::to_string(e.params) + " parameters");
      fa.p0 = p->floats[0];
      if (e.params > 1) fa.p1 = p->floats[1];
    }
    return fa;
  }
  return invalid_model(node.label() + ": unknown fused activation '" + a->s + "'");
}

const char* FusedActivation::name() const {
  for (const Entry& e : kEntries)
    if (e.kind == kind) return e.name;
  return "";
}

void FusedActivation::write_to(Node& node) const {
  std::erase_if(node.attrs, [](const Attribute& a) {
    return a.name == kFusedActivationAttr || a.name == kFusedActivationParamsAttr;
  });
  if (kind == Activation::kNone) return;
  Attribute a;
  a.name = kFusedActivationAttr;
  a.type = AttrType::kString;
  a.s = name();
  node.attrs.push_back(std::move(a));
  int params = 0;
  for (const Entry& e : kEntries)
    if (e.kind == kind) params = e.params;
  if (params > 0) {
    Attribute p;
    p.name = kFusedActivationParamsAttr;
    p.type = AttrType::kFloats;
    p.floats = {p0, p1};
    p.floats.resize(size_t(params));
    node.attrs.push_back(std::move(p));
  }
}

float FusedActivation::apply_one(float x) const {
  switch (kind) {
    case Activation::kNone: return x;
    case Activation::kRelu: return x > 0 ? x : 0.0f;
    case Activation::kClip: return std::min(std::max(x, p0), p1);
    case Activation::kLeakyRelu: return x >= 0 ? x : p0 * x;
    case Activation::kSigmoid: return 1.0f / (1.0f + std::exp(-x));
    case Activation::kHardSigmoid: return std::max(0.0f, std::min(1.0f, p0 * x + p1));
    case Activation::kHardSwish: return x * std::max(0.0f, std::min(1.0f, x / 6.0f + 0.5f));
    case Activation::kSwish: return x / (1.0f + std::exp(-x));
    case Activation::kGelu: return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f));
    case Activation::kGeluTanh:
      return 0.5f * x * (1.0f + std::tanh(0.7978845608028654f * (x + 0.044715f * x * x * x)));
  }
  return x;
}

void FusedActivation::apply(float* data, int64_t n) const {
  // One loop per kind (same expressions as apply_one) so that the piecewise-linear ones
  // vectorise: a switch per element would cost more than the convolution's epilogue saves.
  const float a = p0, b = p1;
  switch (kind) {
    case Activation::kNone: return;
    case Activation::kRelu:
      for (int64_t i = 0; i < n; ++i) data[i] = data[i] > 0 ? data[i] : 0.0f;
      return;
    case Activation::kClip:
      for (int64_t i = 0; i < n; ++i) data[i] = std::min(std::max(data[i], a), b);
      return;
    case Activation::kLeakyRelu:
      for (int64_t i = 0; i < n; ++i) data[i] = data[i] >= 0 ? data[i] : a * data[i];
      return;
    case Activation::kHardSigmoid:
      for (int64_t i = 0; i < n; ++i) data[i] = std::max(0.0f, std::min(1.0f, a * data[i] + b));
      return;
    case Activation::kHardSwish:
      for (int64_t i = 0; i < n; ++i) data[i] = data[i] * std::max(0.0f, std::min(1.0f, data[i] / 6.0f + 0.5f));
      return;
    default:
      for (int64_t i = 0; i < n; ++i) data[i] = apply_one(data[i]);
      return;
  }
}

}  // namespace petrel
