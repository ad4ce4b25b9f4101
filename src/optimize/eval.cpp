#include "optimize/eval.hpp"

#include "kernels/reference/registry.hpp"

namespace petrel::opt {

std::unique_ptr<Kernel> make_ref_kernel(const Node& n) {
  for (const Attribute& a : n.attrs)
    if (a.type == AttrType::kGraph || a.type == AttrType::kGraphs) return nullptr;
  KernelFactory f = ref::find_kernel(n.domain, n.op_type);
  if (f == nullptr) return nullptr;
  auto k = f(n);
  if (!k) return nullptr;
  return std::move(k).value();
}

Status infer_node(const Node& n, Kernel& k, const std::vector<const Value*>& ins,
                  const std::vector<uint8_t>& known, std::vector<Value>& outs) {
  if (k.dynamic_outputs()) return OpContext::needs_data();
  outs.assign(n.outputs.size(), Value{});
  std::vector<Value*> out_ptrs;
  for (Value& v : outs) out_ptrs.push_back(&v);
  std::unique_ptr<bool[]> kn(new bool[ins.size() + 1]);
  for (size_t i = 0; i < ins.size(); ++i) kn[i] = known[i] != 0;
  OpContext ctx(n, OpContext::Phase::kInfer, ins.data(), kn.get(), out_ptrs.data());
  return k.infer(ctx);
}

Status compute_node(const Node& n, Kernel& k, const std::vector<const Value*>& ins, std::vector<Value>& outs) {
  outs.assign(n.outputs.size(), Value{});
  std::vector<Value*> out_ptrs;
  for (Value& v : outs) out_ptrs.push_back(&v);
  if (!k.dynamic_outputs()) {
    OpContext ictx(n, OpContext::Phase::kInfer, ins.data(), nullptr, out_ptrs.data());
    PETREL_RETURN_IF_ERROR(k.infer(ictx));
    for (Value& v : outs) {
      if (!v.is_tensor()) continue;
      PETREL_ASSIGN_OR_RETURN(Tensor t, Tensor::allocate(v.tensor.dtype, v.tensor.shape));
      v.tensor = std::move(t);
    }
  }
  OpContext ctx(n, OpContext::Phase::kCompute, ins.data(), nullptr, out_ptrs.data());
  return k.compute(ctx);
}

}  // namespace petrel::opt
