// The XNNPACK provider. At session creation, partition_graph() finds the nodes XNNPACK can run
// (a per-op capability check, see claim.cpp), groups consecutive claimed nodes into partitions
// and replaces each partition with one node, op "XnnpackPartition" in domain "petrel", that
// carries the partition as a subgraph. Its kernel (partition_kernel.cpp) lowers the subgraph to
// one XNNPACK runtime once input shapes are known: weights are re-laid-out and packed once,
// rank-4 activations live in NHWC inside the partition, and only the partition's rank-4
// inputs/outputs are transposed (NCHW <-> NHWC; a no-op copy when H*W == 1 or C == 1). When
// XNNPACK rejects something at lowering time, the partition runs its nodes with the reference
// kernels instead: correctness never depends on the provider.
#pragma once

#include <string>

#include "core/graph.hpp"
#include "kernels/kernel.hpp"

namespace petrel::xnnpack {

inline constexpr const char* kPartitionDomain = "petrel";
inline constexpr const char* kPartitionOp = "XnnpackPartition";
inline constexpr const char* kSubgraphAttr = "_petrel_subgraph";

// True when this build links XNNPACK and it initialised on this CPU.
bool available();

struct PartitionStats {
  int partitions = 0;
  int claimed_nodes = 0;
  int total_nodes = 0;
};

struct PartitionOptions {
  // Claim Gemm / MatMul / petrel.FusedMatMul. The runtime turns this off where Petrel's own
  // SGEMM (src/kernels/x86) is faster than XNNPACK's fully-connected operator (AVX2 and up).
  bool fully_connected = true;
};

// Rewrites `g` in place (top-level graph only). No-op when !available().
Status partition_graph(Graph& g, PartitionStats* stats = nullptr, const PartitionOptions& options = {});

// The factory for XnnpackPartition nodes, or nullptr for any other op.
KernelFactory find_kernel(const std::string& domain, const std::string& op_type);

}  // namespace petrel::xnnpack
