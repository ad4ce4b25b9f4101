// The bundle file format (docs/bundle-format.md is the byte-by-byte specification):
//
//   [ header: 64 bytes ][ manifest: JSON ][ payload: model bytes, maybe encrypted ][ signature: 64 ]
//
// The Ed25519ph signature covers every byte before it. Readers check the header's fixed fields
// and sizes, then the signature, and only then parse the manifest or touch the payload.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "core/status.hpp"

namespace petrel::bundle {

inline constexpr uint8_t kMagic[8] = {'P', 'E', 'T', 'R', 'E', 'L', 'B', 0};
inline constexpr uint16_t kFormatVersion = 1;
inline constexpr size_t kHeaderSize = 64;
inline constexpr size_t kSignatureSize = 64;
inline constexpr size_t kKeyIdSize = 8;
// Bounds on what a header may announce (checked before anything is read past the header).
inline constexpr uint64_t kMaxManifestBytes = 16ull << 20;  // golden tensors live in the manifest
inline constexpr uint64_t kMaxPayloadBytes = 4ull << 30;
inline constexpr uint64_t kMaxBundleBytes = kHeaderSize + kMaxManifestBytes + kMaxPayloadBytes + kSignatureSize;

enum Flags : uint32_t {
  kFlagEncrypted = 1u << 0,  // payload is an XChaCha20-Poly1305 secretstream
  kKnownFlags = kFlagEncrypted,
};

// Secretstream framing of an encrypted payload: a 24-byte stream header, then chunks of
// kChunkPlainBytes plaintext (the last one shorter, tagged FINAL), each 17 bytes longer.
inline constexpr size_t kStreamHeaderBytes = 24;
inline constexpr size_t kChunkPlainBytes = 64 * 1024;
inline constexpr size_t kChunkOverheadBytes = 17;

struct Header {
  uint16_t format_version = kFormatVersion;
  uint32_t flags = 0;
  uint64_t manifest_size = 0;
  uint64_t payload_size = 0;
  std::array<uint8_t, kKeyIdSize> key_id{};  // identifies the signing key (see keys.hpp)

  bool encrypted() const { return (flags & kFlagEncrypted) != 0; }
  uint64_t manifest_offset() const { return kHeaderSize; }
  uint64_t payload_offset() const { return kHeaderSize + manifest_size; }
  uint64_t signed_size() const { return kHeaderSize + manifest_size + payload_size; }
  uint64_t total_size() const { return signed_size() + kSignatureSize; }
};

void encode_header(const Header& h, uint8_t out[kHeaderSize]);
// Checks every fixed field and bound; `file_size` must equal the size the header announces.
Result<Header> decode_header(const uint8_t* data, size_t size, uint64_t file_size);

// Payload size of `plain` model bytes once encrypted.
uint64_t encrypted_payload_size(uint64_t plain);

}  // namespace petrel::bundle
