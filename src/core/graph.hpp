// The versionless graph IR. The ONNX loader resolves opset differences so that every node here
// has the semantics of the newest opset Petrel implements (see src/onnx/opset.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/tensor.hpp"

namespace petrel {

using ValueId = int32_t;
constexpr ValueId kNoValue = -1;  // an omitted optional input/output

struct Graph;

// A dimension: a fixed size (value >= 0), a named symbolic size (param), or unknown.
struct Dim {
  int64_t value = -1;
  std::string param;
  bool is_static() const { return value >= 0; }
};

struct TypeInfo {
  enum class Kind : uint8_t { kUnknown, kTensor, kSequence, kOptional, kMap };
  Kind kind = Kind::kUnknown;
  DataType dtype = DataType::kUndefined;  // kTensor
  bool has_shape = false;                 // kTensor: rank known
  std::vector<Dim> shape;
  std::shared_ptr<TypeInfo> elem;         // kSequence / kOptional element type
  std::string to_string() const;          // "float32[batch,1,28,28]", "seq(float32[?])"
};

struct ValueInfo {
  std::string name;
  TypeInfo type;
};

enum class AttrType : int32_t {
  kUndefined = 0, kFloat = 1, kInt = 2, kString = 3, kTensor = 4, kGraph = 5, kFloats = 6,
  kInts = 7, kStrings = 8, kTensors = 9, kGraphs = 10, kSparseTensor = 11, kSparseTensors = 12,
  kTypeProto = 13, kTypeProtos = 14,
};
const char* attr_type_name(AttrType t);

struct Attribute {
  std::string name;
  AttrType type = AttrType::kUndefined;
  float f = 0;
  int64_t i = 0;
  std::string s;
  Tensor t;
  std::shared_ptr<Graph> g;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
  std::vector<Tensor> tensors;
  std::vector<std::shared_ptr<Graph>> graphs;
  std::vector<TypeInfo> type_protos;
};

struct Node {
  std::string name;
  std::string op_type;
  std::string domain;            // "" for the default ONNX domain
  int opset = 0;                 // the model's opset for this node's domain
  std::vector<ValueId> inputs;   // kNoValue for an omitted optional input
  std::vector<ValueId> outputs;  // kNoValue for an omitted optional output
  // Values of the enclosing scopes that this node's subgraphs read (If/Loop/Scan bodies).
  std::vector<ValueId> implicit_inputs;
  std::vector<Attribute> attrs;

  const Attribute* attr(const std::string& n) const {
    for (const auto& a : attrs)
      if (a.name == n) return &a;
    return nullptr;
  }
  Attribute* attr(const std::string& n) {
    for (auto& a : attrs)
      if (a.name == n) return &a;
    return nullptr;
  }
  // "node 'conv1' (Conv)" for error messages.
  std::string label() const;
};

struct Graph {
  std::string name;
  std::vector<ValueInfo> values;      // indexed by ValueId
  std::vector<Node> nodes;            // topologically sorted by the loader
  std::vector<ValueId> inputs;        // runtime inputs (initializers excluded)
  std::vector<ValueId> outputs;
  std::vector<ValueId> outer_refs;    // values defined in an enclosing graph (read-only here)
  std::unordered_map<ValueId, Tensor> constants;  // initializers (views into the model file)
  std::unordered_map<std::string, ValueId> by_name;

  ValueId find(const std::string& n) const {
    auto it = by_name.find(n);
    return it == by_name.end() ? kNoValue : it->second;
  }
  ValueId add_value(const std::string& n) {
    auto id = ValueId(values.size());
    values.push_back(ValueInfo{n, {}});
    if (!n.empty()) by_name[n] = id;
    return id;
  }
  const Tensor* constant(ValueId id) const {
    auto it = constants.find(id);
    return it == constants.end() ? nullptr : &it->second;
  }
};

}  // namespace petrel
