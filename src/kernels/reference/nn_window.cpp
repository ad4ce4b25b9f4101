#include "kernels/reference/nn_window.hpp"

#include <algorithm>

namespace petrel::ref::nn {

Status parse_window_attrs(const Node& n, WindowAttrs& a) {
  PETREL_ASSIGN_OR_RETURN(std::string ap, attr_string(n, "auto_pad", "NOTSET"));
  if (ap == "NOTSET" || ap.empty()) a.auto_pad = AutoPad::kNotSet;
  else if (ap == "SAME_UPPER") a.auto_pad = AutoPad::kSameUpper;
  else if (ap == "SAME_LOWER") a.auto_pad = AutoPad::kSameLower;
  else if (ap == "VALID") a.auto_pad = AutoPad::kValid;
  else return unsupported(n.label() + ": auto_pad '" + ap + "'");
  PETREL_ASSIGN_OR_RETURN(a.kernel_shape, attr_ints(n, "kernel_shape"));
  PETREL_ASSIGN_OR_RETURN(a.strides, attr_ints(n, "strides"));
  PETREL_ASSIGN_OR_RETURN(a.dilations, attr_ints(n, "dilations"));
  PETREL_ASSIGN_OR_RETURN(a.pads, attr_ints(n, "pads"));
  PETREL_ASSIGN_OR_RETURN(a.group, attr_int(n, "group", 1));
  PETREL_ASSIGN_OR_RETURN(int64_t ceil_mode, attr_int(n, "ceil_mode", 0));
  a.ceil_mode = ceil_mode != 0;
  for (int64_t k : a.kernel_shape)
    if (k <= 0) return invalid_model(n.label() + ": kernel_shape values must be positive");
  for (int64_t s : a.strides)
    if (s <= 0) return invalid_model(n.label() + ": strides must be positive");
  for (int64_t d : a.dilations)
    if (d <= 0) return invalid_model(n.label() + ": dilations must be positive");
  for (int64_t p : a.pads)
    if (p < 0) return invalid_model(n.label() + ": pads must be non-negative");
  if (a.group <= 0) return invalid_model(n.label() + ": group must be positive");
  // Bounds keep every size computation below far from int64 overflow.
  constexpr int64_t kLimit = int64_t(1) << 31;
  for (const auto* v : {&a.kernel_shape, &a.strides, &a.dilations, &a.pads})
    for (int64_t x : *v)
      if (x > kLimit) return invalid_model(n.label() + ": window attribute value too large");
  return Status::ok();
}

Status resolve_window(const OpContext& ctx, const WindowAttrs& a, const std::vector<int64_t>& in,
                      const std::vector<int64_t>& kernel, Window& w) {
  const int64_t r = int64_t(in.size());
  if (int64_t(kernel.size()) != r) return ctx.error("kernel rank does not match the input's spatial rank");
  if (!a.strides.empty() && int64_t(a.strides.size()) != r) return ctx.error("strides has the wrong length");
  if (!a.dilations.empty() && int64_t(a.dilations.size()) != r) return ctx.error("dilations has the wrong length");
  if (!a.pads.empty() && int64_t(a.pads.size()) != 2 * r) return ctx.error("pads has the wrong length");
  w.rank = r;
  w.in = in;
  w.kernel = kernel;
  w.out.assign(r, 0);
  // assign() rather than temporaries: a Window reused across runs allocates nothing.
  if (a.strides.empty()) w.stride.assign(size_t(r), 1); else w.stride = a.strides;
  if (a.dilations.empty()) w.dilation.assign(size_t(r), 1); else w.dilation = a.dilations;
  w.pad_begin.assign(r, 0);
  w.pad_end.assign(r, 0);
  for (int64_t d = 0; d < r; ++d) {
    if (kernel[d] <= 0) return ctx.error("kernel dimensions must be positive");
    if (kernel[d] > (int64_t(1) << 31) || w.dilation[d] > (int64_t(1) << 31)) return ctx.error("kernel too large");
    const int64_t dk = (kernel[d] - 1) * w.dilation[d] + 1;
    const int64_t s = w.stride[d];
    switch (a.auto_pad) {
      case AutoPad::kNotSet: {
        if (!a.pads.empty()) { w.pad_begin[d] = a.pads[d]; w.pad_end[d] = a.pads[d + r]; }
        const int64_t span = in[d] + w.pad_begin[d] + w.pad_end[d] - dk;
        if (span < 0) return ctx.error("kernel is larger than the padded input");
        int64_t o = (a.ceil_mode ? (span + s - 1) / s : span / s) + 1;
        // With ceil_mode the last window must still start inside the input or the left
        // padding (PyTorch and the ONNX reference drop a window that starts in the right pad).
        if (a.ceil_mode && (o - 1) * s >= in[d] + w.pad_begin[d]) --o;
        w.out[d] = o;
        break;
      }
      case AutoPad::kValid: {
        const int64_t span = in[d] - dk;
        if (span < 0) return ctx.error("kernel is larger than the input");
        w.out[d] = span / s + 1;
        break;
      }
      case AutoPad::kSameUpper:
      case AutoPad::kSameLower: {
        const int64_t o = (in[d] + s - 1) / s;
        const int64_t total = std::max<int64_t>(0, (o - 1) * s + dk - in[d]);
        // SAME_UPPER puts the odd pad at the end, SAME_LOWER at the beginning.
        w.pad_begin[d] = a.auto_pad == AutoPad::kSameUpper ? total / 2 : total - total / 2;
        w.pad_end[d] = total - w.pad_begin[d];
        w.out[d] = o;
        break;
      }
    }
  }
  return Status::ok();
}

}  // namespace petrel::ref::nn
