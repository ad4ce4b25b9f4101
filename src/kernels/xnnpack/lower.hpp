// Lowers a partition subgraph to one XNNPACK runtime at fixed shapes. Internal header of the
// XNNPACK provider.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <xnnpack.h>

#include "core/graph.hpp"
#include "core/status.hpp"
#include "core/thread_pool.hpp"
#include "kernels/x86/conv_nhwc.hpp"
#include "kernels/x86/dwconv_nhwc.hpp"

namespace petrel::xnnpack {

// Static capability check: can this node go to XNNPACK (attributes, constant weights)?
// `is_float` says whether each input is known to be float32. Shapes are checked at lowering.
// `fully_connected`: whether Gemm / MatMul / FusedMatMul may be claimed (PartitionOptions).
bool claims(const Node& n, const Graph& g, const std::vector<bool>& is_float, bool fully_connected = true);
// Ops that make a partition worth its boundary transposes.
bool is_heavy(const Node& n);

// A partition runs as a sequence of stages: XNNPACK runtimes, and between them the few ops
// this XNNPACK lacks (Concat, a channel Slice, petrel.ChannelShuffle) run natively on the same
// NHWC buffers, so no layout change happens inside a partition.
struct Stage {
  xnn_runtime_t runtime = nullptr;  // an XNNPACK stage, or
  const Node* native = nullptr;     // a node run by run_native()
  // A native stage's copy geometry, fixed at lowering (runs then allocate nothing): rows of
  // `outer` blocks; Slice copies `block` elements from offset `offset` of each `in_row`;
  // Concat writes rows of `out_row`; ChannelShuffle shuffles `outer` pixels of `in_row`
  // channels in `groups` groups.
  int64_t outer = 0, in_row = 0, out_row = 0, offset = 0, groups = 0;
  // A Conv run on Petrel's own NHWC convolution (kernels/x86/conv_nhwc.hpp) instead of XNNPACK.
  std::unique_ptr<x86::ConvNhwc> conv;
  // A depthwise Conv run on Petrel's depthwise NHWC kernel (kernels/x86/dwconv_nhwc.hpp).
  std::unique_ptr<x86::DwConvNhwc> dwconv;
  std::vector<std::pair<uint32_t, ValueId>> externals;  // XNNPACK external id -> inner value
  std::vector<xnn_external_value> bound;                // pointers of the last setup
  std::string what;  // for PETREL_STAGE_PROFILE: the stage's ops (and a Conv's shape)
};

struct Lowered {
  std::vector<Stage> stages;
  std::vector<Shape> shapes;  // per inner value (ONNX layout)
  // Re-laid-out weights and constants (XNNPACK requires static data to outlive the runtime),
  // and the buffers of values passed between stages.
  std::vector<std::unique_ptr<float[]>> owned;
  std::vector<std::pair<ValueId, float*>> buffers;
  // Conv -> Add (-> Relu) chains fused into one native Conv node (stages point at them).
  std::deque<Node> fused;
  ~Lowered();
};

// Is this node run natively between XNNPACK stages (see run_native)? Convolutions are, where
// native_conv_wanted() says so at these shapes.
bool is_native(const Node& n);
// Whether Conv `n` runs on Petrel's NHWC convolution rather than XNNPACK's. PETREL_NATIVE_CONV=0
// keeps every Conv in XNNPACK; =all takes every dense one (tests); otherwise (AVX-512 only) the
// shapes where it measured faster than this XNNPACK (see native_conv_wanted in lower.cpp).
// A native Conv whose output only feeds an Add (-> Relu) also does the Add and the Relu in its
// epilogue (PETREL_NATIVE_CONV_FUSE=0 turns that off, to measure it).
bool native_conv_wanted(const Node& n, const Graph& sub, const std::vector<Shape>& shapes);
// Whether depthwise Conv `n` (group = input = output channels) runs on Petrel's depthwise NHWC
// kernel rather than XNNPACK's: PETREL_NATIVE_CONV=0 or PETREL_NATIVE_DWCONV=0 keep XNNPACK's;
// =all takes every one (tests); otherwise (AVX-512) the shapes where it measured faster
// (see native_dwconv_wanted in lower.cpp).
bool native_dwconv_wanted(const Node& n, const Graph& sub, const std::vector<Shape>& shapes);
// Runs a native node; `addr` maps inner values to their NHWC buffers.
void run_native(const Stage& st, const Lowered& low, float* const* addr, ThreadPool* pool);

// `shapes` are per ValueId of `sub` (ONNX layout, from the reference kernels' shape
// inference). Returns an error (never crashes) for anything XNNPACK can't take; the caller
// then runs the partition on the reference kernels.
// `threads`: the size of the session's pool (native stages size their workspace for it).
Result<std::unique_ptr<Lowered>> lower(const Graph& sub, const std::vector<Shape>& shapes, pthreadpool_t pool,
                                       int threads = 1);

// A zeroed buffer of floats whose data starts on a 64-byte boundary. new float[] of a large
// size is only 16-byte aligned (malloc's header before an mmap'ed block), so every 64-byte
// AVX-512 load or store of such an NHWC buffer split two cache lines: the native stages and
// XNNPACK's operators reading them ran up to 2x slower than on XNNPACK's own (aligned) arena.
struct AlignedFloats {
  std::unique_ptr<float[]> raw;
  float* p = nullptr;
  float* get() const { return p; }
  explicit operator bool() const { return p != nullptr; }
};
inline AlignedFloats aligned_floats(size_t n) {
  AlignedFloats a;
  a.raw.reset(new float[n + 16]());
  a.p = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(a.raw.get()) + 63) & ~uintptr_t(63));
  return a;
}

// NCHW -> NHWC and back for one rank-4 tensor.
void nchw_to_nhwc(const float* src, float* dst, const Shape& nchw);
void nhwc_to_nchw(const float* src, float* dst, const Shape& nchw);

}  // namespace petrel::xnnpack
