#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/dtype.hpp"
#include "core/tensor.hpp"

using namespace petrel;

TEST(Float16, RoundTripsExactValues) {
  for (float f : {0.0f, 1.0f, -2.5f, 65504.0f, 6.103515625e-05f, 5.960464477539063e-08f})
    EXPECT_EQ(float(Float16(f)), f) << f;
}

TEST(Float16, RoundsToNearestEvenAndSaturatesToInf) {
  EXPECT_EQ(float(Float16(1.0f + 1.0f / 4096)), 1.0f);  // halfway below: ties to even
  EXPECT_TRUE(std::isinf(float(Float16(1e6f))));
  EXPECT_TRUE(std::isnan(float(Float16(std::numeric_limits<float>::quiet_NaN()))));
}

TEST(BFloat16, KeepsTheTop16Bits) {
  EXPECT_EQ(float(BFloat16(1.0f)), 1.0f);
  EXPECT_EQ(float(BFloat16(-3.0f)), -3.0f);
  EXPECT_NEAR(float(BFloat16(3.14159f)), 3.140625f, 1e-6);
}

TEST(CheckedNumel, RejectsOverflowAndNegativeDims) {
  EXPECT_EQ(checked_numel({2, 3, 4}).value(), 24);
  EXPECT_EQ(checked_numel({}).value(), 1);
  EXPECT_EQ(checked_numel({0, int64_t(1) << 50}).status().code(), StatusCode::kOutOfRange);
  EXPECT_FALSE(checked_numel({int64_t(1) << 30, int64_t(1) << 30}).is_ok());
  EXPECT_FALSE(checked_numel({-1, 4}).is_ok());
}

TEST(DataTypeNames, RoundTrip) {
  for (int i = 1; i <= kMaxDataType; ++i) EXPECT_EQ(dtype_from_name(dtype_name(DataType(i))), DataType(i));
}
