#include "bundle/format.hpp"

#include <cstring>
#include <string>

namespace petrel::bundle {
namespace {

void put_u16(uint8_t* p, uint16_t v) { for (int i = 0; i < 2; ++i) p[i] = uint8_t(v >> (8 * i)); }
void put_u32(uint8_t* p, uint32_t v) { for (int i = 0; i < 4; ++i) p[i] = uint8_t(v >> (8 * i)); }
void put_u64(uint8_t* p, uint64_t v) { for (int i = 0; i < 8; ++i) p[i] = uint8_t(v >> (8 * i)); }
uint16_t get_u16(const uint8_t* p) { return uint16_t(p[0] | p[1] << 8); }
uint32_t get_u32(const uint8_t* p) { uint32_t v = 0; for (int i = 3; i >= 0; --i) v = v << 8 | p[i]; return v; }
uint64_t get_u64(const uint8_t* p) { uint64_t v = 0; for (int i = 7; i >= 0; --i) v = v << 8 | p[i]; return v; }

}  // namespace

void encode_header(const Header& h, uint8_t out[kHeaderSize]) {
  std::memset(out, 0, kHeaderSize);
  std::memcpy(out, kMagic, 8);
  put_u16(out + 8, h.format_version);
  put_u16(out + 10, uint16_t(kHeaderSize));
  put_u32(out + 12, h.flags);
  put_u64(out + 16, h.manifest_size);
  put_u64(out + 24, h.payload_size);
  std::memcpy(out + 32, h.key_id.data(), kKeyIdSize);
  // bytes 40..63 reserved, zero
}

uint64_t encrypted_payload_size(uint64_t plain) {
  const uint64_t chunks = plain == 0 ? 1 : (plain + kChunkPlainBytes - 1) / kChunkPlainBytes;
  return kStreamHeaderBytes + plain + chunks * kChunkOverheadBytes;
}

Result<Header> decode_header(const uint8_t* p, size_t size, uint64_t file_size) {
  if (size < kHeaderSize || file_size < kHeaderSize + kSignatureSize)
    return invalid_model("bundle truncated: " + std::to_string(file_size) + " bytes, a bundle has at least " +
                         std::to_string(kHeaderSize + kSignatureSize));
  if (std::memcmp(p, kMagic, 8) != 0) return invalid_model("not a Petrel bundle: bad magic at byte offset 0");
  Header h;
  h.format_version = get_u16(p + 8);
  if (h.format_version != kFormatVersion)
    return unsupported("bundle format version " + std::to_string(h.format_version) + " (this build reads version " +
                       std::to_string(kFormatVersion) + ") at byte offset 8");
  if (get_u16(p + 10) != kHeaderSize)
    return invalid_model("bundle header size " + std::to_string(get_u16(p + 10)) + " at byte offset 10, expected 64");
  h.flags = get_u32(p + 12);
  if (h.flags & ~uint32_t(kKnownFlags))
    return unsupported("unknown bundle flags 0x" + std::to_string(h.flags) + " at byte offset 12");
  h.manifest_size = get_u64(p + 16);
  h.payload_size = get_u64(p + 24);
  std::memcpy(h.key_id.data(), p + 32, kKeyIdSize);
  for (size_t i = 40; i < kHeaderSize; ++i)
    if (p[i] != 0) return invalid_model("reserved header byte at offset " + std::to_string(i) + " is not zero");
  if (h.manifest_size == 0 || h.manifest_size > kMaxManifestBytes)
    return out_of_range("manifest size " + std::to_string(h.manifest_size) + " at byte offset 16 is outside 1.." +
                        std::to_string(kMaxManifestBytes));
  if (h.payload_size > kMaxPayloadBytes)
    return out_of_range("payload size " + std::to_string(h.payload_size) + " at byte offset 24 exceeds " +
                        std::to_string(kMaxPayloadBytes));
  if (h.encrypted() && h.payload_size < kStreamHeaderBytes + kChunkOverheadBytes)
    return invalid_model("encrypted payload of " + std::to_string(h.payload_size) + " bytes is shorter than its framing");
  // Both sizes are bounded above, so the sum cannot overflow.
  if (h.total_size() != file_size)
    return invalid_model("bundle size mismatch: the header announces " + std::to_string(h.total_size()) +
                         " bytes, the file has " + std::to_string(file_size) +
                         (file_size < h.total_size() ? " (truncated)" : " (trailing bytes)"));
  return h;
}

}  // namespace petrel::bundle
