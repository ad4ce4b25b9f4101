// Shared by the x86 kernels: each wraps the reference kernel of its op and forwards to it
// whenever the fast path does not apply (dtype, axis, layout), so correctness never depends
// on the fast path. infer always runs the reference infer first: validation and output shapes
// are the reference's, the fast path only decides how to compute.
#pragma once

#include <algorithm>
#include <memory>
#include <string>

#include "kernels/kernel.hpp"
#include "kernels/reference/registry.hpp"
#include "kernels/x86/sgemm.hpp"

namespace petrel::x86 {

// Base of the x86 kernels: `fast_` says whether the last infer chose the fast path (tests
// read it through uses_fast_path()).
class FastPathKernel : public Kernel {
 public:
  bool fast_path() const { return fast_; }

 protected:
  bool fast_ = false;
};

// The reference kernel for `n` (its factory validates the attributes).
inline Result<std::unique_ptr<Kernel>> make_reference(const Node& n) {
  KernelFactory f = ref::find_kernel(n.domain, n.op_type);
  if (f == nullptr) return internal_error(n.label() + ": no reference kernel");
  return f(n);
}

// Grows `buf` to n floats; an error naming the node when memory runs out.
inline Status reserve(OpContext& ctx, FloatBuffer& buf, int64_t n) {
  if (buf.reserve(n)) return Status::ok();
  return out_of_range(ctx.node().label() + ": cannot allocate " + std::to_string(n * 4) + " bytes of packing space");
}

// The packed B of a GEMM kernel (Gemm, MatMul): packed once for a constant B, whose pages then
// go back to the OS (later re-packs, e.g. on an ISA switch, fault them in again); per run for
// an activation.
class PackedB {
 public:
  // A new plan: constants may have moved.
  void invalidate() { valid_ = false; }
  // Packs `count` K x N matrices of B (matrix i at B.p + offsets[i]) unless this constant B is
  // already packed for `ik`.
  Status prepare(OpContext& ctx, const IsaKernels& ik, bool constant, const Tensor& b, MatrixRef B,
                 const int64_t* offsets, int64_t count, int64_t K, int64_t N) {
    if (constant && valid_ && isa_ == ik.isa && src_ == b.data) return Status::ok();
    PETREL_RETURN_IF_ERROR(reserve(ctx, buf_, packed_b_floats(ik, K, N) * count));
    pack_b(ik, B, offsets, count, K, N, buf_.data(), ctx.pool);
    valid_ = constant;
    isa_ = ik.isa;
    src_ = b.data;
    if (constant && released_ != b.data) {
      release_pages(b.data, b.nbytes());
      released_ = b.data;
    }
    return Status::ok();
  }
  const float* data() const { return buf_.data(); }

 private:
  FloatBuffer buf_;
  bool valid_ = false;
  Isa isa_ = Isa::kPortable;
  const void* src_ = nullptr;
  const void* released_ = nullptr;
};

// Calls f(begin, end) over [0, rows) on the pool in chunks of at least
// parallel_policy().min_elems_per_chunk elements (by default 32K: tens of microseconds of row
// work; less does not pay for waking a thread).
template <typename F> void for_rows(ThreadPool* pool, int64_t rows, int64_t row_elems, F&& f) {
  const int64_t grain = std::max<int64_t>(1, parallel_policy().min_elems_per_chunk / std::max<int64_t>(1, row_elems));
  if (pool == nullptr || pool->size() <= 1 || rows < 2 * grain) f(int64_t(0), rows);
  else pool->parallel_for(rows, grain, f);
}

}  // namespace petrel::x86
