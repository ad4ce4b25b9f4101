// Dense (group 1) 2-D convolution on NHWC data with the SGEMM register tile (sgemm.hpp), for
// the XNNPACK provider's partitions, which keep activations NHWC. The product is
// [output pixels, kh*kw*Cin] x [kh*kw*Cin, Cout]. There is no im2col buffer: the A-packing
// step gathers each packed panel (kc x mr, in L1/L2) straight from the input rows — for a
// 1x1 stride-1 convolution the input *is* A; for k x k it is an implicit ("indirect")
// im2col computed per (pixel, tap), with a zero row for the padding. The filter is packed
// once. The epilogue adds the bias, optionally a residual (Conv -> Add fused), then the
// fused activation, while the tile is in registers.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/fused_activation.hpp"
#include "core/status.hpp"
#include "core/thread_pool.hpp"
#include "kernels/x86/sgemm.hpp"

namespace petrel::x86 {

struct ConvNhwcShape {
  int64_t n = 1, h = 0, w = 0, c = 0;  // input
  int64_t oh = 0, ow = 0, co = 0;      // output
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t pad_top = 0, pad_left = 0;  // bottom/right padding follows from oh/ow
};

class ConvNhwc {
 public:
  // `weight` is ONNX's [Co, Cin, kh, kw]; `bias` (Co floats) may be null. `threads`: the most
  // threads run() will be given (its workspace is sized here, so run() allocates nothing).
  static Result<std::unique_ptr<ConvNhwc>> make(const ConvNhwcShape& s, const float* weight, const float* bias,
                                                const FusedActivation& act, int threads);
  // y = act(conv(x) + bias (+ residual)), all NHWC. `residual` (same shape as y) may be null
  // or equal to y; otherwise it must not overlap y. x must not overlap y.
  void run(const float* x, float* y, const float* residual, ThreadPool* pool);

  const ConvNhwcShape& shape() const { return s_; }
  // Multiply-adds of one run.
  double macs() const { return double(s_.n * s_.oh * s_.ow) * double(k_) * double(s_.co); }

 private:
  void pack_rows(const float* x, int64_t m0, int rows, int64_t pc, int64_t kc, float* dst, float* scratch) const;
  // Row tiles [t0, t1) of `tiles`, output panels [j0, j1).
  void run_block(const float* x, float* y, const float* residual, int64_t tiles, int64_t t0, int64_t t1, int64_t j0,
                 int64_t j1, float* ws) const;

  ConvNhwcShape s_;
  int64_t k_ = 0;   // kh * kw * c
  int64_t kc_ = 0;  // depth of one packed block
  const IsaKernels* ik_ = nullptr;
  FusedActivation act_;
  std::vector<float> bias_, zero_;
  FloatBuffer packed_, ws_;
  int slices_ = 1;
  bool use_avx512_pack_ = false;
  bool merge_rows_ = false;  // pack whole filter rows (few channels), see pack_rows
  bool stream_b_ = false;    // the packed filter outgrows L2: prefetch it (see run_block)
};

}  // namespace petrel::x86
