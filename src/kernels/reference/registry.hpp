// The one explicit table of reference kernels (X-macro lists in *.def beside this file).
#pragma once

#include <string_view>
#include <vector>

#include "kernels/kernel.hpp"

namespace petrel::ref {

// The factory for (domain, op_type), or nullptr when this build has no such kernel.
// Domain "" and "ai.onnx" are the same.
KernelFactory find_kernel(std::string_view domain, std::string_view op_type);
// All registered op types (for `petrel inspect` and docs).
std::vector<std::string_view> registered_ops();

}  // namespace petrel::ref
