// Status and Result<T>: errors are values in Petrel. No exception crosses a module boundary.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace petrel {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,   // a caller passed something wrong (bad shape, unknown input name, ...)
  kInvalidModel,      // the model bytes are malformed or inconsistent
  kUnsupported,       // valid ONNX that this build does not implement (op, dtype, attribute)
  kNotFound,          // a file, input or output does not exist
  kIoError,           // the operating system refused a read/write/mmap
  kOutOfRange,        // a size or index is outside its bounds (incl. overflow)
  kInternal,          // a bug in Petrel
  kNeedsData,         // planning only: a node's output shape depends on runtime data
};

const char* status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return {}; }
  bool is_ok() const { return code_ == StatusCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "InvalidModel: node 'conv1' (Conv): ..."
  std::string to_string() const;

  // Prefixes context ("while loading node x: ") to an error; no-op on success.
  Status with_context(const std::string& context) const {
    if (is_ok()) return *this;
    return Status(code_, context + ": " + message_);
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status invalid_argument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status invalid_model(std::string m) { return {StatusCode::kInvalidModel, std::move(m)}; }
inline Status unsupported(std::string m) { return {StatusCode::kUnsupported, std::move(m)}; }
inline Status not_found(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status io_error(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
inline Status out_of_range(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
inline Status internal_error(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).is_ok()); }  // NOLINT

  bool is_ok() const { return v_.index() == 0; }
  explicit operator bool() const { return is_ok(); }
  const Status& status() const {
    static const Status kOk;
    return is_ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { assert(is_ok()); return std::get<T>(v_); }
  const T& value() const& { assert(is_ok()); return std::get<T>(v_); }
  T&& value() && { assert(is_ok()); return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace petrel

#define PETREL_CONCAT_INNER(a, b) a##b
#define PETREL_CONCAT(a, b) PETREL_CONCAT_INNER(a, b)

// Returns early from the enclosing function with the error of `expr` (a Status).
#define PETREL_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::petrel::Status _petrel_st = (expr);            \
    if (!_petrel_st.is_ok()) return _petrel_st;      \
  } while (0)

// `PETREL_ASSIGN_OR_RETURN(auto x, make_x());`
#define PETREL_ASSIGN_OR_RETURN(lhs, expr) \
  PETREL_ASSIGN_OR_RETURN_IMPL(PETREL_CONCAT(_petrel_res_, __LINE__), lhs, expr)
#define PETREL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.is_ok()) return tmp.status();             \
  lhs = std::move(tmp).value()

// Debug-only invariant check for internal logic (never for untrusted data).
#ifndef NDEBUG
#define PETREL_DCHECK(cond) assert(cond)
#else
#define PETREL_DCHECK(cond) ((void)0)
#endif
