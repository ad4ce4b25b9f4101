// libFuzzer target for the bundle reader: arbitrary bytes →
//   1. verify_bundle against a fixed trusted key (header checks, streamed signature check);
//   2. the manifest parser on the bytes after the header, as if a trusted signer had signed them
//      (so the JSON validation is fuzzed although random bytes never carry a valid signature);
//   3. when that manifest parses, extract_model (plain copy or secretstream decryption) with a
//      fixed key; its final digest check fails, but every read and decryption step runs.
// Every input must end in a Status. With PETREL_FUZZ_BUNDLE_SEEDS=DIR, LLVMFuzzerInitialize
// writes valid signed bundles (plain and encrypted) there as seeds (tests/fuzz/run.sh does this).
// Build and run: tests/fuzz/run.sh SECONDS fuzz_bundle_reader
#include <sodium.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "bundle/reader.hpp"
#include "bundle/writer.hpp"

namespace {

petrel::bundle::PublicKey g_pk;
petrel::bundle::SecretKey g_sk;
petrel::bundle::SymmetricKey g_enc;

void write_seeds(const std::string& dir) {
  using namespace petrel::bundle;
  Manifest m;
  m.name = "seed";
  m.version = "1.0.0";
  m.created = "2026-01-01T00:00:00Z";
  m.runtime_min = "0.1.0";
  m.runtime_max = "0.2.0";
  m.required_ops = {"Relu"};
  m.inputs = {{"x", "float32", {3, 4, 5}}};
  m.outputs = {{"y", "float32", {3, 4, 5}}};
  m.golden_inputs = {{"x", {0x93, 'N', 'U', 'M', 'P', 'Y'}}};
  m.golden_outputs = {{"y", {0x93, 'N', 'U', 'M', 'P', 'Y'}}};
  const std::string model = "/usr/share/libonnx-testdata/data/node/test_relu/model.onnx";
  (void)write_bundle(m, model, g_sk, nullptr, dir + "/plain.petrel");
  (void)write_bundle(m, model, g_sk, &g_enc, dir + "/encrypted.petrel");
  m.calibration_json = R"({"inputs": {"x": {"bins": [0, 1, 2], "p": [0.5, 0.5]}}})";
  m.golden_inputs.clear();
  m.golden_outputs.clear();
  (void)write_bundle(m, model, g_sk, nullptr, dir + "/calibration.petrel");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (sodium_init() < 0) std::abort();
  uint8_t seed[32] = {1, 2, 3};
  crypto_sign_ed25519_seed_keypair(g_pk.bytes.data(), g_sk.bytes.data(), seed);
  for (size_t i = 0; i < g_enc.bytes.size(); ++i) g_enc.bytes[i] = uint8_t(i);
  if (const char* dir = std::getenv("PETREL_FUZZ_BUNDLE_SEEDS")) write_seeds(dir);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace petrel::bundle;
  MemorySource src(data, size);
  auto vb = verify_bundle(src, {g_pk});
  (void)vb;
  if (size < kHeaderSize) return 0;
  Header h;  // the manifest parser, with whatever sizes the header claims (if it decodes)
  auto dh = decode_header(data, size, size);
  if (dh) h = *dh;
  const size_t msize = dh ? size_t(h.manifest_size) : size - kHeaderSize;
  if (msize > size - kHeaderSize) return 0;
  auto m = parse_manifest(data + kHeaderSize, msize, h);
  if (!m || !dh) return 0;
  VerifiedBundle fake;
  fake.header = h;
  fake.manifest = std::move(m).value();
  uint64_t total = 0;
  petrel::Status st = extract_model(src, fake, &g_enc, [&](const uint8_t*, size_t n) {
    total += n;
    return petrel::Status::ok();
  });
  (void)st;
  return 0;
}
