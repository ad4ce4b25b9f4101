#include "kernels/x86/kernels.hpp"

#include "kernels/x86/kernel_util.hpp"

namespace petrel::x86 {
namespace {

struct Entry {
  std::string_view domain, op;
  KernelFactory factory;
};
const Entry kTable[] = {
#define PETREL_KERNEL(domain, op, factory) {domain, #op, &factory},
#include "kernels/x86/kernels.def"
#undef PETREL_KERNEL
};

}  // namespace

KernelFactory find_kernel(std::string_view domain, std::string_view op_type) {
  if (domain == "ai.onnx") domain = "";
  for (const Entry& e : kTable)
    if (e.op == op_type && e.domain == domain) return e.factory;
  return nullptr;
}

bool uses_fast_path(const Kernel& k) {
  const auto* x = dynamic_cast<const FastPathKernel*>(&k);
  return x != nullptr && x->fast_path();
}

}  // namespace petrel::x86
