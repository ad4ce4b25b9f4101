// Which kernels run which nodes. After the optimizer, the XNNPACK provider takes the runs of
// convolution, pooling and element-wise nodes it claims (src/kernels/xnnpack); everything else
// is looked up per node by create_kernel: Petrel's x86 SIMD kernels, then the reference ones.
// Fully-connected layers (Gemm, MatMul, petrel.FusedMatMul) stay with Petrel's SGEMM where the
// CPU runs it at AVX2 or better: measured ~1.7x faster than Debian's XNNPACK fully-connected
// operator on BERT's layers (docs/benchmarks.md); on older CPUs XNNPACK claims them too.
#pragma once

#include "core/graph.hpp"
#include "core/status.hpp"

namespace petrel {

struct ProviderStats {
  int xnnpack_partitions = 0;
  int xnnpack_nodes = 0;
};

// Rewrites `g` (top level) for the providers of this build and CPU. `xnnpack` false: no
// partitions (every node runs on Petrel's own kernels).
Status assign_providers(Graph& g, bool xnnpack, ProviderStats* stats = nullptr);

}  // namespace petrel
