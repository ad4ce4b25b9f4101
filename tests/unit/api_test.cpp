#include <gtest/gtest.h>

#include <cmath>
#include <thread>
#include <vector>

#include "core/npy.hpp"
#include "onnx/model.hpp"
#include "petrel/petrel.h"
#include "petrel/petrel.hpp"
#include "api/session_impl.hpp"

using namespace petrel;

#ifndef PETREL_SOURCE_DIR
#error "PETREL_SOURCE_DIR must be defined"
#endif
static const std::string kRoot = PETREL_SOURCE_DIR;
static const std::string kFashion = kRoot + "/models/fashion_mnist/fashion_cnn.onnx";

TEST(Loader, ExternalDataIsMappedInPlace) {
  auto m = onnx::load_model(kRoot + "/tests/unit/data/external/add_external.onnx");
  ASSERT_TRUE(m.is_ok()) << m.status().to_string();
  EXPECT_EQ(m.value()->zero_copy_bytes, 48u);
  EXPECT_EQ(m.value()->copied_bytes, 0u);
  auto s = Session::open(kRoot + "/tests/unit/data/external/add_external.onnx");
  ASSERT_TRUE(s.is_ok());
  std::vector<float> x(12, 0.5f);
  ASSERT_TRUE((*s)->set_input("X", DataType::kFloat, {3, 4}, x.data()).is_ok());
  ASSERT_TRUE((*s)->run().is_ok());
  auto y = (*s)->output(0);
  ASSERT_TRUE(y.is_ok());
  for (int i = 0; i < 12; ++i) EXPECT_FLOAT_EQ(y->as<float>()[i], float(i) + 0.5f);
}

TEST(Session, ClassifiesTheShippedSamplesLikePyTorch) {
  auto s = Session::open(kFashion);
  ASSERT_TRUE(s.is_ok()) << s.status().to_string();
  ASSERT_EQ((*s)->inputs().size(), 1u);
  EXPECT_EQ((*s)->inputs()[0].name, "image");
  EXPECT_EQ((*s)->inputs()[0].shape[0], -1);  // dynamic batch
  EXPECT_EQ((*s)->inputs()[0].dim_names[0], "batch");
  // All 8 samples as one batch: exercises re-planning for a new batch size.
  std::vector<float> batch;
  for (int i = 0; i < 8; ++i) {
    auto t = read_npy(kRoot + "/models/fashion_mnist/samples/sample_" + std::to_string(i) + ".npy");
    ASSERT_TRUE(t.is_ok()) << t.status().to_string();
    batch.insert(batch.end(), t->as<float>(), t->as<float>() + t->numel());
  }
  auto want = read_npy(kRoot + "/models/fashion_mnist/samples/expected_logits.npy");
  ASSERT_TRUE(want.is_ok());
  ASSERT_TRUE((*s)->set_input("image", DataType::kFloat, {8, 1, 28, 28}, batch.data()).is_ok());
  ASSERT_TRUE((*s)->run().is_ok());
  auto y = (*s)->output("logits");
  ASSERT_TRUE(y.is_ok());
  ASSERT_EQ(y->shape, (std::vector<int64_t>{8, 10}));
  for (int64_t i = 0; i < 80; ++i) EXPECT_NEAR(y->as<float>()[i], want->as<float>()[i], 1e-4) << i;
  EXPECT_GT((*s)->arena_bytes(), 0u);
}

TEST(Session, RejectsBadInputsWithClearErrors) {
  auto s = Session::open(kFashion);
  ASSERT_TRUE(s.is_ok());
  std::vector<float> x(28 * 28);
  EXPECT_EQ((*s)->run().code(), StatusCode::kInvalidArgument);  // not bound
  EXPECT_EQ((*s)->set_input("nope", DataType::kFloat, {1, 1, 28, 28}, x.data()).code(), StatusCode::kNotFound);
  ASSERT_TRUE((*s)->set_input("image", DataType::kFloat, {1, 1, 27, 28}, x.data()).is_ok());
  Status st = (*s)->run();
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("dimension 2"), std::string::npos) << st.message();
  ASSERT_TRUE((*s)->set_input("image", DataType::kInt64, {1, 1, 28, 28}, x.data()).is_ok());
  EXPECT_NE((*s)->run().message().find("wrong dtype"), std::string::npos);
  EXPECT_EQ(Session::open(kRoot + "/no/such/model.onnx").status().code(), StatusCode::kNotFound);
}

TEST(CApi, RunsTheDefaultModel) {
  petrel_session* s = nullptr;
  ASSERT_EQ(petrel_session_open(kFashion.c_str(), 1, &s), PETREL_OK) << petrel_last_error();
  ASSERT_EQ(petrel_input_count(s), 1u);
  EXPECT_STREQ(petrel_input_name(s, 0), "image");
  EXPECT_EQ(petrel_input_name(s, 1), nullptr);
  int32_t dt = 0;
  size_t rank = 0;
  int64_t dims[8];
  ASSERT_EQ(petrel_input_info(s, 0, &dt, &rank, dims, 8), PETREL_OK);
  EXPECT_EQ(dt, 1);
  EXPECT_EQ(rank, 4u);
  std::vector<float> x(28 * 28, 0.0f);
  const int64_t shape[] = {1, 1, 28, 28};
  ASSERT_EQ(petrel_set_input(s, "image", 1, shape, 4, x.data()), PETREL_OK);
  ASSERT_EQ(petrel_run(s), PETREL_OK) << petrel_last_error();
  const int64_t* odims = nullptr;
  const void* data = nullptr;
  ASSERT_EQ(petrel_get_output(s, 0, &dt, &rank, &odims, &data), PETREL_OK);
  EXPECT_EQ(rank, 2u);
  EXPECT_EQ(odims[1], 10);
  EXPECT_NE(data, nullptr);
  EXPECT_EQ(petrel_set_input(s, "image", 99, shape, 4, x.data()), PETREL_INVALID_ARGUMENT);
  EXPECT_EQ(petrel_get_output(s, 5, &dt, &rank, &odims, &data), PETREL_INVALID_ARGUMENT);
  EXPECT_NE(std::string(petrel_last_error()).find("out of range"), std::string::npos);
  petrel_session_free(s);
  EXPECT_EQ(petrel_session_open("/no/such.onnx", 1, &s), PETREL_NOT_FOUND);
}

// new_context(): contexts share the loaded model (one copy of the weights) and run
// concurrently, each with its own arena; the parent may go first.
TEST(Session, ContextsShareTheModelAndRunConcurrently) {
  auto s = Session::open(kFashion);
  ASSERT_TRUE(s.is_ok()) << s.status().to_string();
  std::vector<std::unique_ptr<Session>> ctx;
  for (int i = 0; i < 3; ++i) {
    auto c = (*s)->new_context();
    ASSERT_TRUE(c.is_ok()) << c.status().to_string();
    ctx.push_back(std::move(c).value());
  }
  for (auto& c : ctx) EXPECT_EQ(session_internals(*c).model.get(), session_internals(**s).model.get());
  s->reset();  // the contexts keep the model alive
  auto want = read_npy(kRoot + "/models/fashion_mnist/samples/expected_logits.npy");
  ASSERT_TRUE(want.is_ok());
  std::vector<std::vector<float>> xs;
  for (int i = 0; i < 8; ++i) {
    auto t = read_npy(kRoot + "/models/fashion_mnist/samples/sample_" + std::to_string(i) + ".npy");
    ASSERT_TRUE(t.is_ok());
    xs.emplace_back(t->as<float>(), t->as<float>() + t->numel());
  }
  std::vector<int> wrong(ctx.size(), 0);
  std::vector<std::thread> threads;
  for (size_t c = 0; c < ctx.size(); ++c)
    threads.emplace_back([&, c] {
      for (int round = 0; round < 50; ++round) {
        const int i = int((c + size_t(round)) % 8);
        if (!ctx[c]->set_input("image", DataType::kFloat, {1, 1, 28, 28}, xs[size_t(i)].data()).is_ok() || !ctx[c]->run().is_ok()) {
          ++wrong[c];
          continue;
        }
        auto y = ctx[c]->output(0);
        for (int k = 0; k < 10; ++k)
          if (!y.is_ok() || std::abs(y->as<float>()[k] - want->as<float>()[i * 10 + k]) > 1e-4f) {
            ++wrong[c];
            break;
          }
      }
    });
  for (auto& t : threads) t.join();
  for (size_t c = 0; c < ctx.size(); ++c) EXPECT_EQ(wrong[c], 0) << "context " << c;
}
