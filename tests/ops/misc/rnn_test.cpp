// RNN, GRU, LSTM on one-unit cells whose outputs can be worked out by hand.
#include <cmath>

#include "ops/op_test_util.hpp"

namespace petrel::test {
namespace {

Value tf(Shape s, std::vector<float> v) { return Value::of(make_tensor<float>(std::move(s), std::move(v))); }
Attribute attr_ss(const std::string& name, std::vector<std::string> v) {
  Attribute a; a.name = name; a.type = AttrType::kStrings; a.strings = std::move(v); return a;
}
Attribute attr_fs(const std::string& name, std::vector<float> v) {
  Attribute a; a.name = name; a.type = AttrType::kFloats; a.floats = std::move(v); return a;
}
Attribute attr_str(const std::string& name, std::string v) { return attr_s(name, std::move(v)); }
std::vector<float> vals(const Value& v) {
  return std::vector<float>(v.tensor.as<float>(), v.tensor.as<float>() + v.tensor.numel());
}
void expect_near(const std::vector<float>& got, const std::vector<float>& want, float tol = 1e-5f) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "at " << i;
}

// h_t = relu(x_t * 1 + h_{t-1} * 0.5): x = [1, 2] gives [1, 2.5] forward; reverse gives [2, 2].
TEST(Rnn, ReluForwardReverseBidirectional) {
  auto fwd = run_kernel(make_node("RNN", 3, 2, {attr_i("hidden_size", 1), attr_ss("activations", {"Relu"})}),
                        {tf({2, 1, 1}, {1, 2}), tf({1, 1, 1}, {1}), tf({1, 1, 1}, {0.5f})});
  ASSERT_TRUE(fwd.is_ok()) << fwd.status().to_string();
  EXPECT_EQ((*fwd)[0].tensor.shape, Shape({2, 1, 1, 1}));
  expect_near(vals((*fwd)[0]), {1, 2.5f});
  expect_near(vals((*fwd)[1]), {2.5f});

  auto rev = run_kernel(make_node("RNN", 3, 2, {attr_str("direction", "reverse"), attr_ss("activations", {"Relu"})}),
                        {tf({2, 1, 1}, {1, 2}), tf({1, 1, 1}, {1}), tf({1, 1, 1}, {0.5f})});
  ASSERT_TRUE(rev.is_ok()) << rev.status().to_string();
  expect_near(vals((*rev)[0]), {2, 2});
  expect_near(vals((*rev)[1]), {2});

  auto bi = run_kernel(
      make_node("RNN", 3, 2, {attr_str("direction", "bidirectional"), attr_ss("activations", {"Relu", "Relu"})}),
      {tf({2, 1, 1}, {1, 2}), tf({2, 1, 1}, {1, 1}), tf({2, 1, 1}, {0.5f, 0.5f})});
  ASSERT_TRUE(bi.is_ok()) << bi.status().to_string();
  EXPECT_EQ((*bi)[0].tensor.shape, Shape({2, 2, 1, 1}));
  expect_near(vals((*bi)[0]), {1, 2, 2.5f, 2});  // [t][dir]
  expect_near(vals((*bi)[1]), {2.5f, 2});
}

// Batch of two with sequence_lens [2, 1], initial_h, bias, layout 0 and 1, clip.
TEST(Rnn, SequenceLensLayoutClip) {
  auto node = make_node("RNN", 6, 2, {attr_i("hidden_size", 1), attr_ss("activations", {"Relu"})});
  Value lens = Value::of(make_tensor<int32_t>({2}, {2, 1}));
  // X[t][b]: t0 = (1, 3), t1 = (2, 4). B adds 0.25 + 0.25. initial_h = (0, 2).
  auto r = run_kernel(node, {tf({2, 2, 1}, {1, 3, 2, 4}), tf({1, 1, 1}, {1}), tf({1, 1, 1}, {0.5f}),
                             tf({1, 2}, {0.25f, 0.25f}), lens, tf({1, 2, 1}, {0, 2})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  // b0: h1 = 1 + 0.5 = 1.5, h2 = 2 + 0.75 + 0.5 = 3.25. b1: h1 = 3 + 1 + 0.5 = 4.5, then stops.
  expect_near(vals((*r)[0]), {1.5f, 4.5f, 3.25f, 0});
  expect_near(vals((*r)[1]), {3.25f, 4.5f});

  auto n1 = make_node("RNN", 6, 2, {attr_i("layout", 1), attr_ss("activations", {"Relu"})});
  auto r1 = run_kernel(n1, {tf({2, 2, 1}, {1, 2, 3, 4}), tf({1, 1, 1}, {1}), tf({1, 1, 1}, {0.5f}),
                            tf({1, 2}, {0.25f, 0.25f}), lens, tf({2, 1, 1}, {0, 2})});
  ASSERT_TRUE(r1.is_ok()) << r1.status().to_string();
  EXPECT_EQ((*r1)[0].tensor.shape, Shape({2, 2, 1, 1}));
  expect_near(vals((*r1)[0]), {1.5f, 3.25f, 4.5f, 0});  // [b][t]
  expect_near(vals((*r1)[1]), {3.25f, 4.5f});

  auto nc = make_node("RNN", 3, 2, {attr_f("clip", 1.5f), attr_ss("activations", {"Relu"})});
  auto rc = run_kernel(nc, {tf({2, 1, 1}, {1, 2}), tf({1, 1, 1}, {1}), tf({1, 1, 1}, {0.5f})});
  ASSERT_TRUE(rc.is_ok());
  expect_near(vals((*rc)[0]), {1, 1.5f});  // 2.5 clipped before the activation
}

TEST(Rnn, ActivationParamsAndErrors) {
  auto n = make_node("RNN", 3, 2, {attr_ss("activations", {"LeakyRelu"}), attr_fs("activation_alpha", {0.1f})});
  auto r = run_kernel(n, {tf({1, 1, 1}, {-1}), tf({1, 1, 1}, {1}), tf({1, 1, 1}, {0})});
  ASSERT_TRUE(r.is_ok());
  expect_near(vals((*r)[1]), {-0.1f});
  // Default activation is Tanh.
  auto t = run_kernel(make_node("RNN", 3, 2), {tf({1, 1, 1}, {1}), tf({1, 1, 1}, {1}), tf({1, 1, 1}, {0})});
  ASSERT_TRUE(t.is_ok());
  expect_near(vals((*t)[1]), {std::tanh(1.0f)});

  EXPECT_FALSE(run_kernel(make_node("RNN", 3, 2, {attr_ss("activations", {"Bogus"})}),
                          {tf({1, 1, 1}, {1}), tf({1, 1, 1}, {1}), tf({1, 1, 1}, {0})}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("RNN", 3, 2, {attr_str("direction", "sideways")}),
                          {tf({1, 1, 1}, {1}), tf({1, 1, 1}, {1}), tf({1, 1, 1}, {0})}).is_ok());
  // W must be [dirs, hidden, input].
  EXPECT_FALSE(run_kernel(make_node("RNN", 3, 2), {tf({1, 1, 2}, {1, 1}), tf({1, 1, 1}, {1}), tf({1, 1, 1}, {0})}).is_ok());
  // sequence_lens beyond seq_length.
  EXPECT_FALSE(run_kernel(make_node("RNN", 5, 2), {tf({1, 1, 1}, {1}), tf({1, 1, 1}, {1}), tf({1, 1, 1}, {0}), Value{},
                                                    Value::of(make_tensor<int32_t>({1}, {2}))}).is_ok());
}

// W = (z: 0, r: 0, h: 1), R = 0 except Rh, so z = r = 0.5 and H = 0.5 * tanh(.) + 0.5 * H_prev.
TEST(Gru, LinearBeforeReset) {
  auto x = tf({1, 1, 1}, {1});
  auto w = tf({1, 3, 1}, {0, 0, 1});
  auto r = tf({1, 3, 1}, {0, 0, 1});
  auto b = tf({1, 6}, {0, 0, 0, 0, 0, 1});  // Rbh = 1
  auto g0 = run_kernel(make_node("GRU", 4, 2, {attr_i("hidden_size", 1)}), {x, w, r, b});
  ASSERT_TRUE(g0.is_ok()) << g0.status().to_string();
  expect_near(vals((*g0)[1]), {0.5f * std::tanh(2.0f)});  // tanh(x + r*h*Rh + Rbh), h = 0
  auto g1 = run_kernel(make_node("GRU", 4, 2, {attr_i("linear_before_reset", 1)}), {x, w, r, b});
  ASSERT_TRUE(g1.is_ok());
  expect_near(vals((*g1)[1]), {0.5f * std::tanh(1.5f)});  // tanh(x + r*(h*Rh + Rbh))
  EXPECT_FALSE(run_kernel(make_node("GRU", 3, 3), {x, w, r}).is_ok());  // GRU has no Y_c
}

TEST(Lstm, BasicAndPeepholes) {
  auto x = tf({1, 1, 1}, {1});
  auto w = tf({1, 4, 1}, {0, 0, 0, 1});  // only the cell gate sees x
  auto r = tf({1, 4, 1}, {0, 0, 0, 0});
  auto a = run_kernel(make_node("LSTM", 3, 3), {x, w, r});
  ASSERT_TRUE(a.is_ok()) << a.status().to_string();
  const float c1 = 0.5f * std::tanh(1.0f);
  expect_near(vals((*a)[2]), {c1});
  expect_near(vals((*a)[1]), {0.5f * std::tanh(c1)});
  expect_near(vals((*a)[0]), {0.5f * std::tanh(c1)});

  // Peepholes all 1 and initial_c = 1: i = f = sigmoid(1), o = sigmoid(C).
  auto p = run_kernel(make_node("LSTM", 8, 3),
                      {x, w, r, Value{}, Value{}, Value{}, tf({1, 1, 1}, {1}), tf({1, 3}, {1, 1, 1})});
  ASSERT_TRUE(p.is_ok()) << p.status().to_string();
  expect_near(vals((*p)[2]), {1.2878285f});
  expect_near(vals((*p)[1]), {0.6729191f});
  // input_forget couples f = 1 - i: C = 0.5 * 1 + 0.5 * tanh(1) with initial_c = 1, no peepholes.
  auto f = run_kernel(make_node("LSTM", 7, 3, {attr_i("input_forget", 1)}),
                      {x, w, r, Value{}, Value{}, Value{}, tf({1, 1, 1}, {1})});
  ASSERT_TRUE(f.is_ok());
  expect_near(vals((*f)[2]), {0.5f + 0.5f * std::tanh(1.0f)});
  // P must be [dirs, 3 * hidden].
  EXPECT_FALSE(run_kernel(make_node("LSTM", 8, 3), {x, w, r, Value{}, Value{}, Value{}, Value{}, tf({1, 2}, {1, 1})}).is_ok());
}

}  // namespace
}  // namespace petrel::test
