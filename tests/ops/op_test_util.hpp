// Runs one reference kernel on given inputs, as the executor would (infer, allocate, compute).
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <vector>

#include "kernels/reference/registry.hpp"

namespace petrel::test {

// Builds a node with `n_in` inputs and `n_out` outputs (value ids 0..n_in-1, n_in..).
inline Node make_node(const std::string& op, int n_in, int n_out, std::vector<Attribute> attrs = {}) {
  Node n;
  n.name = "test_" + op;
  n.op_type = op;
  n.opset = 17;
  for (int i = 0; i < n_in; ++i) n.inputs.push_back(i);
  for (int i = 0; i < n_out; ++i) n.outputs.push_back(n_in + i);
  n.attrs = std::move(attrs);
  return n;
}

inline Attribute attr_i(const std::string& name, int64_t v) {
  Attribute a; a.name = name; a.type = AttrType::kInt; a.i = v; return a;
}
inline Attribute attr_f(const std::string& name, float v) {
  Attribute a; a.name = name; a.type = AttrType::kFloat; a.f = v; return a;
}
inline Attribute attr_is(const std::string& name, std::vector<int64_t> v) {
  Attribute a; a.name = name; a.type = AttrType::kInts; a.ints = std::move(v); return a;
}
inline Attribute attr_s(const std::string& name, std::string v) {
  Attribute a; a.name = name; a.type = AttrType::kString; a.s = std::move(v); return a;
}

template <typename T>
Tensor make_tensor(Shape shape, std::vector<T> data) {
  auto t = Tensor::allocate(DataTypeOf<T>::value, shape);
  EXPECT_TRUE(t.is_ok());
  for (size_t i = 0; i < data.size(); ++i) t->template as<T>()[i] = data[i];
  return std::move(t).value();
}

// Runs the kernel; returns outputs or the first error. Inputs may contain empty Values for
// omitted optional inputs (pass Value{}).
inline Result<std::vector<Value>> run_kernel(const Node& node, const std::vector<Value>& inputs) {
  KernelFactory f = ref::find_kernel(node.domain, node.op_type);
  if (!f) return unsupported("no kernel for " + node.op_type);
  PETREL_ASSIGN_OR_RETURN(auto kernel, f(node));
  std::vector<const Value*> in(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) in[i] = inputs[i].is_empty() ? nullptr : &inputs[i];
  std::vector<Value> out(node.outputs.size());
  std::vector<Value*> out_ptrs(out.size());
  for (size_t i = 0; i < out.size(); ++i) out_ptrs[i] = &out[i];
  if (kernel->dynamic_outputs()) {
    OpContext ctx(node, OpContext::Phase::kCompute, in.data(), nullptr, out_ptrs.data());
    PETREL_RETURN_IF_ERROR(kernel->compute(ctx));
    return out;
  }
  OpContext ictx(node, OpContext::Phase::kInfer, in.data(), nullptr, out_ptrs.data());
  PETREL_RETURN_IF_ERROR(kernel->infer(ictx));
  for (auto& v : out) {
    if (v.is_tensor()) {
      PETREL_ASSIGN_OR_RETURN(Tensor t, Tensor::allocate(v.tensor.dtype, v.tensor.shape));
      v.tensor = std::move(t);
    }
  }
  OpContext cctx(node, OpContext::Phase::kCompute, in.data(), nullptr, out_ptrs.data());
  PETREL_RETURN_IF_ERROR(kernel->compute(cctx));
  return out;
}

}  // namespace petrel::test
