#include "onnx/opset.hpp"

#include <cstring>

namespace petrel::onnx {
namespace {

template <typename T>
Result<Tensor> make_1d(DataType dt, const std::vector<T>& v, bool scalar = false) {
  Shape s = scalar ? Shape{} : Shape{int64_t(v.size())};
  PETREL_ASSIGN_OR_RETURN(Tensor t, Tensor::allocate(dt, s));
  for (size_t i = 0; i < v.size(); ++i) static_cast<T*>(t.data)[i] = v[i];
  return t;
}

// Adds a constant to the graph and returns its id.
ValueId add_constant(Graph& g, const Node& n, const std::string& what, Tensor t) {
  std::string base = n.name + "__" + what;
  std::string name = base;
  for (int k = 1; g.find(name) != kNoValue; ++k) name = base + "_" + std::to_string(k);
  ValueId id = g.add_value(name);
  g.values[size_t(id)].type = TypeInfo{TypeInfo::Kind::kTensor, t.dtype, true, {}, nullptr};
  for (int64_t d : t.shape) g.values[size_t(id)].type.shape.push_back(Dim{d, {}});
  g.constants.emplace(id, std::move(t));
  return id;
}

void remove_attr(Node& n, const char* name) {
  for (size_t i = 0; i < n.attrs.size(); ++i)
    if (n.attrs[i].name == name) { n.attrs.erase(n.attrs.begin() + long(i)); return; }
}

void set_input(Node& n, size_t i, ValueId id) {
  if (n.inputs.size() <= i) n.inputs.resize(i + 1, kNoValue);
  n.inputs[i] = id;
}

// Moves an ints attribute to input `slot` as an int64 tensor (absent attribute: input stays absent).
Status ints_attr_to_input(Graph& g, Node& n, const char* attr, size_t slot, bool scalar = false) {
  const Attribute* a = n.attr(attr);
  if (!a) return Status::ok();
  std::vector<int64_t> v;
  if (a->type == AttrType::kInts) v = a->ints;
  else if (a->type == AttrType::kInt) v = {a->i};
  else return invalid_model(n.label() + ": attribute '" + attr + "' must be ints");
  PETREL_ASSIGN_OR_RETURN(Tensor t, make_1d<int64_t>(DataType::kInt64, v, scalar));
  set_input(n, slot, add_constant(g, n, attr, std::move(t)));
  remove_attr(n, attr);
  return Status::ok();
}

Status float_attr_to_input(Graph& g, Node& n, const char* attr, size_t slot) {
  const Attribute* a = n.attr(attr);
  if (!a) return Status::ok();
  if (a->type != AttrType::kFloat) return invalid_model(n.label() + ": attribute '" + attr + "' must be a float");
  PETREL_ASSIGN_OR_RETURN(Tensor t, make_1d<float>(DataType::kFloat, {a->f}, true));
  set_input(n, slot, add_constant(g, n, attr, std::move(t)));
  remove_attr(n, attr);
  return Status::ok();
}

Attribute string_attr(const char* name, const char* value) {
  Attribute a;
  a.name = name;
  a.type = AttrType::kString;
  a.s = value;
  return a;
}

}  // namespace

Status constant_node_value(const Node& n, Tensor& out) {
  if (n.attrs.size() != 1) return invalid_model(n.label() + ": Constant needs exactly one value attribute");
  const Attribute& a = n.attrs[0];
  Result<Tensor> r = invalid_model(n.label() + ": unknown Constant attribute '" + a.name + "'");
  if ((a.name == "value" && a.type == AttrType::kTensor) || (a.name == "sparse_value" && a.type == AttrType::kSparseTensor)) {
    out = a.t;
    if (out.dtype == DataType::kUndefined) return invalid_model(n.label() + ": Constant has no tensor");
    return Status::ok();
  }
  if (a.name == "value_float" && a.type == AttrType::kFloat) r = make_1d<float>(DataType::kFloat, {a.f}, true);
  else if (a.name == "value_floats" && a.type == AttrType::kFloats) r = make_1d<float>(DataType::kFloat, a.floats);
  else if (a.name == "value_int" && a.type == AttrType::kInt) r = make_1d<int64_t>(DataType::kInt64, {a.i}, true);
  else if (a.name == "value_ints" && a.type == AttrType::kInts) r = make_1d<int64_t>(DataType::kInt64, a.ints);
  else if (a.name == "value_string" && a.type == AttrType::kString) r = make_1d<std::string>(DataType::kString, {a.s}, true);
  else if (a.name == "value_strings" && a.type == AttrType::kStrings) r = make_1d<std::string>(DataType::kString, a.strings);
  else if (a.name.rfind("value", 0) == 0 || a.name == "sparse_value")
    return invalid_model(n.label() + ": Constant attribute '" + a.name + "' has the wrong type " + attr_type_name(a.type));
  if (!r) return r.status();
  out = std::move(r).value();
  return Status::ok();
}

// Softmax/LogSoftmax/Hardmax before opset 13 coerce the input to 2-D at `axis` (default 1):
// X -> Flatten(axis) -> op(axis=1) -> Reshape(Shape(X)), which is the same at every opset.
Status rewrite_legacy_softmax(Graph& g, Node& n, std::vector<Node>& added) {
  const Attribute* a = n.attr("axis");
  if (a && a->type != AttrType::kInt) return invalid_model(n.label() + ": attribute 'axis' must be an int");
  const int64_t axis = a ? a->i : 1;
  if (n.inputs.size() != 1 || n.outputs.size() != 1 || n.inputs[0] == kNoValue) return invalid_model(n.label() + ": needs one input and one output");
  auto fresh = [&](const std::string& what) {
    std::string name = n.name + "__" + what;
    for (int k = 1; g.find(name) != kNoValue; ++k) name = n.name + "__" + what + "_" + std::to_string(k);
    return g.add_value(name);
  };
  const ValueId x = n.inputs[0], y = n.outputs[0];
  const ValueId flat = fresh("flat"), soft = fresh("2d"), shape = fresh("shape");
  Node fl;
  fl.name = n.name + "__flatten";
  fl.op_type = "Flatten";
  fl.opset = n.opset;
  fl.inputs = {x};
  fl.outputs = {flat};
  Attribute ax;
  ax.name = "axis";
  ax.type = AttrType::kInt;
  ax.i = axis;
  fl.attrs.push_back(ax);
  Node sh;
  sh.name = n.name + "__shape";
  sh.op_type = "Shape";
  sh.opset = n.opset;
  sh.inputs = {x};
  sh.outputs = {shape};
  Node rs;
  rs.name = n.name + "__reshape";
  rs.op_type = "Reshape";
  rs.opset = n.opset;
  rs.inputs = {soft, shape};
  rs.outputs = {y};
  n.inputs[0] = flat;
  n.outputs[0] = soft;
  n.opset = 13;
  remove_attr(n, "axis");
  ax.i = 1;
  n.attrs.push_back(ax);
  added.push_back(std::move(fl));
  added.push_back(std::move(sh));
  added.push_back(std::move(rs));
  return Status::ok();
}

Status normalize_opsets(Graph& g) {
  std::vector<Node> added;
  for (Node& n : g.nodes) {
    if (!n.domain.empty()) continue;
    const std::string& op = n.op_type;
    const int v = n.opset;
    if (op == "Reshape" && v < 5) {
      PETREL_RETURN_IF_ERROR(ints_attr_to_input(g, n, "shape", 1));
    } else if (op == "Slice" && v < 10) {
      PETREL_RETURN_IF_ERROR(ints_attr_to_input(g, n, "starts", 1));
      PETREL_RETURN_IF_ERROR(ints_attr_to_input(g, n, "ends", 2));
      PETREL_RETURN_IF_ERROR(ints_attr_to_input(g, n, "axes", 3));
    } else if (op == "Pad" && v < 11) {
      PETREL_RETURN_IF_ERROR(ints_attr_to_input(g, n, v < 2 ? "paddings" : "pads", 1));
      PETREL_RETURN_IF_ERROR(float_attr_to_input(g, n, "value", 2));
    } else if (op == "Clip" && v < 11) {
      const bool has_min = n.attr("min") != nullptr;
      PETREL_RETURN_IF_ERROR(float_attr_to_input(g, n, "min", 1));
      PETREL_RETURN_IF_ERROR(float_attr_to_input(g, n, "max", 2));
      if (!has_min && n.inputs.size() > 2) n.inputs[1] = kNoValue;
    } else if ((op == "Squeeze" || op == "Unsqueeze" || op == "ReduceSum") && v < 13) {
      PETREL_RETURN_IF_ERROR(ints_attr_to_input(g, n, "axes", 1));
    } else if (op == "Split" && v < 13) {
      PETREL_RETURN_IF_ERROR(ints_attr_to_input(g, n, "split", 1));
    } else if (op == "TopK" && v < 10) {
      PETREL_RETURN_IF_ERROR(ints_attr_to_input(g, n, "k", 1));
    } else if (op == "Dropout" && v < 12) {
      PETREL_RETURN_IF_ERROR(float_attr_to_input(g, n, "ratio", 1));
      remove_attr(n, "is_test");
    } else if ((op == "Softmax" || op == "LogSoftmax" || op == "Hardmax") && v < 13) {
      PETREL_RETURN_IF_ERROR(rewrite_legacy_softmax(g, n, added));
    } else if (op == "Upsample" || (op == "Resize" && v < 11)) {
      // Upsample(X, scales) and Resize-10(X, scales) == Resize-11(X, roi="", scales) with
      // asymmetric coordinates and floor rounding.
      if (const Attribute* s = n.attr("scales")) {
        if (s->type != AttrType::kFloats) return invalid_model(n.label() + ": attribute 'scales' must be floats");
        PETREL_ASSIGN_OR_RETURN(Tensor t, make_1d<float>(DataType::kFloat, s->floats));
        set_input(n, 1, add_constant(g, n, "scales", std::move(t)));
        remove_attr(n, "scales");
      }
      if (n.inputs.size() < 2) return invalid_model(n.label() + ": needs scales");
      n.inputs.insert(n.inputs.begin() + 1, kNoValue);
      n.op_type = "Resize";
      n.attrs.push_back(string_attr("coordinate_transformation_mode", "asymmetric"));
      n.attrs.push_back(string_attr("nearest_mode", "floor"));
      if (Attribute* m = n.attr("mode"); m && m->s == "bilinear") m->s = "linear";
      n.opset = 11;
    }
  }
  for (Node& n : added) g.nodes.push_back(std::move(n));
  return Status::ok();
}

Status denormalize_for_opset(Graph& g, int64_t opset) {
  if (opset < kIrOpset || opset > kMaxWriteOpset)
    return unsupported("cannot write default-domain opset " + std::to_string(opset) + " (supported: " +
                       std::to_string(kIrOpset) + ".." + std::to_string(kMaxWriteOpset) + ")");
  static const char* const kReduce18[] = {"ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax",
                                          "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSumSquare"};
  for (Node& n : g.nodes) {
    for (Attribute& a : n.attrs) {
      if (a.type == AttrType::kGraph && a.g) PETREL_RETURN_IF_ERROR(denormalize_for_opset(*a.g, opset));
      for (auto& sg : a.graphs)
        if (sg) PETREL_RETURN_IF_ERROR(denormalize_for_opset(*sg, opset));
    }
    if (!n.domain.empty()) continue;
    if (opset >= 18)
      for (const char* op : kReduce18)
        if (n.op_type == op) PETREL_RETURN_IF_ERROR(ints_attr_to_input(g, n, "axes", 1));
    if (opset >= 20 && n.op_type == "DFT") PETREL_RETURN_IF_ERROR(ints_attr_to_input(g, n, "axis", 2, true));
    if (opset >= 21 && n.op_type == "GroupNormalization")
      return unsupported(n.label() + ": GroupNormalization changed meaning in opset 21; cannot write this model at opset " + std::to_string(opset));
  }
  return Status::ok();
}

}  // namespace petrel::onnx
