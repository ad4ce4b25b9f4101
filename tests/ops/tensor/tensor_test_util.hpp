// Small helpers shared by the tensor-family kernel tests.
#pragma once

#include <string>
#include <vector>

#include "ops/op_test_util.hpp"

namespace petrel::test {

template <typename T>
void expect_tensor(const Value& v, const Shape& shape, const std::vector<T>& want) {
  ASSERT_TRUE(v.is_tensor());
  ASSERT_EQ(v.tensor.dtype, DataTypeOf<T>::value);
  ASSERT_EQ(v.tensor.shape, shape);
  ASSERT_EQ(size_t(v.tensor.numel()), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    if constexpr (std::is_floating_point_v<T>) EXPECT_NEAR(v.tensor.as<T>()[i], want[i], 1e-5) << "at " << i;
    else EXPECT_EQ(v.tensor.as<T>()[i], want[i]) << "at " << i;
  }
}

inline Value ints(std::vector<int64_t> v) {
  const int64_t n = int64_t(v.size());
  return Value::of(make_tensor<int64_t>({n}, std::move(v)));
}

template <typename T> Value val(Shape shape, std::vector<T> data) { return Value::of(make_tensor<T>(std::move(shape), std::move(data))); }

inline Value strings(Shape shape, const std::vector<std::string>& data) {
  auto t = Tensor::allocate(DataType::kString, shape).value();
  for (size_t i = 0; i < data.size(); ++i) t.as<std::string>()[i] = data[i];
  return Value::of(std::move(t));
}

// 0, 1, 2, ... as float.
inline Value iota_f(Shape shape) {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  std::vector<float> v(static_cast<size_t>(n));
  for (size_t i = 0; i < v.size(); ++i) v[i] = float(i);
  return val<float>(std::move(shape), std::move(v));
}

}  // namespace petrel::test
