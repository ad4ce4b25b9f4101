// The router with the real edge model: the committed Fashion-MNIST CNN run through
// petrel::Session as the LocalFn, and a fake cloud running its own Session of the same model
// (standing in for a bigger one). Checks predictions against the committed expected logits,
// that cloud answers are the model's, and OOD flags/drift from a profile made of real outputs.
#include <gtest/gtest.h>

#include <cmath>
#include <mutex>

#include "core/npy.hpp"
#include "fake_cloud.hpp"
#include "petrel/petrel.hpp"
#include "router/hybrid_router.hpp"
#include "telemetry/profile.hpp"

namespace petrel::router {
namespace {

using namespace std::chrono_literals;
using testing::FakeCloud;
using testing::floats;
namespace oip = serve::oip;

const std::string kDir = std::string(PETREL_SOURCE_DIR) + "/models/fashion_mnist/";

// A Session behind a mutex (one run at a time) as an OIP model.
class SessionModel {
 public:
  Status open() {
    auto s = Session::open(kDir + "fashion_cnn.onnx");
    if (!s) return s.status();
    session_ = std::move(s).value();
    return Status::ok();
  }
  Result<oip::InferResponse> operator()(const oip::InferRequest& q) {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& t : q.inputs) PETREL_RETURN_IF_ERROR(session_->set_input(t.name, t.dtype, t.shape, t.bytes.data()));
    PETREL_RETURN_IF_ERROR(session_->run());
    oip::InferResponse r;
    r.model_name = "fashion";
    r.id = q.id;
    for (size_t i = 0; i < session_->outputs().size(); ++i) {
      PETREL_ASSIGN_OR_RETURN(TensorView v, session_->output(i));
      PETREL_ASSIGN_OR_RETURN(oip::Tensor t, oip::make_tensor(session_->outputs()[i].name, v.dtype, v.shape, v.data,
                                                               size_t(v.numel()) * dtype_size(v.dtype)));
      r.outputs.push_back(std::move(t));
    }
    return r;
  }
  std::string input_name() const { return session_->inputs()[0].name; }

 private:
  std::mutex mu_;
  std::unique_ptr<Session> session_;
};

oip::InferRequest image_request(const std::string& input, const std::vector<float>& pixels, const std::string& id) {
  oip::InferRequest q;
  q.id = id;
  q.inputs.push_back(testing::f32(input, {1, 1, 28, 28}, pixels));
  return q;
}

std::vector<float> sample(int i) {
  auto t = read_npy(kDir + "samples/sample_" + std::to_string(i) + ".npy");
  EXPECT_TRUE(t.is_ok()) << t.status().to_string();
  const float* p = t->as<float>();
  return std::vector<float>(p, p + 784);
}

int64_t argmax(const std::vector<float>& v) { return std::max_element(v.begin(), v.end()) - v.begin(); }

TEST(RouterModel, FashionMnistEdgeAndCloudAgreeWithExpectedLogits) {
  SessionModel edge, big;
  ASSERT_TRUE(edge.open().is_ok());
  ASSERT_TRUE(big.open().is_ok());
  FakeCloud cloud([&](const std::string&, const oip::InferRequest& q) { return big(q); });
  ASSERT_GT(cloud.start(), 0);
  auto expected = read_npy(kDir + "samples/expected_logits.npy");
  ASSERT_TRUE(expected.is_ok());
  ASSERT_EQ(expected->shape, (Shape{8, 10}));

  RouterConfig c;
  c.model_name = "fashion";
  c.cloud_url = cloud.url();
  c.confidence_threshold = 0.9;
  c.timeout = 2000ms;
  c.deadline = 5000ms;
  auto r = HybridRouter::create(c);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  auto local = [&](const oip::InferRequest& q) { return edge(q); };
  int offloaded = 0, want_offloaded = 0;
  for (int i = 0; i < 8; ++i) {
    auto a = (*r)->infer(image_request(edge.input_name(), sample(i), "s" + std::to_string(i)), local);
    ASSERT_TRUE(a.is_ok()) << a.status().to_string();
    const std::vector<float> got = floats(a->outputs[0]);
    ASSERT_EQ(got.size(), 10u);
    const float* want = expected->as<float>() + i * 10;
    for (int k = 0; k < 10; ++k) EXPECT_NEAR(got[size_t(k)], want[k], 1e-3f * (1 + std::fabs(want[k]))) << "sample " << i;
    EXPECT_EQ(argmax(got), std::max_element(want, want + 10) - want);
    // The source follows the edge confidence.
    const double conf = a->parameters["confidence"].get<double>();
    const std::string src = a->parameters["source"];
    EXPECT_EQ(src, conf < 0.9 ? "cloud" : "edge") << "sample " << i << " confidence " << conf;
    offloaded += src == "cloud";
    want_offloaded += telemetry::score_row(telemetry::ScoreKind::kLogits, want, 10).confidence < 0.9;
  }
  // The committed samples include an unsure one (sample 4, confidence ~0.63): both paths ran.
  EXPECT_EQ(offloaded, want_offloaded);
  EXPECT_GE(offloaded, 1);
  EXPECT_LT(offloaded, 8);
  EXPECT_EQ(uint64_t(cloud.requests.load()), uint64_t(offloaded));
  EXPECT_EQ((*r)->stats().offloads_total, uint64_t(offloaded));
}

TEST(RouterModel, OodAndDriftFromARealProfile) {
  SessionModel edge;
  ASSERT_TRUE(edge.open().is_ok());
  // A profile of the 8 committed samples' real outputs and inputs.
  telemetry::ProfileBuilder b;
  for (int i = 0; i < 8; ++i) {
    auto q = image_request(edge.input_name(), sample(i), "p");
    auto a = edge(q);
    ASSERT_TRUE(a.is_ok());
    const auto& in = q.inputs[0];
    const auto& out = a->outputs[0];
    ASSERT_TRUE(b.add({{in.name, in.dtype, in.shape.data(), in.shape.size(), in.bytes.data()}},
                      {{out.name, out.dtype, out.shape.data(), out.shape.size(), out.bytes.data()}})
                    .is_ok());
  }
  auto p = b.finish(telemetry::ProfileOptions{4, 90});
  ASSERT_TRUE(p.is_ok());
  ASSERT_EQ(p->outputs.size(), 1u);
  EXPECT_EQ(p->outputs[0].kind, telemetry::ScoreKind::kLogits);

  RouterConfig c;
  c.model_name = "fashion";
  c.confidence_threshold = 0;  // offload on OOD only
  c.offline = true;            // and there is no cloud: edge_offline marks the wish
  auto r = HybridRouter::create(c, &p.value());
  ASSERT_TRUE(r.is_ok());
  auto local = [&](const oip::InferRequest& q) { return edge(q); };
  auto energy_of = [](const oip::InferResponse& a) {
    const std::vector<float> x = floats(a.outputs[0]);
    return telemetry::score_row(telemetry::ScoreKind::kLogits, x.data(), 10).energy;
  };
  // Each sample against the threshold computed the same way: the router's flag must match.
  int ood = 0;
  for (int i = 0; i < 8; ++i) {
    auto a = (*r)->infer(image_request(edge.input_name(), sample(i), "s"), local);
    ASSERT_TRUE(a.is_ok());
    const bool want = energy_of(a.value()) > p->outputs[0].energy_threshold;
    EXPECT_EQ(a->parameters["ood"].get<bool>(), want);
    EXPECT_EQ(a->parameters["source"], want ? "edge_offline" : "edge");
    ood += want;
  }
  // At the 90th percentile of 8 samples, the least confident one is beyond the threshold.
  EXPECT_GE(ood, 1);
  EXPECT_LE(ood, 2);
  // A blank image (every pixel at the dataset's darkest value) is far from the profile's inputs.
  const std::vector<float> blank(784, (0.0f - 0.286f) / 0.353f);
  int blank_ood = 0;
  for (int i = 0; i < 8; ++i) {
    auto a = (*r)->infer(image_request(edge.input_name(), blank, "b"), local);
    ASSERT_TRUE(a.is_ok());
    blank_ood += a->parameters["ood"].get<bool>();
  }
  const RouterStats s = (*r)->stats();
  EXPECT_TRUE(s.has_profile);
  EXPECT_EQ(s.ood_total, uint64_t(ood + blank_ood));
  EXPECT_EQ(s.offline_total, uint64_t(ood + blank_ood));
  EXPECT_EQ(s.drift.observed, 16u);
  ASSERT_EQ(s.drift.input_mean.size(), 1u);
  EXPECT_EQ(s.drift.input_mean[0].samples, 16u);
  // Quantile bins put 2 of the 8 calibration means in each of 4 bins (expected 0.25 each); the
  // blank image's mean is below all of them, so the window holds 10/16 in bin 0 and 2/16 in the
  // others: PSI = (0.625-0.25) ln 2.5 + 3 (0.125-0.25) ln 0.5 = 0.6035.
  EXPECT_NEAR(s.drift.input_mean[0].psi, 0.375 * std::log(2.5) + 3 * 0.125 * std::log(2.0), 5e-3);
  EXPECT_DOUBLE_EQ((*r)->drift_score(), s.drift.max_psi);
  ASSERT_EQ(s.drift.output_confidence.size(), 1u);
  EXPECT_EQ(s.drift.output_confidence[0].samples, 16u);
}

}  // namespace
}  // namespace petrel::router
