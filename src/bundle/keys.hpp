// Keys for bundles, stored as one line of text each:
//   NAME.key  "petrel-ed25519-secret:" + 128 hex digits (libsodium's 64-byte secret key), mode 0600
//   NAME.pub  "petrel-ed25519-public:" + 64 hex digits
//   NAME.enc  "petrel-xchacha20-key:" + 64 hex digits (a device or fleet encryption key), mode 0600
// The prefixes make a swapped file (a secret key given as --trust) a clear error.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "bundle/format.hpp"
#include "core/status.hpp"

namespace petrel::bundle {

struct PublicKey { std::array<uint8_t, 32> bytes{}; };
struct SecretKey { std::array<uint8_t, 64> bytes{}; };   // seed || public key (libsodium layout)
struct SymmetricKey { std::array<uint8_t, 32> bytes{}; };

// libsodium must be initialised before any key or bundle operation; safe to call repeatedly.
Status init_crypto();

// Writes NAME.key and NAME.pub (refuses to overwrite existing files).
Status generate_signing_keys(const std::string& name);
// Writes NAME.enc (refuses to overwrite).
Status generate_encryption_key(const std::string& name);

Result<PublicKey> read_public_key(const std::string& path);
Result<SecretKey> read_secret_key(const std::string& path);
Result<SymmetricKey> read_symmetric_key(const std::string& path);
PublicKey public_of(const SecretKey& sk);

// First 8 bytes of BLAKE2b-256 of the public key: names the signer in the header and in errors.
std::array<uint8_t, kKeyIdSize> key_id(const PublicKey& pk);
std::string to_hex(const uint8_t* data, size_t n);

}  // namespace petrel::bundle
