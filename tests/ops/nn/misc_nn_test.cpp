#include <cmath>

#include "kernels/reference/registry.hpp"
#include "ops/op_test_util.hpp"

using namespace petrel;
using namespace petrel::test;

namespace {
template <typename T> std::vector<T> vec(const Value& v) {
  const Tensor& t = v.tensor;
  return std::vector<T>(t.as<T>(), t.as<T>() + t.numel());
}
Value f(Shape s, std::vector<float> d) { return Value::of(make_tensor<float>(std::move(s), std::move(d))); }
Value b(bool v) { return Value::of(make_tensor<bool>({}, {v})); }
}  // namespace

TEST(Dropout, InferenceIsIdentity) {
  auto r = run_kernel(make_node("Dropout", 1, 2), {f({3}, {1, 2, 3})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(vec<float>((*r)[0]), (std::vector<float>{1, 2, 3}));
  EXPECT_EQ((*r)[1].tensor.dtype, DataType::kBool);
  EXPECT_EQ(vec<uint8_t>((*r)[1]), (std::vector<uint8_t>{1, 1, 1}));
  auto k = ref::find_kernel("", "Dropout")(make_node("Dropout", 1, 1));
  ASSERT_TRUE(k.is_ok());
  EXPECT_TRUE((*k)->deterministic());
  // training_mode false with a ratio: still the identity
  r = run_kernel(make_node("Dropout", 3, 1), {f({2}, {1, 2}), f({}, {0.5f}), b(false)});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(vec<float>((*r)[0]), (std::vector<float>{1, 2}));
}

TEST(Dropout, TrainingMatchesNumpySeed) {
  // np.random.seed(0); np.random.uniform(0, 1, 6) =
  // [0.5488, 0.7152, 0.6028, 0.5449, 0.4237, 0.6459] -> element 4 is dropped at ratio 0.5.
  auto node = make_node("Dropout", 3, 2, {attr_i("seed", 0)});
  auto r = run_kernel(node, {f({6}, {1, 1, 1, 1, 1, 1}), f({}, {0.5f}), b(true)});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(vec<float>((*r)[0]), (std::vector<float>{2, 2, 2, 2, 0, 2}));
  EXPECT_EQ(vec<uint8_t>((*r)[1]), (std::vector<uint8_t>{1, 1, 1, 1, 0, 1}));
  auto k = ref::find_kernel("", "Dropout")(node);
  ASSERT_TRUE(k.is_ok());
  EXPECT_FALSE((*k)->deterministic());
  // ratio 1 cannot be trained with
  EXPECT_FALSE(run_kernel(node, {f({1}, {1}), f({}, {1.f}), b(true)}).is_ok());
}

TEST(MaxUnpool, DefaultAndExplicitShape) {
  auto x = f({1, 1, 1, 2}, {5, 6});
  auto i = Value::of(make_tensor<int64_t>({1, 1, 1, 2}, {1, 3}));
  auto node = make_node("MaxUnpool", 2, 1, {attr_is("kernel_shape", {1, 2}), attr_is("strides", {1, 2})});
  auto r = run_kernel(node, {x, i});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ((*r)[0].tensor.shape, (Shape{1, 1, 1, 4}));
  EXPECT_EQ(vec<float>((*r)[0]), (std::vector<float>{0, 5, 0, 6}));
  // A larger output_shape keeps coordinates: [1,1,2,5] -> row 0 = [0,5,0,6,0].
  auto node3 = make_node("MaxUnpool", 3, 1, {attr_is("kernel_shape", {1, 2}), attr_is("strides", {1, 2})});
  r = run_kernel(node3, {x, i, Value::of(make_tensor<int64_t>({4}, {1, 1, 2, 5}))});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(vec<float>((*r)[0]), (std::vector<float>{0, 5, 0, 6, 0, 0, 0, 0, 0, 0}));
  // out-of-range index
  EXPECT_FALSE(run_kernel(node, {x, Value::of(make_tensor<int64_t>({1, 1, 1, 2}, {1, 4}))}).is_ok());
}

TEST(MaxRoiPool, Quadrants) {
  std::vector<float> x(16);
  for (int k = 0; k < 16; ++k) x[k] = float(k);
  auto node = make_node("MaxRoiPool", 2, 1, {attr_is("pooled_shape", {2, 2})});
  auto r = run_kernel(node, {f({1, 1, 4, 4}, x), f({1, 5}, {0, 0, 0, 3, 3})});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(vec<float>((*r)[0]), (std::vector<float>{5, 7, 13, 15}));
  EXPECT_FALSE(run_kernel(node, {f({1, 1, 4, 4}, x), f({1, 5}, {1, 0, 0, 3, 3})}).is_ok());  // batch 1 of 1
}

TEST(RoiAlign, AvgAndMax) {
  auto x = f({1, 1, 2, 2}, {0, 1, 2, 3});
  auto rois = f({1, 4}, {0, 0, 1, 1});
  auto bi = Value::of(make_tensor<int64_t>({1}, {0}));
  // output_half_pixel, one sample at (0.5, 0.5): bilinear = 1.5; max mode = max(w * corner) = 0.75
  auto r = run_kernel(make_node("RoiAlign", 3, 1, {attr_s("coordinate_transformation_mode", "output_half_pixel"), attr_i("sampling_ratio", 1)}),
                      {x, rois, bi});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_NEAR(vec<float>((*r)[0])[0], 1.5f, 1e-6);
  r = run_kernel(make_node("RoiAlign", 3, 1, {attr_s("coordinate_transformation_mode", "output_half_pixel"), attr_i("sampling_ratio", 1), attr_s("mode", "max")}),
                 {x, rois, bi});
  ASSERT_TRUE(r.is_ok());
  EXPECT_NEAR(vec<float>((*r)[0])[0], 0.75f, 1e-6);
  EXPECT_FALSE(run_kernel(make_node("RoiAlign", 3, 1), {x, rois, Value::of(make_tensor<int64_t>({1}, {1}))}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("RoiAlign", 3, 1, {attr_s("mode", "median")}), {x, rois, bi}).is_ok());
}

TEST(GridSample, ModesAndPadding) {
  auto x = f({1, 1, 2, 2}, {0, 1, 2, 3});
  // grid points: centre (0, 0) and bottom-right corner (1, 1)
  auto grid = f({1, 1, 2, 2}, {0, 0, 1, 1});
  auto run = [&](std::vector<Attribute> a) {
    auto r = run_kernel(make_node("GridSample", 2, 1, std::move(a)), {x, grid});
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return r.is_ok() ? vec<float>((*r)[0]) : std::vector<float>{};
  };
  // align_corners 0: centre -> pixel coords (0.5, 0.5) = 1.5; corner -> (1.5, 1.5): only (1,1) inside, weight 0.25
  EXPECT_EQ(run({}), (std::vector<float>{1.5f, 0.75f}));
  // border padding clamps (1.5, 1.5) to (1, 1)
  EXPECT_EQ(run({attr_s("padding_mode", "border")}), (std::vector<float>{1.5f, 3}));
  // align_corners 1: corner maps exactly onto pixel (1, 1)
  EXPECT_EQ(run({attr_i("align_corners", 1)}), (std::vector<float>{1.5f, 3}));
  // nearest rounds half to even: 0.5 -> 0 (pixel 0); 1.5 -> 2 is outside -> 0 with zeros padding
  EXPECT_EQ(run({attr_s("mode", "nearest")}), (std::vector<float>{0, 0}));
  // reflection: 1.5 reflects about 1.5 (= W - 0.5) to itself; taps at 2 reflect back to 1 -> 3
  EXPECT_EQ(run({attr_s("padding_mode", "reflection")}), (std::vector<float>{1.5f, 3}));
  EXPECT_FALSE(run_kernel(make_node("GridSample", 2, 1, {attr_s("mode", "area")}), {x, grid}).is_ok());
  EXPECT_FALSE(run_kernel(make_node("GridSample", 2, 1), {x, f({1, 1, 1, 3}, {0, 0, 0})}).is_ok());
}

TEST(Col2Im, OverlappingBlocks) {
  // image [1, 3], block [1, 2], 2 blocks: y = [a0, a1 + b0, b1]
  auto node = make_node("Col2Im", 3, 1);
  auto img = Value::of(make_tensor<int64_t>({2}, {1, 3}));
  auto blk = Value::of(make_tensor<int64_t>({2}, {1, 2}));
  auto r = run_kernel(node, {f({1, 2, 2}, {1, 2, 3, 4}), img, blk});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ((*r)[0].tensor.shape, (Shape{1, 1, 1, 3}));
  EXPECT_EQ(vec<float>((*r)[0]), (std::vector<float>{1, 5, 4}));
  // L must match the number of blocks
  EXPECT_FALSE(run_kernel(node, {f({1, 2, 3}, {1, 2, 3, 4, 5, 6}), img, blk}).is_ok());
}
