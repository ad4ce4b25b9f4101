// Time to parse one OIP v2 infer request, by both paths for "data" numbers (the fast path of
// serve/oip_numbers.hpp and nlohmann's), on a shipped body or a Fashion-MNIST-sized default.
//
//   build/release/tests/serve/petrel_oip_parse_bench [BODY.json] [ITERATIONS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "serve/oip.hpp"

using namespace petrel::serve;

int main(int argc, char** argv) {
  std::string body;
  if (argc > 1) {
    std::ifstream f(argv[1], std::ios::binary);
    if (!f) {
      std::fprintf(stderr, "cannot read %s\n", argv[1]);
      return 2;
    }
    std::stringstream ss;
    ss << f.rdbuf();
    body = ss.str();
  } else {  // 784 values like a normalised image's: "-0.8101983666419983"
    body = R"({"inputs":[{"name":"image","datatype":"FP32","shape":[1,1,28,28],"data":[)";
    for (int i = 0; i < 784; ++i) {
      if (i) body += ',';
      body += std::to_string(-0.81019836664 + 0.0037 * (i % 97));
    }
    body += "]}]}";
  }
  const int iterations = argc > 2 ? std::max(1, std::atoi(argv[2])) : 2000;
  oip::Limits limits;
  for (bool lift : {false, true}) {
    std::vector<double> us;
    for (int i = 0; i < iterations; ++i) {
      auto t = std::chrono::steady_clock::now();
      auto r = oip::detail::parse_infer_request(body, limits, lift);
      us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t).count());
      if (!r) {
        std::fprintf(stderr, "%s\n", r.status().to_string().c_str());
        return 1;
      }
    }
    std::sort(us.begin(), us.end());
    std::printf("%-26s body %zu bytes: median %.1f us, min %.1f us\n",
                lift ? "fast path (from_chars)" : "JSON parser (nlohmann)", body.size(), us[us.size() / 2], us[0]);
  }
  return 0;
}
