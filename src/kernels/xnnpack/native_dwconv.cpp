// Which depthwise convolutions of a partition run on Petrel's depthwise NHWC kernel
// (kernels/x86/dwconv_nhwc.hpp) instead of XNNPACK's (lower.cpp builds and runs the stage).
#include <cstdlib>
#include <cstring>

#include "kernels/reference/common.hpp"
#include "kernels/x86/isa.hpp"
#include "kernels/xnnpack/lower.hpp"

namespace petrel::xnnpack {

bool native_dwconv_wanted(const Node& n, const Graph& sub, const std::vector<Shape>& shapes) {
  // 0: never; 1: the measured shapes (AVX-512 only); 2: every depthwise convolution.
  static const int mode = [] {
    const char* all = std::getenv("PETREL_NATIVE_CONV");
    const char* dw = std::getenv("PETREL_NATIVE_DWCONV");
    if ((all != nullptr && std::strcmp(all, "0") == 0) || (dw != nullptr && std::strcmp(dw, "0") == 0)) return 0;
    return (all != nullptr && std::strcmp(all, "all") == 0) || (dw != nullptr && std::strcmp(dw, "all") == 0) ? 2 : 1;
  }();
  if (mode == 0 || n.op_type != "Conv" || !n.domain.empty() || n.inputs.size() < 2 || n.outputs.size() != 1) return false;
  const Tensor* w = sub.constant(n.inputs[1]);
  if (w == nullptr || w->dtype != DataType::kFloat || w->rank() != 4 || w->shape[1] != 1) return false;
  if (n.inputs.size() > 2 && n.inputs[2] != kNoValue) {
    const Tensor* b = sub.constant(n.inputs[2]);
    if (b == nullptr || b->dtype != DataType::kFloat || b->numel() != w->shape[0]) return false;
  }
  auto g = ref::attr_int(n, "group", 1);
  const Shape& in = shapes[size_t(n.inputs[0])];
  // Depthwise with a channel multiplier of 1: group = input channels = output channels.
  if (!g || g.value() < 2 || in.size() != 4 || in[1] != g.value() || w->shape[0] != g.value()) return false;
  if (mode == 2) return x86::active_isa() >= x86::Isa::kAvx2;
  if (x86::active_isa() != x86::Isa::kAvx512) return false;
  // Measured on Zen 4 against Debian 12's XNNPACK (docs/benchmarks.md, depthwise section):
  // the unrolled 3x3 / 5x5 kernels win on every MobileNet / MnasNet / EfficientNet shape but
  // a few stride-2 3x3 ones, which are within 20% either way; dilated and other sizes run the
  // generic path, which is not tuned.
  auto st = ref::attr_ints(n, "strides", {1, 1});
  auto dl = ref::attr_ints(n, "dilations", {1, 1});
  if (!st || !dl || st.value().size() != 2 || dl.value().size() != 2) return false;
  const int64_t k = w->shape[2];
  return w->shape[3] == k && (k == 3 || k == 5) && st.value()[0] == st.value()[1] &&
         (st.value()[0] == 1 || st.value()[0] == 2) && dl.value()[0] == 1 && dl.value()[1] == 1;
}

}  // namespace petrel::xnnpack
