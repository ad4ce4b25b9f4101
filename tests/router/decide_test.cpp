// The router's decision pieces: confidence and OOD from an edge answer (batches, probabilities,
// a named score output), matching a cloud answer to the edge's outputs, the cache key.
#include <gtest/gtest.h>

#include <sodium.h>

#include <cmath>

#include "fake_cloud.hpp"
#include "router/decide.hpp"

namespace petrel::router {
namespace {

using testing::f32;
namespace oip = serve::oip;

oip::InferResponse answer(std::vector<oip::Tensor> outs) {
  oip::InferResponse r;
  r.outputs = std::move(outs);
  return r;
}

TEST(EdgeVerdict, LowestConfidenceOfTheBatch) {
  // Row 0: logits (0, ln 3) -> 0.75; row 1: (10, 0) -> ~1.
  auto a = answer({f32("logits", {2, 2}, {0.0f, std::log(3.0f), 10.0f, 0.0f})});
  EdgeVerdict v = edge_verdict(a, "", nullptr);
  EXPECT_TRUE(v.has_scores);
  EXPECT_NEAR(v.confidence, 0.75, 1e-6);
  EXPECT_FALSE(v.ood);
}

TEST(EdgeVerdict, ProbabilitiesAreReadAsTheyAre) {
  auto a = answer({f32("probs", {1, 3}, {0.2f, 0.5f, 0.3f})});
  EXPECT_NEAR(edge_verdict(a, "", nullptr).confidence, 0.5, 1e-6);  // not softmax(0.2, 0.5, 0.3) = 0.39
}

TEST(EdgeVerdict, NamedScoreOutputAndNoScores) {
  auto a = answer({f32("embedding", {1, 4}, {9, 0, 0, 0}), f32("logits", {1, 2}, {0, 0})});
  EXPECT_NEAR(edge_verdict(a, "", nullptr).confidence, 1.0, 1e-3);        // first float32 >= 2 classes
  EXPECT_NEAR(edge_verdict(a, "logits", nullptr).confidence, 0.5, 1e-6);  // the one asked for
  EXPECT_FALSE(edge_verdict(a, "missing", nullptr).has_scores);
  auto scalar = answer({f32("score", {1, 1}, {0.3f})});
  EXPECT_FALSE(edge_verdict(scalar, "", nullptr).has_scores);
  auto nan = answer({f32("logits", {1, 2}, {NAN, 0})});
  EXPECT_EQ(edge_verdict(nan, "", nullptr).confidence, 0.0);  // unusable scores: as unsure as it gets
}

TEST(EdgeVerdict, OodFromTheDetector) {
  telemetry::CalibrationProfile p;
  telemetry::OutputProfile o;
  o.name = "logits";
  o.classes = 2;
  o.confidence = telemetry::Histogram{{0.5, 1.0}, {1.0}};
  o.energy = telemetry::Histogram{{-20, -5}, {1.0}};
  o.energy_threshold = -5;  // energy above -5 is OOD
  p.outputs.push_back(o);
  auto d = telemetry::OodDetector::create(p);
  ASSERT_TRUE(d.is_ok());
  auto sure = answer({f32("logits", {1, 2}, {10, 0})});  // energy ~ -10
  auto flat = answer({f32("logits", {2, 2}, {10, 0, 1, 1})});  // row 1: energy -(1 + ln 2) = -1.69
  EXPECT_FALSE(edge_verdict(sure, "", &d.value()).ood);
  EXPECT_TRUE(edge_verdict(flat, "", &d.value()).ood);
}

TEST(MatchOutputs, ReordersAndRejects) {
  auto edge = answer({f32("a", {1, 2}, {1, 2}), f32("b", {1, 3}, {1, 2, 3})});
  auto cloud = answer({f32("b", {1, 3}, {4, 5, 6}), f32("a", {1, 2}, {7, 8})});
  std::string why;
  ASSERT_TRUE(match_outputs(edge, cloud, why)) << why;
  EXPECT_EQ(cloud.outputs[0].name, "a");
  EXPECT_EQ(testing::floats(cloud.outputs[1]), (std::vector<float>{4, 5, 6}));
  auto fewer = answer({f32("a", {1, 2}, {7, 8})});
  EXPECT_FALSE(match_outputs(edge, fewer, why));
  EXPECT_NE(why.find("1 outputs"), std::string::npos);
  auto renamed = answer({f32("a", {1, 2}, {7, 8}), f32("c", {1, 3}, {4, 5, 6})});
  EXPECT_FALSE(match_outputs(edge, renamed, why));
  EXPECT_NE(why.find("'b'"), std::string::npos);
  auto reshaped = answer({f32("a", {2, 1}, {7, 8}), f32("b", {1, 3}, {4, 5, 6})});
  EXPECT_FALSE(match_outputs(edge, reshaped, why));
}

TEST(RequestDigest, EveryFieldMatters) {
  ASSERT_GE(sodium_init(), 0);
  oip::InferRequest q;
  q.inputs.push_back(f32("x", {1, 4}, {1, 2, 3, 4}));
  const Digest base = request_digest("m", q);
  EXPECT_EQ(request_digest("m", q), base);
  q.id = "another id";  // ids and parameters do not change the answer
  q.parameters["trace"] = 1;
  EXPECT_EQ(request_digest("m", q), base);
  EXPECT_NE(request_digest("m2", q), base);
  oip::InferRequest shape = q;
  shape.inputs[0].shape = {2, 2};  // same bytes, other shape
  EXPECT_NE(request_digest("m", shape), base);
  oip::InferRequest dtype = q;
  dtype.inputs[0].dtype = DataType::kInt32;  // same bytes, other dtype
  EXPECT_NE(request_digest("m", dtype), base);
  oip::InferRequest name = q;
  name.inputs[0].name = "y";
  EXPECT_NE(request_digest("m", name), base);
  oip::InferRequest bytes = q;
  bytes.inputs[0].bytes[15] ^= 1;
  EXPECT_NE(request_digest("m", bytes), base);
  oip::InferRequest outs = q;
  outs.requested_outputs = {"logits"};
  EXPECT_NE(request_digest("m", outs), base);
  // Length prefixes: moving a byte between a name and the model name changes the key.
  oip::InferRequest q2 = q;
  q2.inputs[0].name = "mx";
  EXPECT_NE(request_digest("", q2), request_digest("m", q));
}

}  // namespace
}  // namespace petrel::router
