// Internal: GraphProto → Graph, with subgraph scoping and topological sorting.
#pragma once

#include "onnx/proto_parse.hpp"

namespace petrel::onnx {

struct Scope {
  Graph* graph;
  Scope* parent;
};

struct ParseContext {
  TensorSource* src;
  const std::map<std::string, int64_t>* opsets;  // domain → version ("" for default)
  int depth = 0;
};

Status parse_graph(WireReader r, ParseContext& ctx, Scope* parent, Graph& out);
// Dense tensor from a SparseTensorProto.
Status parse_sparse_tensor(WireReader r, TensorSource& src, Tensor& out);

}  // namespace petrel::onnx
