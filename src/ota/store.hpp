// The update agent over a store folder. The C++ API that `petrel update`, `petrel run --store`
// and (later) the server use.
//
//   STORE/state.json        which slot is active / kept for rollback, trial counters, the journal
//                           entry of an install in progress, bounded history (state.hpp)
//   STORE/slots/N/          model.onnx + manifest.json of one installed version (written once)
//   STORE/tmp/              the bounded temp area: a download in progress (download.part, kept
//                           for HTTP resume), staging leftovers; cleaned at every open
//   STORE/lock              flock'ed by every operation (one agent at a time)
//
// Crash safety: a slot directory is complete and fsynced before state.json names it, and
// state.json is only replaced atomically. Whatever instant a process dies, the next open sees an
// old or new state.json whose slots are complete; it then deletes unreferenced slots and temp
// files and records an interrupted install in the history.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bundle/keys.hpp"
#include "bundle/manifest.hpp"
#include "ota/download.hpp"
#include "ota/state.hpp"

namespace petrel::ota {

struct InstallOptions {
  std::vector<bundle::PublicKey> trusted;
  std::optional<bundle::SymmetricKey> decrypt_key;
  int64_t trial_good_needed = 0;  // > 0: good inferences before the new version is marked good
  DownloadOptions download;
};

class Store {
 public:
  // Creates the folder layout if needed and recovers from an interrupted operation.
  static Result<std::unique_ptr<Store>> open(const std::string& dir);
  ~Store();

  // Re-reads state.json (another process may have changed it).
  Result<StoreState> state() const;
  // Installs a bundle file or an http:// URL; returns the installed version.
  Result<std::string> install(const std::string& bundle_or_url, const InstallOptions& opts);
  // Makes the previous version active again (explicit, or automatic with a reason).
  Status rollback(const std::string& to_version, const std::string& reason = "requested");
  Status mark_good();

  // For serving processes. Called once at start: counts a start of a version on trial (too many
  // starts without a good inference roll it back), smoke-tests a version on trial (a failure rolls
  // back), and returns the active model's path.
  Result<std::string> begin_serving();
  // After each inference: good ones count toward marking a trial version good, a bad one rolls
  // it back. No write when the active version is already good. `served_path` (the path
  // begin_serving returned; empty: the active one) makes reports about a version that has since
  // been replaced count for nothing.
  Status report_inference(bool ok, const std::string& served_path = "");
  // The active model's manifest (golden I/O, signature) for a serving process.
  Result<bundle::Manifest> active_manifest() const;
  std::string slot_model_path(const std::string& slot) const;

 private:
  explicit Store(std::string dir) : dir_(std::move(dir)) {}
  class Lock;
  Result<StoreState> load() const;
  Status commit(const StoreState& s) const;
  Status recover();
  Status rollback_locked(StoreState& s, const std::string& to_version, const std::string& reason);
  Result<std::string> install_locked(const std::string& src, const InstallOptions& opts);
  std::string dir_;
};

}  // namespace petrel::ota
