// ModelHost (request checks, context pool, deadlines, swap safety), routes and bearer auth.
#include <gtest/gtest.h>

#include <thread>

#include "serve/auth.hpp"
#include "serve/model_host.hpp"
#include "serve/model_table.hpp"
#include "serve/route.hpp"

using namespace petrel;
using namespace petrel::serve;

namespace {

const std::string kFashion = std::string(PETREL_SOURCE_DIR) + "/models/fashion_mnist/fashion_cnn.onnx";

std::shared_ptr<const ModelHost> load(size_t contexts, const std::string& version = "1") {
  HostOptions o;
  o.contexts = contexts;
  auto h = ModelHost::load("fashion", version, kFashion, o);
  EXPECT_TRUE(h) << h.status().to_string();
  return h ? std::shared_ptr<const ModelHost>(std::move(h).value()) : nullptr;
}

oip::InferRequest image_request(std::vector<int64_t> shape, DataType dt = DataType::kFloat) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  std::vector<float> x(size_t(n), 0.25f);
  oip::InferRequest r;
  if (dt == DataType::kFloat) r.inputs.push_back(oip::make_tensor("image", dt, shape, x.data(), x.size() * 4).value());
  else {
    std::vector<int32_t> y(size_t(n), 1);
    r.inputs.push_back(oip::make_tensor("image", dt, shape, y.data(), y.size() * 4).value());
  }
  return r;
}

}  // namespace

TEST(ModelHost, ChecksRequestsAgainstTheModel) {
  auto h = load(1);
  ASSERT_TRUE(h);
  EXPECT_TRUE(h->check_request(image_request({1, 1, 28, 28})));
  EXPECT_TRUE(h->check_request(image_request({4, 1, 28, 28})));  // symbolic batch
  Status s = h->check_request(image_request({1, 1, 28, 27}));
  EXPECT_EQ(s.message(), "input 'image': expected shape [batch,1,28,28], got [1,1,28,27]");
  s = h->check_request(image_request({1, 28, 28}));
  EXPECT_NE(s.message().find("expected shape"), std::string::npos);
  s = h->check_request(image_request({0, 1, 28, 28}));
  EXPECT_FALSE(s) << "a symbolic dim must be >= 1";
  s = h->check_request(image_request({1, 1, 28, 28}, DataType::kInt32));
  EXPECT_EQ(s.message(), "input 'image': expected datatype FP32, got INT32");
  auto r = image_request({1, 1, 28, 28});
  r.inputs[0].name = "img";
  EXPECT_NE(h->check_request(r).message().find("'img' is not an input of model 'fashion' (inputs: 'image')"),
            std::string::npos);
  r = image_request({1, 1, 28, 28});
  r.requested_outputs = {"nope"};
  EXPECT_FALSE(h->check_request(r));
  oip::InferRequest empty;
  EXPECT_EQ(h->check_request(empty).message(), "input 'image' is missing");
}

TEST(ModelHost, BoundsBatchAndArena) {
  HostOptions o;
  o.max_symbolic_product = 8;
  auto h = ModelHost::load("fashion", "1", kFashion, o);
  ASSERT_TRUE(h);
  EXPECT_TRUE((*h)->check_request(image_request({8, 1, 28, 28})));
  Status s = (*h)->check_request(image_request({9, 1, 28, 28}));
  EXPECT_EQ(s.code(), StatusCode::kOutOfRange);
  EXPECT_NE(s.message().find("multiply to more than 8"), std::string::npos) << s.message();
  // Arena limit: batch 1 runs (no planning check); batch 8 needs more than 1 KiB of arena
  // on Petrel's own kernels.
  o.max_symbolic_product = 1024;
  o.max_arena_bytes = 1024;
  o.session.xnnpack = false;
  auto small = ModelHost::load("fashion", "1", kFashion, o);
  ASSERT_TRUE(small);
  auto lease = (*small)->acquire(ModelHost::Clock::now() + std::chrono::seconds(1));
  ASSERT_TRUE(lease);
  auto big = (*small)->run(*lease, image_request({8, 1, 28, 28}));
  ASSERT_FALSE(big);
  EXPECT_NE(big.status().message().find("--max-arena-bytes"), std::string::npos) << big.status().message();
}

TEST(ModelHost, RunsAndReportsMetadata) {
  auto h = load(2);
  ASSERT_TRUE(h);
  auto meta = h->metadata();
  EXPECT_EQ(meta["platform"], "petrel");
  EXPECT_EQ(meta["inputs"][0]["shape"], nlohmann::json({-1, 1, 28, 28}));
  auto lease = h->acquire(ModelHost::Clock::now() + std::chrono::seconds(1));
  ASSERT_TRUE(lease);
  auto resp = h->run(*lease, image_request({2, 1, 28, 28}));
  ASSERT_TRUE(resp) << resp.status().to_string();
  ASSERT_EQ(resp->outputs.size(), 1u);
  EXPECT_EQ(resp->outputs[0].shape, (std::vector<int64_t>{2, 10}));
  EXPECT_EQ(resp->outputs[0].bytes.size(), 2u * 10 * 4);
  lease.reset();
  EXPECT_GT(h->arena_bytes(), 0u);
}

TEST(ModelHost, AcquireHonoursTheDeadline) {
  auto h = load(1);
  ASSERT_TRUE(h);
  auto held = h->acquire(ModelHost::Clock::now());
  ASSERT_TRUE(held);
  auto t0 = ModelHost::Clock::now();
  EXPECT_FALSE(h->acquire(t0 + std::chrono::milliseconds(30)));
  EXPECT_GE(ModelHost::Clock::now() - t0, std::chrono::milliseconds(30));
  // Released by another thread: a waiter gets it.
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    held.reset();
  });
  EXPECT_TRUE(h->acquire(ModelHost::Clock::now() + std::chrono::seconds(5)));
  t.join();
}

TEST(ModelHost, SwapKeepsInFlightLeasesValid) {
  ModelTable table;
  table.set("fashion", load(1, "1"));
  auto slot = table.get("fashion");
  ASSERT_TRUE(slot);
  std::shared_ptr<const ModelHost> old = slot->host.load();
  auto lease = old->acquire(ModelHost::Clock::now() + std::chrono::seconds(1));
  ASSERT_TRUE(lease);
  std::weak_ptr<const ModelHost> weak = old;
  old.reset();
  auto replaced = table.set("fashion", load(1, "2"));
  EXPECT_EQ(replaced->version(), "1");
  replaced.reset();
  EXPECT_FALSE(weak.expired()) << "the lease keeps the old version alive";
  auto resp = weak.lock()->run(*lease, image_request({1, 1, 28, 28}));
  EXPECT_TRUE(resp);
  EXPECT_EQ(resp->model_version, "1");
  lease.reset();
  EXPECT_TRUE(weak.expired()) << "the old version is freed when its last request ends";
  EXPECT_EQ(table.get("fashion")->host.load()->version(), "2");
}

TEST(ModelHost, LoadErrorsAreValues) {
  auto h = ModelHost::load("x", "1", "/nonexistent/model.onnx", HostOptions{});
  EXPECT_FALSE(h);
}

TEST(Route, Paths) {
  EXPECT_EQ(parse_route("/v2").kind, Route::kServer);
  EXPECT_EQ(parse_route("/v2/health/live").kind, Route::kLive);
  EXPECT_EQ(parse_route("/v2/health/ready").kind, Route::kReady);
  EXPECT_EQ(parse_route("/metrics").kind, Route::kMetrics);
  auto r = parse_route("/v2/models/m");
  EXPECT_EQ(r.kind, Route::kModel);
  EXPECT_EQ(r.model, "m");
  r = parse_route("/v2/models/m/versions/3/infer");
  EXPECT_EQ(r.kind, Route::kInfer);
  EXPECT_EQ(r.version, "3");
  EXPECT_STREQ(r.method(), "POST");
  EXPECT_EQ(parse_route("/v2/models/m/versions/3/ready").kind, Route::kModelReady);
  EXPECT_EQ(parse_route("/v2/models/m/ready").kind, Route::kModelReady);
  for (const char* bad : {"", "/", "/v2/", "/v2//models", "/v2/models", "/v2/models/m/", "/v2/models/m/infer/x",
                          "/v2/models/m/versions", "/v2/models/m/versions/1/x", "/v1/models/m", "/v2/health",
                          "/v2/health/dead", "v2", "/metrics/"})
    EXPECT_EQ(parse_route(bad).kind, Route::kNone) << bad;
}

TEST(Auth, BearerTokens) {
  BearerAuth a("tok-123");
  EXPECT_TRUE(a.check("Bearer tok-123"));
  EXPECT_TRUE(a.check("bearer tok-123"));
  EXPECT_FALSE(a.check("Bearer tok-12"));
  EXPECT_FALSE(a.check("Bearer tok-1234"));
  EXPECT_FALSE(a.check("Basic tok-123"));
  EXPECT_FALSE(a.check(""));
  EXPECT_FALSE(a.check("Bearer "));
  EXPECT_FALSE(a.check(std::string("Bearer\0tok-123", 14)));
  EXPECT_FALSE(BearerAuth::from_file("/nonexistent/token"));
}
