// petrel: the command-line face of the runtime.
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli_common.hpp"
#include "commands.hpp"
#include "petrel/petrel.hpp"

int main(int argc, char** argv) {
  using namespace petrel::cli;
  CLI::App app{"petrel — run ONNX models on-device.\n\n"
               "Exit codes: 0 success, 1 I/O or internal error, 2 bad arguments or input files,\n"
               "3 invalid model, 4 model uses something this build does not support."};
  app.require_subcommand(0, 1);
  app.set_version_flag("--version", petrel::version());

  InspectArgs ia;
  auto* inspect = app.add_subcommand("inspect", "Show a model's inputs, outputs, ops, parameters, MACs and planned arena bytes");
  inspect->add_option("model", ia.model, "ONNX model file")->required();
  inspect->add_option("--dim", ia.dims, "Size for a symbolic dimension, NAME=V (default 1); repeatable");
  inspect->add_option("--shape", ia.shapes, "Shape of an input, INPUT=AxBxC; repeatable");
  inspect->add_flag("--json", ia.json, "Print one JSON object");
  inspect->add_flag("--optimized", ia.optimized, "Show the graph after the optimizer: its nodes and how often each rewrite fired");

  RunArgs ra;
  auto* run = app.add_subcommand("run", "Run a model once (or --repeat times) and summarise its outputs");
  run->add_option("model", ra.model, "ONNX model file")->required();
  run->add_option("-i,--input", ra.inputs, "Input from a .npy file, NAME=FILE.npy (or FILE.npy for a one-input model); "
                                           "inputs not given get deterministic random data")->type_name("NAME=FILE");
  run->add_option("--dim", ra.dims, "Size for a symbolic dimension of random inputs, NAME=V (default 1)");
  run->add_option("--shape", ra.shapes, "Shape of a random input, INPUT=AxBxC");
  run->add_option("-o,--output-dir", ra.output_dir, "Write each output as DIR/NAME.npy");
  run->add_option("--labels", ra.labels, "Class names, one per line, for top-k output");
  run->add_option("-k,--top-k", ra.top_k, "How many classes to show for classifier outputs")->capture_default_str();
  run->add_option("-r,--repeat", ra.repeat, "Run N times and report the median latency")->capture_default_str();
  run->add_option("-t,--threads", ra.threads, "Threads")->capture_default_str();
  run->add_flag("-q,--quiet", ra.quiet, "One line: top class, confidence, latency");
  run->add_flag("--no-xnnpack", ra.no_xnnpack, "Run everything on Petrel's own kernels (no XNNPACK provider)");
  run->add_flag("--no-optimize", ra.no_optimize, "Run the graph as loaded (skip fusion, folding and dead-node elimination)");

  BenchArgs ba;
  auto* bench = app.add_subcommand("bench", "Time a model: latency percentiles, load time, peak RSS, arena bytes, GFLOP/s");
  bench->add_option("model", ba.model, "ONNX model file")->required();
  bench->add_option("-t,--threads", ba.threads, "Threads")->capture_default_str();
  bench->add_option("--warmup", ba.warmup, "Untimed runs after the first")->capture_default_str();
  bench->add_option("--runs", ba.runs, "Timed runs")->capture_default_str();
  bench->add_option("--dim", ba.dims, "Size for a symbolic dimension, NAME=V (default 1)");
  bench->add_option("--shape", ba.shapes, "Shape of an input, INPUT=AxBxC");
  bench->add_option("--int-range", ba.int_range, "Range of random integer inputs, LO,HI (default 0,100)");
  bench->add_option("--sustained", ba.sustained_s, "Also run for SECONDS and report the median per 10-second window and the trend");
  bench->add_flag("--profile", ba.profile, "Print time per op type");
  bench->add_flag("--no-xnnpack", ba.no_xnnpack, "Run everything on Petrel's own kernels (no XNNPACK provider)");
  bench->add_flag("--json", ba.json, "One JSON line with the fields of ort_bench.mjs (profile goes to stderr)");
  bench->add_flag("--no-optimize", ba.no_optimize, "Time the graph as loaded (skip fusion, folding and dead-node elimination)");

  ConvertArgs ca;
  auto* convert = app.add_subcommand("convert", "Rewrite a model through Petrel's IR: opset-normalised, weights 64-byte aligned (zero-copy loading)");
  convert->add_option("model", ca.model, "ONNX model file")->required();
  convert->add_option("-o,--output", ca.output, "Output ONNX file")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  }
  if (*inspect) return cmd_inspect(ia);
  if (*run) return cmd_run(ra);
  if (*convert) return cmd_convert(ca);
  if (*bench) return cmd_bench(ba);
  std::cout << app.help();
  return kExitUsage;
}
