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
  inspect->add_option("model", ia.model, "ONNX model file or bundle")->required();
  inspect->add_option("--trust", ia.trust, "Bundles: trusted public key (NAME.pub); with it the manifest is shown; repeatable");
  inspect->add_option("--dim", ia.dims, "Size for a symbolic dimension, NAME=V (default 1); repeatable");
  inspect->add_option("--shape", ia.shapes, "Shape of an input, INPUT=AxBxC; repeatable");
  inspect->add_flag("--json", ia.json, "Print one JSON object");
  inspect->add_flag("--optimized", ia.optimized, "Show the graph after the optimizer: its nodes and how often each rewrite fired");

  RunArgs ra;
  auto* run = app.add_subcommand("run", "Run a model once (or --repeat times) and summarise its outputs");
  run->add_option("model", ra.model, "ONNX model file (or use --store)");
  run->add_option("--store", ra.store, "Run the active model of an update store (petrel update); counts toward its trial");
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

  KeygenArgs ka;
  auto* keygen = app.add_subcommand("keygen", "Make an Ed25519 signing key pair (NAME.key, NAME.pub) or an encryption key (NAME.enc)");
  keygen->add_option("--out", ka.out, "Path prefix NAME of the key files")->required();
  keygen->add_flag("--encryption", ka.encryption, "Make an XChaCha20-Poly1305 key NAME.enc for encrypting bundles");

  PackArgs pa;
  auto* pack = app.add_subcommand("pack", "Make a signed bundle: manifest, golden I/O computed here, model (optionally encrypted)");
  pack->add_option("model", pa.model, "ONNX model file")->required();
  pack->add_option("--name", pa.name, "Model name ([A-Za-z0-9._-])")->required();
  pack->add_option("--version", pa.version, "Semantic version of this model")->required();
  pack->add_option("--key", pa.key, "Secret signing key (NAME.key from petrel keygen)")->required();
  pack->add_option("--encrypt-key", pa.encrypt_key, "Encrypt the model with this key (NAME.enc)");
  pack->add_option("--golden-input", pa.golden_inputs, "Golden input NAME=FILE.npy (default: deterministic random data); repeatable");
  pack->add_option("--runtime-min", pa.runtime_min, "Oldest compatible Petrel (default: this version)");
  pack->add_option("--runtime-max", pa.runtime_max, "First incompatible Petrel (default: the next breaking version)");
  pack->add_option("--calibration", pa.calibration, "Calibration profile (a JSON object file) for drift/OOD");
  pack->add_option("-o,--output", pa.out, "Bundle file to write")->required();

  VerifyArgs va;
  auto* verify = app.add_subcommand("verify", "Check a bundle's signature against trusted keys (exit 0 only if valid)");
  verify->add_option("bundle", va.bundle, "Bundle file")->required();
  verify->add_option("--trust", va.trust, "Trusted public key NAME.pub; repeatable (key rotation)")->required();
  verify->add_option("--decrypt-key", va.decrypt_key, "Also decrypt the model with this key (NAME.enc)");
  verify->add_flag("--full", va.full, "Also re-read the model bytes (and decrypt them) after the signature check");

  UpdateArgs ua;
  auto* update = app.add_subcommand("update", "The update agent: install bundles into a store, status, history, rollback");
  update->require_subcommand(1, 1);
  auto add_common = [&](CLI::App* c) {
    c->add_option("--store", ua.store, "Store folder")->required();
    c->add_flag("--json", ua.json, "Machine-readable output");
  };
  auto* u_install = update->add_subcommand("install", "Verify, stage, smoke-test and switch to a bundle (file or http:// URL)");
  u_install->add_option("source", ua.source, "Bundle file or http:// URL")->required();
  u_install->add_option("--trust", ua.trust, "Trusted public key NAME.pub; repeatable")->required();
  u_install->add_option("--decrypt-key", ua.decrypt_key, "Key for encrypted bundles (NAME.enc)");
  u_install->add_option("--trial-runs", ua.trial_runs, "Good inferences before the new version is marked good (default 5)");
  u_install->add_option("--timeout-ms", ua.timeout_ms, "Download: connect/read timeout")->capture_default_str();
  u_install->add_option("--retries", ua.retries, "Download: retries with exponential backoff")->capture_default_str();
  u_install->add_option("--max-download-bytes", ua.max_download_bytes, "Download: refuse anything larger")->capture_default_str();
  add_common(u_install);
  auto* u_status = update->add_subcommand("status", "Active and previous versions, trial state");
  add_common(u_status);
  auto* u_history = update->add_subcommand("history", "Recent installs, rollbacks and failures");
  add_common(u_history);
  auto* u_rollback = update->add_subcommand("rollback", "Make the previous version active again");
  u_rollback->add_option("--to", ua.to, "Version to go back to (must be the kept previous version)");
  add_common(u_rollback);
  auto* u_good = update->add_subcommand("mark-good", "End the active version's trial: it is good");
  add_common(u_good);
  auto* u_check = update->add_subcommand("check", "Recover the store and smoke-test the active model (exit 0 if it passes)");
  add_common(u_check);
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
  quantize->add_option("--target-agreement", qa.target_agreement,
                       "Accuracy-driven mixed precision: keep layers in float (most output error per float byte first) until top-1 "
                       "agreement with the float model reaches this fraction (e.g. 0.97) on --agreement-data, or on "
                       "the last quarter of --calib (then held out of calibration)");
  quantize->add_option("--agreement-data", qa.agreement_data, "Samples for --target-agreement, in any --calib format "
                                                              "(same image options; its own --agreement-limit/--agreement-offset)");
  quantize->add_option("--agreement-limit", qa.agreement_limit, "Use at most N --agreement-data samples (0: all)")->capture_default_str();
  quantize->add_option("--agreement-offset", qa.agreement_offset, "Skip the first N --agreement-data samples")->capture_default_str();
  quantize->add_option("--fallback", qa.fallback, "What --target-agreement keeps of a float layer: float (no Q/DQ at all) or "
                                                  "weights-int8 (float activations, int8 weights: the file stays near INT8 size)")->capture_default_str();
  quantize->add_option("--ranking-samples", qa.ranking_samples, "Calibration samples the --target-agreement sensitivity ranking runs")->capture_default_str();
  quantize->add_flag("-v,--verbose", qa.verbose, "Print each calibrated tensor's observed and chosen range (and each --target-agreement candidate)");
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

  ServeArgs sa;
  auto* serve = app.add_subcommand("serve",
      "Serve models over HTTP: Open Inference Protocol v2 (/v2/...), Prometheus /metrics; "
      "hot-swaps the active version of an update store (see docs/serving.md)");
  serve->add_option("--model", sa.models, "Model to serve, NAME=FILE.onnx (version \"1\"); repeatable")->type_name("NAME=PATH");
  serve->add_option("--store", sa.store, "Serve the active model of an update store; follows installs and rollbacks, "
                                         "reports good inferences to the agent");
  serve->add_option("--host", sa.host, "Address to bind")->capture_default_str();
  serve->add_option("--port", sa.port, "Port (0: any free port; the chosen one is printed)")->capture_default_str();
  serve->add_option("--threads", sa.threads, "HTTP worker threads; a keep-alive connection holds one, so use at least "
                                             "the number of concurrent client connections")->capture_default_str();
  serve->add_option("--contexts", sa.contexts, "Execution contexts per model (concurrent runs, one arena each; 0: one per core)")
      ->capture_default_str();
  serve->add_option("--max-queue", sa.max_queue, "Infer requests admitted beyond the busy contexts; more get 503")->capture_default_str();
  serve->add_option("--timeout-ms", sa.timeout_ms, "Deadline per infer request: still waiting for a context then gets 504")
      ->capture_default_str();
  serve->add_option("--max-body-bytes", sa.max_body_bytes, "Larger request bodies get 413")->capture_default_str();
  serve->add_option("--max-batch", sa.max_batch, "Largest product of an input's symbolic dims (batch x ...); larger: 400")
      ->capture_default_str();
  serve->add_option("--max-arena-bytes", sa.max_arena_bytes, "Refuse (400) input shapes whose activation arena per context "
                                                             "would be larger")->capture_default_str();
  serve->add_option("--auth-token-file", sa.auth_token_file, "Require \"Authorization: Bearer TOKEN\" (token read from this file) "
                                                             "on everything but /v2/health/*");
  serve->add_option("--tls-cert", sa.tls_cert, "Serve HTTPS with this PEM certificate (with --tls-key)");
  serve->add_option("--tls-key", sa.tls_key, "PEM private key for --tls-cert");
  serve->add_flag("--no-xnnpack", sa.no_xnnpack, "Run on Petrel's own kernels only");
  serve->add_option("--cloud", sa.cloud, "Hybrid router: offload low-confidence or OOD requests to this server speaking the same "
                                         "protocol (http[s]://HOST:PORT[/PREFIX]); its answer, or the edge one if it fails");
  serve->add_option("--cloud-model", sa.cloud_model, "The model's name on the cloud (default: the same name)");
  serve->add_option("--cloud-token-file", sa.cloud_token_file, "Bearer token for the cloud, read from this file");
  serve->add_option("--cloud-ca", sa.cloud_ca, "https cloud: trusted CA certificates (PEM; default: the system's)");
  serve->add_option("--threshold", sa.threshold, "Offload when the top-1 confidence is below this (0..1)")->capture_default_str();
  serve->add_flag("--no-ood", sa.no_ood, "Do not offload requests flagged out of distribution (still counted)");
  serve->add_option("--cloud-timeout-ms", sa.cloud_timeout_ms, "One cloud attempt: connect, and each read/write")->capture_default_str();
  serve->add_option("--cloud-deadline-ms", sa.cloud_deadline_ms, "The whole cloud leg, retries included; then the edge answer")
      ->capture_default_str();
  serve->add_option("--cloud-retries", sa.cloud_retries, "Attempts after the first (network errors, 5xx, 429), jittered backoff")
      ->capture_default_str();
  serve->add_option("--breaker-failures", sa.breaker_failures, "Consecutive cloud failures that open the circuit breaker")
      ->capture_default_str();
  serve->add_option("--breaker-cooldown-ms", sa.breaker_cooldown_ms, "Open breaker: time before one probe goes to the cloud again")
      ->capture_default_str();
  serve->add_flag("--offline", sa.offline, "Never call the cloud (answers that wanted it say source edge_offline)");
  serve->add_option("--cache-entries", sa.cache_entries, "LRU cache of cloud answers, by input hash (0: off)")->capture_default_str();
  serve->add_option("--profile", sa.profiles, "Calibration profile (petrel profile) for OOD flags and drift metrics: [NAME=]FILE; "
                                              "with --store the bundle's own profile is used unless one is given")
      ->type_name("[NAME=]FILE");
  serve->add_option("--drift-window", sa.drift_window, "Samples in the drift monitor's sliding window")->capture_default_str();
  ProfileArgs pra;
  auto* profile = app.add_subcommand("profile", "Make a calibration profile (output confidence/energy histograms, OOD thresholds, "
                                                "input statistics) for drift and OOD monitoring; ship it with pack --calibration");
  profile->add_option("model", pra.model, "ONNX model file; score outputs are float32 with classes as the last dimension")->required();
  profile->add_option("--data", pra.data, "Samples the model is known to handle, in any --calib format of `petrel quantize`")->required();
  profile->add_option("-o,--output", pra.output, "Profile JSON file to write")->required();
  profile->add_option("--bins", pra.bins, "Histogram bins (edges at quantiles of the data)")->capture_default_str();
  profile->add_option("--ood-percentile", pra.ood_percentile,
                      "Samples beyond this percentile of the data (energy above, or confidence below) are OOD")->capture_default_str();
  profile->add_flag("--progress", pra.progress, "Show the progress bar even when stderr is not a terminal");
  profile->add_option("-t,--threads", pra.threads, "Threads")->capture_default_str();
  profile->add_flag("--no-xnnpack", pra.no_xnnpack, "Run on Petrel's own kernels only");
  add_data_options(profile, pra.data_opts);

  DriftArgs da;
  auto* drift = app.add_subcommand("drift", "Compare a data set with a calibration profile: PSI of output confidence and input "
                                            "means, and the OOD rate (what the hybrid router monitors live)");
  drift->add_option("model", da.model, "ONNX model file")->required();
  drift->add_option("--profile", da.profile, "Calibration profile from petrel profile")->required();
  drift->add_option("--data", da.data, "Samples, in any --calib format of `petrel quantize`")->required();
  drift->add_flag("--json", da.json, "One JSON object");
  drift->add_flag("--progress", da.progress, "Show the progress bar even when stderr is not a terminal");
  drift->add_option("-t,--threads", da.threads, "Threads")->capture_default_str();
  drift->add_flag("--no-xnnpack", da.no_xnnpack, "Run on Petrel's own kernels only");
  add_data_options(drift, da.data_opts);

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
  if (*keygen) return cmd_keygen(ka);
  if (*pack) return cmd_pack(pa);
  if (*verify) return cmd_verify(va);
  if (*update) {
    for (auto* c : {u_install, u_status, u_history, u_rollback, u_good, u_check})
      if (*c) ua.action = c->get_name();
    return cmd_update(ua);
  }
  if (*quantize) return cmd_quantize(qa);
  if (*eval) return cmd_eval(ea);
  if (*serve) return cmd_serve(sa);
  if (*profile) return cmd_profile(pra);
  if (*drift) return cmd_drift(da);
  std::cout << app.help();
  return kExitUsage;
}
