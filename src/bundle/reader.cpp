#include "bundle/reader.hpp"

#include <sodium.h>

#include <cstring>
#include <memory>

namespace petrel::bundle {
namespace {

constexpr size_t kReadChunk = 1 << 20;

// Feeds bytes [offset, offset+n) of src to `f` in bounded pieces.
template <typename F>
Status stream(const ByteSource& src, uint64_t offset, uint64_t n, std::vector<uint8_t>& buf, F&& f) {
  buf.resize(kReadChunk);
  while (n > 0) {
    const size_t k = size_t(std::min<uint64_t>(n, kReadChunk));
    PETREL_RETURN_IF_ERROR(src.read(offset, buf.data(), k));
    PETREL_RETURN_IF_ERROR(f(buf.data(), k));
    offset += k;
    n -= k;
  }
  return Status::ok();
}

}  // namespace

Result<Header> read_header(const ByteSource& src) {
  uint8_t hb[kHeaderSize] = {};
  const uint64_t size = src.size();
  if (size < kHeaderSize + kSignatureSize)
    return invalid_model("bundle truncated: " + std::to_string(size) + " bytes, a bundle has at least " +
                         std::to_string(kHeaderSize + kSignatureSize));
  PETREL_RETURN_IF_ERROR(src.read(0, hb, kHeaderSize));
  return decode_header(hb, kHeaderSize, size);
}

Result<VerifiedBundle> verify_bundle(const ByteSource& src, const std::vector<PublicKey>& trusted) {
  PETREL_RETURN_IF_ERROR(init_crypto());
  if (trusted.empty()) return invalid_argument("no trusted public key given");
  PETREL_ASSIGN_OR_RETURN(Header h, read_header(src));
  VerifiedBundle vb;
  vb.header = h;

  // The signer must be one of the trusted keys (the key id is itself covered by the signature).
  std::vector<size_t> candidates;
  for (size_t i = 0; i < trusted.size(); ++i)
    if (key_id(trusted[i]) == h.key_id) candidates.push_back(i);
  if (candidates.empty())
    return invalid_model("bundle is signed by key " + to_hex(h.key_id.data(), h.key_id.size()) + ", which is not among the " +
                         std::to_string(trusted.size()) + " trusted key(s)");

  crypto_sign_ed25519ph_state st;
  crypto_sign_ed25519ph_init(&st);
  std::vector<uint8_t> buf;
  PETREL_RETURN_IF_ERROR(stream(src, 0, h.signed_size(), buf, [&](const uint8_t* p, size_t n) {
    crypto_sign_ed25519ph_update(&st, p, n);
    return Status::ok();
  }));
  uint8_t sig[kSignatureSize];
  PETREL_RETURN_IF_ERROR(src.read(h.signed_size(), sig, kSignatureSize));
  {
    crypto_sign_ed25519ph_state copy = st;  // the pre-hash, kept to check the extraction pass
    crypto_hash_sha512_final(&copy.hs, vb.digest.data());
  }
  bool ok = false;
  for (size_t i : candidates) {
    crypto_sign_ed25519ph_state copy = st;
    if (crypto_sign_ed25519ph_final_verify(&copy, sig, trusted[i].bytes.data()) == 0) {
      ok = true;
      vb.trusted_key_index = i;
      break;
    }
  }
  if (!ok) return invalid_model("bundle signature does not verify: the bundle was modified after signing");

  // Only now is anything past the header parsed.
  std::vector<uint8_t> manifest(size_t(h.manifest_size));
  PETREL_RETURN_IF_ERROR(src.read(h.manifest_offset(), manifest.data(), manifest.size()));
  PETREL_ASSIGN_OR_RETURN(vb.manifest, parse_manifest(manifest.data(), manifest.size(), h));
  return vb;
}

Status extract_model(const ByteSource& src, const VerifiedBundle& vb, const SymmetricKey* key, const Sink& sink) {
  PETREL_RETURN_IF_ERROR(init_crypto());
  const Header& h = vb.header;
  if (h.encrypted() && !key) return invalid_argument("the bundle's model is encrypted: an encryption key is needed (--decrypt-key)");
  if (src.size() != h.total_size()) return invalid_model("bundle changed size after verification");
  crypto_hash_sha512_state hs;
  crypto_hash_sha512_init(&hs);
  std::vector<uint8_t> buf;
  // Header and manifest again, for the digest.
  PETREL_RETURN_IF_ERROR(stream(src, 0, h.payload_offset(), buf, [&](const uint8_t* p, size_t n) {
    crypto_hash_sha512_update(&hs, p, n);
    return Status::ok();
  }));
  if (!h.encrypted()) {
    PETREL_RETURN_IF_ERROR(stream(src, h.payload_offset(), h.payload_size, buf, [&](const uint8_t* p, size_t n) {
      crypto_hash_sha512_update(&hs, p, n);
      return sink(p, n);
    }));
  } else {
    uint8_t sh[kStreamHeaderBytes];
    PETREL_RETURN_IF_ERROR(src.read(h.payload_offset(), sh, sizeof sh));
    crypto_hash_sha512_update(&hs, sh, sizeof sh);
    crypto_secretstream_xchacha20poly1305_state ss;
    if (crypto_secretstream_xchacha20poly1305_init_pull(&ss, sh, key->bytes.data()) != 0)
      return invalid_model("encrypted payload has an invalid stream header");
    std::vector<uint8_t> cipher(kChunkPlainBytes + kChunkOverheadBytes), plain(kChunkPlainBytes);
    uint64_t off = h.payload_offset() + kStreamHeaderBytes, left = vb.manifest.model_size;
    for (uint64_t chunk = 0;; ++chunk) {
      const size_t pn = size_t(std::min<uint64_t>(left, kChunkPlainBytes));
      const size_t cn = pn + kChunkOverheadBytes;
      PETREL_RETURN_IF_ERROR(src.read(off, cipher.data(), cn));
      crypto_hash_sha512_update(&hs, cipher.data(), cn);
      unsigned long long out_len = 0;
      unsigned char tag = 0;
      if (crypto_secretstream_xchacha20poly1305_pull(&ss, plain.data(), &out_len, &tag, cipher.data(), cn, nullptr, 0) != 0 || out_len != pn)
        return invalid_argument("cannot decrypt the model (chunk " + std::to_string(chunk) + "): wrong encryption key");
      const bool last = left == pn;
      if ((tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) != last)
        return invalid_model("encrypted payload: stream " + std::string(last ? "does not end" : "ends early") + " at chunk " + std::to_string(chunk));
      PETREL_RETURN_IF_ERROR(sink(plain.data(), pn));
      off += cn;
      left -= pn;
      if (last) break;
    }
    sodium_memzero(plain.data(), plain.size());
  }
  std::array<uint8_t, 64> digest{};
  crypto_hash_sha512_final(&hs, digest.data());
  if (sodium_memcmp(digest.data(), vb.digest.data(), digest.size()) != 0)
    return invalid_model("bundle changed between verification and extraction");
  return Status::ok();
}

}  // namespace petrel::bundle
