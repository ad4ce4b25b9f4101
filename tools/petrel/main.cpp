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

  QuantizeArgs qa;
  auto* quantize = app.add_subcommand("quantize",
      "Quantize a model to standard ONNX (QDQ) that Petrel and ONNX Runtime run: static INT8 (default, needs --calib), "
      "--dynamic INT8, or --bits 4 --weights-only INT4");
  quantize->add_option("model", qa.model, "ONNX model file (float32)")->required();
  quantize->add_option("-o,--output", qa.output, "Output ONNX file")->required();
  quantize->add_option("--calib", qa.calib, "Calibration data: a folder of .npy files (or of sample folders with INPUT.npy), "
                                            "a batch .npy (N,...), a raw float32 file (see --shape), IDX images (.gz ok), "
                                            "a folder of .pgm/.ppm/.png images, or random:N");
  quantize->add_flag("--dynamic", qa.dynamic, "Dynamic INT8: int8 weights, activations quantized at run time "
                                              "(DynamicQuantizeLinear + MatMulInteger) for MatMul/Gemm; no calibration");
  quantize->add_flag("--weights-only", qa.weights_only, "Quantize only the weights (with --bits 4: INT4 blocks, opset-21 DequantizeLinear)");
  quantize->add_option("--bits", qa.bits, "Weight bits: 8, or 4 with --weights-only")->capture_default_str();
  quantize->add_option("--block", qa.block, "INT4 block size along the reduction axis (power of two >= 16; 32 or 64 usual)")->capture_default_str();
  quantize->add_option("--method", qa.method, "Calibration: minmax, percentile or entropy (KL divergence, 2048-bin histograms)")->capture_default_str();
  quantize->add_option("--percentile", qa.percentile, "Percentile for --method percentile (of |x| per sign)")->capture_default_str();
  quantize->add_option("--activations", qa.activations, "Activation type: u8 or s8 (asymmetric)")->capture_default_str();
  quantize->add_flag("--reduce-range", qa.reduce_range, "7-bit activations (u8 0..127, s8 -64..63) for CPUs without VNNI "
                                                        "(avoids int16 saturation in u8*s8 multiply-adds)");
  quantize->add_flag("--per-tensor", qa.per_tensor, "One weight scale per tensor instead of per output channel");
  quantize->add_option("--exclude", qa.exclude, "Keep these nodes in float: node names or op types (comma-separated; repeatable)");
  quantize->add_flag("--quantize-outputs", qa.quantize_outputs, "Also quantize tensors that are graph outputs (default: they stay float)");
  quantize->add_flag("--no-preprocess", qa.no_preprocess, "Skip folding (Conv+BatchNorm, constants, Identity/Dropout) before quantizing");
  quantize->add_flag("--sensitivity", qa.sensitivity, "Report each layer's output error (SQNR) when only it is quantized, worst first");
  quantize->add_option("--sensitivity-samples", qa.sensitivity_samples, "Calibration samples the sensitivity report runs")->capture_default_str();
  quantize->add_flag("-v,--verbose", qa.verbose, "Print each calibrated tensor's observed and chosen range");
  quantize->add_flag("--progress", qa.progress, "Show the progress bar even when stderr is not a terminal");
  quantize->add_option("-t,--threads", qa.threads, "Threads for calibration runs")->capture_default_str();
  quantize->add_flag("--no-xnnpack", qa.no_xnnpack, "Calibrate on Petrel's own kernels only");
  add_data_options(quantize, qa.data);

  EvalArgs ea;
  auto* eval = app.add_subcommand("eval", "Classification accuracy over a labelled dataset: top-1, top-k, and top-1 agreement with --reference");
  eval->add_option("model", ea.model, "ONNX model file whose first output is the class scores")->required();
  eval->add_option("--data", ea.data, "Samples, in any --calib format of `petrel quantize`")->required();
  eval->add_option("--labels", ea.labels, "Labels: IDX (.gz ok), .npy of integers, or text with one integer per line")->required();
  eval->add_option("--reference", ea.reference, "Second model (e.g. the float original): its accuracy and top-1 agreement");
  eval->add_option("--top", ea.top, "k for top-k accuracy")->capture_default_str();
  eval->add_flag("--json", ea.json, "One JSON object");
  eval->add_flag("--progress", ea.progress, "Show the progress bar even when stderr is not a terminal");
  eval->add_option("-t,--threads", ea.threads, "Threads")->capture_default_str();
  eval->add_flag("--no-xnnpack", ea.no_xnnpack, "Run on Petrel's own kernels only");
  add_data_options(eval, ea.data_opts);

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
  if (*quantize) return cmd_quantize(qa);
  if (*eval) return cmd_eval(ea);
  std::cout << app.help();
  return kExitUsage;
}
