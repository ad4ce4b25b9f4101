// A graph rewrite. Passes look at a GraphView and propose Patches (patch.hpp); they never edit
// the graph. A pass that sees something it does not expect proposes nothing for it.
#pragma once

#include <memory>
#include <vector>

#include "optimize/graph_view.hpp"
#include "optimize/patch.hpp"

namespace petrel::opt {

class Pass {
 public:
  virtual ~Pass() = default;
  virtual const char* name() const = 0;
  virtual void run(const GraphView& view, PatchList& out) = 0;
};

std::unique_ptr<Pass> make_dead_node_pass();            // nodes that reach no graph output
std::unique_ptr<Pass> make_constant_folding_pass();     // nodes whose inputs are all constants
std::unique_ptr<Pass> make_shape_simplify_pass();       // Shape of static shapes; Reshape(x, Shape(x)...)
std::unique_ptr<Pass> make_identity_elimination_pass(); // Identity, Dropout, identity Reshape, Transpose pairs
std::unique_ptr<Pass> make_conv_bn_pass();              // Conv + BatchNormalization -> Conv
std::unique_ptr<Pass> make_gelu_fusion_pass();          // erf / tanh GELU patterns -> Gelu
std::unique_ptr<Pass> make_layer_norm_fusion_pass();    // mean/var pattern -> LayerNormalization
std::unique_ptr<Pass> make_hard_swish_pass();           // HardSigmoid(x)·x -> HardSwish
std::unique_ptr<Pass> make_channel_shuffle_pass();      // Reshape-Transpose-Reshape shuffle -> petrel.ChannelShuffle
std::unique_ptr<Pass> make_bias_fusion_pass();          // MatMul + Add(bias) -> petrel.FusedMatMul
std::unique_ptr<Pass> make_activation_fusion_pass();    // Conv/Gemm/MatMul + activation
std::unique_ptr<Pass> make_int4_fusion_pass();          // blocked DQ(int4 W) -> MatMul/Gemm -> petrel.Int4MatMul
std::unique_ptr<Pass> make_qdq_fusion_pass();
std::unique_ptr<Pass> make_qdq_pool_fusion_pass();      // QDQ around (Global)AveragePool, Concat -> petrel.QGlobalAveragePool/QAveragePool/QConcat           // QDQ / dynamic-quant patterns -> petrel.QConv/QGemm/QAdd/DynQMatMul

// The passes Session::open runs, in order.
std::vector<std::unique_ptr<Pass>> default_passes();

}  // namespace petrel::opt
