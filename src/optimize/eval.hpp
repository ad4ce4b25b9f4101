// Running one node's reference kernel outside an executor: infer for static shapes, infer +
// compute for constant folding. Control flow and unknown ops have no reference kernel here.
#pragma once

#include <memory>
#include <vector>

#include "core/graph.hpp"
#include "kernels/kernel.hpp"

namespace petrel::opt {

// The node's reference kernel, or nullptr (no kernel, bad attributes, or a subgraph).
std::unique_ptr<Kernel> make_ref_kernel(const Node& n);

// Infers output dtypes/shapes. `ins[i]` may be null for omitted inputs; `known[i]` says whether
// its data can be read. On success `outs` has one Value per node output (tensor metadata only).
Status infer_node(const Node& n, Kernel& k, const std::vector<const Value*>& ins,
                  const std::vector<uint8_t>& known, std::vector<Value>& outs);

// Computes a node whose inputs are all known: `outs` receives owned output tensors.
Status compute_node(const Node& n, Kernel& k, const std::vector<const Value*>& ins, std::vector<Value>& outs);

}  // namespace petrel::opt
