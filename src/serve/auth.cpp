// Bearer tokens: SHA-256 + sodium_memcmp (libsodium, already a dependency of bundles).
#include "serve/auth.hpp"

#include <sodium.h>

#include <fstream>
#include <sstream>

namespace petrel::serve {

namespace {
std::array<uint8_t, 32> sha256(std::string_view s) {
  std::array<uint8_t, 32> d{};
  crypto_hash_sha256(d.data(), reinterpret_cast<const unsigned char*>(s.data()), s.size());
  return d;
}
}  // namespace

Result<std::string> read_token_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return io_error("cannot read the token file " + path);
  std::string text;
  char buf[4096];
  f.read(buf, sizeof buf);
  text.assign(buf, size_t(f.gcount()));
  if (f.gcount() == sizeof buf) return invalid_argument("token file " + path + " is larger than 4 KiB");
  size_t b = text.find_first_not_of(" \t\r\n"), e = text.find_last_not_of(" \t\r\n");
  if (b == std::string::npos) return invalid_argument("token file " + path + " is empty");
  text = text.substr(b, e - b + 1);
  for (char c : text)
    if (c < 0x21 || c > 0x7e) return invalid_argument("token in " + path + " must be printable ASCII without spaces");
  return text;
}

Result<BearerAuth> BearerAuth::from_file(const std::string& path) {
  auto token = read_token_file(path);
  if (!token) return token.status();
  return BearerAuth(*token);
}

BearerAuth::BearerAuth(std::string_view token) {
  // Idempotent and thread-safe; SHA-256 and sodium_memcmp work even if it reports a failure.
  [[maybe_unused]] int rc = sodium_init();
  digest_ = sha256(token);
}

bool BearerAuth::check(std::string_view authorization) const {
  constexpr std::string_view kScheme = "Bearer ";
  if (authorization.size() <= kScheme.size()) return false;
  // The scheme is case-insensitive (RFC 9110); compare it without regard to case.
  for (size_t i = 0; i < kScheme.size(); ++i) {
    char a = authorization[i];
    if (a >= 'A' && a <= 'Z') a = char(a - 'A' + 'a');
    char b = kScheme[i];
    if (b >= 'A' && b <= 'Z') b = char(b - 'A' + 'a');
    if (a != b) return false;
  }
  auto d = sha256(authorization.substr(kScheme.size()));
  return sodium_memcmp(d.data(), digest_.data(), d.size()) == 0;
}

}  // namespace petrel::serve
