// Small helpers shared by the passes: op tests, attribute reads with defaults, node building.
#pragma once

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "core/graph.hpp"
#include "optimize/graph_view.hpp"

namespace petrel::opt {

inline constexpr const char* kPetrelDomain = "petrel";

// A default-domain node of this op type.
inline bool is_op(const Node& n, const char* op) {
  return n.op_type == op && (n.domain.empty() || n.domain == "ai.onnx");
}
inline bool is_petrel_op(const Node& n, const char* op) { return n.op_type == op && n.domain == kPetrelDomain; }

// Attribute reads that fall back to `dflt` when absent; nullopt when present with the wrong type
// (a pass then leaves the node alone and the kernel reports the error).
std::optional<int64_t> attr_i(const Node& n, const char* name, int64_t dflt);
std::optional<float> attr_f(const Node& n, const char* name, float dflt);
std::optional<std::string> attr_s(const Node& n, const char* name, const std::string& dflt);
std::optional<std::vector<int64_t>> attr_is(const Node& n, const char* name);  // absent: empty

Attribute make_attr_int(const char* name, int64_t v);
Attribute make_attr_ints(const char* name, std::vector<int64_t> v);
Attribute make_attr_float(const char* name, float v);
Attribute make_attr_string(const char* name, std::string v);

// A node that the optimizer creates; its name derives from `base` so errors still point at
// where it came from.
Node make_node(const std::string& op, const std::string& domain, std::vector<ValueId> inputs,
               std::vector<ValueId> outputs, const std::string& base);

// An owned float32 / int64 tensor.
Tensor float_tensor(const Shape& shape, const std::vector<float>& data);
Tensor int64_tensor(const Shape& shape, const std::vector<int64_t>& data);

inline bool near(double x, double want, double rel = 1e-4) {
  return std::fabs(x - want) <= rel * std::max(1.0, std::fabs(want));
}

// For a binary op (Add/Mul/...) node `n` reading value `v`: the other input, or kNoValue.
ValueId other_input(const Node& n, ValueId v);

// The int64 values Shape node `n` produces for an input of shape `s` (start/end attributes
// clamped as the spec says), or nullopt for a malformed attribute.
std::optional<std::vector<int64_t>> shape_op_result(const Node& n, const Shape& s);

// True when the scalar constant `v` is within `rel` of `want`.
bool scalar_is(const GraphView& view, ValueId v, double want, double rel = 1e-4);

// The fused activation already on a node (kNone when absent or unreadable).
bool has_fused_activation(const Node& n);

}  // namespace petrel::opt
