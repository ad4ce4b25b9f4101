// Semantic versions (semver.org 2.0): MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD], compared by precedence.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.hpp"

namespace petrel::bundle {

struct SemVer {
  uint64_t major = 0, minor = 0, patch = 0;
  std::vector<std::string> prerelease;  // dot-separated identifiers; empty = a release
  std::string text;                     // as written (build metadata included)
};

Result<SemVer> parse_semver(const std::string& s);
// <0, 0, >0 by semver precedence (build metadata ignored).
int compare(const SemVer& a, const SemVer& b);

}  // namespace petrel::bundle
