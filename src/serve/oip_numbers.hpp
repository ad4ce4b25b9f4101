// The fast path for the bulk of an OIP v2 message: the numbers of each tensor's "data".
//
// A Fashion-MNIST request is 784 numbers, and nlohmann's lexer (a token buffer, then strtod, per
// number) spent twice the model's run time on them. scan_message() walks the body once — the
// depth check the parser needs anyway — and lifts each `<tensors_key>[i].data` array that holds
// only numbers (nested arrays allowed) out of the text: the rewritten body, with each such
// array replaced by `[]`, goes to nlohmann for the small rest of the message, and the numbers
// are converted straight from the original text (std::from_chars) once the tensor's datatype
// is known. Replacing one valid JSON array by another cannot make an invalid document valid, so
// nlohmann still rejects every malformed body. Anything the scanner is not sure about (an
// escaped key, a repeated "inputs" or "data" key) makes it step aside: the original body is
// parsed the slow way. tests/serve/oip_test.cpp and fuzz_serve_input compare both paths.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"
#include "serve/oip.hpp"

namespace petrel::serve::oip::detail {

// One tensor's "data" array as it appears in the body: every element a valid JSON number.
struct DataText {
  std::string_view text;  // from '[' to ']', inside the original body
  int64_t count = 0;      // numbers in it (nested arrays flattened)
};

struct ScannedMessage {
  int depth = 0;          // deepest nesting of the whole body ([ and {)
  bool lifted = false;    // false: parse the original body; `rewritten` and `data` are unused
  std::string rewritten;  // the body with each lifted array replaced by []
  std::vector<DataText> data;  // by index in the tensors array; empty text: not lifted
};

// Stops early (with `depth` above it) once the nesting exceeds max_depth.
ScannedMessage scan_message(std::string_view body, std::string_view tensors_key, int max_depth);

}  // namespace petrel::serve::oip::detail
