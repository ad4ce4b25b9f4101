// 7-bit activations (`petrel quantize --reduce-range` writes petrel.activation_bits = 7 into the
// model's metadata): the fused int8 ops get the attribute _petrel_activation_bits = 7, read by
// kernels/x86/qops.cpp — their outputs are clamped to 7 bits and their GEMM packs its input
// clamped to 7 bits, so the AVX2 vpmaddubsw tile never needs its saturation-avoiding exact path.
#include "optimize/optimizer.hpp"
#include "optimize/rewrite_util.hpp"

namespace petrel::opt {

int mark_activation_bits(Graph& g, int bits) {
  if (bits != 7) return 0;
  int n = 0;
  for (Node& node : g.nodes) {
    if (!(is_petrel_op(node, "QConv") || is_petrel_op(node, "QGemm") || is_petrel_op(node, "QAdd"))) continue;
    std::erase_if(node.attrs, [](const Attribute& a) { return a.name == "_petrel_activation_bits"; });
    node.attrs.push_back(make_attr_int("_petrel_activation_bits", bits));
    ++n;
  }
  return n;
}

Result<int> activation_bits_from_metadata(const std::vector<std::pair<std::string, std::string>>& metadata) {
  for (const auto& [key, value] : metadata) {
    if (key != "petrel.activation_bits") continue;
    if (value == "7") return 7;
    if (value == "8") return 8;
    return invalid_model("metadata petrel.activation_bits must be 7 or 8, got '" + value.substr(0, 32) + "'");
  }
  return 8;
}

}  // namespace petrel::opt
