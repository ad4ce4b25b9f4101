// Failpoints: named places in the update agent where a test can make the process die abruptly or
// a write fail, selected at run time by the environment:
//
//   PETREL_FAILPOINTS=after_verify=exit,write_model=enospc,write_state=eio
//
// exit   the process ends at once (_exit(86): no destructors, no flush; like a power cut for
//        everything not yet written to the kernel)
// enospc the operation at that point fails as if the disk were full
// eio    the operation fails as if the device reported an I/O error
//
// The names are listed in docs/bundle-format.md (section "Update agent") and by kFailpoints.
#pragma once

#include "core/status.hpp"

namespace petrel::ota {

inline constexpr const char* kFailpoints[] = {
    "after_download", "after_verify", "before_journal_commit", "write_state", "after_state_rename",
    "mid_copy",       "write_model",  "after_stage",           "after_smoke", "before_switch",
    "after_switch",   "before_rollback",
};
inline constexpr int kFailpointExitCode = 86;

// OK unless the failpoint `name` is armed; exits for `exit`, returns the simulated error otherwise.
Status failpoint(const char* name);

}  // namespace petrel::ota
