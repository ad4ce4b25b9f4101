// ModelHost: context pool, request checks against the model's declared inputs, one run.
#include "serve/model_host.hpp"

#include <algorithm>
#include <set>

namespace petrel::serve {

using nlohmann::json;

namespace {

std::string shape_text(const std::vector<int64_t>& shape, const std::vector<std::string>* names = nullptr) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ",";
    if (shape[i] < 0) s += (names && i < names->size() && !(*names)[i].empty()) ? (*names)[i] : "?";
    else s += std::to_string(shape[i]);
  }
  return s + "]";
}

std::string oip_type(DataType t) {
  auto n = oip::datatype_name(t);
  return n.empty() ? std::string(dtype_name(t)) : std::string(n);
}

json tensor_metadata(const TensorInfo& t) {
  json shape = json::array();
  for (int64_t d : t.shape) shape.push_back(d < 0 ? -1 : d);  // OIP: -1 for a variable dimension
  return json{{"name", t.name}, {"datatype", oip_type(t.dtype)}, {"shape", shape}};
}

}  // namespace

Result<std::shared_ptr<ModelHost>> ModelHost::load(const std::string& name, const std::string& version,
                                                   const std::string& path, const HostOptions& opts) {
  std::shared_ptr<ModelHost> h(new ModelHost());
  h->name_ = name;
  h->version_ = version;
  h->path_ = path;
  h->contexts_ = std::max<size_t>(1, opts.contexts);
  h->max_arena_bytes_ = opts.max_arena_bytes;
  h->max_symbolic_product_ = opts.max_symbolic_product;
  for (size_t i = 0; i < h->contexts_; ++i) {
    // One load; the other contexts share its graph and weights (Session::new_context).
    auto s = i == 0 ? Session::open(path, opts.session) : h->free_.front()->new_context();
    if (!s) return s.status().with_context("loading " + path);
    if (i == 0) {
      h->inputs_ = (*s)->inputs();
      h->outputs_ = (*s)->outputs();
      for (const auto& t : h->inputs_)
        if (!t.is_tensor || oip::datatype_name(t.dtype).empty() || t.dtype == DataType::kString)
          return unsupported("model input '" + t.name + "' (" + std::string(dtype_name(t.dtype)) +
                             ") cannot be sent over the inference protocol");
    }
    h->arena_per_context_.emplace_back(s->get(), 0);
    h->free_.push_back(std::move(s).value());
  }
  return h;
}

ModelHost::Lease::~Lease() {
  if (s_ && host_) host_->release(std::move(s_));
}

std::optional<ModelHost::Lease> ModelHost::acquire(Clock::time_point deadline) const {
  std::unique_lock<std::mutex> lock(mu_);
  if (!free_.empty() && waiters_.empty()) {
    std::unique_ptr<Session> s = std::move(free_.back());
    free_.pop_back();
    return Lease(shared_from_this(), std::move(s));
  }
  // First come, first served: release() hands a context to the oldest waiter directly, so a
  // burst of requests cannot starve one of them (a plain condition variable wakes any waiter).
  Waiter w;
  waiters_.push_back(&w);
  if (!w.cv.wait_until(lock, deadline, [&] { return w.session != nullptr; })) {
    waiters_.erase(std::find(waiters_.begin(), waiters_.end(), &w));
    return std::nullopt;
  }
  return Lease(shared_from_this(), std::move(w.session));
}

void ModelHost::release(std::unique_ptr<Session> s) const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t sum = 0;
  for (auto& [session, bytes] : arena_per_context_) {
    if (session == s.get()) bytes = s->arena_bytes();
    sum += bytes;
  }
  arena_bytes_.store(sum);
  if (waiters_.empty()) {
    free_.push_back(std::move(s));
    return;
  }
  Waiter* w = waiters_.front();
  waiters_.pop_front();
  w->session = std::move(s);
  w->cv.notify_one();  // under the lock: the waiter's stack frame cannot vanish before this
}

json ModelHost::metadata() const {
  json in = json::array(), out = json::array();
  for (const auto& t : inputs_) in.push_back(tensor_metadata(t));
  for (const auto& t : outputs_) out.push_back(tensor_metadata(t));
  return json{{"name", name_}, {"versions", json::array({version_})}, {"platform", "petrel"},
              {"inputs", in}, {"outputs", out}};
}

Status ModelHost::check_request(const oip::InferRequest& request) const {
  for (const auto& t : request.inputs) {
    const TensorInfo* info = nullptr;
    for (const auto& m : inputs_)
      if (m.name == t.name) info = &m;
    if (!info) {
      std::string names;
      for (const auto& m : inputs_) names += (names.empty() ? "'" : ", '") + m.name + "'";
      return invalid_argument("input '" + t.name.substr(0, 64) + "' is not an input of model '" + name_ +
                              "' (inputs: " + names + ")");
    }
    if (t.dtype != info->dtype)
      return invalid_argument("input '" + info->name + "': expected datatype " + oip_type(info->dtype) + ", got " +
                              oip_type(t.dtype));
    bool ok = t.shape.size() == info->shape.size();
    for (size_t i = 0; ok && i < t.shape.size(); ++i)
      ok = info->shape[i] < 0 ? t.shape[i] >= 1 : t.shape[i] == info->shape[i];
    if (!ok)
      return invalid_argument("input '" + info->name + "': expected shape " + shape_text(info->shape, &info->dim_names) +
                              ", got " + shape_text(t.shape));
    int64_t product = 1;
    for (size_t i = 0; i < t.shape.size(); ++i)
      if (info->shape[i] < 0) product = std::min(product * t.shape[i], max_symbolic_product_ + 1);  // no overflow
    if (product > max_symbolic_product_)
      return out_of_range("input '" + info->name + "': the symbolic dims of shape " + shape_text(t.shape) +
                          " multiply to more than " + std::to_string(max_symbolic_product_) + " (--max-batch)");
  }
  for (const auto& m : inputs_) {
    bool given = false;
    for (const auto& t : request.inputs) given |= t.name == m.name;
    if (!given) return invalid_argument("input '" + m.name + "' is missing");
  }
  std::set<std::string> outs;
  for (const auto& o : outputs_) outs.insert(o.name);
  for (const auto& r : request.requested_outputs)
    if (!outs.count(r)) return invalid_argument("requested output '" + r.substr(0, 64) + "' is not an output of the model");
  return Status::ok();
}

Result<oip::InferResponse> ModelHost::run(Lease& lease, const oip::InferRequest& request) const {
  Session& s = lease.session();
  for (const auto& t : request.inputs)
    PETREL_RETURN_IF_ERROR(s.set_input(t.name, t.dtype, t.shape, t.bytes.data()).with_context("input '" + t.name + "'"));
  // Symbolic dims > 1 (a batch, a longer sequence): plan first and check the arena. Planning
  // sizes the arena without touching it, so a refused plan costs address space, not memory.
  bool larger = false;
  for (const auto& t : request.inputs)
    for (int64_t d : t.shape) larger |= d > 1;
  if (larger) {
    PETREL_RETURN_IF_ERROR(s.plan());
    if (s.arena_bytes() > max_arena_bytes_)
      return out_of_range("these input shapes need an activation arena of " + std::to_string(s.arena_bytes()) +
                          " bytes; the limit is " + std::to_string(max_arena_bytes_) + " (--max-arena-bytes)");
  }
  PETREL_RETURN_IF_ERROR(s.run());
  oip::InferResponse resp;
  resp.model_name = name_;
  resp.model_version = version_;
  resp.id = request.id;
  for (size_t i = 0; i < outputs_.size(); ++i) {
    const auto& info = outputs_[i];
    if (!request.requested_outputs.empty()) {
      bool wanted = false;
      for (const auto& r : request.requested_outputs) wanted |= r == info.name;
      if (!wanted) continue;
    }
    PETREL_ASSIGN_OR_RETURN(TensorView v, s.output(i));
    size_t bytes = size_t(v.numel()) * dtype_size(v.dtype);
    PETREL_ASSIGN_OR_RETURN(oip::Tensor t, oip::make_tensor(info.name, v.dtype, v.shape, v.data, bytes));
    resp.outputs.push_back(std::move(t));
  }
  return resp;
}

}  // namespace petrel::serve
