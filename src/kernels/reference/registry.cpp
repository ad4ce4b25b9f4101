#include "kernels/reference/registry.hpp"

namespace petrel::ref {

// Declarations of every factory.
#define PETREL_KERNEL(domain, op, factory) Result<std::unique_ptr<Kernel>> factory(const Node&);
#include "kernels/reference/elementwise.def"
#include "kernels/reference/math.def"
#include "kernels/reference/misc.def"
#include "kernels/reference/nn.def"
#include "kernels/reference/tensor.def"
#undef PETREL_KERNEL

namespace {
struct Entry {
  std::string_view domain, op;
  KernelFactory factory;
};
const Entry kTable[] = {
#define PETREL_KERNEL(domain, op, factory) {domain, #op, &factory},
#include "kernels/reference/elementwise.def"
#include "kernels/reference/math.def"
#include "kernels/reference/misc.def"
#include "kernels/reference/nn.def"
#include "kernels/reference/tensor.def"
#undef PETREL_KERNEL
    {"", "", nullptr},  // keeps the array non-empty
};
}  // namespace

KernelFactory find_kernel(std::string_view domain, std::string_view op_type) {
  if (domain == "ai.onnx") domain = "";
  for (const Entry& e : kTable)
    if (e.factory && e.op == op_type && e.domain == domain) return e.factory;
  return nullptr;
}

std::vector<std::string_view> registered_ops() {
  std::vector<std::string_view> v;
  for (const Entry& e : kTable)
    if (e.factory) v.push_back(e.op);
  return v;
}

}  // namespace petrel::ref
