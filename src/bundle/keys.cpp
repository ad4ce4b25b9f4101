#include "bundle/keys.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace petrel::bundle {
namespace {

constexpr const char* kSecretPrefix = "petrel-ed25519-secret:";
constexpr const char* kPublicPrefix = "petrel-ed25519-public:";
constexpr const char* kSymmetricPrefix = "petrel-xchacha20-key:";

Status write_new_file(const std::string& path, const std::string& text, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return io_error("cannot create " + path + ": " + std::strerror(errno));
  const ssize_t n = ::write(fd, text.data(), text.size());
  const bool ok = n == ssize_t(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return io_error("cannot write " + path);
  return Status::ok();
}

template <size_t N>
Status read_key_file(const std::string& path, const char* prefix, const char* what, std::array<uint8_t, N>& out) {
  std::ifstream f(path);
  if (!f) return not_found("cannot open " + std::string(what) + " " + path);
  std::string line;
  std::getline(f, line, '\n');
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  const std::string pre = prefix;
  if (line.compare(0, pre.size(), pre) != 0) {
    std::string got = line.substr(0, line.find(':') == std::string::npos ? 0 : line.find(':') + 1);
    return invalid_argument(path + " is not a " + what + " (expected a line starting '" + pre + "'" +
                            (got.empty() ? "" : ", found '" + got + "'") + ")");
  }
  const std::string hex = line.substr(pre.size());
  size_t bin_len = 0;
  if (hex.size() != 2 * N ||
      sodium_hex2bin(out.data(), N, hex.data(), hex.size(), nullptr, &bin_len, nullptr) != 0 || bin_len != N)
    return invalid_argument(path + ": " + what + " must be " + std::to_string(2 * N) + " hex digits");
  return Status::ok();
}

}  // namespace

Status init_crypto() {
  if (sodium_init() < 0) return internal_error("libsodium failed to initialise");
  return Status::ok();
}

std::string to_hex(const uint8_t* data, size_t n) {
  std::string s(2 * n + 1, '\0');
  sodium_bin2hex(s.data(), s.size(), data, n);
  s.pop_back();
  return s;
}

Status generate_signing_keys(const std::string& name) {
  PETREL_RETURN_IF_ERROR(init_crypto());
  PublicKey pk;
  SecretKey sk;
  crypto_sign_ed25519_keypair(pk.bytes.data(), sk.bytes.data());
  std::string sec = kSecretPrefix + to_hex(sk.bytes.data(), sk.bytes.size()) + "\n";
  Status st = write_new_file(name + ".key", sec, 0600);
  sodium_memzero(sec.data(), sec.size());
  sodium_memzero(sk.bytes.data(), sk.bytes.size());
  PETREL_RETURN_IF_ERROR(st);
  return write_new_file(name + ".pub", kPublicPrefix + to_hex(pk.bytes.data(), pk.bytes.size()) + "\n", 0644);
}

Status generate_encryption_key(const std::string& name) {
  PETREL_RETURN_IF_ERROR(init_crypto());
  SymmetricKey k;
  crypto_secretstream_xchacha20poly1305_keygen(k.bytes.data());
  std::string text = kSymmetricPrefix + to_hex(k.bytes.data(), k.bytes.size()) + "\n";
  Status st = write_new_file(name + ".enc", text, 0600);
  sodium_memzero(text.data(), text.size());
  return st;
}

Result<PublicKey> read_public_key(const std::string& path) {
  PublicKey k;
  PETREL_RETURN_IF_ERROR(read_key_file(path, kPublicPrefix, "public key", k.bytes));
  return k;
}

Result<SecretKey> read_secret_key(const std::string& path) {
  SecretKey k;
  PETREL_RETURN_IF_ERROR(read_key_file(path, kSecretPrefix, "secret signing key", k.bytes));
  return k;
}

Result<SymmetricKey> read_symmetric_key(const std::string& path) {
  SymmetricKey k;
  PETREL_RETURN_IF_ERROR(read_key_file(path, kSymmetricPrefix, "encryption key", k.bytes));
  return k;
}

PublicKey public_of(const SecretKey& sk) {
  PublicKey pk;
  crypto_sign_ed25519_sk_to_pk(pk.bytes.data(), sk.bytes.data());
  return pk;
}

std::array<uint8_t, kKeyIdSize> key_id(const PublicKey& pk) {
  uint8_t h[32];
  crypto_generichash(h, sizeof h, pk.bytes.data(), pk.bytes.size(), nullptr, 0);
  std::array<uint8_t, kKeyIdSize> id{};
  std::memcpy(id.data(), h, kKeyIdSize);
  return id;
}

}  // namespace petrel::bundle
