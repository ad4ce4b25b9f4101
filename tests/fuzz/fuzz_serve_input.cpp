// libFuzzer target for what `petrel serve` reads from the network and from bundles: one byte
// picks the parser, the rest is its input —
//   0  an infer request body (OIP v2 JSON, the server's default limits),
//   1  an infer response body (what the hybrid router reads from a cloud server),
//   2  a calibration profile (JSON carried in bundles, read at every hot swap),
//   3  a request path (the server's hand-written router).
// Every input must end in a value or a Status. A request that parses must serialize and parse
// again to the same tensors (the router forwards requests it parsed), and the fast path for
// "data" numbers (serve/oip_numbers.hpp) must agree with the JSON parser's path.
// Build and run: tests/fuzz/run.sh SECONDS fuzz_serve_input
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "serve/oip.hpp"
#include "serve/route.hpp"
#include "telemetry/profile.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace petrel;
  if (size < 1) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  serve::oip::Limits limits;
  limits.max_tensor_elements = 1 << 16;  // keep the fuzzer's memory small; the checks are the same
  limits.max_total_elements = 1 << 17;
  switch (data[0] % 4) {
    case 0: {
      auto r = serve::oip::parse_infer_request(body, limits);
      // The fast path for "data" numbers must give what the JSON parser's path gives.
      auto slow = serve::oip::detail::parse_infer_request(body, limits, /*lift_numbers=*/false);
      if (bool(r) != bool(slow)) abort();
      if (r) {
        if (slow->inputs.size() != r->inputs.size()) abort();
        for (size_t i = 0; i < r->inputs.size(); ++i)
          if (slow->inputs[i].bytes != r->inputs[i].bytes || slow->inputs[i].shape != r->inputs[i].shape) abort();
      } else if (r.status().code() != slow.status().code()) {
        abort();
      }
      if (r) {
        auto again = serve::oip::parse_infer_request(serve::oip::serialize_infer_request(*r), limits);
        if (!again || again->inputs.size() != r->inputs.size()) abort();
        for (size_t i = 0; i < r->inputs.size(); ++i)
          if (again->inputs[i].shape != r->inputs[i].shape || again->inputs[i].dtype != r->inputs[i].dtype ||
              again->inputs[i].bytes.size() != r->inputs[i].bytes.size())
            abort();
      }
      break;
    }
    case 1: {
      auto r = serve::oip::parse_infer_response(body, limits);
      auto slow = serve::oip::detail::parse_infer_response(body, limits, /*lift_numbers=*/false);
      if (bool(r) != bool(slow)) abort();
      if (r) {
        if (slow->outputs.size() != r->outputs.size()) abort();
        for (size_t i = 0; i < r->outputs.size(); ++i)
          if (slow->outputs[i].bytes != r->outputs[i].bytes) abort();
        (void)serve::oip::serialize_infer_response(*r);
      }
      break;
    }
    case 2: {
      auto p = telemetry::parse_profile(body);
      if (p) (void)telemetry::profile_to_json(*p);
      break;
    }
    case 3: (void)serve::parse_route(std::string(body)); break;
  }
  return 0;
}
