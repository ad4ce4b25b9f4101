// The x86 kernels' lookup (runtime/control_flow.cpp: after the XNNPACK provider, before the
// reference kernels) and their factories (listed in kernels.def).
#pragma once

#include <string_view>

#include "kernels/kernel.hpp"

namespace petrel::x86 {

// The factory for (domain, op_type), or nullptr when this module has no kernel for it.
// Domain "" and "ai.onnx" are the same.
KernelFactory find_kernel(std::string_view domain, std::string_view op_type);

// Whether `k` is an x86 kernel whose last infer chose its SIMD path (false for any other kernel
// and when it forwards to the reference kernel). For tests.
bool uses_fast_path(const Kernel& k);

#define PETREL_KERNEL(domain, op, factory) Result<std::unique_ptr<Kernel>> factory(const Node&);
#include "kernels/x86/kernels.def"
#undef PETREL_KERNEL

}  // namespace petrel::x86
