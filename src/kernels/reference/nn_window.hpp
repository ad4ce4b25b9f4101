// Sliding-window attributes shared by Conv, ConvInteger, QLinearConv, ConvTranspose and the
// pooling ops (auto_pad, kernel_shape, strides, dilations, pads), and the output-size rules.
#pragma once

#include <string>
#include <vector>

#include "kernels/reference/common.hpp"

namespace petrel::ref::nn {

enum class AutoPad : uint8_t { kNotSet, kSameUpper, kSameLower, kValid };

struct WindowAttrs {
  AutoPad auto_pad = AutoPad::kNotSet;
  std::vector<int64_t> kernel_shape;  // empty: take it from W (conv ops)
  std::vector<int64_t> strides, dilations, pads;  // empty: defaults (1s, 1s, 0s)
  int64_t group = 1;
  bool ceil_mode = false;
};

// Parses the attributes named above (group and ceil_mode too); validates their values.
Status parse_window_attrs(const Node& n, WindowAttrs& a);

// Resolved geometry of one window op for given spatial input and kernel sizes.
struct Window {
  int64_t rank = 0;                        // number of spatial dims
  std::vector<int64_t> in, kernel, out;    // spatial sizes
  std::vector<int64_t> stride, dilation;
  std::vector<int64_t> pad_begin, pad_end;
  int64_t in_size() const { int64_t s = 1; for (auto d : in) s *= d; return s; }
  int64_t out_size() const { int64_t s = 1; for (auto d : out) s *= d; return s; }
  int64_t kernel_size() const { int64_t s = 1; for (auto d : kernel) s *= d; return s; }
};

// Computes output sizes and explicit pads (conv/pool rules; ceil_mode for pools). Errors name
// the node of ctx.
Status resolve_window(const OpContext& ctx, const WindowAttrs& a, const std::vector<int64_t>& in,
                      const std::vector<int64_t>& kernel, Window& w);

// True when no axis is padded (lets 1x1 convolutions read the input directly).
inline bool window_is_unpadded(const Window& w) {
  for (int64_t d = 0; d < w.rank; ++d)
    if (w.pad_begin[d] != 0 || w.pad_end[d] != 0) return false;
  return true;
}

}  // namespace petrel::ref::nn
