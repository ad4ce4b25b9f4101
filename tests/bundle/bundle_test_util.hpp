// Helpers shared by the bundle and update-agent tests: in-memory keys, a tiny model, packing.
#pragma once

#include <sodium.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bundle/keys.hpp"
#include "bundle/writer.hpp"
#include "core/npy.hpp"
#include "ota/smoke.hpp"
#include "petrel/petrel.hpp"

namespace petrel::testing {

struct KeyPair {
  bundle::PublicKey pk;
  bundle::SecretKey sk;
  KeyPair() {
    (void)bundle::init_crypto();
    crypto_sign_ed25519_keypair(pk.bytes.data(), sk.bytes.data());
  }
};

inline std::string tiny_model() {  // Relu on float32[3,4,5], 99 bytes
  return "/usr/share/libonnx-testdata/data/node/test_relu/model.onnx";
}

inline std::vector<uint8_t> read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

inline void write_all(const std::string& path, const std::vector<uint8_t>& b) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

// A manifest for `model` with golden I/O computed by Petrel (input: a fixed ramp).
inline bundle::Manifest make_manifest(const std::string& model, const std::string& version) {
  bundle::Manifest m;
  m.name = "tiny";
  m.version = version;
  m.created = "2026-01-01T00:00:00Z";
  m.runtime_min = "0.1.0";
  m.runtime_max = "0.2.0";
  m.required_ops = {"Relu"};
  auto s = Session::open(model);
  if (!s) return m;
  const TensorInfo& in = s.value()->inputs()[0];
  std::vector<float> x(60);
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(i) / 10.0f - 3.0f;
  Tensor t = Tensor::view(DataType::kFloat, {3, 4, 5}, x.data());
  m.golden_inputs.push_back({in.name, encode_npy(t).value()});
  auto out = ota::run_model(model, m.golden_inputs);
  if (out) m.golden_outputs = std::move(out).value();
  m.inputs = {{in.name, "float32", {3, 4, 5}}};
  m.outputs = {{s.value()->outputs()[0].name, "float32", {3, 4, 5}}};
  return m;
}

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/petrel-test-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace petrel::testing
