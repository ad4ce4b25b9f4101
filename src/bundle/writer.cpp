#include "bundle/writer.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "bundle/source.hpp"

namespace petrel::bundle {
namespace {

struct Out {
  int fd = -1;
  std::string path;
  crypto_sign_ed25519ph_state st;
  Status put(const uint8_t* p, size_t n, bool sign = true) {
    if (sign) crypto_sign_ed25519ph_update(&st, p, n);
    while (n > 0) {
      ssize_t w = ::write(fd, p, n);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return io_error("writing " + path + ": " + std::strerror(errno));
      p += w;
      n -= size_t(w);
    }
    return Status::ok();
  }
};

Status write_all(Manifest& m, const ByteSource& model, const SecretKey& sk, const SymmetricKey* enc, Out& out) {
  PETREL_RETURN_IF_ERROR(validate_manifest(m));
  Header h;
  h.flags = enc ? uint32_t(kFlagEncrypted) : 0u;
  const std::string json = manifest_to_json(m);
  h.manifest_size = json.size();
  h.payload_size = enc ? encrypted_payload_size(m.model_size) : m.model_size;
  h.key_id = key_id(public_of(sk));
  if (h.manifest_size > kMaxManifestBytes) return out_of_range("manifest of " + std::to_string(json.size()) + " bytes exceeds 16 MiB (golden tensors too large?)");
  if (h.payload_size > kMaxPayloadBytes) return out_of_range("model of " + std::to_string(m.model_size) + " bytes exceeds the 4 GiB bundle limit");
  uint8_t hb[kHeaderSize];
  encode_header(h, hb);
  crypto_sign_ed25519ph_init(&out.st);
  PETREL_RETURN_IF_ERROR(out.put(hb, sizeof hb));
  PETREL_RETURN_IF_ERROR(out.put(reinterpret_cast<const uint8_t*>(json.data()), json.size()));

  std::vector<uint8_t> plain(kChunkPlainBytes), cipher(kChunkPlainBytes + kChunkOverheadBytes);
  crypto_secretstream_xchacha20poly1305_state ss;
  if (enc) {
    uint8_t sh[kStreamHeaderBytes];
    crypto_secretstream_xchacha20poly1305_init_push(&ss, sh, enc->bytes.data());
    PETREL_RETURN_IF_ERROR(out.put(sh, sizeof sh));
  }
  uint64_t off = 0;
  do {
    const size_t n = size_t(std::min<uint64_t>(m.model_size - off, kChunkPlainBytes));
    PETREL_RETURN_IF_ERROR(model.read(off, plain.data(), n));
    off += n;
    if (enc) {
      unsigned long long clen = 0;
      const unsigned char tag = off == m.model_size ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0;
      crypto_secretstream_xchacha20poly1305_push(&ss, cipher.data(), &clen, plain.data(), n, nullptr, 0, tag);
      PETREL_RETURN_IF_ERROR(out.put(cipher.data(), size_t(clen)));
    } else {
      PETREL_RETURN_IF_ERROR(out.put(plain.data(), n));
    }
  } while (off < m.model_size);
  uint8_t sig[kSignatureSize];
  crypto_sign_ed25519ph_final_create(&out.st, sig, nullptr, sk.bytes.data());
  PETREL_RETURN_IF_ERROR(out.put(sig, sizeof sig, false));
  if (::fsync(out.fd) != 0) return io_error("fsync " + out.path + ": " + std::strerror(errno));
  return Status::ok();
}

}  // namespace

Status write_bundle(Manifest m, const std::string& model_path, const SecretKey& sk, const SymmetricKey* encrypt,
                    const std::string& out_path) {
  PETREL_RETURN_IF_ERROR(init_crypto());
  PETREL_ASSIGN_OR_RETURN(auto model, FileSource::open(model_path));
  m.model_size = model->size();
  Out out;
  out.path = out_path + ".tmp";
  out.fd = ::open(out.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out.fd < 0) return io_error("cannot create " + out.path + ": " + std::strerror(errno));
  Status st = write_all(m, *model, sk, encrypt, out);
  if (::close(out.fd) != 0 && st) st = io_error("closing " + out.path + ": " + std::strerror(errno));
  if (st && std::rename(out.path.c_str(), out_path.c_str()) != 0) st = io_error("cannot rename " + out.path + " to " + out_path + ": " + std::strerror(errno));
  if (!st) ::unlink(out.path.c_str());
  return st;
}

}  // namespace petrel::bundle
