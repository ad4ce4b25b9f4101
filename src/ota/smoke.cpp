#include "ota/smoke.hpp"

#include <cmath>
#include <set>

#include "bundle/semver.hpp"
#include "core/npy.hpp"
#include "kernels/reference/registry.hpp"
#include "petrel/petrel.hpp"

namespace petrel::ota {
namespace {

void collect(const Graph& g, std::set<std::string>& out) {
  for (const Node& n : g.nodes) {
    out.insert(n.domain.empty() || n.domain == "ai.onnx" ? n.op_type : n.domain + ":" + n.op_type);
    for (const Attribute& a : n.attrs) {
      if (a.g) collect(*a.g, out);
      for (const auto& sg : a.graphs)
        if (sg) collect(*sg, out);
    }
  }
}

}  // namespace

std::vector<std::string> ops_of(const Graph& g) {
  std::set<std::string> s;
  collect(g, s);
  return {s.begin(), s.end()};
}

bool op_supported(const std::string& op) {
  const size_t colon = op.rfind(':');
  const std::string domain = colon == std::string::npos ? "" : op.substr(0, colon);
  const std::string type = colon == std::string::npos ? op : op.substr(colon + 1);
  if (domain.empty() && (type == "If" || type == "Loop" || type == "Scan" || type == "SequenceMap")) return true;
  return ref::find_kernel(domain, type) != nullptr;
}

Status check_required_ops(const bundle::Manifest& m) {
  for (const std::string& op : m.required_ops)
    if (!op_supported(op)) return unsupported("bundle requires operator '" + op + "', which this build does not implement");
  return Status::ok();
}

Status check_runtime(const bundle::Manifest& m) {
  PETREL_ASSIGN_OR_RETURN(bundle::SemVer self, bundle::parse_semver(version()));
  PETREL_ASSIGN_OR_RETURN(bundle::SemVer lo, bundle::parse_semver(m.runtime_min));
  bool ok = bundle::compare(lo, self) <= 0;
  if (!m.runtime_max.empty()) {
    PETREL_ASSIGN_OR_RETURN(bundle::SemVer hi, bundle::parse_semver(m.runtime_max));
    ok = ok && bundle::compare(self, hi) < 0;
  }
  if (!ok)
    return unsupported("bundle requires Petrel runtime >= " + m.runtime_min + (m.runtime_max.empty() ? "" : ", < " + m.runtime_max) +
                       "; this is " + version());
  return Status::ok();
}

Result<std::vector<bundle::GoldenTensor>> run_model(const std::string& model_path, const std::vector<bundle::GoldenTensor>& inputs) {
  PETREL_ASSIGN_OR_RETURN(auto s, Session::open(model_path));
  std::vector<Tensor> held;
  held.reserve(inputs.size());
  for (const auto& in : inputs) {
    auto t = parse_npy(in.npy.data(), in.npy.size());
    if (!t) return t.status().with_context("golden input '" + in.name + "'");
    held.push_back(std::move(t).value());
    PETREL_RETURN_IF_ERROR(s->set_input(in.name, held.back().dtype, held.back().shape, held.back().data).with_context("golden input"));
  }
  PETREL_RETURN_IF_ERROR(s->run());
  std::vector<bundle::GoldenTensor> out;
  for (size_t i = 0; i < s->outputs().size(); ++i) {
    PETREL_ASSIGN_OR_RETURN(TensorView v, s->output(i));
    Tensor t = Tensor::view(v.dtype, v.shape, v.data);
    PETREL_ASSIGN_OR_RETURN(auto bytes, encode_npy(t));
    out.push_back({s->outputs()[i].name, std::move(bytes)});
  }
  return out;
}

Status smoke_test(const std::string& model_path, const bundle::Manifest& m) {
  if (m.golden_inputs.empty()) {
    PETREL_ASSIGN_OR_RETURN(auto s, Session::open(model_path));
    (void)s;
    return Status::ok();
  }
  PETREL_ASSIGN_OR_RETURN(auto got, run_model(model_path, m.golden_inputs));
  for (const auto& want : m.golden_outputs) {
    const bundle::GoldenTensor* g = nullptr;
    for (const auto& o : got)
      if (o.name == want.name) g = &o;
    if (!g) return invalid_model("smoke test: the model has no output '" + want.name + "'");
    PETREL_ASSIGN_OR_RETURN(Tensor a, parse_npy(g->npy.data(), g->npy.size()));
    auto b = parse_npy(want.npy.data(), want.npy.size());
    if (!b) return b.status().with_context("golden output '" + want.name + "'");
    if (a.dtype != b->dtype || a.shape != b->shape)
      return invalid_model("smoke test: output '" + want.name + "' is " + std::string(dtype_name(a.dtype)) + shape_to_string(a.shape) +
                           ", golden is " + std::string(dtype_name(b->dtype)) + shape_to_string(b->shape));
    if (!(dtype_is_float(a.dtype) || dtype_is_integer(a.dtype) || a.dtype == DataType::kBool)) continue;
    for (int64_t i = 0; i < a.numel(); ++i) {
      const double x = element_as_double(a, i), y = element_as_double(b.value(), i);
      if (std::isnan(x) && std::isnan(y)) continue;
      if (!(std::fabs(x - y) <= m.golden_atol + m.golden_rtol * std::fabs(y)))
        return invalid_model("smoke test: output '" + want.name + "' element " + std::to_string(i) + " is " + std::to_string(x) +
                             ", golden " + std::to_string(y) + " (atol " + std::to_string(m.golden_atol) + ", rtol " +
                             std::to_string(m.golden_rtol) + ")");
    }
  }
  return Status::ok();
}

}  // namespace petrel::ota
