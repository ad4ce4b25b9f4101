// Shared pieces of the petrel CLI: exit codes, input generation and parsing of --dim/--shape.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/tensor.hpp"
#include "petrel/petrel.hpp"

namespace petrel::cli {

// Exit codes (documented in --help and docs/cli.md).
enum Exit : int {
  kExitOk = 0,
  kExitError = 1,        // I/O or internal error
  kExitUsage = 2,        // bad command line, missing or malformed input files
  kExitBadModel = 3,     // the model file is invalid
  kExitUnsupported = 4,  // valid model using something this build does not implement
};
int exit_code_for(const Status& st);
// Prints "error: ..." to stderr and returns the exit code for `st`.
int report(const Status& st);

// --dim NAME=V and --shape INPUT=AxBxC.
struct ShapeOverrides {
  std::map<std::string, int64_t> dims;
  std::map<std::string, Shape> shapes;
};
Status parse_overrides(const std::vector<std::string>& dims, const std::vector<std::string>& shapes, ShapeOverrides& out);
// The concrete shape for an input: --shape, else declared dims with symbolic ones from --dim (default 1).
Result<Shape> resolve_shape(const TensorInfo& info, const ShapeOverrides& o);

// Deterministic pseudo-random input exactly as ../shared/peers/ort/ort_bench.mjs makes it
// (splitmix64 seeded 1234, shared across inputs in order): floats uniform in [-1,1), integers in
// [lo,hi), bools 0/1.
class InputGenerator {
 public:
  explicit InputGenerator(uint64_t seed = 1234, int64_t lo = 0, int64_t hi = 100) : state_(seed), lo_(lo), hi_(hi) {}
  Result<Tensor> make(DataType dt, const Shape& shape);

 private:
  uint64_t next();
  double unit() { return double(next() >> 11) / 9007199254740992.0; }
  uint64_t state_;
  int64_t lo_, hi_;
};

std::string format_bytes(double bytes);
double now_ms();

}  // namespace petrel::cli
