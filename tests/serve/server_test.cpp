// The server in-process: admission (503 when the queue is full), deadlines (504), readiness.
// The test holds the model's only execution context itself, so the outcomes are deterministic.
#include <gtest/gtest.h>
#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <vector>
#include <thread>

#include "serve/server.hpp"

using namespace petrel;
using namespace petrel::serve;

namespace {

const std::string kFashion = std::string(PETREL_SOURCE_DIR) + "/models/fashion_mnist/fashion_cnn.onnx";

std::string body() {
  std::string data = "0";
  for (int i = 1; i < 784; ++i) data += ",0";
  return R"({"inputs":[{"name":"image","datatype":"FP32","shape":[1,1,28,28],"data":[)" + data + "]}]}";
}

struct Fixture {
  ModelTable models;
  Metrics metrics;
  std::unique_ptr<Server> server;
  std::thread thread;
  int port = 0;

  explicit Fixture(int timeout_ms, int64_t max_queue) {
    HostOptions ho;
    ho.contexts = 1;
    auto h = ModelHost::load("fashion", "1", kFashion, ho);
    EXPECT_TRUE(h) << h.status().to_string();
    models.set("fashion", std::move(h).value());
    ServerOptions so;
    so.port = 0;
    so.threads = 4;
    so.timeout_ms = timeout_ms;
    so.max_queue = max_queue;
    server = std::make_unique<Server>(std::move(so), models, metrics);
    auto p = server->bind();
    EXPECT_TRUE(p);
    port = *p;
    thread = std::thread([this] { EXPECT_TRUE(server->serve()); });
  }
  ~Fixture() {
    server->stop();
    thread.join();
  }
  httplib::Result post() {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(10, 0);
    return c.Post("/v2/models/fashion/infer", body(), "application/json");
  }
  std::shared_ptr<const ModelHost> host() { return models.get("fashion")->host.load(); }
};

}  // namespace

TEST(Server, NotReadyIs503ThenServes) {
  Fixture f(5000, 4);
  httplib::Client c("127.0.0.1", f.port);
  auto r = c.Get("/v2/health/ready");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(f.post()->status, 503);
  f.server->set_ready(true);
  EXPECT_EQ(c.Get("/v2/health/ready")->status, 200);
  auto ok = f.post();
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
}

TEST(Server, DeadlineWhileQueuedIs504) {
  Fixture f(100, 4);
  f.server->set_ready(true);
  auto held = f.host()->acquire(ModelHost::Clock::now());  // the only context
  ASSERT_TRUE(held);
  auto t0 = std::chrono::steady_clock::now();
  auto r = f.post();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 504);
  EXPECT_NE(r->body.find("deadline exceeded"), std::string::npos) << r->body;
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(100));
  held.reset();
  EXPECT_EQ(f.post()->status, 200);
  std::string m = f.metrics.render();
  EXPECT_NE(m.find("petrel_request_errors_total{code=\"504\",model=\"fashion\"} 1"), std::string::npos) << m;
}

TEST(Server, FullQueueIs503AndQueuedRequestsComplete) {
  Fixture f(10000, 1);  // 1 context + 1 queued
  f.server->set_ready(true);
  auto held = f.host()->acquire(ModelHost::Clock::now());
  ASSERT_TRUE(held);
  // Two requests are admitted (one would run, one queued) and wait for the held context.
  auto a = std::async(std::launch::async, [&] { return f.post(); });
  auto b = std::async(std::launch::async, [&] { return f.post(); });
  // Wait until both are admitted, then a third is refused at once.
  auto slot = f.models.get("fashion");
  for (int i = 0; i < 500 && slot->admitted.load() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(slot->admitted.load(), 2);
  auto c = f.post();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->status, 503);
  EXPECT_NE(c->body.find("queue full"), std::string::npos) << c->body;
  EXPECT_EQ(c->get_header_value("Retry-After"), "1");
  held.reset();
  EXPECT_EQ(a.get()->status, 200);
  EXPECT_EQ(b.get()->status, 200);
  EXPECT_EQ(slot->admitted.load(), 0);
}

TEST(Server, StopFinishesRequestsInFlight) {
  auto f = std::make_unique<Fixture>(10000, 4);
  f->server->set_ready(true);
  auto held = f->host()->acquire(ModelHost::Clock::now());
  ASSERT_TRUE(held);
  auto a = std::async(std::launch::async, [&] { return f->post(); });
  auto slot = f->models.get("fashion");
  for (int i = 0; i < 500 && slot->admitted.load() < 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(slot->admitted.load(), 1);
  // Stop while the request waits for its context: the listener closes, the request finishes.
  std::thread stopper([&] { f->server->stop(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  held.reset();
  auto r = a.get();
  stopper.join();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  httplib::Client c("127.0.0.1", f->port);
  c.set_connection_timeout(1, 0);
  EXPECT_FALSE(c.Get("/v2/health/live")) << "the listener is closed";
}

// A SIGTERM that arrives right after start (before httplib is accepting) must not be lost:
// httplib's own stop() does nothing until its listen loop runs, so serve() would block forever.
TEST(Server, StopBeforeServeIsNotLost) {
  ModelTable models;
  Metrics metrics;
  ServerOptions so;
  so.port = 0;
  so.threads = 2;
  Server server(std::move(so), models, metrics);
  ASSERT_TRUE(server.bind());
  server.stop();
  auto done = std::async(std::launch::async, [&] { return server.serve(); });
  ASSERT_EQ(done.wait_for(std::chrono::seconds(5)), std::future_status::ready) << "serve() ignored an earlier stop()";
  EXPECT_TRUE(done.get());
}

// And a stop racing with the start of serve() (the signal thread vs the main thread).
TEST(Server, StopRacingServeStops) {
  for (int i = 0; i < 50; ++i) {
    ModelTable models;
    Metrics metrics;
    ServerOptions so;
    so.port = 0;
    so.threads = 1;
    Server server(std::move(so), models, metrics);
    ASSERT_TRUE(server.bind());
    std::thread stopper([&] { server.stop(); });
    auto done = std::async(std::launch::async, [&] { return server.serve(); });
    stopper.join();
    ASSERT_EQ(done.wait_for(std::chrono::seconds(5)), std::future_status::ready) << "iteration " << i;
    EXPECT_TRUE(done.get());
  }
}

namespace {
// Starts `n` non-blocking connects to 127.0.0.1:port and returns how many of them the kernel
// completed within `wait_ms` (nothing accepts them: only the listen queue holds them).
int connects_completed(int port, int n, int wait_ms) {
  std::vector<int> fds;
  for (int i = 0; i < n; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) break;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    (void)::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    fds.push_back(fd);
  }
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  int done = 0;
  std::vector<bool> finished(fds.size(), false);
  while (std::chrono::steady_clock::now() < end && done < int(fds.size())) {
    for (size_t i = 0; i < fds.size(); ++i) {
      if (finished[i]) continue;
      pollfd p{fds[i], POLLOUT, 0};
      int err = 0;
      socklen_t len = sizeof err;
      if (::poll(&p, 1, 0) == 1 && ::getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) {
        finished[i] = true;
        ++done;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (int fd : fds) ::close(fd);
  return done;
}
}  // namespace

// A burst of new connections must fit in the listen queue. httplib listens with a backlog of 5:
// the kernel then drops SYNs (and handshake ACKs) beyond it, and those clients wait for TCP's
// 1 s, 3 s, 7 s ... retransmissions — a request answered after seconds, or not within 30 s,
// by an idle server. Nothing accepts here, so only the queue's length decides.
TEST(Server, ListenQueueHoldsABurstOfConnections) {
  ModelTable models;
  Metrics metrics;
  ServerOptions so;
  so.port = 0;
  so.threads = 1;
  Server server(std::move(so), models, metrics);
  auto port = server.bind();
  ASSERT_TRUE(port);
  EXPECT_EQ(connects_completed(*port, 128, 500), 128);
}

// Two servers on one port would silently split the traffic (SO_REUSEPORT, httplib's default):
// the second one must fail to bind instead.
TEST(Server, SecondServerOnTheSamePortFailsToBind) {
  ModelTable models;
  Metrics metrics;
  ServerOptions so;
  so.port = 0;
  Server first(so, models, metrics);
  auto port = first.bind();
  ASSERT_TRUE(port);
  so.port = *port;
  Server second(so, models, metrics);
  auto again = second.bind();
  ASSERT_FALSE(again);
  EXPECT_NE(again.status().message().find("in use"), std::string::npos) << again.status().to_string();
}
