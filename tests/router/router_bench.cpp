// Hybrid router under load with the cloud leg killed and restarted mid-run (issue #6 target:
// zero failed requests, p99 bounded by the timeout). Edge: the Fashion-MNIST CNN, one Session
// per worker thread. Cloud: an in-process OIP v2 server on loopback running the same model with
// an added delay (a bigger model far away). Not a ctest (timings are not assertions).
//
// Usage: petrel_router_bench [SECONDS=15] [THREADS=4] [TIMEOUT_MS=200] [CLOUD_DELAY_MS=5]
//   phase 1 (first third): cloud up; phase 2: cloud killed; phase 3: cloud restarted.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "core/npy.hpp"
#include "fake_cloud.hpp"
#include "petrel/petrel.hpp"
#include "quantize/dataset.hpp"
#include "router/hybrid_router.hpp"

using namespace petrel;
namespace oip = petrel::serve::oip;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kModel = std::string(PETREL_SOURCE_DIR) + "/models/fashion_mnist/fashion_cnn.onnx";

Result<oip::InferResponse> run_session(Session& s, const oip::InferRequest& q) {
  for (const auto& t : q.inputs) PETREL_RETURN_IF_ERROR(s.set_input(t.name, t.dtype, t.shape, t.bytes.data()));
  PETREL_RETURN_IF_ERROR(s.run());
  PETREL_ASSIGN_OR_RETURN(TensorView v, s.output(0));
  oip::InferResponse r;
  r.model_name = "fashion";
  r.id = q.id;
  PETREL_ASSIGN_OR_RETURN(oip::Tensor t, oip::make_tensor(s.outputs()[0].name, v.dtype, v.shape, v.data, size_t(v.numel()) * 4));
  r.outputs.push_back(std::move(t));
  return r;
}

double pct(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, size_t(p / 100.0 * double(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 15;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 4;
  const int timeout_ms = argc > 3 ? std::atoi(argv[3]) : 200;
  const int cloud_delay_ms = argc > 4 ? std::atoi(argv[4]) : 5;

  // Inputs: the Fashion-MNIST test set when installed, else the 8 committed samples.
  std::vector<std::vector<float>> images;
  quant::DataOptions dopt;
  dopt.image.mean = {0.286};
  dopt.image.std = {0.353};
  auto data = quant::open_dataset("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
                                  {quant::InputSpec{"image", DataType::kFloat, {1, 1, 28, 28}}}, dopt);
  if (data) {
    for (int64_t i = 0; i < std::min<int64_t>(data.value()->size(), 10000); ++i) {
      auto s = data.value()->get(i);
      if (!s) break;
      const float* p = s.value()[0].as<float>();
      images.emplace_back(p, p + 784);
    }
  } else {
    for (int i = 0; i < 8; ++i) {
      auto t = read_npy(std::string(PETREL_SOURCE_DIR) + "/models/fashion_mnist/samples/sample_" + std::to_string(i) + ".npy");
      if (!t) return 1;
      images.emplace_back(t->as<float>(), t->as<float>() + 784);
    }
  }

  std::mutex cloud_mu;
  auto cloud_session = Session::open(kModel);
  if (!cloud_session) return std::fprintf(stderr, "%s\n", cloud_session.status().to_string().c_str()), 1;
  router::testing::FakeCloud cloud([&](const std::string&, const oip::InferRequest& q) {
    std::this_thread::sleep_for(std::chrono::milliseconds(cloud_delay_ms));
    std::lock_guard<std::mutex> lock(cloud_mu);
    return run_session(*cloud_session.value(), q);
  });
  const int port = cloud.start();
  if (port < 0) return 1;

  router::RouterConfig c;
  c.model_name = "fashion";
  c.cloud_url = cloud.url();
  c.confidence_threshold = 0.9;
  c.timeout = std::chrono::milliseconds(timeout_ms);
  c.deadline = std::chrono::milliseconds(timeout_ms * 2);
  c.breaker = router::BreakerOptions{5, std::chrono::milliseconds(1000)};
  auto r = router::HybridRouter::create(c);
  if (!r) return 1;

  std::atomic<int> phase{0};
  std::atomic<bool> stop{false};
  std::atomic<int64_t> failed{0};
  struct Rec { int phase; int source; double ms; };
  std::vector<std::vector<Rec>> recs(static_cast<size_t>(threads));
  const char* sources[] = {"edge", "cloud", "cache", "edge_fallback", "edge_offline"};
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      auto s = Session::open(kModel);
      if (!s) { ++failed; return; }
      auto local = [&](const oip::InferRequest& q) { return run_session(*s.value(), q); };
      for (size_t i = size_t(t); !stop.load(); i += size_t(threads)) {
        oip::InferRequest q;
        q.inputs.push_back(router::testing::f32("image", {1, 1, 28, 28}, images[i % images.size()]));
        const int ph = phase.load();
        const auto t0 = Clock::now();
        auto a = r.value()->infer(q, local);
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        if (!a) { ++failed; continue; }
        const std::string src = a->parameters["source"];
        int k = 0;
        while (k < 4 && src != sources[k]) ++k;
        recs[size_t(t)].push_back({ph, k, ms});
      }
    });
  }
  const auto third = std::chrono::duration<double>(seconds / 3);
  std::this_thread::sleep_for(third);
  phase = 1;
  cloud.stop();
  std::this_thread::sleep_for(third);
  cloud.start(port);
  phase = 2;
  std::this_thread::sleep_for(third);
  stop = true;
  for (auto& t : ts) t.join();

  std::printf("router bench: %d threads, %.0f s, %zu distinct images, timeout %d ms, deadline %d ms, cloud delay %d ms\n", threads,
              seconds, images.size(), timeout_ms, timeout_ms * 2, cloud_delay_ms);
  std::printf("%-16s %8s %9s %8s %8s %8s  %s\n", "phase", "requests", "req/s", "p50 ms", "p99 ms", "max ms", "sources");
  const char* names[] = {"cloud up", "cloud killed", "cloud restarted"};
  for (int ph = 0; ph < 3; ++ph) {
    std::vector<double> ms;
    int64_t by[5] = {0, 0, 0, 0, 0};
    for (auto& v : recs)
      for (auto& x : v)
        if (x.phase == ph) { ms.push_back(x.ms); ++by[x.source]; }
    const double n = double(ms.size());
    const double p50 = pct(ms, 50), p99 = pct(ms, 99), mx = ms.empty() ? 0 : ms.back();
    std::printf("%-16s %8.0f %9.1f %8.2f %8.2f %8.2f ", names[ph], n, n / third.count(), p50, p99, mx);
    for (int k = 0; k < 5; ++k)
      if (by[k]) std::printf(" %s %lld", sources[k], (long long)by[k]);
    std::printf("\n");
  }
  const auto s = r.value()->stats();
  std::printf("failed requests: %lld\n", (long long)failed.load());
  std::printf("stats: requests %llu, offloads %llu, cloud ok %llu, cloud failures %llu, cache hits %llu, fallbacks %llu "
              "(circuit_open %llu, connect %llu, timeout %llu), breaker opened %llu times, now %s\n",
              (unsigned long long)s.requests_total, (unsigned long long)s.offloads_total, (unsigned long long)s.cloud_success_total,
              (unsigned long long)s.cloud_failures_total, (unsigned long long)s.cache_hits_total, (unsigned long long)s.fallbacks_total,
              (unsigned long long)s.fallbacks_by_reason[size_t(router::FallbackReason::kCircuitOpen)],
              (unsigned long long)s.fallbacks_by_reason[size_t(router::FallbackReason::kConnect)],
              (unsigned long long)s.fallbacks_by_reason[size_t(router::FallbackReason::kTimeout)],
              (unsigned long long)s.circuit_opened_total, router::circuit_state_name(s.circuit));
  return failed.load() == 0 ? 0 : 1;
}
