#include "runtime/providers.hpp"

#include "kernels/x86/isa.hpp"
#ifdef PETREL_HAVE_XNNPACK
#include "kernels/xnnpack/provider.hpp"
#endif

namespace petrel {

Status assign_providers(Graph& g, bool xnnpack, ProviderStats* stats) {
  if (stats) *stats = {};
#ifdef PETREL_HAVE_XNNPACK
  if (xnnpack) {
    xnnpack::PartitionOptions po;
    po.fully_connected = x86::active_isa() < x86::Isa::kAvx2;
    xnnpack::PartitionStats ps;
    PETREL_RETURN_IF_ERROR(xnnpack::partition_graph(g, &ps, po));
    if (stats) {
      stats->xnnpack_partitions = ps.partitions;
      stats->xnnpack_nodes = ps.claimed_nodes;
    }
  }
#else
  (void)g;
  (void)xnnpack;
#endif
  return Status::ok();
}

}  // namespace petrel
