// The store's state file (STORE/state.json): which slot is active, which is kept for rollback,
// the trial counters, the install in progress (the journal entry) and a bounded history. It is
// only ever replaced atomically (write_file_atomic), so a reader sees the old or the new state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.hpp"

namespace petrel::ota {

struct SlotInfo {
  std::string slot;     // directory name under STORE/slots/
  std::string name, version;
  std::string status;   // "trial", "good", "rolled-back"
  int64_t trial_starts = 0;  // process starts while on trial (crash-loop detection)
  int64_t trial_good = 0;    // good inferences while on trial
  std::string installed;     // RFC 3339 UTC
};

struct Pending {
  std::string op;       // "install"
  std::string version;
  std::string slot;
  std::string step;     // "staging", "smoke-test", "switching"
};

struct Event {
  std::string time, event, version, detail;
};

struct StoreState {
  int64_t next_slot = 1;
  std::optional<SlotInfo> active, previous;
  std::optional<Pending> pending;
  std::vector<Event> history;  // oldest first, at most kMaxHistory
  int64_t trial_good_needed = 5;
  int64_t trial_max_starts = 3;
};

inline constexpr size_t kMaxHistory = 64;

std::string state_to_json(const StoreState& s);
Result<StoreState> parse_state(const std::string& text, const std::string& where);
void add_event(StoreState& s, std::string event, std::string version, std::string detail);
std::string now_rfc3339();

}  // namespace petrel::ota
