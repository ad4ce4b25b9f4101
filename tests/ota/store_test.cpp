// The update agent: rejected bundles leave the active model untouched; simulated write failures
// leave a consistent store; trials roll back by themselves.
#include <gtest/gtest.h>
#include <sodium.h>
#include <stdlib.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <new>

#include "bundle_test_util.hpp"
#include "ota/failpoint.hpp"
#include "ota/smoke.hpp"
#include "ota/store.hpp"

// The largest single heap allocation while `g_watch` is set (operator new replaced for this
// test binary): reading a small file must not allocate its upper bound.
// (GCC cannot see that these operators are the replacements and warns about new/free pairs.)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
static std::atomic<bool> g_watch{false};
static std::atomic<size_t> g_largest{0};
void* operator new(size_t n) {
  if (g_watch.load(std::memory_order_relaxed)) {
    size_t cur = g_largest.load();
    while (n > cur && !g_largest.compare_exchange_weak(cur, n)) {
    }
  }
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void* operator new[](size_t n) { return operator new(n); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace petrel::testing {
namespace {

namespace fs = std::filesystem;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("PETREL_FAILPOINTS");
    store_dir = dir.path + "/store";
    v1 = pack("1.0.0");
    v2 = pack("1.1.0");
    auto s = ota::Store::open(store_dir);
    ASSERT_TRUE(s) << s.status().to_string();
    store = std::move(s).value();
    opts.trusted = {key.pk};
    auto r = store->install(v1, opts);
    ASSERT_TRUE(r) << r.status().to_string();
  }
  void TearDown() override { unsetenv("PETREL_FAILPOINTS"); }

  std::string pack(const std::string& version, bundle::Manifest* override = nullptr, const bundle::SymmetricKey* enc = nullptr) {
    bundle::Manifest m = override ? *override : make_manifest(tiny_model(), version);
    const std::string out = dir.path + "/" + version + (enc ? ".enc" : "") + ".petrel";
    EXPECT_TRUE(bundle::write_bundle(m, tiny_model(), key.sk, enc, out));
    return out;
  }

  // The invariant after anything: the active slot loads and passes its smoke test; nothing but
  // the active and previous slots exists; the temp area holds no leftovers.
  void check_store(const std::string& want_version) {
    auto s = ota::Store::open(store_dir);  // recovery runs here
    ASSERT_TRUE(s) << s.status().to_string();
    auto st = (*s)->state();
    ASSERT_TRUE(st);
    ASSERT_TRUE(st->active);
    EXPECT_EQ(st->active->version, want_version);
    EXPECT_FALSE(st->pending);
    auto m = (*s)->active_manifest();
    ASSERT_TRUE(m) << m.status().to_string();
    EXPECT_TRUE(ota::smoke_test((*s)->slot_model_path(st->active->slot), *m));
    for (const auto& e : fs::directory_iterator(store_dir + "/slots")) {
      const std::string n = e.path().filename().string();
      EXPECT_TRUE(n == st->active->slot || (st->previous && n == st->previous->slot)) << "stray slot " << n;
    }
    EXPECT_TRUE(fs::is_empty(store_dir + "/tmp"));
    EXPECT_FALSE(fs::exists(store_dir + "/state.json.tmp"));
  }

  void expect_rejected(const std::string& bundle, const std::string& text, const ota::InstallOptions& o) {
    auto r = store->install(bundle, o);
    ASSERT_FALSE(r) << bundle;
    EXPECT_NE(r.status().message().find(text), std::string::npos) << r.status().message();
    check_store("1.0.0");
  }

  KeyPair key;
  TempDir dir;
  std::string store_dir, v1, v2;
  std::unique_ptr<ota::Store> store;
  ota::InstallOptions opts;
};

TEST_F(StoreTest, InstallSwitchesAndKeepsPrevious) {
  auto r = store->install(v2, opts);
  ASSERT_TRUE(r) << r.status().to_string();
  check_store("1.1.0");
  auto st = store->state();
  ASSERT_TRUE(st->previous);
  EXPECT_EQ(st->previous->version, "1.0.0");
  EXPECT_EQ(st->active->status, "trial");
  ASSERT_TRUE(store->rollback("1.0.0"));
  check_store("1.0.0");
  EXPECT_FALSE(store->rollback("0.5.0"));
}

// A serving process reads the state every 200 ms and the manifest at every swap: each read used
// to allocate (and zero) the format's upper bound — 16 MiB for a manifest of a few KB, which a
// server then kept (store mode idled at 32 MB of RSS against 13 MB with --model).
TEST_F(StoreTest, ReadsSmallFilesWithoutAllocatingTheirUpperBound) {
  g_largest = 0;
  g_watch = true;
  auto m = store->active_manifest();
  auto st = store->state();
  g_watch = false;
  ASSERT_TRUE(m) << m.status().to_string();
  ASSERT_TRUE(st) << st.status().to_string();
  EXPECT_LT(g_largest.load(), size_t(1) << 20) << "largest allocation while reading manifest.json and state.json";
}

TEST_F(StoreTest, RejectsDowngradeAndSameVersion) {
  expect_rejected(v1, "not newer than the active version 1.0.0", opts);
  expect_rejected(pack("0.9.0"), "not newer", opts);
}

TEST_F(StoreTest, RejectsWrongRuntimeRange) {
  bundle::Manifest m = make_manifest(tiny_model(), "2.0.0");
  m.runtime_min = "9.0.0";
  m.runtime_max = "";
  expect_rejected(pack("2.0.0", &m), "requires Petrel runtime >= 9.0.0", opts);
  m.runtime_min = "0.0.1";
  m.runtime_max = "0.0.2";
  expect_rejected(pack("2.0.0", &m), "requires Petrel runtime", opts);
}

TEST_F(StoreTest, RejectsUnsupportedOp) {
  bundle::Manifest m = make_manifest(tiny_model(), "2.0.0");
  m.required_ops.push_back("com.example:FancyOp");
  expect_rejected(pack("2.0.0", &m), "requires operator 'com.example:FancyOp'", opts);
}

TEST_F(StoreTest, RejectsFailedSmokeTest) {
  bundle::Manifest m = make_manifest(tiny_model(), "2.0.0");
  m.golden_outputs[0].npy.back() ^= 0x40;  // one golden value changed
  expect_rejected(pack("2.0.0", &m), "smoke test", opts);
  auto st = store->state();
  ASSERT_FALSE(st->history.empty());
  EXPECT_EQ(st->history.back().event, "install-failed");
}

TEST_F(StoreTest, RejectsTamperedAndUntrusted) {
  auto b = read_all(v2);
  b[b.size() / 2] ^= 1;
  write_all(dir.path + "/tampered.petrel", b);
  expect_rejected(dir.path + "/tampered.petrel", "signature does not verify", opts);
  KeyPair other;
  ota::InstallOptions o2;
  o2.trusted = {other.pk};
  expect_rejected(v2, "not among the 1 trusted key", o2);
  expect_rejected(dir.path + "/missing.petrel", "no such file", opts);
}

TEST_F(StoreTest, EveryFlippedByteAndTruncationIsRefusedByInstall) {
  const auto good = read_all(v2);
  const std::string path = dir.path + "/bad.petrel";
  size_t refused = 0, tried = 0;
  for (size_t i = 0; i < good.size(); ++i) {
    auto b = good;
    b[i] ^= 0x01;
    write_all(path, b);
    refused += !store->install(path, opts);
    ++tried;
  }
  for (size_t n = 0; n < good.size(); n += 7) {
    write_all(path, std::vector<uint8_t>(good.begin(), good.begin() + long(n)));
    refused += !store->install(path, opts);
    ++tried;
  }
  EXPECT_EQ(refused, tried);
  std::printf("install refused %zu of %zu tampered bundles\n", refused, tried);
  check_store("1.0.0");
  EXPECT_EQ(store->state()->history.back().event, "installed");  // nothing was even journaled
}

TEST_F(StoreTest, RejectsWrongEncryptionKey) {
  bundle::SymmetricKey k, wrong;
  crypto_secretstream_xchacha20poly1305_keygen(k.bytes.data());
  crypto_secretstream_xchacha20poly1305_keygen(wrong.bytes.data());
  bundle::Manifest m = make_manifest(tiny_model(), "2.0.0");
  const std::string enc = pack("2.0.0", &m, &k);
  ota::InstallOptions o = opts;
  expect_rejected(enc, "encrypted", o);
  o.decrypt_key = wrong;
  expect_rejected(enc, "wrong encryption key", o);
  o.decrypt_key = k;
  ASSERT_TRUE(store->install(enc, o));
  check_store("2.0.0");
}

TEST_F(StoreTest, WriteFailuresLeaveTheStoreConsistent) {
  for (const char* fp : {"write_model", "write_state"}) {
    for (const char* kind : {"enospc", "eio"}) {
      const std::string spec = std::string(fp) + "=" + kind;
      setenv("PETREL_FAILPOINTS", spec.c_str(), 1);
      auto r = store->install(v2, opts);
      unsetenv("PETREL_FAILPOINTS");
      ASSERT_FALSE(r) << spec;
      EXPECT_NE(r.status().message().find(std::string("failpoint ") + fp), std::string::npos) << r.status().message();
      check_store("1.0.0");
    }
  }
  ASSERT_TRUE(store->install(v2, opts));
  check_store("1.1.0");
}

TEST_F(StoreTest, TrialFailureRollsBack) {
  ASSERT_TRUE(store->install(v2, opts));
  auto p = store->begin_serving();
  ASSERT_TRUE(p);
  ASSERT_TRUE(store->report_inference(false));
  check_store("1.0.0");
  EXPECT_EQ(store->state()->history.back().event, "rolled-back");
}

TEST_F(StoreTest, ReportsAboutAReplacedVersionCountForNothing) {
  auto old_path = store->begin_serving();
  ASSERT_TRUE(old_path);
  ASSERT_TRUE(store->install(v2, opts));
  ASSERT_TRUE(store->report_inference(false, *old_path));  // the 1.0.0 server failing says nothing about 1.1.0
  EXPECT_EQ(store->state()->active->version, "1.1.0");
  auto new_path = store->begin_serving();
  ASSERT_TRUE(new_path);
  ASSERT_TRUE(store->report_inference(false, *new_path));
  check_store("1.0.0");
}

TEST_F(StoreTest, CrashLoopRollsBack) {
  ASSERT_TRUE(store->install(v2, opts));
  for (int i = 0; i < 3; ++i) {
    auto p = store->begin_serving();  // a start that never reports a good inference
    ASSERT_TRUE(p);
    EXPECT_EQ(store->state()->active->version, "1.1.0");
  }
  ASSERT_TRUE(store->begin_serving());
  check_store("1.0.0");
}

TEST_F(StoreTest, GoodInferencesEndTheTrial) {
  ota::InstallOptions o = opts;
  o.trial_good_needed = 3;
  ASSERT_TRUE(store->install(v2, o));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store->report_inference(true));
  EXPECT_EQ(store->state()->active->status, "good");
  // Once good: no more writes for good inferences.
  const auto before = fs::last_write_time(store_dir + "/state.json");
  ASSERT_TRUE(store->report_inference(true));
  EXPECT_EQ(fs::last_write_time(store_dir + "/state.json"), before);
}

TEST(StoreState, InvalidUtf8InMessagesDoesNotThrow) {
  ota::StoreState s;
  ota::add_event(s, "install-failed", "1.0.0", std::string("node '\xff\xfe' (Conv): bad"));  // names come from model files
  const std::string text = ota::state_to_json(s);
  auto back = ota::parse_state(text, "state.json");
  ASSERT_TRUE(back) << back.status().to_string();
  EXPECT_EQ(back->history.size(), 1u);
}

TEST_F(StoreTest, CalibrationProfileMustBeAnObject) {
  bundle::Manifest m = make_manifest(tiny_model(), "2.0.0");
  m.calibration_json = "[1, 2]";
  EXPECT_FALSE(bundle::write_bundle(m, tiny_model(), key.sk, nullptr, dir.path + "/c.petrel"));
  m.calibration_json = "{\"inputs\": {\"x\": {\"p\": [0.5, 0.5]}}}";
  ASSERT_TRUE(bundle::write_bundle(m, tiny_model(), key.sk, nullptr, dir.path + "/c.petrel"));
  ASSERT_TRUE(store->install(dir.path + "/c.petrel", opts));
  auto am = store->active_manifest();
  ASSERT_TRUE(am);
  EXPECT_NE(am->calibration_json.find("inputs"), std::string::npos);
}

TEST_F(StoreTest, HistoryIsBounded) {
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(store->install(pack("1.0." + std::to_string(i + 1)), opts));
  }
  auto st = store->state();
  EXPECT_LE(st->history.size(), ota::kMaxHistory);
  check_store("1.0.50");
}

}  // namespace
}  // namespace petrel::testing
