// petrel eval's accuracy on a tiny model whose answers are known.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/npy.hpp"
#include "quantize/evaluate.hpp"
#include "unit/opt_test_util.hpp"

namespace petrel::quant {
namespace {

// scores = x @ W: W the identity (model) or a column swap of classes 0 and 1 (reference).
Graph scorer(bool swap01) {
  test::GraphBuilder b;
  ValueId x = b.input("x", {1, 3});
  std::vector<float> w{1, 0, 0, 0, 1, 0, 0, 0, 1};
  if (swap01) w = {0, 1, 0, 1, 0, 0, 0, 0, 1};
  ValueId wv = b.constant("w", test::ftensor({3, 3}, w));
  b.output(b.node("MatMul", {x, wv}));
  return b.graph();
}

TEST(Eval, TopKAndAgreementOnAKnownModel) {
  const std::string path = (std::filesystem::temp_directory_path() / ("petrel_eval_" + std::to_string(::getpid()) + ".npy")).string();
  // Four samples; the model's argmax is the largest entry.
  auto t = Tensor::allocate(DataType::kFloat, {4, 3});
  ASSERT_TRUE(t.is_ok());
  const float v[12] = {3, 2, 1, /**/ 1, 3, 2, /**/ 1, 2, 3, /**/ 2, 3, 1};
  for (int i = 0; i < 12; ++i) t->as<float>()[i] = v[i];
  ASSERT_TRUE(write_npy(path, t.value()).is_ok());
  auto d = open_dataset(path, {{"x", DataType::kFloat, {1, 3}}}, {});
  ASSERT_TRUE(d.is_ok()) << d.status().to_string();
  // Labels: sample 3's true class is 0 (ranked 2nd by the model).
  const std::vector<int64_t> labels{0, 1, 2, 0};
  Graph m = scorer(false), ref = scorer(true);
  EvalOptions o;
  o.top = 2;
  auto r = evaluate(m, &ref, *d.value(), labels, o);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->samples, 4);
  EXPECT_EQ(r->classes, 3);
  EXPECT_EQ(r->top1, 3);
  EXPECT_EQ(r->topk, 4);
  // The reference swaps classes 0 and 1: its argmax is 1, 0, 2, 0 -> right on samples 2 and 3.
  EXPECT_EQ(r->ref_top1, 2);
  EXPECT_EQ(r->agree, 1);  // only sample 2 has the same argmax
  // Too few labels, and a label outside the classes.
  EXPECT_FALSE(evaluate(m, nullptr, *d.value(), {0, 1}, o).is_ok());
  EXPECT_FALSE(evaluate(m, nullptr, *d.value(), {0, 1, 2, 7}, o).is_ok());
  std::filesystem::remove(path);
}

TEST(Eval, RankTiesFavourTheLowerIndex) {
  const float s[4] = {1, 2, 2, 0};
  EXPECT_EQ(argmax(s, 4), 1);
  EXPECT_EQ(rank_of(s, 4, 1), 0);
  EXPECT_EQ(rank_of(s, 4, 2), 1);
  EXPECT_EQ(rank_of(s, 4, 3), 3);
}

}  // namespace
}  // namespace petrel::quant
