#include "bundle/semver.hpp"

namespace petrel::bundle {
namespace {

bool is_num(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

bool parse_num(const std::string& s, uint64_t& v) {
  if (!is_num(s) || s.size() > 18 || (s.size() > 1 && s[0] == '0')) return false;
  v = std::stoull(s);
  return true;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t p = 0;
  while (true) {
    size_t q = s.find(sep, p);
    out.push_back(s.substr(p, q == std::string::npos ? std::string::npos : q - p));
    if (q == std::string::npos) return out;
    p = q + 1;
  }
}

bool valid_ident(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-')) return false;
  return true;
}

}  // namespace

Result<SemVer> parse_semver(const std::string& s) {
  const auto bad = [&](const char* why) { return invalid_argument("version '" + s.substr(0, 64) + "' is not semantic (MAJOR.MINOR.PATCH): " + why); };
  if (s.empty() || s.size() > 128) return bad("empty or longer than 128 characters");
  SemVer v;
  v.text = s;
  std::string core = s;
  if (size_t plus = core.find('+'); plus != std::string::npos) {
    for (const auto& id : split(core.substr(plus + 1), '.'))
      if (!valid_ident(id)) return bad("bad build metadata");
    core = core.substr(0, plus);
  }
  if (size_t dash = core.find('-'); dash != std::string::npos) {
    for (const auto& id : split(core.substr(dash + 1), '.')) {
      if (!valid_ident(id) || (is_num(id) && id.size() > 1 && id[0] == '0')) return bad("bad pre-release identifier");
      v.prerelease.push_back(id);
    }
    core = core.substr(0, dash);
  }
  auto parts = split(core, '.');
  if (parts.size() != 3 || !parse_num(parts[0], v.major) || !parse_num(parts[1], v.minor) || !parse_num(parts[2], v.patch))
    return bad("expected three numbers without leading zeros");
  return v;
}

int compare(const SemVer& a, const SemVer& b) {
  if (a.major != b.major) return a.major < b.major ? -1 : 1;
  if (a.minor != b.minor) return a.minor < b.minor ? -1 : 1;
  if (a.patch != b.patch) return a.patch < b.patch ? -1 : 1;
  if (a.prerelease.empty() != b.prerelease.empty()) return a.prerelease.empty() ? 1 : -1;  // release > pre-release
  for (size_t i = 0; i < a.prerelease.size() && i < b.prerelease.size(); ++i) {
    const std::string &x = a.prerelease[i], &y = b.prerelease[i];
    const bool nx = is_num(x), ny = is_num(y);
    if (nx && ny) {
      if (x.size() != y.size()) return x.size() < y.size() ? -1 : 1;
      if (x != y) return x < y ? -1 : 1;
    } else if (nx != ny) {
      return nx ? -1 : 1;  // numeric identifiers sort first
    } else if (x != y) {
      return x < y ? -1 : 1;
    }
  }
  if (a.prerelease.size() != b.prerelease.size()) return a.prerelease.size() < b.prerelease.size() ? -1 : 1;
  return 0;
}

}  // namespace petrel::bundle
