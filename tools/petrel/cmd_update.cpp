// petrel update install|status|history|rollback|mark-good --store DIR: the device-side agent.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "bundle/keys.hpp"
#include "cli_common.hpp"
#include "commands.hpp"
#include "ota/smoke.hpp"
#include "ota/store.hpp"

namespace petrel::cli {
namespace {

void print_slot(const char* label, const std::optional<ota::SlotInfo>& s) {
  if (!s) { std::printf("%-9s none\n", label); return; }
  std::printf("%-9s %s %s (%s", label, s->name.c_str(), s->version.c_str(), s->status.c_str());
  if (s->status == "trial") std::printf(", %lld good inferences, %lld starts without one", (long long)s->trial_good, (long long)s->trial_starts);
  std::printf(") slot %s, installed %s\n", s->slot.c_str(), s->installed.c_str());
}

}  // namespace

int cmd_update(const UpdateArgs& a) {
  auto store = ota::Store::open(a.store);
  if (!store) return report(store.status());
  ota::Store& st = **store;
  if (a.action == "install") {
    ota::InstallOptions o;
    if (Status s = load_trusted_keys(a.trust, o.trusted); !s) return report(s);
    if (!a.decrypt_key.empty()) {
      auto k = bundle::read_symmetric_key(a.decrypt_key);
      if (!k) return report(k.status());
      o.decrypt_key = *k;
    }
    o.trial_good_needed = a.trial_runs;
    o.download.timeout_ms = a.timeout_ms;
    o.download.retries = a.retries;
    o.download.max_bytes = a.max_download_bytes;
    auto v = st.install(a.source, o);
    if (!v) return report(v.status());
    if (a.json) std::printf("{\"installed\": \"%s\"}\n", v->c_str());
    else std::printf("installed %s (on trial)\n", v->c_str());
    return kExitOk;
  }
  if (a.action == "check") {  // what a serving process would find: loads, passes its smoke test
    auto s = st.state();
    if (!s) return report(s.status());
    if (!s->active) return report(not_found("the store has no active version"));
    auto m = st.active_manifest();
    if (!m) return report(m.status());
    if (Status e = ota::smoke_test(st.slot_model_path(s->active->slot), *m); !e) return report(e);
    if (a.json) std::printf("{\"ok\": true, \"version\": \"%s\", \"slot\": \"%s\"}\n", s->active->version.c_str(), s->active->slot.c_str());
    else std::printf("ok: %s %s passes its smoke test\n", s->active->version.c_str(), s->active->name.c_str());
    return kExitOk;
  }
  if (a.action == "rollback") {
    if (Status s = st.rollback(a.to); !s) return report(s);
  } else if (a.action == "mark-good") {
    if (Status s = st.mark_good(); !s) return report(s);
  }
  auto s = st.state();
  if (!s) return report(s.status());
  if (a.json) {
    auto j = nlohmann::json::parse(ota::state_to_json(*s), nullptr, false);
    if (a.action == "status") j.erase("history");
    if (a.action == "history") j = j["history"];
    std::printf("%s\n", j.dump(1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return kExitOk;
  }
  if (a.action == "history") {
    for (const auto& e : s->history)
      std::printf("%s  %-14s %-12s %s\n", e.time.c_str(), e.event.c_str(), e.version.c_str(), e.detail.c_str());
    return kExitOk;
  }
  print_slot("active:", s->active);
  print_slot("previous:", s->previous);
  if (s->pending) std::printf("pending:  %s %s at step %s\n", s->pending->op.c_str(), s->pending->version.c_str(), s->pending->step.c_str());
  if (s->active && s->active->status == "trial")
    std::printf("trial:    marked good after %lld good inferences; rolled back after %lld starts without one\n",
                (long long)s->trial_good_needed, (long long)s->trial_max_starts);
  return kExitOk;
}

}  // namespace petrel::cli
