// Quantization parameters and weight/bias quantization (pure functions on tensors).
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor.hpp"
#include "quantize/calibration.hpp"

namespace petrel::quant {

struct QParams {
  float scale = 1;
  int32_t zero_point = 0;
  DataType dtype = DataType::kUInt8;
};

// Integer range of activations: u8 [0,255], s8 [-128,127]; reduce_range (7-bit): u8 [0,127],
// s8 [-64,63].
void activation_qrange(bool unsigned_act, bool reduce_range, int32_t& qmin, int32_t& qmax);
// Asymmetric affine parameters for a range (which must contain 0): scale = (hi-lo)/(qmax-qmin),
// zero point = round(qmin - lo/scale) clamped. An empty range gets scale 1.
QParams activation_params(Range r, bool unsigned_act, bool reduce_range);

// Symmetric int8 weights per channel along `axis` (or per tensor when axis < 0): scale =
// max|w|/127 (1 for an all-zero channel), q = round(w/scale) in [-127, 127].
struct WeightQuant {
  Tensor q;                   // int8, shape of w
  std::vector<float> scales;  // one per channel (or one)
};
Result<WeightQuant> quantize_weight_int8(const Tensor& w, int64_t axis);

// int32 bias with per-channel scale s_x * s_w[c] (zero point 0), saturated to int32.
struct BiasQuant {
  Tensor q;                   // int32 [C]
  std::vector<float> scales;  // [C]
};
Result<BiasQuant> quantize_bias_int32(const Tensor& bias, float s_x, const std::vector<float>& s_w);

// Block-wise symmetric INT4 along `axis` of a float tensor: each run of `block` elements along
// the axis (the last one may be shorter) shares one scale, chosen among absmax/7 scaled by
// 1.0, 0.9875, ..., 0.5 to minimise the block's squared error. q in [-8, 7], packed.
struct BlockQuant {
  Tensor q;       // kInt4, shape of w
  Tensor scales;  // float32, shape of w with dim[axis] = ceil(dim/block)
};
Result<BlockQuant> quantize_blocked_int4(const Tensor& w, int64_t axis, int64_t block);

// Per-tensor asymmetric quantization of a constant (Add/Mul operands) to the activation type.
struct ConstQuant {
  Tensor q;
  QParams p;
};
Result<ConstQuant> quantize_constant(const Tensor& c, bool unsigned_act);

}  // namespace petrel::quant
