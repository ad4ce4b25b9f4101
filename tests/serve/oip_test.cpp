// The OIP v2 codec: round trips, nested data, every datatype's range, limits, malformed input.
#include "serve/oip.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>

using namespace petrel;
using namespace petrel::serve;

namespace {

oip::Limits limits() { return oip::Limits{}; }

template <typename T>
std::vector<T> values(const oip::Tensor& t) {
  std::vector<T> v(t.bytes.size() / sizeof(T));
  std::memcpy(v.data(), t.bytes.data(), t.bytes.size());
  return v;
}

std::string request_with(const std::string& tensor) { return R"({"inputs":[)" + tensor + "]}"; }

}  // namespace

TEST(Oip, ParsesFlatRequest) {
  auto r = oip::parse_infer_request(
      R"({"id":"r1","parameters":{"k":1},"inputs":[{"name":"x","datatype":"FP32","shape":[2,2],"data":[1,2.5,-3,4e2]}],
          "outputs":[{"name":"y"}]})",
      limits());
  ASSERT_TRUE(r) << r.status().to_string();
  EXPECT_EQ(r->id, "r1");
  EXPECT_EQ(r->parameters["k"], 1);
  ASSERT_EQ(r->inputs.size(), 1u);
  EXPECT_EQ(r->inputs[0].dtype, DataType::kFloat);
  EXPECT_EQ(r->inputs[0].shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(values<float>(r->inputs[0]), (std::vector<float>{1, 2.5f, -3, 400}));
  EXPECT_EQ(r->requested_outputs, std::vector<std::string>{"y"});
}

TEST(Oip, NestedDataIsRowMajor) {
  auto r = oip::parse_infer_request(request_with(R"({"name":"x","datatype":"INT32","shape":[2,3],"data":[[1,2,3],[4,5,6]]})"),
                                    limits());
  ASSERT_TRUE(r) << r.status().to_string();
  EXPECT_EQ(values<int32_t>(r->inputs[0]), (std::vector<int32_t>{1, 2, 3, 4, 5, 6}));
}

TEST(Oip, ElementCountMustMatchShape) {
  auto few = oip::parse_infer_request(request_with(R"({"name":"x","datatype":"FP32","shape":[3],"data":[1,2]})"), limits());
  ASSERT_FALSE(few);
  EXPECT_NE(few.status().message().find("shape has 3 elements but data has 2"), std::string::npos) << few.status().message();
  auto many = oip::parse_infer_request(request_with(R"({"name":"x","datatype":"FP32","shape":[1],"data":[1,2]})"), limits());
  ASSERT_FALSE(many);
  EXPECT_NE(many.status().message().find("more elements"), std::string::npos);
}

TEST(Oip, IntegerRanges) {
  struct Case {
    const char* dtype;
    const char* value;
    bool ok;
  } cases[] = {
      {"UINT8", "255", true},   {"UINT8", "256", false},   {"UINT8", "-1", false},  {"INT8", "-128", true},
      {"INT8", "128", false},   {"INT16", "-32769", false}, {"UINT16", "65535", true}, {"INT32", "2147483648", false},
      {"UINT32", "4294967295", true}, {"INT64", "-9223372036854775808", true}, {"INT64", "9223372036854775808", false},
      {"UINT64", "18446744073709551615", true}, {"INT32", "1.5", false}, {"INT32", "3.0", true},
      {"INT32", "\"3\"", false}, {"BOOL", "true", true}, {"BOOL", "1", true}, {"BOOL", "2", false},
      {"FP16", "65504", true},  {"FP16", "70000", false},  {"FP32", "1e39", false}, {"FP64", "1e300", true},
      {"FP32", "null", false},  {"FP32", "true", false},
  };
  for (const auto& c : cases) {
    auto r = oip::parse_infer_request(
        request_with(std::string(R"({"name":"x","datatype":")") + c.dtype + R"(","shape":[1],"data":[)" + c.value + "]}"),
        limits());
    EXPECT_EQ(bool(r), c.ok) << c.dtype << " " << c.value << ": " << r.status().to_string();
  }
}

TEST(Oip, ValuesConvertExactly) {
  auto r = oip::parse_infer_request(
      R"({"inputs":[{"name":"a","datatype":"INT64","shape":[2],"data":[-9223372036854775808,9223372036854775807]},
                    {"name":"b","datatype":"FP16","shape":[1],"data":[1.5]},
                    {"name":"c","datatype":"BOOL","shape":[2],"data":[true,false]}]})",
      limits());
  ASSERT_TRUE(r) << r.status().to_string();
  EXPECT_EQ(values<int64_t>(r->inputs[0]), (std::vector<int64_t>{INT64_MIN, INT64_MAX}));
  EXPECT_EQ(Float16::to_float(values<uint16_t>(r->inputs[1])[0]), 1.5f);
  EXPECT_EQ(values<uint8_t>(r->inputs[2]), (std::vector<uint8_t>{1, 0}));
}

TEST(Oip, RejectsMalformed) {
  const char* bad[] = {
      "", "not json", "[]", "{}", R"({"inputs":[]})", R"({"inputs":{}})", R"({"inputs":[1]})",
      R"({"inputs":[{"datatype":"FP32","shape":[1],"data":[1]}]})",
      R"({"inputs":[{"name":"x","shape":[1],"data":[1]}]})",
      R"({"inputs":[{"name":"x","datatype":"FP33","shape":[1],"data":[1]}]})",
      R"({"inputs":[{"name":"x","datatype":"FP32","data":[1]}]})",
      R"({"inputs":[{"name":"x","datatype":"FP32","shape":[-1],"data":[1]}]})",
      R"({"inputs":[{"name":"x","datatype":"FP32","shape":["1"],"data":[1]}]})",
      R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1]}]})",
      R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[{"a":1}]}]})",
      R"({"inputs":[{"name":"","datatype":"FP32","shape":[1],"data":[1]}]})",
      R"({"id":5,"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1]}]})",
      R"({"parameters":[],"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1]}]})",
      R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1]},{"name":"x","datatype":"FP32","shape":[1],"data":[1]}]})",
      R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1]}],"outputs":[{"nam":"y"}]})",
      R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1)",
  };
  for (const char* b : bad) {
    auto r = oip::parse_infer_request(b, limits());
    EXPECT_FALSE(r) << b;
    if (!r) {
      EXPECT_FALSE(r.status().message().empty());
    }
  }
}

TEST(Oip, BytesAndBinaryExtensionAreUnsupported) {
  auto bytes = oip::parse_infer_request(request_with(R"({"name":"x","datatype":"BYTES","shape":[1],"data":["a"]})"), limits());
  ASSERT_FALSE(bytes);
  EXPECT_EQ(bytes.status().code(), StatusCode::kUnsupported);
  auto bin = oip::parse_infer_request(
      request_with(R"({"name":"x","datatype":"FP32","shape":[1],"parameters":{"binary_data_size":4}})"), limits());
  ASSERT_FALSE(bin);
  EXPECT_EQ(bin.status().code(), StatusCode::kUnsupported);
}

TEST(Oip, DeepJsonIsRejectedWithoutRecursion) {
  // A million nested arrays: the pre-scan stops at the limit; the parser never sees it.
  std::string deep(1000000, '[');
  auto r = oip::parse_infer_request(deep, limits());
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("nesting deeper"), std::string::npos);
  EXPECT_EQ(oip::json_depth(R"({"a":"[[[[[[","b":[[1]]})", 16), 3);  // brackets inside strings do not count
  EXPECT_EQ(oip::json_depth(R"({"a":"\"[[[[[[","b":[1]})", 16), 2);  // escaped quote keeps the string open
  EXPECT_EQ(oip::json_depth(std::string(50, '{'), 5), 6);
}

TEST(Oip, Limits) {
  oip::Limits l;
  l.max_tensor_elements = 100;
  l.max_total_elements = 150;
  l.max_tensors = 2;
  l.max_body_bytes = 4096;
  l.max_name_length = 8;
  auto huge = oip::parse_infer_request(
      request_with(R"({"name":"x","datatype":"FP32","shape":[1000000000,1000000000,1000000000],"data":[1]})"), l);
  ASSERT_FALSE(huge);
  EXPECT_EQ(huge.status().code(), StatusCode::kOutOfRange);
  std::string hundred = "0";
  for (int i = 1; i < 100; ++i) hundred += ",0";
  auto two = oip::parse_infer_request(R"({"inputs":[{"name":"a","datatype":"UINT8","shape":[100],"data":[)" + hundred +
                                          R"(]},{"name":"b","datatype":"UINT8","shape":[100],"data":[)" + hundred + "]}]}",
                                      l);
  ASSERT_FALSE(two);
  EXPECT_NE(two.status().message().find("in all"), std::string::npos) << two.status().message();
  auto body = oip::parse_infer_request(std::string(5000, ' '), l);
  ASSERT_FALSE(body);
  EXPECT_EQ(body.status().code(), StatusCode::kOutOfRange);
  auto name = oip::parse_infer_request(request_with(R"({"name":"abcdefghi","datatype":"FP32","shape":[1],"data":[1]})"), l);
  EXPECT_FALSE(name);
  auto count = oip::parse_infer_request(
      R"({"inputs":[{"name":"a","datatype":"FP32","shape":[1],"data":[1]},{"name":"b","datatype":"FP32","shape":[1],"data":[1]},
                    {"name":"c","datatype":"FP32","shape":[1],"data":[1]}]})",
      l);
  EXPECT_FALSE(count);
  auto rank = oip::parse_infer_request(request_with(R"({"name":"x","datatype":"FP32","shape":[1,1,1,1,1,1,1,1,1],"data":[1]})"), l);
  EXPECT_FALSE(rank);
}

TEST(Oip, ResponseRoundTrip) {
  oip::InferResponse resp;
  resp.model_name = "fashion";
  resp.model_version = "1.2.0";
  resp.id = "abc";
  resp.parameters["source"] = "edge";
  float logits[3] = {0.1f, -2.5f, 3.25f};
  auto t = oip::make_tensor("logits", DataType::kFloat, {1, 3}, logits, sizeof logits);
  ASSERT_TRUE(t);
  resp.outputs.push_back(*t);
  int64_t idx[2] = {7, -1};
  resp.outputs.push_back(oip::make_tensor("idx", DataType::kInt64, {2}, idx, sizeof idx).value());
  std::string text = oip::serialize_infer_response(resp);
  EXPECT_NE(text.find("0.1,"), std::string::npos) << text;  // shortest float form, not 0.10000000149
  auto back = oip::parse_infer_response(text, limits());
  ASSERT_TRUE(back) << back.status().to_string();
  EXPECT_EQ(back->model_name, "fashion");
  EXPECT_EQ(back->model_version, "1.2.0");
  EXPECT_EQ(back->id, "abc");
  EXPECT_EQ(back->parameters["source"], "edge");
  ASSERT_EQ(back->outputs.size(), 2u);
  EXPECT_EQ(values<float>(back->outputs[0]), (std::vector<float>{0.1f, -2.5f, 3.25f}));
  EXPECT_EQ(values<int64_t>(back->outputs[1]), (std::vector<int64_t>{7, -1}));
}

TEST(Oip, RequestRoundTrip) {
  oip::InferRequest req;
  req.id = "q";
  uint16_t halfs[2] = {Float16::from_float(0.5f), Float16::from_float(-1.0f)};
  req.inputs.push_back(oip::make_tensor("h", DataType::kFloat16, {2}, halfs, sizeof halfs).value());
  uint8_t flags[1] = {1};
  req.inputs.push_back(oip::make_tensor("b", DataType::kBool, {1}, flags, 1).value());
  req.requested_outputs = {"out"};
  auto back = oip::parse_infer_request(oip::serialize_infer_request(req), limits());
  ASSERT_TRUE(back) << back.status().to_string();
  EXPECT_EQ(back->id, "q");
  EXPECT_EQ(back->inputs[0].bytes, req.inputs[0].bytes);
  EXPECT_EQ(back->inputs[1].bytes, req.inputs[1].bytes);
  EXPECT_EQ(back->requested_outputs, req.requested_outputs);
}

TEST(Oip, GarbageResponsesAreErrors) {
  const char* bad[] = {
      "<html>502</html>", "{}", R"({"model_name":"m"})", R"({"model_name":"m","outputs":[]})",
      R"({"model_name":3,"outputs":[{"name":"y","datatype":"FP32","shape":[1],"data":[1]}]})",
      R"({"model_name":"m","outputs":[{"name":"y","datatype":"FP32","shape":[2],"data":[1]}]})",
      R"({"model_name":"m","outputs":[{"name":"y","datatype":"FP32","shape":[1],"data":[null]}]})",
      R"({"model_name":"m","outputs":[{"name":"y","datatype":"FP32","shape":[1],"data":["1"]}]})",
  };
  for (const char* b : bad) EXPECT_FALSE(oip::parse_infer_response(b, limits())) << b;
  float nan = std::nanf("");
  oip::InferResponse resp;
  resp.model_name = "m";
  resp.outputs.push_back(oip::make_tensor("y", DataType::kFloat, {1}, &nan, 4).value());
  EXPECT_FALSE(oip::parse_infer_response(oip::serialize_infer_response(resp), limits()));  // NaN -> null -> rejected
}

TEST(Oip, MakeTensorChecksSize) {
  float x[2] = {1, 2};
  EXPECT_FALSE(oip::make_tensor("x", DataType::kFloat, {3}, x, sizeof x));
  EXPECT_FALSE(oip::make_tensor("x", DataType::kString, {1}, x, 4));
  EXPECT_TRUE(oip::make_tensor("x", DataType::kFloat, {2, 1}, x, sizeof x));
}

TEST(Oip, ModelNames) {
  EXPECT_TRUE(oip::is_valid_model_name("fashion_cnn-1.0"));
  for (std::string bad : std::vector<std::string>{"", "..", "../etc", ".hidden", "a/b", "a%2e", std::string("a\0b", 3), "a b", "é",
                          std::string(300, 'a')})
    EXPECT_FALSE(oip::is_valid_model_name(bad)) << bad;
  EXPECT_EQ(oip::datatype_from_name("FP32"), DataType::kFloat);
  EXPECT_EQ(oip::datatype_name(DataType::kUInt64), "UINT64");
  EXPECT_EQ(oip::datatype_from_name("fp32"), DataType::kUndefined);
}
