// An in-process OIP v2 "cloud" on 127.0.0.1 (ephemeral port) for router tests: it can answer
// well, slowly, with 500s, with garbage or with mismatching outputs, be stopped and restarted
// on the same port, and counts the infer requests it received.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "serve/oip.hpp"

namespace petrel::router::testing {

namespace oip = serve::oip;

enum class Mode { kGood, kSlow, kDrip, kError500, kGarbage, kWrongShape, kWrongName, kWrongDtype };

inline oip::Tensor f32(std::string name, std::vector<int64_t> shape, const std::vector<float>& v) {
  auto t = oip::make_tensor(std::move(name), DataType::kFloat, std::move(shape), v.data(), v.size() * sizeof(float));
  return std::move(t).value();
}

inline std::vector<float> floats(const oip::Tensor& t) {
  std::vector<float> v(t.bytes.size() / sizeof(float));
  std::memcpy(v.data(), t.bytes.data(), v.size() * sizeof(float));
  return v;
}

class FakeCloud {
 public:
  using Answer = std::function<Result<oip::InferResponse>(const std::string& model, const oip::InferRequest&)>;
  std::atomic<Mode> mode{Mode::kGood};
  std::atomic<int> requests{0};
  std::atomic<int> slow_ms{500};
  std::string expect_token;  // when set, other tokens get 401 (set before start())
  std::string tls_cert, tls_key;  // when set, start() serves https with them (PEM files)

  // Default answer: logits [rows, 3] = {0, 0, 9} per row (class 2), model_version "big".
  explicit FakeCloud(Answer answer = nullptr) : answer_(std::move(answer)) {}
  ~FakeCloud() { stop(); }

  // Starts listening (port 0: an ephemeral one); returns the port, or -1.
  int start(int port = 0) {
    stop();
    if (!tls_cert.empty()) {
      svr_ = std::make_unique<httplib::SSLServer>(tls_cert.c_str(), tls_key.c_str());
      if (!svr_->is_valid()) return -1;
    } else {
      svr_ = std::make_unique<httplib::Server>();
    }
    svr_->Post(R"(.*/v2/models/([^/]+)/infer)", [this](const httplib::Request& req, httplib::Response& res) { handle(req, res); });
    port_ = port == 0 ? svr_->bind_to_any_port("127.0.0.1") : (svr_->bind_to_port("127.0.0.1", port) ? port : -1);
    if (port_ < 0) return -1;
    th_ = std::thread([this] { svr_->listen_after_bind(); });
    for (int i = 0; i < 200 && !svr_->is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return port_;
  }
  void stop() {
    if (svr_) svr_->stop();
    if (th_.joinable()) th_.join();
    svr_.reset();
  }
  std::string url(const std::string& prefix = "") const {
    return (tls_cert.empty() ? "http://127.0.0.1:" : "https://127.0.0.1:") + std::to_string(port_) + prefix;
  }

 private:
  void handle(const httplib::Request& req, httplib::Response& res) {
    ++requests;
    if (!expect_token.empty() && req.get_header_value("Authorization") != "Bearer " + expect_token) {
      res.status = 401;
      return;
    }
    const Mode m = mode.load();
    if (m == Mode::kError500) {
      res.status = 500;
      res.set_content("{\"error\": \"overloaded\"}", "application/json");
      return;
    }
    if (m == Mode::kGarbage) {
      res.set_content("{\"model_name\": \"x\", \"outputs\": [{\"name\": \"logits\", \"datatype\": \"FP32\", \"shape\": [1,3], \"data\": [1,2", "application/json");
      return;
    }
    if (m == Mode::kSlow) std::this_thread::sleep_for(std::chrono::milliseconds(slow_ms.load()));
    auto parsed = oip::parse_infer_request(req.body, oip::Limits{});
    if (!parsed) {
      res.status = 400;
      res.set_content("{\"error\": \"" + parsed.status().message() + "\"}", "application/json");
      return;
    }
    const std::string model = req.matches[1];
    Result<oip::InferResponse> r = answer_ ? answer_(model, parsed.value()) : default_answer(model, parsed.value());
    if (!r) {
      res.status = 500;
      return;
    }
    oip::InferResponse& a = r.value();
    if (m == Mode::kWrongShape) a.outputs[0] = f32(a.outputs[0].name, {1, 4}, {0, 0, 9, 0});
    if (m == Mode::kWrongName) a.outputs[0].name = "probabilities";
    if (m == Mode::kWrongDtype) {
      const std::vector<int32_t> v{0, 0, 9};
      a.outputs[0] = oip::make_tensor(a.outputs[0].name, DataType::kInt32, {1, 3}, v.data(), 12).value();
    }
    if (m == Mode::kDrip) {  // a byte every 40 ms: each read is quick, the whole answer is not
      auto body = std::make_shared<std::string>(oip::serialize_infer_response(a));
      res.set_chunked_content_provider("application/json", [body](size_t offset, httplib::DataSink& sink) {
        if (offset >= body->size()) {
          sink.done();
          return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(40));
        return sink.write(body->data() + offset, 1);
      });
      return;
    }
    res.set_content(oip::serialize_infer_response(a), "application/json");
  }

  static Result<oip::InferResponse> default_answer(const std::string& model, const oip::InferRequest& q) {
    oip::InferResponse a;
    a.model_name = model;
    a.model_version = "big";
    a.id = q.id;
    const int64_t rows = q.inputs.empty() || q.inputs[0].shape.empty() ? 1 : q.inputs[0].shape[0];
    std::vector<float> v;
    for (int64_t r = 0; r < rows; ++r) v.insert(v.end(), {0.0f, 0.0f, 9.0f});
    a.outputs.push_back(f32("logits", {rows, 3}, v));
    return a;
  }

  Answer answer_;
  std::unique_ptr<httplib::Server> svr_;
  std::thread th_;
  int port_ = -1;
};

}  // namespace petrel::router::testing
