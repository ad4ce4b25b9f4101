// Bearer-token authentication for the server.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "petrel/status.hpp"

namespace petrel::serve {

// A bearer token from a file: surrounding whitespace trimmed; non-empty, printable ASCII, < 4 KiB.
// (The server's own token, and the token the hybrid router presents to the cloud.)
Result<std::string> read_token_file(const std::string& path);

class BearerAuth {
 public:
  // Reads the token from a file (surrounding whitespace trimmed; must be non-empty, printable).
  static Result<BearerAuth> from_file(const std::string& path);
  explicit BearerAuth(std::string_view token);
  // `authorization` is the Authorization header ("Bearer TOKEN"). Compares SHA-256 digests in
  // constant time, so neither the token's bytes nor its length leak through timing.
  bool check(std::string_view authorization) const;

 private:
  std::array<uint8_t, 32> digest_{};
};

}  // namespace petrel::serve
