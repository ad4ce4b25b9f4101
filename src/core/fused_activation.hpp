// An activation fused into the node that produces its input (Conv, ConvTranspose, Gemm, MatMul)
// by the optimizer (src/optimize). This header is the contract between the optimizer, which
// writes it, and every kernel or provider that runs such a node, which must honour it.
//
// On the node: attribute "_petrel_activation" (string, one of the names below) and, where the
// activation has parameters, "_petrel_activation_params" (floats):
//   Relu                       y = max(x, 0)
//   Clip        {min, max}     y = min(max(x, min), max)         (Relu6 is Clip {0, 6})
//   LeakyRelu   {alpha}        y = x >= 0 ? x : alpha * x
//   Sigmoid                    y = 1 / (1 + exp(-x))
//   HardSigmoid {alpha, beta}  y = max(0, min(1, alpha * x + beta))
//   HardSwish                  y = x * max(0, min(1, x / 6 + 0.5))   (HardSigmoid·x, alpha 1/6)
//   Swish                      y = x * sigmoid(x)                    (SiLU: Sigmoid·x)
//   Gelu                       y = 0.5 x (1 + erf(x / sqrt 2))
//   GeluTanh                   y = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
// Names starting with '_' are never written to ONNX files.
#pragma once

#include <cstdint>
#include <string>

#include "core/graph.hpp"
#include "core/status.hpp"

namespace petrel {

enum class Activation : uint8_t { kNone, kRelu, kClip, kLeakyRelu, kSigmoid, kHardSigmoid, kHardSwish, kSwish, kGelu, kGeluTanh };

inline constexpr const char* kFusedActivationAttr = "_petrel_activation";
inline constexpr const char* kFusedActivationParamsAttr = "_petrel_activation_params";

struct FusedActivation {
  Activation kind = Activation::kNone;
  float p0 = 0, p1 = 0;  // Clip {min, max}; LeakyRelu {alpha}; HardSigmoid {alpha, beta}

  bool none() const { return kind == Activation::kNone; }
  // Reads the attributes of `node` (kNone when absent); an error for an unknown name or a
  // missing/short parameter list.
  static Result<FusedActivation> from_node(const Node& node);
  // Writes the attributes onto `node` (replacing any previous ones); kNone removes them.
  void write_to(Node& node) const;
  // Name as stored in the attribute ("" for kNone).
  const char* name() const;
  // Portable reference: applies the activation in place to n floats.
  void apply(float* data, int64_t n) const;
  float apply_one(float x) const;
};

}  // namespace petrel
