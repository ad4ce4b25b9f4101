#include "core/graph.hpp"

namespace petrel {

std::string TypeInfo::to_string() const {
  switch (kind) {
    case Kind::kTensor: {
      std::string s(dtype_name(dtype));
      if (!has_shape) return s + "[...]";
      s += "[";
      for (size_t i = 0; i < shape.size(); ++i) {
        if (i) s += ",";
        s += shape[i].is_static() ? std::to_string(shape[i].value) : (shape[i].param.empty() ? "?" : shape[i].param);
      }
      return s + "]";
    }
    case Kind::kSequence: return "seq(" + (elem ? elem->to_string() : std::string("?")) + ")";
    case Kind::kOptional: return "optional(" + (elem ? elem->to_string() : std::string("?")) + ")";
    case Kind::kMap: return "map";
    default: return "?";
  }
}

const char* attr_type_name(AttrType t) {
  switch (t) {
    case AttrType::kFloat: return "float";
    case AttrType::kInt: return "int";
    case AttrType::kString: return "string";
    case AttrType::kTensor: return "tensor";
    case AttrType::kGraph: return "graph";
    case AttrType::kFloats: return "floats";
    case AttrType::kInts: return "ints";
    case AttrType::kStrings: return "strings";
    case AttrType::kTensors: return "tensors";
    case AttrType::kGraphs: return "graphs";
    case AttrType::kSparseTensor: return "sparse_tensor";
    case AttrType::kSparseTensors: return "sparse_tensors";
    case AttrType::kTypeProto: return "type_proto";
    case AttrType::kTypeProtos: return "type_protos";
    default: return "undefined";
  }
}

std::string Node::label() const {
  return "node '" + name + "' (" + (domain.empty() ? "" : domain + ".") + op_type + ")";
}

}  // namespace petrel
