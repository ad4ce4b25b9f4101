// Shape rules shared by Conv, ConvInteger and QLinearConv.
#pragma once

#include "kernels/reference/nn_window.hpp"

namespace petrel::ref::nn {

// Checks X [N, C, spatial...] against W [M, C/group, kernel...] and resolves the window;
// y_shape = [N, M, out...].
Status infer_conv_shapes(const OpContext& ctx, const WindowAttrs& a, const Tensor& x,
                         const Tensor& w, Window& win, Shape& y_shape);

}  // namespace petrel::ref::nn
