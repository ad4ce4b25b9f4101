// Serving from an update store (petrel update): loads the active version, follows the store's
// state (install, rollback, auto-rollback) and hot-swaps, and reports inference outcomes back to
// the agent so a version on trial gets marked good (or rolled back).
//
// Reporting is off the request path: Store::report_inference takes the store's file lock and
// rewrites state.json while a version is on trial, so requests only bump two atomic counters on
// their ModelHost, and the watcher thread (every `interval`) reports at most as many good
// inferences as the trial still needs, or one failure. Once the version is good nothing is
// written. A new version that fails to load is logged and counted; the old one keeps serving.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "ota/store.hpp"
#include "serve/metrics.hpp"
#include "serve/model_table.hpp"

namespace petrel::serve {

class StoreWatcher {
 public:
  // Opens the store, calls begin_serving() (counts a trial start, smoke-tests a trial version)
  // and loads the active version into `models`.
  static Result<std::unique_ptr<StoreWatcher>> open(const std::string& dir, const HostOptions& host_options,
                                                     ModelTable& models, Metrics& metrics);
  ~StoreWatcher();

  void start(std::chrono::milliseconds interval = std::chrono::milliseconds(200));
  void stop();
  // One poll: report outcomes, swap if the active version changed. Public for tests.
  void tick();
  std::shared_ptr<const ModelHost> current() const;

 private:
  StoreWatcher(std::unique_ptr<ota::Store> store, HostOptions opts, ModelTable& models, Metrics& metrics)
      : store_(std::move(store)), opts_(std::move(opts)), models_(models), metrics_(metrics) {}
  Status load(const ota::SlotInfo& active);
  void report(const ota::StoreState& s);

  std::unique_ptr<ota::Store> store_;
  HostOptions opts_;
  ModelTable& models_;
  Metrics& metrics_;
  mutable std::mutex mu_;
  std::shared_ptr<const ModelHost> current_;
  std::string failed_path_;  // a version that failed to load: not retried until the slot changes
  std::string last_error_;   // logged once
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace petrel::serve
