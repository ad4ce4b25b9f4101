// StringNormalizer, TfIdfVectorizer, random ops, training optimizers.
#include <cmath>

#include "ops/op_test_util.hpp"

namespace petrel::test {
namespace {

Value tf(Shape s, std::vector<float> v) { return Value::of(make_tensor<float>(std::move(s), std::move(v))); }
Value tstr(Shape s, std::vector<std::string> v) {
  auto t = Tensor::allocate(DataType::kString, s);
  for (size_t i = 0; i < v.size(); ++i) t->as<std::string>()[i] = v[i];
  return Value::of(std::move(t).value());
}
Attribute attr_ss(const std::string& name, std::vector<std::string> v) {
  Attribute a; a.name = name; a.type = AttrType::kStrings; a.strings = std::move(v); return a;
}
Attribute attr_fs(const std::string& name, std::vector<float> v) {
  Attribute a; a.name = name; a.type = AttrType::kFloats; a.floats = std::move(v); return a;
}
std::vector<std::string> strs(const Value& v) {
  return std::vector<std::string>(v.tensor.as<std::string>(), v.tensor.as<std::string>() + v.tensor.numel());
}
std::vector<float> vals(const Value& v) {
  return std::vector<float>(v.tensor.as<float>(), v.tensor.as<float>() + v.tensor.numel());
}
void expect_near(const std::vector<float>& got, const std::vector<float>& want, float tol = 1e-5f) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "at " << i;
}

TEST(StringNormalizer, StopwordsAndCase) {
  auto x = tstr({4}, {"Monday", "tuesday", "monday", "Wed"});
  auto a = run_kernel(make_node("StringNormalizer", 1, 1, {attr_s("case_change_action", "UPPER"), attr_ss("stopwords", {"monday"})}), {x});
  ASSERT_TRUE(a.is_ok()) << a.status().to_string();
  EXPECT_EQ(strs((*a)[0]), std::vector<std::string>({"TUESDAY", "WED"}));  // case-insensitive by default
  auto b = run_kernel(make_node("StringNormalizer", 1, 1, {attr_s("case_change_action", "LOWER"), attr_i("is_case_sensitive", 1),
                                                           attr_ss("stopwords", {"monday"})}), {x});
  ASSERT_TRUE(b.is_ok());
  EXPECT_EQ(strs((*b)[0]), std::vector<std::string>({"monday", "tuesday", "wed"}));
  // Everything removed from a [1, C] input: a [1, 1] tensor holding "".
  auto c = run_kernel(make_node("StringNormalizer", 1, 1, {attr_ss("stopwords", {"a"})}), {tstr({1, 2}, {"a", "A"})});
  ASSERT_TRUE(c.is_ok());
  EXPECT_EQ((*c)[0].tensor.shape, Shape({1, 1}));
  EXPECT_EQ(strs((*c)[0]), std::vector<std::string>({""}));
  EXPECT_FALSE(run_kernel(make_node("StringNormalizer", 1, 1), {tstr({2, 2}, {"a", "b", "c", "d"})}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("StringNormalizer", 1, 1, {attr_s("case_change_action", "TITLE")}), {x}).is_ok());
}

std::vector<Attribute> tfidf_attrs(const std::string& mode, int64_t min_n, int64_t skip) {
  // Unigrams 2, 3, 5, 4 (outputs 0-3); bigrams (5,6), (7,8), (6,7) (outputs 4-6).
  return {attr_i("max_gram_length", 2), attr_i("min_gram_length", min_n), attr_i("max_skip_count", skip),
          attr_s("mode", mode), attr_is("ngram_counts", {0, 4}), attr_is("ngram_indexes", {0, 1, 2, 3, 4, 5, 6}),
          attr_is("pool_int64s", {2, 3, 5, 4, 5, 6, 7, 8, 6, 7})};
}

TEST(TfIdfVectorizer, CountsWithSkips) {
  auto x = Value::of(make_tensor<int32_t>({12}, {1, 1, 3, 3, 3, 7, 8, 6, 7, 5, 6, 8}));
  // Unigram 3 occurs 3 times, 5 once. Bigram (7,8): positions (5,6), (5,11) skip 5, (8,11) skip 2.
  auto a = run_kernel(make_node("TfIdfVectorizer", 1, 1, tfidf_attrs("TF", 1, 5)), {x});
  ASSERT_TRUE(a.is_ok()) << a.status().to_string();
  expect_near(vals((*a)[0]), {0, 3, 1, 0, 1, 3, 1});
  // Without skips only adjacent pairs count.
  auto b = run_kernel(make_node("TfIdfVectorizer", 1, 1, tfidf_attrs("TF", 2, 0)), {x});
  ASSERT_TRUE(b.is_ok());
  expect_near(vals((*b)[0]), {0, 0, 0, 0, 1, 1, 1});
  // Rows are independent: [2, 6] splits the (7,8) at positions 5-6 from the rest.
  auto x2 = Value::of(make_tensor<int64_t>({2, 6}, {1, 1, 3, 3, 3, 7, 8, 6, 7, 5, 6, 8}));
  auto c = run_kernel(make_node("TfIdfVectorizer", 1, 1, tfidf_attrs("TF", 2, 0)), {x2});
  ASSERT_TRUE(c.is_ok());
  EXPECT_EQ((*c)[0].tensor.shape, Shape({2, 7}));
  expect_near(vals((*c)[0]), {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1});
  // IDF gives the weight for present n-grams; TFIDF multiplies counts by it.
  auto w = tfidf_attrs("IDF", 1, 5);
  w.push_back(attr_fs("weights", {1, 2, 3, 4, 5, 6, 7}));
  auto d = run_kernel(make_node("TfIdfVectorizer", 1, 1, w), {x});
  ASSERT_TRUE(d.is_ok());
  expect_near(vals((*d)[0]), {0, 2, 3, 0, 5, 6, 7});
  w[3] = attr_s("mode", "TFIDF");
  auto e = run_kernel(make_node("TfIdfVectorizer", 1, 1, w), {x});
  ASSERT_TRUE(e.is_ok());
  expect_near(vals((*e)[0]), {0, 6, 3, 0, 5, 18, 7});
  // Errors: string input against an int pool; a pool that does not split into bigrams.
  EXPECT_FALSE(run_kernel(make_node("TfIdfVectorizer", 1, 1, tfidf_attrs("TF", 1, 0)), {tstr({1}, {"a"})}).is_ok());
  auto bad = tfidf_attrs("TF", 1, 0);
  bad[6] = attr_is("pool_int64s", {2, 3, 5, 4, 5, 6, 7});
  EXPECT_FALSE(run_kernel(make_node("TfIdfVectorizer", 1, 1, bad), {x}).is_ok());
}

TEST(TfIdfVectorizer, StringPool) {
  std::vector<Attribute> at = {attr_i("max_gram_length", 2), attr_i("min_gram_length", 1), attr_i("max_skip_count", 0),
                               attr_s("mode", "TF"), attr_is("ngram_counts", {0, 2}), attr_is("ngram_indexes", {1, 0, 2}),
                               attr_ss("pool_strings", {"a", "b", "a", "b"})};
  auto r = run_kernel(make_node("TfIdfVectorizer", 1, 1, at), {tstr({5}, {"a", "b", "c", "a", "b"})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  expect_near(vals((*r)[0]), {2, 2, 2});  // b (index 0), a (index 1), "a b" (index 2)
}

TEST(Random, ShapesDtypesAndSeeds) {
  auto n = make_node("RandomUniform", 0, 1, {attr_is("shape", {2, 3}), attr_f("low", 2), attr_f("high", 3), attr_f("seed", 5)});
  auto a = run_kernel(n, {});
  auto b = run_kernel(n, {});
  ASSERT_TRUE(a.is_ok()) << a.status().to_string();
  EXPECT_EQ((*a)[0].tensor.shape, Shape({2, 3}));
  EXPECT_EQ(vals((*a)[0]), vals((*b)[0]));  // same seed, fresh kernel: same values
  for (float v : vals((*a)[0])) { EXPECT_GE(v, 2.0f); EXPECT_LT(v, 3.0f); }
  auto nd = run_kernel(make_node("RandomNormal", 0, 1, {attr_is("shape", {1000}), attr_i("dtype", 11), attr_f("mean", 10)}), {});
  ASSERT_TRUE(nd.is_ok());
  ASSERT_EQ((*nd)[0].tensor.dtype, DataType::kDouble);
  double mean = 0;
  for (int i = 0; i < 1000; ++i) mean += (*nd)[0].tensor.as<double>()[i] / 1000;
  EXPECT_NEAR(mean, 10.0, 0.3);
  auto like = run_kernel(make_node("RandomNormalLike", 1, 1), {tf({4}, {0, 0, 0, 0})});
  ASSERT_TRUE(like.is_ok());
  EXPECT_EQ((*like)[0].tensor.shape, Shape({4}));
  EXPECT_EQ((*like)[0].tensor.dtype, DataType::kFloat);
  // *Like of an int tensor needs a float dtype attribute.
  EXPECT_FALSE(run_kernel(make_node("RandomUniformLike", 1, 1), {Value::of(make_tensor<int32_t>({1}, {0}))}).is_ok());
  EXPECT_TRUE(run_kernel(make_node("RandomUniformLike", 1, 1, {attr_i("dtype", 10)}), {Value::of(make_tensor<int32_t>({1}, {0}))}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("RandomNormal", 0, 1), {}).is_ok());  // shape is required
}

TEST(Random, BernoulliMultinomial) {
  auto b = run_kernel(make_node("Bernoulli", 1, 1, {attr_i("dtype", 9)}), {tf({4}, {0, 1, 0, 1})});
  ASSERT_TRUE(b.is_ok()) << b.status().to_string();
  ASSERT_EQ((*b)[0].tensor.dtype, DataType::kBool);
  const uint8_t* bv = (*b)[0].tensor.as<uint8_t>();
  EXPECT_EQ(std::vector<uint8_t>(bv, bv + 4), std::vector<uint8_t>({0, 1, 0, 1}));
  auto bd = run_kernel(make_node("Bernoulli", 1, 1), {tf({2}, {1, 1})});
  ASSERT_TRUE(bd.is_ok());
  EXPECT_EQ(vals((*bd)[0]), std::vector<float>({1, 1}));
  // Class 1 has all the mass in row 0, class 0 in row 1.
  auto m = run_kernel(make_node("Multinomial", 1, 1, {attr_i("sample_size", 3), attr_i("dtype", 7)}),
                      {tf({2, 2}, {-INFINITY, 0, 0, -INFINITY})});
  ASSERT_TRUE(m.is_ok()) << m.status().to_string();
  EXPECT_EQ((*m)[0].tensor.shape, Shape({2, 3}));
  const int64_t* mv = (*m)[0].tensor.as<int64_t>();
  EXPECT_EQ(std::vector<int64_t>(mv, mv + 6), std::vector<int64_t>({1, 1, 1, 0, 0, 0}));
  EXPECT_FALSE(run_kernel(make_node("Multinomial", 1, 1, {attr_i("dtype", 1)}), {tf({1, 2}, {0, 0})}).is_ok());
  KernelFactory f = ref::find_kernel("", "Bernoulli");
  ASSERT_NE(f, nullptr);
  auto k = f(make_node("Bernoulli", 1, 1));
  ASSERT_TRUE(k.is_ok());
  EXPECT_FALSE(k.value()->deterministic());
}

Node training(const std::string& op, int n_in, int n_out, std::vector<Attribute> attrs) {
  Node n = make_node(op, n_in, n_out, std::move(attrs));
  n.domain = "ai.onnx.preview.training";
  return n;
}
Value scalar_f(float v) { return tf({}, {v}); }
Value step(int64_t t) { return Value::of(make_tensor<int64_t>({}, {t})); }

TEST(Training, Adagrad) {
  // r = 0.1 / (1 + 0 * 0.1); g = 0.001 * 1 - 1 = -0.999; h = 2 + g^2; x = 1 - r * g / (sqrt(h) + 1e-5).
  auto r = run_kernel(training("Adagrad", 5, 2, {attr_f("decay_factor", 0.1f), attr_f("epsilon", 1e-5f), attr_f("norm_coefficient", 0.001f)}),
                      {scalar_f(0.1f), step(0), tf({1}, {1}), tf({1}, {-1}), tf({1}, {2})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  const double h = 2 + 0.999 * 0.999;
  expect_near(vals((*r)[1]), {float(h)});
  expect_near(vals((*r)[0]), {float(1 + 0.1 * 0.999 / (std::sqrt(h) + 1e-5))});
  // With T = 10 the rate halves: r = 0.1 / (1 + 10 * 0.1).
  auto r2 = run_kernel(training("Adagrad", 5, 2, {attr_f("decay_factor", 0.1f)}),
                       {scalar_f(0.1f), step(10), tf({1}, {1}), tf({1}, {-1}), tf({1}, {0})});
  ASSERT_TRUE(r2.is_ok());
  expect_near(vals((*r2)[0]), {float(1 + 0.05 * 1 / (1 + 1e-6))});
  // Inputs must come in groups of three after R and T.
  EXPECT_FALSE(run_kernel(training("Adagrad", 4, 2, {}), {scalar_f(0.1f), step(0), tf({1}, {1}), tf({1}, {1})}).is_ok());
}

TEST(Training, MomentumAndNesterov) {
  auto in = std::vector<Value>{scalar_f(0.1f), step(0), tf({2}, {1.2f, 2.8f}), tf({2}, {-0.94f, -2.5f}), tf({2}, {1.7f, 3.6f})};
  // First step (T = 0) uses beta = 1: v = 0.95 * 1.7 + (0.001 * 1.2 - 0.94) = 0.6762; x = 1.2 - 0.1 * v.
  auto m = run_kernel(training("Momentum", 5, 2, {attr_f("alpha", 0.95f), attr_f("beta", 0.1f), attr_s("mode", "standard"),
                                                  attr_f("norm_coefficient", 0.001f)}), in);
  ASSERT_TRUE(m.is_ok()) << m.status().to_string();
  expect_near(vals((*m)[1]), {0.6762f, 0.95f * 3.6f + (0.0028f - 2.5f)});
  expect_near(vals((*m)[0]), {1.2f - 0.06762f, 2.8f - 0.1f * (0.95f * 3.6f + 0.0028f - 2.5f)});
  // Nesterov: x = x - r * (g + alpha * v).
  auto nv = run_kernel(training("Momentum", 5, 2, {attr_f("alpha", 0.95f), attr_f("beta", 1.0f), attr_s("mode", "nesterov"),
                                                   attr_f("norm_coefficient", 0.01f)}), in);
  ASSERT_TRUE(nv.is_ok());
  expect_near({vals((*nv)[1])[0]}, {0.687f});
  expect_near({vals((*nv)[0])[0]}, {1.227535f});
  // T > 0 applies beta to the gradient.
  in[1] = step(1);
  auto m1 = run_kernel(training("Momentum", 5, 2, {attr_f("alpha", 0.5f), attr_f("beta", 0.1f), attr_s("mode", "standard"),
                                                   attr_f("norm_coefficient", 0.0f)}), in);
  ASSERT_TRUE(m1.is_ok());
  expect_near({vals((*m1)[1])[0]}, {0.5f * 1.7f - 0.094f});
  // mode is required.
  EXPECT_FALSE(run_kernel(training("Momentum", 5, 2, {attr_f("alpha", 0.5f), attr_f("beta", 0.1f), attr_f("norm_coefficient", 0)}), in).is_ok());
}

TEST(Training, Adam) {
  // T = 0: no bias correction. g = -0.94 + 0.001 * 1.2; v = 0.95*1.7 + 0.05*g; h = 0.1*0.1 + 0.9*g^2.
  const double g = 0.001 * 1.2 - 0.94, v = 0.95 * 1.7 + 0.05 * g, h = 0.1 * 0.1 + 0.9 * g * g;
  auto r = run_kernel(training("Adam", 6, 3, {attr_f("alpha", 0.95f), attr_f("beta", 0.1f), attr_f("epsilon", 1e-7f),
                                              attr_f("norm_coefficient", 0.001f)}),
                      {scalar_f(0.1f), step(0), tf({1}, {1.2f}), tf({1}, {-0.94f}), tf({1}, {1.7f}), tf({1}, {0.1f})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  expect_near(vals((*r)[1]), {float(v)});
  expect_near(vals((*r)[2]), {float(h)});
  expect_near(vals((*r)[0]), {float(1.2 - 0.1 * v / (std::sqrt(h) + 1e-7))});
  // T = 2 with alpha 0.5, beta 0.75: rate scaled by sqrt(1 - 0.75^2) / (1 - 0.5^2); post-norm 0.5 halves x.
  auto r2 = run_kernel(training("Adam", 6, 1, {attr_f("alpha", 0.5f), attr_f("beta", 0.75f), attr_f("epsilon", 0.0f),
                                               attr_f("norm_coefficient_post", 0.5f)}),
                       {scalar_f(1.0f), step(2), tf({1}, {1}), tf({1}, {2}), tf({1}, {0}), tf({1}, {0})});
  ASSERT_TRUE(r2.is_ok()) << r2.status().to_string();
  const double v2 = 1.0, h2 = 1.0, lr = std::sqrt(1 - 0.5625) / 0.75;
  expect_near(vals((*r2)[0]), {float(0.5 * (1 - lr * v2 / std::sqrt(h2)))});
}

}  // namespace
}  // namespace petrel::test
