// Sequence and optional ops.
#include "ops/op_test_util.hpp"

namespace petrel::test {
namespace {

Value tensor_i64(Shape s, std::vector<int64_t> v) { return Value::of(make_tensor<int64_t>(std::move(s), std::move(v))); }
Value tensor_f(Shape s, std::vector<float> v) { return Value::of(make_tensor<float>(std::move(s), std::move(v))); }
Value scalar_i64(int64_t v) { return tensor_i64({}, {v}); }

Value seq_of(std::vector<Value> vs) {
  std::vector<Tensor> items;
  for (auto& v : vs) items.push_back(v.tensor);
  DataType dt = items.empty() ? DataType::kFloat : items[0].dtype;
  return Value::of_sequence(std::move(items), dt);
}

std::vector<float> floats(const Tensor& t) {
  return std::vector<float>(t.as<float>(), t.as<float>() + t.numel());
}

TEST(Sequence, EmptyConstructLength) {
  auto e = run_kernel(make_node("SequenceEmpty", 0, 1, {attr_i("dtype", 7)}), {});
  ASSERT_TRUE(e.is_ok()) << e.status().to_string();
  ASSERT_TRUE((*e)[0].is_sequence());
  EXPECT_EQ((*e)[0].sequence->size(), 0u);
  EXPECT_EQ((*e)[0].elem_dtype, DataType::kInt64);

  auto c = run_kernel(make_node("SequenceConstruct", 2, 1), {tensor_f({2}, {1, 2}), tensor_f({1}, {3})});
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  ASSERT_EQ((*c)[0].sequence->size(), 2u);
  EXPECT_EQ(floats((*c)[0].sequence->at(1)), std::vector<float>({3}));

  auto l = run_kernel(make_node("SequenceLength", 1, 1), {(*c)[0]});
  ASSERT_TRUE(l.is_ok());
  EXPECT_EQ((*l)[0].tensor.shape, Shape{});
  EXPECT_EQ((*l)[0].tensor.as<int64_t>()[0], 2);

  // Mixed dtypes are an error.
  auto bad = run_kernel(make_node("SequenceConstruct", 2, 1), {tensor_f({1}, {1}), scalar_i64(1)});
  EXPECT_FALSE(bad.is_ok());
}

TEST(Sequence, AtInsertErase) {
  Value s = seq_of({tensor_f({1}, {10}), tensor_f({2}, {20, 21}), tensor_f({3}, {30, 31, 32})});
  auto at = run_kernel(make_node("SequenceAt", 2, 1), {s, scalar_i64(-1)});
  ASSERT_TRUE(at.is_ok()) << at.status().to_string();
  EXPECT_EQ(floats((*at)[0].tensor), std::vector<float>({30, 31, 32}));
  EXPECT_FALSE(run_kernel(make_node("SequenceAt", 2, 1), {s, scalar_i64(3)}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("SequenceAt", 2, 1), {s, scalar_i64(-4)}).is_ok());

  // Insert at front (position as a 1-element tensor, as in the official test) and at the back.
  auto ins = run_kernel(make_node("SequenceInsert", 3, 1), {s, tensor_f({1}, {5}), tensor_i64({1}, {0})});
  ASSERT_TRUE(ins.is_ok()) << ins.status().to_string();
  ASSERT_EQ((*ins)[0].sequence->size(), 4u);
  EXPECT_EQ(floats((*ins)[0].sequence->at(0)), std::vector<float>({5}));
  EXPECT_EQ(s.sequence->size(), 3u);  // the input sequence is untouched
  auto back = run_kernel(make_node("SequenceInsert", 2, 1), {s, tensor_f({1}, {7})});
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(floats((*back)[0].sequence->at(3)), std::vector<float>({7}));
  EXPECT_FALSE(run_kernel(make_node("SequenceInsert", 3, 1), {s, tensor_f({1}, {5}), scalar_i64(4)}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("SequenceInsert", 2, 1), {s, scalar_i64(4)}).is_ok());  // dtype

  auto er = run_kernel(make_node("SequenceErase", 1, 1), {s});
  ASSERT_TRUE(er.is_ok());
  ASSERT_EQ((*er)[0].sequence->size(), 2u);
  EXPECT_EQ(floats((*er)[0].sequence->at(1)), std::vector<float>({20, 21}));
  auto er0 = run_kernel(make_node("SequenceErase", 2, 1), {s, scalar_i64(-3)});
  ASSERT_TRUE(er0.is_ok());
  EXPECT_EQ(floats((*er0)[0].sequence->at(0)), std::vector<float>({20, 21}));
  auto empty = Value::of_sequence({}, DataType::kFloat);
  EXPECT_FALSE(run_kernel(make_node("SequenceErase", 1, 1), {empty}).is_ok());
}

TEST(Sequence, SplitToSequence) {
  Value x = tensor_f({2, 3}, {1, 2, 3, 4, 5, 6});
  // No split: pieces of 1 along axis 1, squeezed with keepdims=0.
  auto a = run_kernel(make_node("SplitToSequence", 1, 1, {attr_i("axis", 1), attr_i("keepdims", 0)}), {x});
  ASSERT_TRUE(a.is_ok()) << a.status().to_string();
  ASSERT_EQ((*a)[0].sequence->size(), 3u);
  EXPECT_EQ((*a)[0].sequence->at(1).shape, Shape({2}));
  EXPECT_EQ(floats((*a)[0].sequence->at(1)), std::vector<float>({2, 5}));
  // Scalar split 2 on axis 1: [2,2] and [2,1].
  auto b = run_kernel(make_node("SplitToSequence", 2, 1, {attr_i("axis", -1)}), {x, scalar_i64(2)});
  ASSERT_TRUE(b.is_ok()) << b.status().to_string();
  ASSERT_EQ((*b)[0].sequence->size(), 2u);
  EXPECT_EQ(floats((*b)[0].sequence->at(0)), std::vector<float>({1, 2, 4, 5}));
  EXPECT_EQ((*b)[0].sequence->at(1).shape, Shape({2, 1}));
  EXPECT_EQ(floats((*b)[0].sequence->at(1)), std::vector<float>({3, 6}));
  // 1-D split on axis 0 (keepdims ignored).
  auto c = run_kernel(make_node("SplitToSequence", 2, 1, {attr_i("keepdims", 0)}), {x, tensor_i64({2}, {0, 2})});
  ASSERT_TRUE(c.is_ok());
  EXPECT_EQ((*c)[0].sequence->at(0).shape, Shape({0, 3}));
  EXPECT_EQ((*c)[0].sequence->at(1).shape, Shape({2, 3}));
  EXPECT_FALSE(run_kernel(make_node("SplitToSequence", 2, 1), {x, tensor_i64({2}, {1, 2})}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("SplitToSequence", 2, 1), {x, scalar_i64(0)}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("SplitToSequence", 1, 1, {attr_i("axis", 2)}), {x}).is_ok());
}

TEST(Sequence, ConcatFromSequence) {
  Value s = seq_of({tensor_f({2, 1}, {1, 2}), tensor_f({2, 2}, {3, 4, 5, 6})});
  auto a = run_kernel(make_node("ConcatFromSequence", 1, 1, {attr_i("axis", 1)}), {s});
  ASSERT_TRUE(a.is_ok()) << a.status().to_string();
  EXPECT_EQ((*a)[0].tensor.shape, Shape({2, 3}));
  EXPECT_EQ(floats((*a)[0].tensor), std::vector<float>({1, 3, 4, 2, 5, 6}));
  // Stacking needs equal shapes.
  EXPECT_FALSE(run_kernel(make_node("ConcatFromSequence", 1, 1, {attr_i("axis", 0), attr_i("new_axis", 1)}), {s}).is_ok());
  Value t = seq_of({tensor_f({2}, {1, 2}), tensor_f({2}, {3, 4})});
  auto b = run_kernel(make_node("ConcatFromSequence", 1, 1, {attr_i("axis", -1), attr_i("new_axis", 1)}), {t});
  ASSERT_TRUE(b.is_ok()) << b.status().to_string();
  EXPECT_EQ((*b)[0].tensor.shape, Shape({2, 2}));
  EXPECT_EQ(floats((*b)[0].tensor), std::vector<float>({1, 3, 2, 4}));
  // Missing required axis.
  EXPECT_FALSE(run_kernel(make_node("ConcatFromSequence", 1, 1), {t}).is_ok());
}

TEST(Optional, HasGet) {
  Value x = tensor_f({2}, {1, 2});
  auto o = run_kernel(make_node("Optional", 1, 1), {x});
  ASSERT_TRUE(o.is_ok());
  ASSERT_TRUE((*o)[0].is_tensor());
  auto none = run_kernel(make_node("Optional", 0, 1), {});
  ASSERT_TRUE(none.is_ok());
  EXPECT_TRUE((*none)[0].is_empty());

  auto h1 = run_kernel(make_node("OptionalHasElement", 1, 1), {(*o)[0]});
  ASSERT_TRUE(h1.is_ok());
  EXPECT_EQ((*h1)[0].tensor.dtype, DataType::kBool);
  EXPECT_EQ((*h1)[0].tensor.as<uint8_t>()[0], 1);
  auto h0 = run_kernel(make_node("OptionalHasElement", 1, 1), {Value{}});
  ASSERT_TRUE(h0.is_ok());
  EXPECT_EQ((*h0)[0].tensor.as<uint8_t>()[0], 0);

  auto g = run_kernel(make_node("OptionalGetElement", 1, 1), {(*o)[0]});
  ASSERT_TRUE(g.is_ok());
  EXPECT_EQ(floats((*g)[0].tensor), std::vector<float>({1, 2}));
  Value s = seq_of({x});
  auto gs = run_kernel(make_node("OptionalGetElement", 1, 1), {s});
  ASSERT_TRUE(gs.is_ok());
  EXPECT_TRUE((*gs)[0].is_sequence());
  EXPECT_FALSE(run_kernel(make_node("OptionalGetElement", 1, 1), {Value{}}).is_ok());
}

}  // namespace
}  // namespace petrel::test
