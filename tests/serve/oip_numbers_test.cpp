// The fast path for "data" numbers (src/serve/oip_numbers.hpp) against the JSON parser's path:
// the same tensors or the same refusal for every body, hand-picked edge cases and random ones.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "serve/oip.hpp"
#include "serve/oip_numbers.hpp"

using namespace petrel;
using namespace petrel::serve;

namespace {

// Both paths on one body: both succeed with identical messages, or both fail with one code.
void expect_same(const std::string& body, bool response = false) {
  oip::Limits limits;
  if (!response) {
    auto fast = oip::detail::parse_infer_request(body, limits, true);
    auto slow = oip::detail::parse_infer_request(body, limits, false);
    ASSERT_EQ(bool(fast), bool(slow)) << body << "\nfast: " << (fast ? "ok" : fast.status().to_string())
                                      << "\nslow: " << (slow ? "ok" : slow.status().to_string());
    if (!fast) {
      EXPECT_EQ(fast.status().code(), slow.status().code()) << body;
      return;
    }
    EXPECT_EQ(fast->id, slow->id);
    EXPECT_EQ(fast->parameters, slow->parameters);
    EXPECT_EQ(fast->requested_outputs, slow->requested_outputs);
    ASSERT_EQ(fast->inputs.size(), slow->inputs.size());
    for (size_t i = 0; i < fast->inputs.size(); ++i) {
      EXPECT_EQ(fast->inputs[i].name, slow->inputs[i].name);
      EXPECT_EQ(fast->inputs[i].dtype, slow->inputs[i].dtype);
      EXPECT_EQ(fast->inputs[i].shape, slow->inputs[i].shape);
      EXPECT_EQ(fast->inputs[i].bytes, slow->inputs[i].bytes) << body;  // bit for bit (-0 vs +0 too)
    }
  } else {
    auto fast = oip::detail::parse_infer_response(body, limits, true);
    auto slow = oip::detail::parse_infer_response(body, limits, false);
    ASSERT_EQ(bool(fast), bool(slow)) << body;
    if (!fast) return;
    ASSERT_EQ(fast->outputs.size(), slow->outputs.size());
    for (size_t i = 0; i < fast->outputs.size(); ++i) EXPECT_EQ(fast->outputs[i].bytes, slow->outputs[i].bytes) << body;
  }
}

std::string tensor(const std::string& dtype, const std::string& shape, const std::string& data,
                   const std::string& name = "x") {
  return R"({"name":")" + name + R"(","datatype":")" + dtype + R"(","shape":)" + shape + R"(,"data":)" + data + "}";
}
std::string request(const std::string& tensors) { return R"({"inputs":[)" + tensors + "]}"; }

float first_float(const std::string& body) {
  auto r = oip::parse_infer_request(body, oip::Limits{});
  EXPECT_TRUE(r) << r.status().to_string();
  float f = NAN;
  if (r && r->inputs[0].bytes.size() >= 4) std::memcpy(&f, r->inputs[0].bytes.data(), 4);
  return f;
}

}  // namespace

TEST(OipNumbers, LiftsTheDataOfEachTensor) {
  const std::string body =
      R"({"id":"a","inputs":[{"name":"x","datatype":"FP32","shape":[2,2],"data":[[1, 2],[3,4e1]]},)"
      R"({"data":[5,6],"name":"y","shape":[2],"datatype":"INT64"}],"parameters":{"data":[7,8]}})";
  auto s = oip::detail::scan_message(body, "inputs", 16);
  ASSERT_TRUE(s.lifted);
  ASSERT_EQ(s.data.size(), 2u);
  EXPECT_EQ(s.data[0].text, "[[1, 2],[3,4e1]]");
  EXPECT_EQ(s.data[0].count, 4);
  EXPECT_EQ(s.data[1].text, "[5,6]");
  // parameters.data is not a tensor's data: left to the parser.
  EXPECT_EQ(s.rewritten,
            R"({"id":"a","inputs":[{"name":"x","datatype":"FP32","shape":[2,2],"data":[]},)"
            R"({"data":[],"name":"y","shape":[2],"datatype":"INT64"}],"parameters":{"data":[7,8]}})");
  expect_same(body);
}

TEST(OipNumbers, StepsAsideWhenUnsure) {
  auto lifted = [](const std::string& body) { return oip::detail::scan_message(body, "inputs", 16).lifted; };
  EXPECT_TRUE(lifted(request(tensor("FP32", "[1]", "[1]"))));
  // An escaped key, a repeated "inputs" or "data": the parser's view could differ from ours.
  EXPECT_FALSE(lifted(R"({"inputs":[{"d\u0061ta":[1],"data":[2]}]})"));
  EXPECT_FALSE(lifted(R"({"inputs":[{"data":[1]}],"inputs":[{"data":[]}]})"));
  EXPECT_FALSE(lifted(R"({"inputs":[{"data":[1],"data":[]}]})"));
  EXPECT_FALSE(lifted(R"({"\u0069nputs":[{"data":[1]}]})"));
  // Arrays with anything but numbers stay with the parser.
  EXPECT_FALSE(lifted(request(tensor("BOOL", "[2]", "[true,false]"))));
  EXPECT_FALSE(lifted(request(tensor("FP32", "[2]", "[1,null]"))));
  for (const char* body : {R"({"inputs":[{"d\u0061ta":[1],"data":[2]}],"x":1})",
                           R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1]}],"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[]}]})",
                           R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1],"data":[]}]})"})
    expect_same(body);
}

TEST(OipNumbers, ValuesMatchTheJsonPath) {
  // Integer literals are integers first: "-0" is +0, "-0.0" is -0.
  EXPECT_FALSE(std::signbit(first_float(request(tensor("FP32", "[1]", "[-0]")))));
  EXPECT_TRUE(std::signbit(first_float(request(tensor("FP32", "[1]", "[-0.0]")))));
  EXPECT_EQ(first_float(request(tensor("FP32", "[1]", "[1e-400]"))), 0.0f);       // underflow: zero
  EXPECT_EQ(first_float(request(tensor("FP32", "[1]", "[16777217]"))), 16777216.0f);
  EXPECT_EQ(first_float(request(tensor("FP32", "[1]", "[1E+2]"))), 100.0f);
  EXPECT_EQ(first_float(request(tensor("FP32", "[1]", "[3.4028235e38]"))), 3.4028235e38f);
  // Refused only when the value would round to infinity (FLT_MAX + half a step; 65504 + 16 for FP16).
  EXPECT_EQ(first_float(request(tensor("FP32", "[1]", "[3.40282356e38]"))), 3.4028235e38f);
  EXPECT_FALSE(oip::parse_infer_request(request(tensor("FP32", "[1]", "[3.4028236e38]")), oip::Limits{}));
  EXPECT_TRUE(oip::parse_infer_request(request(tensor("FP16", "[1]", "[65519]")), oip::Limits{}));
  EXPECT_FALSE(oip::parse_infer_request(request(tensor("FP16", "[1]", "[65520]")), oip::Limits{}));
  auto inf = oip::parse_infer_request(request(tensor("FP32", "[1]", "[1e400]")), oip::Limits{});
  ASSERT_FALSE(inf);
  EXPECT_NE(inf.status().message().find("data[0] = 1e400 is not a valid FP32 value"), std::string::npos)
      << inf.status().message();
  const char* cases[] = {
      "[-0]", "[-0.0]", "[0.0]", "[1e-400]", "[1e400]", "[-1e400]", "[3.4028235e38]", "[3.5e38]", "[65504]",
      "[65520]", "[16777217]", "[9007199254740993]", "[18446744073709551615]", "[18446744073709551616]",
      "[-9223372036854775808]", "[-9223372036854775809]", "[1E+2]", "[1e-2]", "[0.1]", "[4.9e-324]",
      "[2.2250738585072011e-308]", "[1.00000000000000011102230246251565404236316680908203125]",
      "[ 1 ]", "[\t1\n,\r2 ]", "[[1],[2]]", "[[],[1]]", "[[[1]]]", "[1,]", "[1 2]", "[,1]", "[01]", "[1.]",
      "[.5]", "[+1]", "[1e]", "[-]", "[NaN]", "[Infinity]", "[0x10]", "[1,2", "[[1,2]", "[1]]", "[true]",
      "[1.5]", "[255]", "[256]", "[-1]", "[1,0]", "[2]", "[\"1\"]"};
  for (const char* dtype : {"FP32", "FP16", "FP64", "UINT8", "INT8", "INT64", "UINT64", "BOOL"})
    for (const char* data : cases)
      for (const char* shape : {"[1]", "[2]"}) expect_same(request(tensor(dtype, shape, data)));
}

TEST(OipNumbers, ResponsesToo) {
  expect_same(R"({"model_name":"m","outputs":[{"name":"y","datatype":"FP32","shape":[3],"data":[0.1,-0,2e3]}]})", true);
  expect_same(R"({"model_name":"m","outputs":[{"name":"y","datatype":"FP32","shape":[3],"data":[0.1,-0]}]})", true);
}

// Random bodies built from valid and invalid pieces: both paths agree on every one.
TEST(OipNumbers, RandomBodiesAgree) {
  std::mt19937 rng(12345);
  auto pick = [&](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
  const std::vector<std::string> numbers = {"0", "-0", "1", "-1", "0.5", "-0.0", "1e3", "1E-3", "2.5e+2", "123456789012",
                                            "1e400", "1e-400", "65504", "300", "-129", "01", "1.", ".5", "+1",
                                            "NaN", "true", "null", "\"3\"", "1e", "-"};
  const std::vector<std::string> ws = {"", "", "", " ", "\n", "\t ", "\r\n"};
  const std::vector<std::string> dtypes = {"FP32", "FP64", "FP16", "INT32", "UINT8", "BOOL", "INT64", "FP8"};
  std::function<std::string(int)> array = [&](int depth) {
    std::string s(1, '[');
    s += pick(ws);
    const int n = int(rng() % 5);
    for (int i = 0; i < n; ++i) {
      if (i) s += pick(ws) + "," + pick(ws);
      if (depth < 3 && rng() % 4 == 0) s += array(depth + 1);
      else if (rng() % 3) s += std::to_string(int(rng() % 200) - 50) + (rng() % 3 == 0 ? ".5" : "");
      else s += pick(numbers);
    }
    if (rng() % 25 == 0) s += ",";  // trailing comma
    return s + pick(ws) + "]";
  };
  int lifted = 0, lifted_and_valid = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string tensors;
    const int nt = 1 + int(rng() % 3);
    for (int t = 0; t < nt; ++t) {
      if (t) tensors += ",";
      std::string data, shape(1, '[');
      if (rng() % 2) {  // mostly well-formed: k plain numbers for a shape [k]
        const int k = int(rng() % 6);
        data = "[";
        for (int i = 0; i < k; ++i) {
          if (i) data += ',';
          data += pick(ws);
          data += rng() % 8 ? std::to_string(int(rng() % 256)) + (rng() % 3 == 0 ? ".25" : "") : pick(numbers);
        }
        data += ']';
        shape += std::to_string(k);
      } else {
        data = array(0);
        shape += std::to_string(rng() % 6);
      }
      shape += ']';
      std::vector<std::string> fields = {R"("name":"t)" + std::to_string(t) + "\"", R"("datatype":")" + pick(dtypes) + "\"",
                                         R"("shape":)" + shape, R"("data":)" + data};
      if (rng() % 30 == 0) fields.push_back(R"("data":)" + array(0));      // repeated key
      if (rng() % 30 == 0) fields.push_back(R"("d\u0061ta":)" + array(0));  // escaped key
      std::shuffle(fields.begin(), fields.end(), rng);
      tensors += "{";
      for (size_t f = 0; f < fields.size(); ++f) {
        if (f) tensors += ',';
        tensors += pick(ws);
        tensors += fields[f];
      }
      tensors += "}";
    }
    std::string body(1, '{');
    body += pick(ws);
    body += R"("inputs":[)";
    body += tensors;
    body += ']';
    if (rng() % 20 == 0) body += R"(,"inputs":[])";
    if (rng() % 10 == 0) body += R"(,"parameters":{"data":[1,2]})";
    body += "}";
    if (rng() % 20 == 0) body.erase(rng() % body.size(), 1);  // a byte missing anywhere
    expect_same(body);
    if (::testing::Test::HasFailure()) break;
    if (oip::detail::scan_message(body, "inputs", 16).lifted) {
      ++lifted;
      if (oip::parse_infer_request(body, oip::Limits{})) ++lifted_and_valid;
    }
  }
  // The comparison above means something only if the fast path ran, and often succeeded.
  EXPECT_GT(lifted, 10000);
  EXPECT_GT(lifted_and_valid, 1000);
}
