// libFuzzer target: arbitrary bytes → onnx::load_model_from_memory (external data disallowed)
// → on success, GraphExecutor::create (one kernel per node, static planning enabled).
// Every input must end in a Status; crashes, leaks, ASan/UBSan reports and timeouts are bugs.
// libFuzzer hands us an exact-size heap copy, so ASan sees any read past the end.
// Build and run: tests/fuzz/run.sh SECONDS
#include <cstddef>
#include <cstdint>

#include "onnx/model.hpp"
#include "runtime/executor.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  petrel::onnx::LoadOptions opts;
  opts.allow_external_data = false;
  auto model = petrel::onnx::load_model_from_memory(data, size, opts);
  if (!model) return 0;
  auto exec = petrel::GraphExecutor::create((*model)->graph, true);
  (void)exec;
  return 0;
}
