// scan_message: one pass over an OIP v2 body (see oip_numbers.hpp for why).
#include "serve/oip_numbers.hpp"

namespace petrel::serve::oip::detail {

namespace {

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A JSON number at s[i] (RFC 8259: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?); returns the
// index after it, or npos.
size_t scan_number(std::string_view s, size_t i) {
  const size_t n = s.size(), npos = std::string_view::npos;
  if (i < n && s[i] == '-') ++i;
  if (i >= n) return npos;
  if (s[i] == '0') {
    ++i;
  } else if (s[i] >= '1' && s[i] <= '9') {
    while (i < n && is_digit(s[i])) ++i;
  } else {
    return npos;
  }
  if (i < n && s[i] == '.') {
    if (++i >= n || !is_digit(s[i])) return npos;
    while (i < n && is_digit(s[i])) ++i;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    if (i >= n || !is_digit(s[i])) return npos;
    while (i < n && is_digit(s[i])) ++i;
  }
  return i;
}

// An array at s[i] == '[' holding only numbers and arrays of them, grammatically valid. Returns
// the index after its ']' or npos; counts the numbers and the deepest nesting (from `depth`).
size_t scan_number_array(std::string_view s, size_t i, int depth, int max_depth, int64_t& count, int& deepest) {
  const size_t npos = std::string_view::npos;
  int level = 0;
  bool want_value = true, allow_close = false;  // just after '[' both a value and ']' may come
  while (i < s.size()) {
    const char c = s[i];
    if (is_ws(c)) {
      ++i;
    } else if (c == '[') {
      if (!want_value) return npos;
      ++level;
      if (depth + level > deepest) deepest = depth + level;
      if (deepest > max_depth) return npos;
      ++i;
      allow_close = true;
    } else if (c == ']') {
      if (want_value && !allow_close) return npos;  // "[1,]"
      ++i;
      if (--level == 0) return i;
      want_value = false;
      allow_close = false;
    } else if (c == ',') {
      if (want_value) return npos;
      ++i;
      want_value = true;
      allow_close = false;
    } else {
      if (!want_value) return npos;  // "[1 2]"
      i = scan_number(s, i);
      if (i == npos) return npos;
      ++count;
      want_value = false;
      allow_close = false;
    }
  }
  return npos;
}

// Index after the string starting at s[i] == '"' (escapes skipped), or npos; `escaped` tells
// whether it holds a backslash.
size_t scan_string(std::string_view s, size_t i, bool& escaped) {
  escaped = false;
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') {
      escaped = true;
      ++i;
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

// What a container is, as far as lifting goes.
enum class Role : uint8_t { kOther, kRoot, kTensors, kTensor };

struct Frame {
  Role role;
  bool seen_special_key = false;  // kRoot: the tensors key; kTensor: "data"
  int64_t index = 0;              // kTensors: elements so far (commas at this level)
};

}  // namespace

ScannedMessage scan_message(std::string_view body, std::string_view tensors_key, int max_depth) {
  ScannedMessage out;
  std::vector<Frame> stack;
  std::string_view key;        // the key whose value comes next (empty: none)
  size_t copied = 0;           // body[0, copied) is in out.rewritten already
  bool giving_up = false;      // the scanner stepped aside: only the depth is still measured
  const size_t npos = std::string_view::npos;

  auto push = [&](Role role) {
    stack.push_back(Frame{role});
    if (int(stack.size()) > out.depth) out.depth = int(stack.size());
  };
  auto role_of_new_container = [&](char c) -> Role {
    if (giving_up) return Role::kOther;
    if (stack.empty()) return c == '{' ? Role::kRoot : Role::kOther;
    Frame& parent = stack.back();
    if (parent.role == Role::kRoot && c == '[' && key == tensors_key) return Role::kTensors;
    if (parent.role == Role::kTensors && c == '{') return Role::kTensor;
    return Role::kOther;
  };

  size_t i = 0;
  while (i < body.size() && out.depth <= max_depth) {
    const char c = body[i];
    if (c == '"') {
      bool escaped = false;
      const size_t end = scan_string(body, i, escaped);
      if (end == npos) break;  // unterminated: the parser will say so
      size_t j = end;
      while (j < body.size() && is_ws(body[j])) ++j;
      if (j < body.size() && body[j] == ':') {  // a key
        key = body.substr(i + 1, end - i - 2);
        // A key the scanner cannot compare byte for byte, or a repeated key, in the objects it
        // lifts from: the parser's view of the document could differ from ours; step aside.
        if (!stack.empty() && !giving_up) {
          Frame& f = stack.back();
          if ((f.role == Role::kRoot || f.role == Role::kTensor) && escaped) giving_up = true;
          const std::string_view special = f.role == Role::kRoot ? tensors_key : "data";
          if ((f.role == Role::kRoot || f.role == Role::kTensor) && key == special) {
            if (f.seen_special_key) giving_up = true;
            f.seen_special_key = true;
          }
        }
        i = j + 1;
        continue;
      }
      key = {};
      i = end;
      continue;
    }
    if (c == '[' && !giving_up && !stack.empty() && stack.back().role == Role::kTensor && key == "data") {
      const int64_t index = stack.size() >= 2 ? stack[stack.size() - 2].index : -1;
      int64_t count = 0;
      int deepest = out.depth;
      const size_t end = scan_number_array(body, i, int(stack.size()), max_depth, count, deepest);
      if (deepest > out.depth) out.depth = deepest;
      if (end != npos && count > 0 && index >= 0) {
        if (out.data.size() <= size_t(index)) out.data.resize(size_t(index) + 1);
        out.data[size_t(index)] = DataText{body.substr(i, end - i), count};
        out.rewritten.append(body.substr(copied, i - copied));
        out.rewritten.append("[]");
        copied = end;
        key = {};
        i = end;
        continue;
      }
      if (out.depth > max_depth) break;
    }
    if (c == '{' || c == '[') {
      push(role_of_new_container(c));
      key = {};
    } else if (c == '}' || c == ']') {
      if (!stack.empty()) stack.pop_back();
      key = {};
    } else if (c == ',') {
      if (!stack.empty() && stack.back().role == Role::kTensors) ++stack.back().index;
      key = {};
    }
    ++i;
  }
  out.lifted = !giving_up && copied > 0 && out.depth <= max_depth;
  if (out.lifted) {
    out.rewritten.append(body.substr(copied));
  } else {
    out.rewritten.clear();
    out.data.clear();
  }
  return out;
}

}  // namespace petrel::serve::oip::detail
