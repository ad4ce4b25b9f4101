// HybridRouter against an in-process fake cloud on loopback: good answers (cloud, then cache),
// a slow cloud, 500s, garbage and mismatching answers, a cloud stopped mid-run and restarted,
// offline mode (no connection at all), concurrency. In every case no router call fails.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <thread>
#include <vector>

#include "fake_cloud.hpp"
#include "router/hybrid_router.hpp"

namespace petrel::router {
namespace {

using namespace std::chrono_literals;
using testing::FakeCloud;
using testing::Mode;
using testing::f32;
using testing::floats;
namespace oip = serve::oip;
using Clock = std::chrono::steady_clock;

// Input "x" [1,4]; x0 >= 0.5 makes the stub edge model sure (logits 10,0,0), else unsure (0,0,0).
oip::InferRequest request(float x0, float tag = 0, std::string id = "r1") {
  oip::InferRequest q;
  q.id = std::move(id);
  q.inputs.push_back(f32("x", {1, 4}, {x0, tag, 0.2f, 0.3f}));
  return q;
}

std::atomic<int> g_local_calls{0};
Result<oip::InferResponse> stub_local(const oip::InferRequest& q) {
  ++g_local_calls;
  if (q.inputs.empty() || q.inputs[0].name != "x") return invalid_argument("stub: needs input x");
  const float x0 = floats(q.inputs[0])[0];
  oip::InferResponse r;
  r.model_name = "stub";
  r.model_version = "1";
  r.id = q.id;
  r.outputs.push_back(f32("logits", {1, 3}, x0 >= 0.5f ? std::vector<float>{10, 0, 0} : std::vector<float>{0, 0, 0}));
  return r;
}

RouterConfig config(const std::string& url) {
  RouterConfig c;
  c.model_name = "stub";
  c.cloud_url = url;
  c.confidence_threshold = 0.6;
  c.timeout = 150ms;
  c.deadline = 600ms;
  c.retries = 2;
  c.backoff = BackoffOptions{5ms, 20ms};
  c.breaker = BreakerOptions{3, 300ms};
  return c;
}

std::string source_of(const oip::InferResponse& r) { return r.parameters.value("source", std::string("?")); }

std::unique_ptr<HybridRouter> make(const RouterConfig& c) {
  auto r = HybridRouter::create(c);
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  return std::move(r).value();
}

TEST(Router, ConfidentEdgeAnswersStayOnTheEdge) {
  FakeCloud cloud;
  ASSERT_GT(cloud.start(), 0);
  auto r = make(config(cloud.url()));
  auto a = r->infer(request(0.9f), stub_local);
  ASSERT_TRUE(a.is_ok());
  EXPECT_EQ(source_of(a.value()), "edge");
  EXPECT_GT(a->parameters["confidence"].get<double>(), 0.99);
  EXPECT_FALSE(a->parameters["ood"].get<bool>());
  EXPECT_FALSE(a->parameters.contains("cloud_ms"));
  EXPECT_EQ(cloud.requests.load(), 0);
}

TEST(Router, UnsureAnswersGoToTheCloudThenTheCache) {
  FakeCloud cloud;
  cloud.expect_token = "s3cret";  // set before the server threads start
  ASSERT_GT(cloud.start(), 0);
  RouterConfig c = config(cloud.url("/prefix"));
  c.bearer_token = "s3cret";
  c.cloud_model = "big_model";
  auto r = make(c);
  auto a = r->infer(request(0.1f, 0, "first"), stub_local);
  ASSERT_TRUE(a.is_ok());
  EXPECT_EQ(source_of(a.value()), "cloud") << a->parameters.dump();
  EXPECT_EQ(a->model_name, "big_model");
  EXPECT_EQ(a->id, "first");
  EXPECT_EQ(floats(a->outputs[0]), (std::vector<float>{0, 0, 9}));
  EXPECT_NEAR(a->parameters["confidence"].get<double>(), 1.0 / 3, 1e-6);  // the edge's confidence
  EXPECT_GE(a->parameters["cloud_ms"].get<double>(), 0.0);
  EXPECT_GE(a->parameters["edge_ms"].get<double>(), 0.0);
  EXPECT_EQ(cloud.requests.load(), 1);
  // The same input again: from the cache, the cloud not asked.
  auto b = r->infer(request(0.1f, 0, "second"), stub_local);
  ASSERT_TRUE(b.is_ok());
  EXPECT_EQ(source_of(b.value()), "cache");
  EXPECT_EQ(b->id, "second");
  EXPECT_EQ(floats(b->outputs[0]), (std::vector<float>{0, 0, 9}));
  EXPECT_EQ(cloud.requests.load(), 1);
  // Another input is another key.
  auto d = r->infer(request(0.1f, 7), stub_local);
  EXPECT_EQ(source_of(d.value()), "cloud");
  const RouterStats s = r->stats();
  EXPECT_EQ(s.requests_total, 3u);
  EXPECT_EQ(s.offloads_total, 3u);
  EXPECT_EQ(s.cloud_success_total, 2u);
  EXPECT_EQ(s.cache_hits_total, 1u);
  EXPECT_EQ(s.fallbacks_total, 0u);
  EXPECT_EQ(s.circuit, CircuitState::kClosed);
}

TEST(Router, WrongTokenIsAFallbackNotAnError) {
  FakeCloud cloud;
  cloud.expect_token = "right";  // set before the server threads start
  ASSERT_GT(cloud.start(), 0);
  RouterConfig c = config(cloud.url());
  c.bearer_token = "wrong";
  auto r = make(c);
  auto a = r->infer(request(0.1f), stub_local);
  ASSERT_TRUE(a.is_ok());
  EXPECT_EQ(source_of(a.value()), "edge_fallback");
  EXPECT_EQ(a->parameters["fallback_reason"], "http_status");
  EXPECT_EQ(cloud.requests.load(), 1);  // a 401 is not retried
  EXPECT_EQ(floats(a->outputs[0]), (std::vector<float>{0, 0, 0}));
}

TEST(Router, HttpsVerifiesTheCloudCertificate) {
  // A self-signed certificate for 127.0.0.1, made by the openssl CLI (skipped without it).
  const std::string dir = ::testing::TempDir() + "router_tls_" + std::to_string(::getpid());
  const std::string cert = dir + "/cert.pem", key = dir + "/key.pem";
  const std::string cmd = "mkdir -p " + dir + " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
                          "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " + key + " -out " + cert + " >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "openssl could not make a test certificate";
  FakeCloud cloud;
  cloud.tls_cert = cert;
  cloud.tls_key = key;
  cloud.expect_token = "over-tls";  // set before the server threads start
  ASSERT_GT(cloud.start(), 0);
  RouterConfig c = config(cloud.url());
  c.bearer_token = "over-tls";
  c.cloud_ca_file = cert;
  auto r = make(c);
  auto a = r->infer(request(0.1f), stub_local);
  ASSERT_TRUE(a.is_ok());
  EXPECT_EQ(source_of(a.value()), "cloud") << a->parameters.dump();
  EXPECT_EQ(floats(a->outputs[0]), (std::vector<float>{0, 0, 9}));
  // Without trusting that certificate (system store only) the handshake is refused: fallback,
  // and the token never reaches the server.
  c.cloud_ca_file.clear();
  c.retries = 0;
  auto untrusting = make(c);
  const int before = cloud.requests.load();
  auto b = untrusting->infer(request(0.1f, 1), stub_local);
  ASSERT_TRUE(b.is_ok());
  EXPECT_EQ(source_of(b.value()), "edge_fallback");
  EXPECT_EQ(b->parameters["fallback_reason"], "connect");
  EXPECT_EQ(cloud.requests.load(), before);
  std::system(("rm -rf " + dir).c_str());
}

TEST(Router, SlowCloudTimesOutWithinTheDeadline) {
  FakeCloud cloud;
  ASSERT_GT(cloud.start(), 0);
  cloud.mode = Mode::kSlow;
  cloud.slow_ms = 400;
  RouterConfig c = config(cloud.url());
  c.retries = 1;
  auto r = make(c);
  const auto t0 = Clock::now();
  auto a = r->infer(request(0.1f), stub_local);
  const auto took = Clock::now() - t0;
  ASSERT_TRUE(a.is_ok());
  EXPECT_EQ(source_of(a.value()), "edge_fallback");
  EXPECT_EQ(a->parameters["fallback_reason"], "timeout");
  EXPECT_EQ(floats(a->outputs[0]), (std::vector<float>{0, 0, 0}));  // the edge answer
  // Two attempts of 150 ms plus a backoff of at most 20 ms; well below the 400 ms the cloud takes twice.
  EXPECT_LT(took, 450ms);
  EXPECT_GE(a->parameters["cloud_ms"].get<double>(), 290.0);
  EXPECT_EQ(r->stats().cloud_requests_total, 2u);
  EXPECT_EQ(r->stats().fallbacks_by_reason[size_t(FallbackReason::kTimeout)], 1u);
}

TEST(Router, DrippingCloudIsCutOffAtTheDeadline) {
  FakeCloud cloud;
  ASSERT_GT(cloud.start(), 0);
  cloud.mode = Mode::kDrip;  // ~150 bytes at 40 ms each: 6 s, every read within the 150 ms timeout
  RouterConfig c = config(cloud.url());
  c.deadline = 500ms;
  auto r = make(c);
  const auto t0 = Clock::now();
  auto a = r->infer(request(0.1f), stub_local);
  const auto took = Clock::now() - t0;
  ASSERT_TRUE(a.is_ok());
  EXPECT_EQ(source_of(a.value()), "edge_fallback");
  EXPECT_EQ(a->parameters["fallback_reason"], "timeout");
  EXPECT_LT(took, 700ms);
}

TEST(Router, ServerErrorsOpenTheBreakerAndRecoveryClosesIt) {
  FakeCloud cloud;
  ASSERT_GT(cloud.start(), 0);
  cloud.mode = Mode::kError500;
  auto r = make(config(cloud.url()));
  // One request: 3 attempts (retries = 2), all 500: the breaker (threshold 3) opens.
  auto a = r->infer(request(0.1f, 1), stub_local);
  ASSERT_TRUE(a.is_ok());
  EXPECT_EQ(a->parameters["fallback_reason"], "http_status");
  EXPECT_EQ(cloud.requests.load(), 3);
  EXPECT_EQ(r->stats().circuit, CircuitState::kOpen);
  // While open: no call goes out.
  for (int i = 0; i < 5; ++i) {
    auto b = r->infer(request(0.1f, float(10 + i)), stub_local);
    ASSERT_TRUE(b.is_ok());
    EXPECT_EQ(b->parameters["fallback_reason"], "circuit_open");
    EXPECT_FALSE(b->parameters.contains("cloud_ms"));
  }
  EXPECT_EQ(cloud.requests.load(), 3);
  // The cloud recovers; after the cool-down the probe succeeds and the breaker closes.
  cloud.mode = Mode::kGood;
  std::this_thread::sleep_for(320ms);
  EXPECT_EQ(r->stats().circuit, CircuitState::kHalfOpen);
  auto d = r->infer(request(0.1f, 99), stub_local);
  ASSERT_TRUE(d.is_ok());
  EXPECT_EQ(source_of(d.value()), "cloud");
  const RouterStats s = r->stats();
  EXPECT_EQ(s.circuit, CircuitState::kClosed);
  EXPECT_EQ(s.circuit_opened_total, 1u);
  EXPECT_EQ(s.cloud_failures_total, 3u);
  EXPECT_EQ(s.fallbacks_total, 6u);
  EXPECT_EQ(s.fallbacks_by_reason[size_t(FallbackReason::kCircuitOpen)], 5u);
}

TEST(Router, GarbageAndMismatchingAnswersFallBack) {
  FakeCloud cloud;
  ASSERT_GT(cloud.start(), 0);
  RouterConfig c = config(cloud.url());
  c.breaker.failure_threshold = 100;  // keep it closed: this test is about classification
  auto r = make(c);
  const std::pair<Mode, const char*> cases[] = {{Mode::kGarbage, "bad_response"},
                                                {Mode::kWrongShape, "mismatch"},
                                                {Mode::kWrongName, "mismatch"},
                                                {Mode::kWrongDtype, "mismatch"}};
  int before = 0;
  float tag = 0;
  for (const auto& [mode, reason] : cases) {
    cloud.mode = mode;
    auto a = r->infer(request(0.1f, ++tag), stub_local);
    ASSERT_TRUE(a.is_ok());
    EXPECT_EQ(source_of(a.value()), "edge_fallback");
    EXPECT_EQ(a->parameters["fallback_reason"], reason);
    EXPECT_TRUE(a->parameters.contains("fallback_detail"));
    EXPECT_EQ(floats(a->outputs[0]), (std::vector<float>{0, 0, 0}));
    EXPECT_EQ(cloud.requests.load(), before + 1);  // not retried: it would answer the same
    before = cloud.requests.load();
  }
  // Nothing bad was cached: a good cloud now answers the first input.
  cloud.mode = Mode::kGood;
  auto a = r->infer(request(0.1f, 1), stub_local);
  EXPECT_EQ(source_of(a.value()), "cloud");
}

TEST(Router, EdgeErrorsAreErrors) {
  FakeCloud cloud;
  ASSERT_GT(cloud.start(), 0);
  auto r = make(config(cloud.url()));
  oip::InferRequest q;
  q.inputs.push_back(f32("y", {1, 1}, {1}));
  auto a = r->infer(q, stub_local);
  EXPECT_FALSE(a.is_ok());
  EXPECT_EQ(cloud.requests.load(), 0);
  EXPECT_EQ(r->stats().edge_errors_total, 1u);
}

// A listening socket that never accepts: a connection to it would wait in its backlog.
struct Listener {
  int fd = -1, port = 0;
  Listener() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(fd, 16) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) return;
    port = ntohs(a.sin_port);
  }
  ~Listener() { if (fd >= 0) ::close(fd); }
  int pending() {  // connections accepted now (each closed at once)
    int n = 0;
    for (int c; (c = ::accept(fd, nullptr, nullptr)) >= 0; ++n) ::close(c);
    return n;
  }
};

TEST(Router, OfflineModeNeverConnects) {
  Listener l;
  ASSERT_GT(l.port, 0);
  RouterConfig c = config("http://127.0.0.1:" + std::to_string(l.port));
  c.offline = true;
  c.timeout = 100ms;
  c.retries = 0;
  auto r = make(c);
  for (int i = 0; i < 20; ++i) {
    auto a = r->infer(request(0.1f, float(i)), stub_local);
    ASSERT_TRUE(a.is_ok());
    EXPECT_EQ(source_of(a.value()), "edge_offline");
    EXPECT_FALSE(a->parameters.contains("cloud_ms"));
  }
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(l.pending(), 0);
  EXPECT_EQ(r->stats().offline_total, 20u);
  EXPECT_EQ(r->stats().offloads_total, 0u);
  // Control: online, the same router does connect (and times out: nobody answers).
  r->set_offline(false);
  auto a = r->infer(request(0.1f, 100), stub_local);
  ASSERT_TRUE(a.is_ok());
  EXPECT_EQ(source_of(a.value()), "edge_fallback");
  EXPECT_EQ(a->parameters["fallback_reason"], "timeout");
  EXPECT_EQ(l.pending(), 1);
  // No cloud URL at all is offline too.
  RouterConfig none = config("");
  auto r2 = make(none);
  EXPECT_EQ(source_of(r2->infer(request(0.1f), stub_local).value()), "edge_offline");
}

TEST(Router, CloudStoppedMidRunAndRestartedUnderConcurrentLoad) {
  FakeCloud cloud;
  const int port = cloud.start();
  ASSERT_GT(port, 0);
  RouterConfig c = config(cloud.url());
  c.cache_entries = 0;  // every offload goes to the cloud
  auto r = make(c);
  std::atomic<bool> stop{false};
  std::atomic<int> phase{0}, failed{0}, calls{0};
  std::atomic<int> cloud_answers[3] = {0, 0, 0}, fallbacks[3] = {0, 0, 0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; !stop.load(); ++i) {
        const int p = phase.load();
        auto a = r->infer(request(i % 4 == 0 ? 0.9f : 0.1f, float(t * 100000 + i)), stub_local);
        ++calls;
        if (!a.is_ok()) {
          ++failed;
          continue;
        }
        const std::string s = source_of(a.value());
        if (s == "cloud") ++cloud_answers[p];
        if (s == "edge_fallback") ++fallbacks[p];
        std::this_thread::sleep_for(2ms);
      }
    });
  }
  std::this_thread::sleep_for(200ms);
  phase = 1;
  cloud.stop();  // killed mid-run
  std::this_thread::sleep_for(500ms);
  // Open, or half-open for the instant a probe is in flight; never closed while the cloud is gone.
  EXPECT_NE(r->stats().circuit, CircuitState::kClosed);
  EXPECT_GE(r->stats().circuit_opened_total, 1u);
  ASSERT_EQ(cloud.start(port), port);  // back on the same port
  phase = 2;
  const auto until = Clock::now() + 3s;
  while (Clock::now() < until && (r->stats().circuit != CircuitState::kClosed || cloud_answers[2].load() < 5))
    std::this_thread::sleep_for(20ms);
  stop = true;
  for (auto& t : ts) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(calls.load(), 50);
  EXPECT_GT(cloud_answers[0].load(), 0);
  EXPECT_GT(fallbacks[1].load(), 0);
  EXPECT_GE(cloud_answers[2].load(), 5);
  const RouterStats s = r->stats();
  EXPECT_EQ(s.circuit, CircuitState::kClosed);
  EXPECT_GE(s.circuit_opened_total, 1u);
  EXPECT_GT(s.fallbacks_by_reason[size_t(FallbackReason::kCircuitOpen)], 0u);
  EXPECT_EQ(s.requests_total, uint64_t(calls.load()));
  EXPECT_EQ(s.offloads_total, s.cloud_success_total + s.cache_hits_total + s.fallbacks_total);
}

TEST(Router, ManyThreadsShareTheCache) {
  FakeCloud cloud;
  ASSERT_GT(cloud.start(), 0);
  auto r = make(config(cloud.url()));
  std::atomic<int> failed{0}, cloud_or_cache{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 8; ++t)
    ts.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        auto a = r->infer(request(i % 2 ? 0.9f : 0.1f, float(i % 10)), stub_local);
        if (!a.is_ok()) {
          ++failed;
          continue;
        }
        const std::string s = source_of(a.value());
        if (i % 2 == 0 && (s == "cloud" || s == "cache") && floats(a->outputs[0]) == std::vector<float>{0, 0, 9}) ++cloud_or_cache;
        if (i % 2 == 1 && s != "edge") ++failed;
      }
      (void)t;
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(cloud_or_cache.load(), 8 * 20);
  const RouterStats s = r->stats();
  EXPECT_EQ(s.requests_total, 320u);
  EXPECT_EQ(s.offloads_total, 160u);
  EXPECT_EQ(s.cloud_success_total + s.cache_hits_total, 160u);
  // Five distinct unsure inputs (tags 0,2,4,6,8): at most a few racing misses per key.
  EXPECT_GE(s.cache_hits_total, 160u - 8u * 5u);
  EXPECT_EQ(uint64_t(cloud.requests.load()), s.cloud_success_total);
}

TEST(Router, RejectsBadConfig) {
  RouterConfig c = config("ftp://x");
  EXPECT_FALSE(HybridRouter::create(c).is_ok());
  c = config("http://127.0.0.1:99999");
  EXPECT_FALSE(HybridRouter::create(c).is_ok());
  c = config("http://127.0.0.1:8000");
  c.model_name = "../etc";
  EXPECT_FALSE(HybridRouter::create(c).is_ok());
  c = config("http://127.0.0.1:8000");
  c.confidence_threshold = 1.5;
  EXPECT_FALSE(HybridRouter::create(c).is_ok());
}

TEST(CloudUrl, Parses) {
  auto e = parse_cloud_url("http://example.org:8080/api/");
  ASSERT_TRUE(e.is_ok());
  EXPECT_EQ(e->host, "example.org");
  EXPECT_EQ(e->port, 8080);
  EXPECT_EQ(e->prefix, "/api");
  e = parse_cloud_url("http://[::1]:9000");
  ASSERT_TRUE(e.is_ok());
  EXPECT_EQ(e->host, "::1");
  EXPECT_EQ(e->port, 9000);
  e = parse_cloud_url("https://secure.example");
  ASSERT_TRUE(e.is_ok());
  EXPECT_TRUE(e->tls);
  EXPECT_EQ(e->port, 443);
  e = parse_cloud_url("http://host");
  ASSERT_TRUE(e.is_ok());
  EXPECT_EQ(e->port, 80);
  EXPECT_EQ(e->prefix, "");
  EXPECT_FALSE(parse_cloud_url("http://:80").is_ok());
  EXPECT_FALSE(parse_cloud_url("http://h:x").is_ok());
  EXPECT_FALSE(parse_cloud_url("http://h/a b").is_ok());
  EXPECT_FALSE(parse_cloud_url("http://h/a?q=1").is_ok());
}

}  // namespace
}  // namespace petrel::router
