#include "api/session_impl.hpp"

namespace petrel {
namespace {

TensorInfo info_of(const ValueInfo& vi) {
  TensorInfo t;
  t.name = vi.name;
  t.is_tensor = vi.type.kind == TypeInfo::Kind::kTensor || vi.type.kind == TypeInfo::Kind::kUnknown;
  t.dtype = vi.type.dtype;
  for (const Dim& d : vi.type.shape) {
    t.shape.push_back(d.is_static() ? d.value : -1);
    t.dim_names.push_back(d.param);
  }
  return t;
}

}  // namespace

const char* version() { return "0.1.0"; }

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;

Session::Impl& session_internals(Session& s) { return *s.impl_; }

// The per-context part of a session: executor (kernels, arena plan) and thread pool. The graph
// it runs is const from here on, so contexts on one model can run concurrently.
static Status start_executor(Session::Impl& impl) {
  auto ex = GraphExecutor::create(impl.model->graph, true);
  if (!ex) return ex.status();
  impl.exec = std::move(ex).value();
  impl.pool = std::make_unique<ThreadPool>(impl.options.threads);
  impl.exec->set_thread_pool(impl.pool.get());
  return Status::ok();
}

Result<std::unique_ptr<Session>> Session::new_context() const {
  auto impl = std::make_unique<Impl>();
  impl->model = impl_->model;  // shared: graph and weights
  impl->options = impl_->options;
  impl->inputs = impl_->inputs;
  impl->outputs = impl_->outputs;
  impl->info = impl_->info;
  impl->bound.resize(impl_->bound.size());
  impl->is_bound.assign(impl_->is_bound.size(), 0);
  impl->xnnpack_partitions = impl_->xnnpack_partitions;
  impl->xnnpack_nodes = impl_->xnnpack_nodes;
  impl->optimized = impl_->optimized;
  impl->opt_stats = impl_->opt_stats;
  impl->opt_status = impl_->opt_status;
  PETREL_RETURN_IF_ERROR(start_executor(*impl));
  return std::unique_ptr<Session>(new Session(std::move(impl)));
}

Result<std::unique_ptr<Session>> Session::open(const std::string& path, const SessionOptions& options) {
  if (options.threads < 1 || options.threads > 256) return invalid_argument("threads must be between 1 and 256");
  auto impl = std::make_unique<Impl>();
  PETREL_ASSIGN_OR_RETURN(impl->model, onnx::load_model(path));
  if (options.optimize) {
    // The optimizer only ever leaves a verified graph behind, so a failure here is not fatal:
    // the model runs as far as it got (usually as loaded).
    impl->optimized = true;
    impl->opt_status = opt::optimize_graph(*impl->model->graph, &impl->opt_stats);
    PETREL_ASSIGN_OR_RETURN(int bits, opt::activation_bits_from_metadata(impl->model->metadata));
    (void)opt::mark_activation_bits(*impl->model->graph, bits);
  }
  impl->options = options;
  ProviderStats ps;
  PETREL_RETURN_IF_ERROR(assign_providers(*impl->model->graph, options.xnnpack, &ps));
  impl->xnnpack_partitions = ps.xnnpack_partitions;
  impl->xnnpack_nodes = ps.xnnpack_nodes;
  PETREL_RETURN_IF_ERROR(start_executor(*impl).with_context(path));
  const Graph& g = *impl->model->graph;
  for (ValueId id : g.inputs) impl->inputs.push_back(info_of(g.values[size_t(id)]));
  for (ValueId id : g.outputs) impl->outputs.push_back(info_of(g.values[size_t(id)]));
  impl->bound.resize(g.inputs.size());
  impl->is_bound.assign(g.inputs.size(), 0);
  impl->info.ir_version = impl->model->ir_version;
  impl->info.opset = impl->model->opset("");
  impl->info.producer = impl->model->producer_name + (impl->model->producer_version.empty() ? "" : " " + impl->model->producer_version);
  impl->info.zero_copy_bytes = impl->model->zero_copy_bytes;
  impl->info.copied_bytes = impl->model->copied_bytes;
  return std::unique_ptr<Session>(new Session(std::move(impl)));
}

const std::vector<TensorInfo>& Session::inputs() const { return impl_->inputs; }
const std::vector<TensorInfo>& Session::outputs() const { return impl_->outputs; }
const ModelInfo& Session::model_info() const { return impl_->info; }

Status Session::set_input(size_t index, DataType dtype, const std::vector<int64_t>& shape, const void* data) {
  if (index >= impl_->inputs.size()) return invalid_argument("input index " + std::to_string(index) + " out of range");
  const TensorInfo& ti = impl_->inputs[index];
  if (!ti.is_tensor) return unsupported("input '" + ti.name + "' is not a tensor");
  auto n = checked_numel(shape);
  if (!n) return invalid_argument("input '" + ti.name + "': " + n.status().message());
  if (data == nullptr && n.value() > 0) return invalid_argument("input '" + ti.name + "': data is null");
  if (dtype == DataType::kString) return unsupported("input '" + ti.name + "': string inputs are not supported by this API");
  Value& v = impl_->bound[index];
  v.kind = Value::Kind::kTensor;
  v.tensor.dtype = dtype;
  v.tensor.shape.assign(shape.begin(), shape.end());
  v.tensor.data = const_cast<void*>(data);
  impl_->is_bound[index] = 1;
  return Status::ok();
}

Status Session::set_input(const std::string& name, DataType dtype, const std::vector<int64_t>& shape, const void* data) {
  for (size_t i = 0; i < impl_->inputs.size(); ++i)
    if (impl_->inputs[i].name == name) return set_input(i, dtype, shape, data);
  std::string names;
  for (auto& t : impl_->inputs) names += (names.empty() ? "" : ", ") + t.name;
  return not_found("the model has no input '" + name + "' (inputs: " + names + ")");
}

static Status check_bound(const Session::Impl& impl) {
  for (size_t i = 0; i < impl.inputs.size(); ++i)
    if (!impl.is_bound[i]) return invalid_argument("input '" + impl.inputs[i].name + "' is not set");
  return Status::ok();
}

Status Session::plan() {
  PETREL_RETURN_IF_ERROR(check_bound(*impl_));
  return impl_->exec->plan(impl_->bound);
}

Status Session::run() {
  PETREL_RETURN_IF_ERROR(check_bound(*impl_));
  return impl_->exec->run(impl_->bound, {}, impl_->results);
}

Result<TensorView> Session::output(size_t index) const {
  if (index >= impl_->outputs.size()) return invalid_argument("output index " + std::to_string(index) + " out of range");
  if (index >= impl_->results.size()) return invalid_argument("no outputs yet: call run() first");
  const Value& v = impl_->results[index];
  if (!v.is_tensor()) return unsupported("output '" + impl_->outputs[index].name + "' is not a tensor");
  TensorView tv;
  tv.dtype = v.tensor.dtype;
  tv.shape = v.tensor.shape;
  tv.data = v.tensor.data;
  return tv;
}

Result<TensorView> Session::output(const std::string& name) const {
  for (size_t i = 0; i < impl_->outputs.size(); ++i)
    if (impl_->outputs[i].name == name) return output(i);
  return not_found("the model has no output '" + name + "'");
}

size_t Session::arena_bytes() const { return impl_->exec->stats().arena_bytes; }

}  // namespace petrel
