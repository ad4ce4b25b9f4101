// Input-arity checks for kernels of every family (the nn family has its own require_inputs in
// nn_common.hpp). Models are untrusted: a node may omit a required input (has_input() false,
// the input pointer is null), have too few or too many inputs, or feed a sequence or an empty
// optional where a tensor is expected (ctx.input(i) would then be an empty, data-less tensor).
#pragma once

#include <string>

#include "kernels/kernel.hpp"

namespace petrel::ref {

// max_inputs for variadic ops.
constexpr int kManyInputs = 1 << 30;

// Inputs 0..required-1 must be present; at most max_inputs inputs; every present input in
// [0, max_inputs) must be a tensor. Errors name the node.
inline Status check_tensor_inputs(const OpContext& ctx, int required, int max_inputs) {
  if (ctx.num_inputs() < required || ctx.num_inputs() > max_inputs) {
    const std::string want = required == max_inputs ? std::to_string(required)
                                                    : std::to_string(required) + ".." + std::to_string(max_inputs);
    return ctx.error("expects " + want + " inputs, got " + std::to_string(ctx.num_inputs()));
  }
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) {
      if (i < required) return ctx.error("input " + std::to_string(i) + " is required");
      continue;
    }
    if (!ctx.input_value(i).is_tensor())
      return ctx.error("input " + std::to_string(i) + " must be a tensor, got " +
                       (ctx.input_value(i).is_sequence() ? "a sequence" : "an empty optional"));
  }
  return Status::ok();
}

}  // namespace petrel::ref
