#include "ota/store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bundle/reader.hpp"
#include "bundle/semver.hpp"
#include "ota/failpoint.hpp"
#include "ota/fsutil.hpp"
#include "ota/smoke.hpp"

namespace petrel::ota {

namespace fs = std::filesystem;

class Store::Lock {
 public:
  static Result<Lock> take(const std::string& dir) {
    const std::string path = dir + "/lock";
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return io_error("cannot open " + path + ": " + std::strerror(errno));
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return io_error("cannot lock " + path + ": " + std::strerror(errno));
    }
    return Lock(fd);
  }
  Lock(Lock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  ~Lock() {
    if (fd_ >= 0) ::close(fd_);  // releases the flock
  }

 private:
  explicit Lock(int fd) : fd_(fd) {}
  int fd_;
};

namespace {

// Reads a file of at most `max` bytes, allocating its size, not its bound (a serving process
// reads state.json every 200 ms). Files here are only replaced by rename, so an open file's
// size does not change while it is read; a short read is still reported.
Result<std::string> read_small_file(const std::string& path, size_t max) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) return not_found("cannot open " + path);
  const std::streamoff size = f.tellg();
  if (size < 0) return io_error("cannot read " + path);
  if (uint64_t(size) > max) return out_of_range(path + " is larger than " + std::to_string(max) + " bytes");
  std::string s(size_t(size), '\0');
  f.seekg(0);
  f.read(s.data(), std::streamsize(size));
  if (f.gcount() != size) return io_error(path + ": short read");
  return s;
}

uint64_t dir_size(const std::string& dir) {
  uint64_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec))
    if (e.is_regular_file(ec)) n += e.file_size(ec);
  return n;
}

}  // namespace

Store::~Store() = default;

std::string Store::slot_model_path(const std::string& slot) const { return dir_ + "/slots/" + slot + "/model.onnx"; }

Result<StoreState> Store::load() const {
  const std::string path = dir_ + "/state.json";
  if (!fs::exists(path)) return StoreState{};
  PETREL_ASSIGN_OR_RETURN(std::string text, read_small_file(path, 1 << 20));
  return parse_state(text, path);
}

Status Store::commit(const StoreState& s) const {
  return write_file_atomic(dir_, "state.json", state_to_json(s), "write_state", "after_state_rename");
}

Result<std::unique_ptr<Store>> Store::open(const std::string& dir) {
  PETREL_RETURN_IF_ERROR(bundle::init_crypto());
  if (dir.empty()) return invalid_argument("empty store path");
  PETREL_RETURN_IF_ERROR(make_dir(dir));
  PETREL_RETURN_IF_ERROR(make_dir(dir + "/slots"));
  PETREL_RETURN_IF_ERROR(make_dir(dir + "/tmp"));
  std::unique_ptr<Store> s(new Store(dir));
  PETREL_ASSIGN_OR_RETURN(Lock lock, Lock::take(dir));
  PETREL_RETURN_IF_ERROR(s->recover());
  return s;
}

Result<StoreState> Store::state() const {
  PETREL_ASSIGN_OR_RETURN(Lock lock, Lock::take(dir_));
  return load();
}

// Under the lock: forget an interrupted install, delete what no state references.
Status Store::recover() {
  PETREL_ASSIGN_OR_RETURN(StoreState s, load());
  if (s.pending) {
    add_event(s, "interrupted", s.pending->version, s.pending->op + " stopped at step '" + s.pending->step + "'; its files were removed");
    s.pending.reset();
    PETREL_RETURN_IF_ERROR(commit(s));
  }
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_ + "/slots", ec)) {
    const std::string n = e.path().filename().string();
    if ((s.active && n == s.active->slot) || (s.previous && n == s.previous->slot)) continue;
    PETREL_RETURN_IF_ERROR(remove_all(e.path().string()));
  }
  if (ec) return io_error("cannot list " + dir_ + "/slots: " + ec.message());
  for (const auto& e : fs::directory_iterator(dir_ + "/tmp", ec)) {
    const std::string n = e.path().filename().string();
    if (n == "download.part" || n == "download.url") continue;  // kept for resume
    PETREL_RETURN_IF_ERROR(remove_all(e.path().string()));
  }
  if (ec) return io_error("cannot list " + dir_ + "/tmp: " + ec.message());
  // Leftover state.json.tmp from a write that never reached its rename.
  PETREL_RETURN_IF_ERROR(remove_all(dir_ + "/state.json.tmp"));
  return Status::ok();
}

Result<std::string> Store::install(const std::string& src, const InstallOptions& opts) {
  PETREL_ASSIGN_OR_RETURN(Lock lock, Lock::take(dir_));
  PETREL_RETURN_IF_ERROR(recover());
  return install_locked(src, opts);
}

Result<std::string> Store::install_locked(const std::string& src, const InstallOptions& opts) {
  std::string path = src;
  const bool downloaded = is_url(src);
  if (downloaded) {
    // A partial download of another URL is not resumed.
    const std::string url_file = dir_ + "/tmp/download.url", part = dir_ + "/tmp/download.part";
    auto old = read_small_file(url_file, 8192);
    if (!old || *old != src) {
      PETREL_RETURN_IF_ERROR(remove_all(part));
      PETREL_RETURN_IF_ERROR(write_file_atomic(dir_ + "/tmp", "download.url", src, nullptr));
    }
    PETREL_ASSIGN_OR_RETURN(uint64_t n, download(src, part, opts.download));
    (void)n;
    path = part;
    PETREL_RETURN_IF_ERROR(failpoint("after_download"));
  }
  // A completed download is used once: whether the install succeeds or is refused (a bad file
  // must not be "resumed" forever), it is deleted when this returns. Only a crash keeps it.
  struct DropDownload {
    const Store* store;
    bool active;
    ~DropDownload() {
      if (!active) return;
      (void)remove_all(store->dir_ + "/tmp/download.part");
      (void)remove_all(store->dir_ + "/tmp/download.url");
    }
  } drop_download{this, downloaded};
  PETREL_ASSIGN_OR_RETURN(auto source, bundle::FileSource::open(path));
  PETREL_ASSIGN_OR_RETURN(bundle::VerifiedBundle vb, bundle::verify_bundle(*source, opts.trusted));
  PETREL_RETURN_IF_ERROR(failpoint("after_verify"));
  const bundle::Manifest& m = vb.manifest;
  PETREL_RETURN_IF_ERROR(check_runtime(m));
  PETREL_RETURN_IF_ERROR(check_required_ops(m));
  if (vb.header.encrypted() && !opts.decrypt_key) return invalid_argument("the bundle's model is encrypted: pass --decrypt-key");

  PETREL_ASSIGN_OR_RETURN(StoreState s, load());
  if (s.active) {
    PETREL_ASSIGN_OR_RETURN(bundle::SemVer now, bundle::parse_semver(s.active->version));
    PETREL_ASSIGN_OR_RETURN(bundle::SemVer v, bundle::parse_semver(m.version));
    if (bundle::compare(v, now) <= 0)
      return invalid_argument("refusing version " + m.version + ": not newer than the active version " + s.active->version +
                              " (use 'petrel update rollback' to go back)");
  }

  // Refuse early when the model cannot fit (the previous slot's space counts as free: it is
  // given up below). Writes can still fail later (ENOSPC): that path is handled too.
  {
    struct statvfs vfs{};
    if (::statvfs((dir_ + "/slots").c_str(), &vfs) == 0) {
      uint64_t free_bytes = uint64_t(vfs.f_bavail) * uint64_t(vfs.f_frsize);
      if (s.previous) free_bytes += dir_size(dir_ + "/slots/" + s.previous->slot);
      const uint64_t need = m.model_size + (1u << 20);
      if (free_bytes < need)
        return io_error("not enough space in " + dir_ + " for " + m.version + ": need " + std::to_string(need) + " bytes, " +
                        std::to_string(free_bytes) + " available");
    }
  }

  // Journal: the install starts; the slot kept for rollback is given up to stage into.
  const std::string slot = std::to_string(s.next_slot);
  s.pending = Pending{"install", m.version, slot, "staging"};
  s.next_slot++;
  std::string dropped = s.previous ? s.previous->slot : "";
  if (s.previous) add_event(s, "discarded", s.previous->version, "slot reused for " + m.version);
  s.previous.reset();
  PETREL_RETURN_IF_ERROR(failpoint("before_journal_commit"));
  PETREL_RETURN_IF_ERROR(commit(s));
  if (!dropped.empty()) PETREL_RETURN_IF_ERROR(remove_all(dir_ + "/slots/" + dropped));

  // Any failure from here on: remove the staged files, close the journal entry, report.
  const std::string staging = dir_ + "/slots/" + slot + ".tmp", final_dir = dir_ + "/slots/" + slot;
  auto fail = [&](const Status& why) -> Status {
    (void)remove_all(staging);
    (void)remove_all(final_dir);
    s.pending.reset();
    add_event(s, "install-failed", m.version, why.to_string());
    Status c = commit(s);
    return c ? why : why.with_context("(and the state could not be written: " + c.message() + ")");
  };

  Status st = make_dir(staging);
  if (st) {
    FileWriter w;
    st = w.open(staging + "/model.onnx");
    const uint64_t half = m.model_size / 2;
    bool crossed = false;
    if (st)
      st = bundle::extract_model(*source, vb, opts.decrypt_key ? &*opts.decrypt_key : nullptr, [&](const uint8_t* p, size_t n) {
        if (!crossed && w.written() + n > half) {
          crossed = true;
          PETREL_RETURN_IF_ERROR(failpoint("mid_copy"));
        }
        return w.write(p, n, "write_model");
      });
    if (st) st = w.close_synced();
    if (st && w.written() != m.model_size) st = invalid_model("extracted " + std::to_string(w.written()) + " model bytes, manifest says " + std::to_string(m.model_size));
  }
  if (st) {
    FileWriter w;
    const std::string mj = bundle::manifest_to_json(m);
    st = w.open(staging + "/manifest.json");
    if (st) st = w.write(reinterpret_cast<const uint8_t*>(mj.data()), mj.size(), "write_model");
    if (st) st = w.close_synced();
  }
  if (st) st = fsync_dir(staging);
  if (st && std::rename(staging.c_str(), final_dir.c_str()) != 0) st = io_error("cannot rename " + staging + ": " + std::strerror(errno));
  if (st) st = fsync_dir(dir_ + "/slots");
  if (st) st = failpoint("after_stage");
  if (!st) return fail(st.with_context("staging " + m.version));

  // Smoke test in a staging session.
  s.pending->step = "smoke-test";
  st = smoke_test(final_dir + "/model.onnx", m);
  if (st) st = failpoint("after_smoke");
  if (!st) return fail(st.with_context("smoke test of " + m.version));

  // The switch: one atomic replacement of state.json.
  PETREL_RETURN_IF_ERROR(failpoint("before_switch"));
  StoreState next = s;
  next.pending.reset();
  next.previous = s.active;
  if (next.previous && next.previous->status == "trial") next.previous->status = "superseded";
  next.active = SlotInfo{slot, m.name, m.version, "trial", 0, 0, now_rfc3339()};
  if (opts.trial_good_needed > 0) next.trial_good_needed = opts.trial_good_needed;
  add_event(next, "installed", m.version, "on trial until " + std::to_string(next.trial_good_needed) + " good inferences or mark-good");
  st = commit(next);
  if (!st) return fail(st.with_context("switching to " + m.version));
  PETREL_RETURN_IF_ERROR(failpoint("after_switch"));
  return m.version;
}

Status Store::rollback(const std::string& to_version, const std::string& reason) {
  PETREL_ASSIGN_OR_RETURN(Lock lock, Lock::take(dir_));
  PETREL_RETURN_IF_ERROR(recover());
  PETREL_ASSIGN_OR_RETURN(StoreState s, load());
  return rollback_locked(s, to_version, reason);
}

Status Store::rollback_locked(StoreState& s, const std::string& to_version, const std::string& reason) {
  if (!s.previous) return not_found("no previous version to roll back to (only one version is installed)");
  if (!to_version.empty() && to_version != s.previous->version)
    return not_found("version " + to_version + " is not installed; the previous version is " + s.previous->version);
  PETREL_RETURN_IF_ERROR(failpoint("before_rollback"));
  StoreState next = s;
  next.active = s.previous;
  next.active->status = "good";
  next.previous = s.active;
  if (next.previous) next.previous->status = "rolled-back";
  add_event(next, "rolled-back", s.active ? s.active->version : "", "to " + s.previous->version + ": " + reason);
  PETREL_RETURN_IF_ERROR(commit(next));
  s = next;
  return Status::ok();
}

Status Store::mark_good() {
  PETREL_ASSIGN_OR_RETURN(Lock lock, Lock::take(dir_));
  PETREL_ASSIGN_OR_RETURN(StoreState s, load());
  if (!s.active) return not_found("the store has no active version");
  if (s.active->status == "good") return Status::ok();
  s.active->status = "good";
  add_event(s, "marked-good", s.active->version, "by request");
  return commit(s);
}

Result<std::string> Store::begin_serving() {
  PETREL_ASSIGN_OR_RETURN(Lock lock, Lock::take(dir_));
  PETREL_RETURN_IF_ERROR(recover());
  PETREL_ASSIGN_OR_RETURN(StoreState s, load());
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!s.active) return not_found("the store " + dir_ + " has no active model (install one with 'petrel update install')");
    if (s.active->status != "trial") return slot_model_path(s.active->slot);
    s.active->trial_starts++;
    if (s.active->trial_starts > s.trial_max_starts && s.previous) {
      PETREL_RETURN_IF_ERROR(rollback_locked(s, "", "crash loop: started " + std::to_string(s.active->trial_starts - 1) +
                                                        " times without a good inference"));
      continue;
    }
    PETREL_RETURN_IF_ERROR(commit(s));
    auto m = active_manifest();
    Status st = m ? smoke_test(slot_model_path(s.active->slot), *m) : m.status();
    if (st || !s.previous) return slot_model_path(s.active->slot);
    PETREL_RETURN_IF_ERROR(rollback_locked(s, "", "smoke test failed at start: " + st.to_string()));
  }
  return slot_model_path(s.active->slot);
}

Status Store::report_inference(bool ok, const std::string& served_path) {
  PETREL_ASSIGN_OR_RETURN(Lock lock, Lock::take(dir_));
  PETREL_ASSIGN_OR_RETURN(StoreState s, load());
  if (!s.active || s.active->status != "trial") return Status::ok();
  if (!served_path.empty() && served_path != slot_model_path(s.active->slot)) return Status::ok();  // served an older version
  if (!ok) {
    if (!s.previous) return Status::ok();
    return rollback_locked(s, "", "inference failed while on trial");
  }
  s.active->trial_good++;
  s.active->trial_starts = 0;  // a start that served well is not part of a crash loop
  if (s.active->trial_good >= s.trial_good_needed) {
    s.active->status = "good";
    add_event(s, "marked-good", s.active->version, "after " + std::to_string(s.active->trial_good) + " good inferences");
  }
  return commit(s);
}

Result<bundle::Manifest> Store::active_manifest() const {
  PETREL_ASSIGN_OR_RETURN(StoreState s, load());
  if (!s.active) return not_found("the store has no active version");
  const std::string path = dir_ + "/slots/" + s.active->slot + "/manifest.json";
  PETREL_ASSIGN_OR_RETURN(std::string text, read_small_file(path, bundle::kMaxManifestBytes));
  PETREL_ASSIGN_OR_RETURN(auto src, bundle::FileSource::open(slot_model_path(s.active->slot)));
  bundle::Header h;
  h.manifest_size = text.size();
  h.payload_size = src->size();
  auto m = bundle::parse_manifest(reinterpret_cast<const uint8_t*>(text.data()), text.size(), h);
  if (!m) return m.status().with_context(path);
  return m;
}

}  // namespace petrel::ota
