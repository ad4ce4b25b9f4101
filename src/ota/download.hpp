// Bounded HTTP/1.1 download with resume (Range), timeouts and retries with exponential backoff.
// Plain http:// only: integrity and authenticity come from the bundle signature, not the transport.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.hpp"

namespace petrel::ota {

struct DownloadOptions {
  uint64_t max_bytes = 4ull << 30;   // refuse anything larger (Content-Length or bytes received)
  int timeout_ms = 10000;            // connect and each read/write
  int retries = 5;                   // attempts after the first
  int backoff_ms = 200;              // doubled after each failed attempt (capped at 10 s)
  int attempt_deadline_s = 3600;     // a whole attempt, so a server dripping bytes cannot hold us forever
};

bool is_url(const std::string& s);
// Downloads `url` into `part_path`, appending to what an earlier attempt left there (Range
// request; a server that ignores Range makes it start over). Returns the final size.
Result<uint64_t> download(const std::string& url, const std::string& part_path, const DownloadOptions& o);

}  // namespace petrel::ota
