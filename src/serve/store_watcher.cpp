// StoreWatcher: poll the store's state, report outcomes, hot-swap versions.
#include "serve/store_watcher.hpp"

#include <algorithm>
#include <iostream>

namespace petrel::serve {

Result<std::unique_ptr<StoreWatcher>> StoreWatcher::open(const std::string& dir, const HostOptions& host_options,
                                                          ModelTable& models, Metrics& metrics) {
  PETREL_ASSIGN_OR_RETURN(auto store, ota::Store::open(dir));
  PETREL_ASSIGN_OR_RETURN(std::string path, store->begin_serving());
  PETREL_ASSIGN_OR_RETURN(ota::StoreState s, store->state());
  if (!s.active || store->slot_model_path(s.active->slot) != path)
    return internal_error("the store's active version changed during start; try again");
  std::unique_ptr<StoreWatcher> w(new StoreWatcher(std::move(store), host_options, models, metrics));
  Status st = w->load(*s.active);
  if (!st) {
    // Like `petrel run --store`: a version that cannot even load counts as a failed inference,
    // which rolls a trial version back; the caller may then open again.
    (void)w->store_->report_inference(false, path);
    return st;
  }
  return w;
}

StoreWatcher::~StoreWatcher() { stop(); }

void StoreWatcher::start(std::chrono::milliseconds interval) {
  thread_ = std::thread([this, interval] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      lock.unlock();
      tick();
      lock.lock();
      cv_.wait_for(lock, interval, [&] { return stopping_; });
    }
  });
}

void StoreWatcher::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  // Outcomes counted since the last tick still count toward a trial.
  auto s = store_->state();
  if (s) report(*s);
}

std::shared_ptr<const ModelHost> StoreWatcher::current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

Status StoreWatcher::load(const ota::SlotInfo& active) {
  const std::string path = store_->slot_model_path(active.slot);
  auto host = ModelHost::load(active.name, active.version, path, opts_);
  if (!host) {
    metrics_.count_load_failure(active.name);
    return host.status().with_context("version " + active.version);
  }
  // The bundle's calibration profile (drift/OOD for the hybrid router). The state may have
  // moved on since `active` was read: only a manifest of this very version is used.
  if (auto m = store_->active_manifest(); m && m->version == active.version) (*host)->set_calibration_json(m->calibration_json);
  std::shared_ptr<const ModelHost> next = std::move(host).value();
  std::shared_ptr<const ModelHost> prev = current();
  models_.set(active.name, next);
  metrics_.set_serving(active.name, active.version, next->contexts());
  if (prev && prev->name() != active.name) {  // the store now holds a differently named model
    models_.remove(prev->name());
    metrics_.forget_model(prev->name());
  }
  std::lock_guard<std::mutex> lock(mu_);
  current_ = next;
  return Status::ok();
}

void StoreWatcher::report(const ota::StoreState& s) {
  auto cur = current();
  if (!cur) return;
  const int64_t good = cur->good_runs.exchange(0), failed = cur->failed_runs.exchange(0);
  if (!s.active || s.active->status != "trial" || store_->slot_model_path(s.active->slot) != cur->path()) return;
  Status st;
  if (failed > 0) {
    st = store_->report_inference(false, cur->path());
  } else {
    // Each report rewrites state.json under the lock: send only what the trial still needs.
    const int64_t needed = std::max<int64_t>(1, s.trial_good_needed - s.active->trial_good);
    for (int64_t i = 0; i < std::min(good, needed) && st; ++i) st = store_->report_inference(true, cur->path());
  }
  if (!st) std::cerr << "petrel serve: reporting to the store failed: " << st.to_string() << "\n";
}

void StoreWatcher::tick() {
  auto s = store_->state();
  if (!s) {
    if (s.status().message() != last_error_) std::cerr << "petrel serve: store: " << s.status().to_string() << "\n";
    last_error_ = s.status().message();
    return;
  }
  report(*s);
  if (!s->active) return;
  const std::string path = store_->slot_model_path(s->active->slot);
  auto cur = current();
  if (cur && cur->path() == path) return;
  if (path == failed_path_) return;
  Status st = load(*s->active);
  if (!st) {
    failed_path_ = path;
    std::cerr << "petrel serve: keeping " << (cur ? cur->version() : "nothing") << ": " << st.to_string() << "\n";
    return;
  }
  failed_path_.clear();
  std::cerr << "petrel serve: now serving " << s->active->name << " " << s->active->version
            << (cur ? " (was " + cur->version() + ")" : "") << "\n";
}

}  // namespace petrel::serve
