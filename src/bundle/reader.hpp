// Reading a bundle: verify first (header bounds, then the Ed25519ph signature streamed over the
// file in 1 MiB pieces, then the manifest), extract the model afterwards. Memory stays bounded
// by the manifest (<= 16 MiB) plus one read buffer, whatever the bundle's size.
#pragma once

#include <array>
#include <functional>
#include <string>
#include <vector>

#include "bundle/format.hpp"
#include "bundle/keys.hpp"
#include "bundle/manifest.hpp"
#include "bundle/source.hpp"

namespace petrel::bundle {

struct VerifiedBundle {
  Header header;
  Manifest manifest;
  std::array<uint8_t, 64> digest{};  // SHA-512 of the signed bytes (the Ed25519ph pre-hash)
  size_t trusted_key_index = 0;      // which of the trusted keys signed it
};

// Checks only the fixed-size header (for `petrel inspect` without trusted keys).
Result<Header> read_header(const ByteSource& src);

// Errors (each names its cause): truncated / size mismatch / bad magic (header), "signed by key
// ID, which is not trusted", "signature does not verify" (modified bundle), then manifest errors.
Result<VerifiedBundle> verify_bundle(const ByteSource& src, const std::vector<PublicKey>& trusted);

// Streams the plaintext model bytes of a verified bundle into `sink` (decrypting with `key` when
// the payload is encrypted; `key` may be null otherwise). The signed bytes are hashed again on
// the way and must match the verified digest, so a file changed after verification is an error.
// On any error the caller must discard what the sink received.
using Sink = std::function<Status(const uint8_t* data, size_t size)>;
Status extract_model(const ByteSource& src, const VerifiedBundle& vb, const SymmetricKey* key, const Sink& sink);

}  // namespace petrel::bundle
