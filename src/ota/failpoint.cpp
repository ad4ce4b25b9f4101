#include "ota/failpoint.hpp"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace petrel::ota {

Status failpoint(const char* name) {
  const char* env = std::getenv("PETREL_FAILPOINTS");
  if (!env || !*env) return Status::ok();
  const std::string spec = env;
  const size_t n = std::strlen(name);
  size_t p = 0;
  while (p < spec.size()) {
    size_t q = spec.find(',', p);
    if (q == std::string::npos) q = spec.size();
    const std::string item = spec.substr(p, q - p);
    if (item.size() > n && item.compare(0, n, name) == 0 && item[n] == '=') {
      const std::string action = item.substr(n + 1);
      if (action == "exit") ::_exit(kFailpointExitCode);
      if (action == "enospc") return io_error(std::string("No space left on device (failpoint ") + name + ")");
      if (action == "eio") return io_error(std::string("Input/output error (failpoint ") + name + ")");
    }
    p = q + 1;
  }
  return Status::ok();
}

}  // namespace petrel::ota
