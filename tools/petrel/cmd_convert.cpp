// petrel convert MODEL -o OUT: rewrites a model through Petrel's IR (opset normalised to the
// IR's opset, weights 64-byte aligned so that loading it is fully zero-copy).
#include <cstdio>

#include "cli_common.hpp"
#include "commands.hpp"
#include "onnx/model.hpp"
#include "onnx/writer.hpp"

namespace petrel::cli {

int cmd_convert(const ConvertArgs& args) {
  auto m = onnx::load_model(args.model);
  if (!m) return report(m.status());
  if (Status st = onnx::write_model(*m.value(), args.output); !st) return report(st);
  auto check = onnx::load_model(args.output);
  if (!check) return report(check.status().with_context("re-reading the written model"));
  std::printf("wrote %s: %zu nodes, %s of weights used in place, %s copied when loaded\n", args.output.c_str(),
              check.value()->graph->nodes.size(), format_bytes(double(check.value()->zero_copy_bytes)).c_str(),
              format_bytes(double(check.value()->copied_bytes)).c_str());
  return kExitOk;
}

}  // namespace petrel::cli
