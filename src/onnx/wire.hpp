// A bounded protobuf wire-format reader. Every read checks the remaining length; nothing
// here can read outside [begin, end). Offsets are reported relative to the file start so that
// errors can name the byte where the problem was found.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "core/status.hpp"

namespace petrel::onnx {

enum class WireType : uint8_t { kVarint = 0, kFixed64 = 1, kLen = 2, kStartGroup = 3, kEndGroup = 4, kFixed32 = 5 };

class WireReader {
 public:
  // `base` is the start of the whole file (for offsets in errors).
  WireReader(const uint8_t* begin, const uint8_t* end, const uint8_t* base)
      : p_(begin), end_(end), base_(base) {}

  bool done() const { return p_ >= end_; }
  size_t offset() const { return size_t(p_ - base_); }
  const uint8_t* pos() const { return p_; }

  // Reads the next field key. Errors on field number 0 and on unknown wire types.
  Status next_field(uint32_t& field, WireType& type) {
    uint64_t key;
    PETREL_RETURN_IF_ERROR(varint(key));
    field = uint32_t(key >> 3);
    uint32_t wt = uint32_t(key & 7);
    if (field == 0 || (key >> 3) > 0x1fffffff) return error("invalid field number");
    if (wt > 5) return error("bad wire type " + std::to_string(wt) + " for field " + std::to_string(field));
    type = WireType(wt);
    return Status::ok();
  }

  Status varint(uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ >= end_) return error("truncated varint");
      uint8_t b = *p_++;
      v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80)) return Status::ok();
    }
    return error("varint longer than 10 bytes");
  }

  Status fixed32(uint32_t& v) {
    if (end_ - p_ < 4) return error("truncated fixed32");
    std::memcpy(&v, p_, 4);
    p_ += 4;
    return Status::ok();
  }
  Status fixed64(uint64_t& v) {
    if (end_ - p_ < 8) return error("truncated fixed64");
    std::memcpy(&v, p_, 8);
    p_ += 8;
    return Status::ok();
  }

  // A length-delimited field: returns its byte range without copying.
  Status bytes(const uint8_t*& b, size_t& n) {
    uint64_t len;
    PETREL_RETURN_IF_ERROR(varint(len));
    if (len > uint64_t(end_ - p_))
      return error("length " + std::to_string(len) + " runs past the end of its message (" +
                   std::to_string(end_ - p_) + " bytes left)");
    b = p_;
    n = size_t(len);
    p_ += len;
    return Status::ok();
  }
  Status string(std::string& s) {
    const uint8_t* b;
    size_t n;
    PETREL_RETURN_IF_ERROR(bytes(b, n));
    s.assign(reinterpret_cast<const char*>(b), n);
    return Status::ok();
  }
  // A sub-message reader over a length-delimited field.
  Status message(WireReader& sub) {
    const uint8_t* b;
    size_t n;
    PETREL_RETURN_IF_ERROR(bytes(b, n));
    sub = WireReader(b, b + n, base_);
    return Status::ok();
  }

  Status skip(WireType t) {
    uint64_t v;
    switch (t) {
      case WireType::kVarint: return varint(v);
      case WireType::kFixed64: return fixed64(v);
      case WireType::kFixed32: { uint32_t w; return fixed32(w); }
      case WireType::kLen: { const uint8_t* b; size_t n; return bytes(b, n); }
      default: return error("groups are not supported in ONNX files");
    }
  }

  Status error(const std::string& msg) const {
    return invalid_model("protobuf: " + msg + " at byte " + std::to_string(offset()));
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
  const uint8_t* base_;
};

// Checks a field's wire type; error names the message and field.
inline Status expect_wire(const WireReader& r, WireType got, WireType want, const char* msg, uint32_t field) {
  if (got == want) return Status::ok();
  return r.error(std::string("wrong wire type ") + std::to_string(int(got)) + " for " + msg + " field " +
                 std::to_string(field) + " (expected " + std::to_string(int(want)) + ")");
}

}  // namespace petrel::onnx
