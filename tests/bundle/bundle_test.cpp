// The bundle format: round trips, and every kind of tampering rejected with its own error.
#include <gtest/gtest.h>
#include <sodium.h>

#include "bundle/reader.hpp"
#include "bundle/semver.hpp"
#include "bundle_test_util.hpp"
#include "core/npy.hpp"

namespace petrel::testing {
namespace {

using bundle::MemorySource;

TEST(SemVer, Precedence) {
  const char* order[] = {"0.9.9", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
                         "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.2.0", "10.0.0"};
  for (size_t i = 0; i + 1 < std::size(order); ++i) {
    auto a = bundle::parse_semver(order[i]), b = bundle::parse_semver(order[i + 1]);
    ASSERT_TRUE(a && b) << order[i];
    EXPECT_LT(bundle::compare(*a, *b), 0) << order[i] << " < " << order[i + 1];
    EXPECT_GT(bundle::compare(*b, *a), 0);
  }
  auto x = bundle::parse_semver("1.0.0+build.5"), y = bundle::parse_semver("1.0.0");
  ASSERT_TRUE(x && y);
  EXPECT_EQ(bundle::compare(*x, *y), 0);
  for (const char* bad : {"", "1", "1.0", "01.0.0", "1.0.0-", "1.0.0-01", "a.b.c", "1.0.0.0", "1.0.0+"})
    EXPECT_FALSE(bundle::parse_semver(bad)) << bad;
}

class BundleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    manifest = make_manifest(tiny_model(), "1.0.0");
    ASSERT_FALSE(manifest.golden_outputs.empty());
    ASSERT_TRUE(bundle::write_bundle(manifest, tiny_model(), key.sk, nullptr, dir.path + "/b.petrel"));
    bytes = read_all(dir.path + "/b.petrel");
  }
  Result<bundle::VerifiedBundle> verify(const std::vector<uint8_t>& b) {
    MemorySource src(b.data(), b.size());
    return bundle::verify_bundle(src, {key.pk});
  }
  KeyPair key;
  TempDir dir;
  bundle::Manifest manifest;
  std::vector<uint8_t> bytes;
};

TEST_F(BundleTest, RoundTrip) {
  auto vb = verify(bytes);
  ASSERT_TRUE(vb) << vb.status().to_string();
  EXPECT_EQ(vb->manifest.name, "tiny");
  EXPECT_EQ(vb->manifest.version, "1.0.0");
  EXPECT_EQ(vb->manifest.required_ops, std::vector<std::string>{"Relu"});
  EXPECT_EQ(vb->manifest.golden_outputs[0].npy, manifest.golden_outputs[0].npy);
  std::vector<uint8_t> model;
  MemorySource src(bytes.data(), bytes.size());
  ASSERT_TRUE(bundle::extract_model(src, *vb, nullptr, [&](const uint8_t* p, size_t n) {
    model.insert(model.end(), p, p + n);
    return Status::ok();
  }));
  EXPECT_EQ(model, read_all(tiny_model()));
}

TEST_F(BundleTest, EveryFlippedByteIsRejected) {
  size_t rejected = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (uint8_t mask : {uint8_t(0x01), uint8_t(0x80), uint8_t(0xff)}) {
      std::vector<uint8_t> b = bytes;
      b[i] ^= mask;
      auto vb = verify(b);
      EXPECT_FALSE(vb) << "byte " << i << " mask " << int(mask);
      rejected += !vb;
    }
  }
  EXPECT_EQ(rejected, 3 * bytes.size());
  std::printf("flipped-byte bundles rejected: %zu of %zu\n", rejected, 3 * bytes.size());
}

TEST_F(BundleTest, EveryTruncationAndExtensionIsRejected) {
  size_t rejected = 0;
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::vector<uint8_t> b(bytes.begin(), bytes.begin() + long(n));
    auto vb = verify(b);
    EXPECT_FALSE(vb) << "length " << n;
    rejected += !vb;
  }
  std::vector<uint8_t> longer = bytes;
  longer.push_back(0);
  auto vb = verify(longer);
  ASSERT_FALSE(vb);
  EXPECT_NE(vb.status().message().find("trailing bytes"), std::string::npos) << vb.status().message();
  EXPECT_EQ(rejected, bytes.size());
  std::printf("truncated bundles rejected: %zu of %zu\n", rejected, bytes.size());
}

TEST_F(BundleTest, SpecificErrors) {
  auto expect = [&](const std::vector<uint8_t>& b, const std::string& text) {
    auto vb = verify(b);
    ASSERT_FALSE(vb);
    EXPECT_NE(vb.status().message().find(text), std::string::npos) << vb.status().message();
  };
  std::vector<uint8_t> b = bytes;
  b[0] = 'X';
  expect(b, "bad magic");
  b = bytes;
  b[8] = 2;
  expect(b, "format version 2");
  b = bytes;
  b[bytes.size() - 100] ^= 1;  // a payload byte
  expect(b, "signature does not verify");
  b = bytes;
  b.resize(bytes.size() - 1);
  expect(b, "truncated");
  b = bytes;
  b[23] = 0x7f;  // manifest size far beyond the bound
  expect(b, "manifest size");
  b = bytes;
  b[50] = 1;
  expect(b, "reserved header byte");
}

TEST_F(BundleTest, ResignedWithUntrustedKey) {
  KeyPair other;
  ASSERT_TRUE(bundle::write_bundle(manifest, tiny_model(), other.sk, nullptr, dir.path + "/evil.petrel"));
  auto evil = read_all(dir.path + "/evil.petrel");
  auto vb = verify(evil);
  ASSERT_FALSE(vb);
  EXPECT_NE(vb.status().message().find("not among the 1 trusted key"), std::string::npos) << vb.status().message();
  // The same bundle claiming the trusted key's id in its header: the signature check catches it.
  auto id = bundle::key_id(key.pk);
  std::copy(id.begin(), id.end(), evil.begin() + 32);
  vb = verify(evil);
  ASSERT_FALSE(vb);
  EXPECT_NE(vb.status().message().find("signature does not verify"), std::string::npos) << vb.status().message();
  // Several trusted keys (rotation): either one verifies.
  MemorySource src(bytes.data(), bytes.size());
  auto ok = bundle::verify_bundle(src, {other.pk, key.pk});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->trusted_key_index, 1u);
}

TEST_F(BundleTest, EncryptedPayload) {
  bundle::SymmetricKey k, wrong;
  crypto_secretstream_xchacha20poly1305_keygen(k.bytes.data());
  crypto_secretstream_xchacha20poly1305_keygen(wrong.bytes.data());
  ASSERT_TRUE(bundle::write_bundle(manifest, tiny_model(), key.sk, &k, dir.path + "/enc.petrel"));
  auto enc = read_all(dir.path + "/enc.petrel");
  auto vb = verify(enc);
  ASSERT_TRUE(vb) << vb.status().to_string();
  EXPECT_TRUE(vb->header.encrypted());
  MemorySource src(enc.data(), enc.size());
  std::vector<uint8_t> model;
  auto sink = [&](const uint8_t* p, size_t n) {
    model.insert(model.end(), p, p + n);
    return Status::ok();
  };
  Status st = bundle::extract_model(src, *vb, &wrong, sink);
  ASSERT_FALSE(st);
  EXPECT_NE(st.message().find("wrong encryption key"), std::string::npos) << st.message();
  st = bundle::extract_model(src, *vb, nullptr, sink);
  EXPECT_FALSE(st);
  model.clear();
  ASSERT_TRUE(bundle::extract_model(src, *vb, &k, sink));
  EXPECT_EQ(model, read_all(tiny_model()));
}

TEST_F(BundleTest, LargeEncryptedModelStreamsInChunks) {
  // A model spanning several secretstream chunks (and an exact multiple of the chunk size).
  for (size_t size : {size_t(3 * bundle::kChunkPlainBytes), size_t(3 * bundle::kChunkPlainBytes + 7)}) {
    std::vector<uint8_t> blob(size);
    for (size_t i = 0; i < size; ++i) blob[i] = uint8_t(i * 31 + 7);
    write_all(dir.path + "/blob.bin", blob);
    bundle::SymmetricKey k;
    crypto_secretstream_xchacha20poly1305_keygen(k.bytes.data());
    bundle::Manifest m = manifest;
    ASSERT_TRUE(bundle::write_bundle(m, dir.path + "/blob.bin", key.sk, &k, dir.path + "/blob.petrel"));
    auto src = bundle::FileSource::open(dir.path + "/blob.petrel");
    ASSERT_TRUE(src);
    auto vb = bundle::verify_bundle(**src, {key.pk});
    ASSERT_TRUE(vb) << vb.status().to_string();
    std::vector<uint8_t> out;
    ASSERT_TRUE(bundle::extract_model(**src, *vb, &k, [&](const uint8_t* p, size_t n) {
      out.insert(out.end(), p, p + n);
      return Status::ok();
    }));
    EXPECT_EQ(out, blob);
  }
}

TEST_F(BundleTest, ManifestValidatedAfterSignature) {
  // A trusted signer's mistakes are still caught: bad name, bad version.
  bundle::Manifest m = manifest;
  m.version = "1.0";
  EXPECT_FALSE(bundle::write_bundle(m, tiny_model(), key.sk, nullptr, dir.path + "/x.petrel"));
  m = manifest;
  m.name = "../etc";
  EXPECT_FALSE(bundle::write_bundle(m, tiny_model(), key.sk, nullptr, dir.path + "/x.petrel"));
  // Deeply nested JSON is refused before parsing.
  bundle::Header h;
  std::string deep(100, '[');
  auto r = bundle::parse_manifest(reinterpret_cast<const uint8_t*>(deep.data()), deep.size(), h);
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("deeper than 32"), std::string::npos);
}

}  // namespace
}  // namespace petrel::testing
