// The subcommands of the petrel CLI and their parsed arguments.
#pragma once

#include <string>
#include <vector>

#include "petrel/status.hpp"
#include "data_args.hpp"

namespace petrel::cli {

struct InspectArgs {
  std::string model;
  std::vector<std::string> trust;  // bundles: show the manifest once the signature verifies
  std::vector<std::string> dims, shapes;
  bool json = false;
  bool optimized = false;  // show the graph after the optimizer, with its rewrite counts
};
int cmd_inspect(const InspectArgs& args);
bool is_bundle_file(const std::string& path);  // starts with the bundle magic
int cmd_inspect_bundle(const InspectArgs& args);

struct RunArgs {
  std::string model;
  std::string store;                // run the active model of an update store instead
  std::vector<std::string> inputs;  // NAME=FILE.npy
  std::vector<std::string> dims, shapes;
  std::string output_dir;
  std::string labels;               // class names, one per line
  int top_k = 5;
  int repeat = 1;
  int threads = 1;
  bool quiet = false;               // one line per run: label, confidence, latency
  bool no_xnnpack = false;
  bool no_optimize = false;
};
int cmd_run(const RunArgs& args);

struct ConvertArgs {
  std::string model, output;
};
int cmd_convert(const ConvertArgs& args);

struct BenchArgs {
  std::string model;
  std::vector<std::string> dims, shapes;
  std::string int_range;
  int threads = 1, warmup = 5, runs = 50;
  double sustained_s = 0;
  bool json = false, profile = false, no_xnnpack = false;
  bool no_optimize = false;
};
int cmd_bench(const BenchArgs& args);

struct KeygenArgs {
  std::string out;
  bool encryption = false;  // NAME.enc (XChaCha20 key) instead of NAME.key + NAME.pub
};
int cmd_keygen(const KeygenArgs& args);

struct PackArgs {
  std::string model, name, version, key, encrypt_key, out, runtime_min, runtime_max, calibration;
  std::vector<std::string> golden_inputs;  // NAME=FILE.npy
};
int cmd_pack(const PackArgs& args);

struct VerifyArgs {
  std::string bundle, decrypt_key;
  std::vector<std::string> trust;
  bool full = false;  // also re-read (and decrypt) the model bytes
};
int cmd_verify(const VerifyArgs& args);

struct UpdateArgs {
  std::string action;  // install, status, history, rollback, mark-good
  std::string source, store, decrypt_key, to;
  std::vector<std::string> trust;
  int64_t trial_runs = 0;
  int timeout_ms = 10000, retries = 5;
  uint64_t max_download_bytes = 4ull << 30;
  bool json = false;
};
int cmd_update(const UpdateArgs& args);

}  // namespace petrel::cli

namespace petrel::bundle { struct PublicKey; }
namespace petrel::cli {
Status load_trusted_keys(const std::vector<std::string>& files, std::vector<bundle::PublicKey>& out);
struct QuantizeArgs {
  std::string model, output, calib;
  bool dynamic = false, weights_only = false;
  int bits = 8;
  int64_t block = 32;
  std::string method = "minmax";
  double percentile = 99.99;
  std::string activations = "u8";
  bool reduce_range = false, per_tensor = false, quantize_outputs = false, no_preprocess = false;
  std::vector<std::string> exclude;
  bool sensitivity = false;
  int sensitivity_samples = 8;
  double target_agreement = 0;         // accuracy-driven mixed precision
  std::string agreement_data;
  int64_t agreement_limit = 200, agreement_offset = 0;
  int ranking_samples = 8;
  std::string fallback = "float";
  bool progress = false, no_xnnpack = false, verbose = false;
  int threads = 1;
  DataArgs data;
};
int cmd_quantize(const QuantizeArgs& args);

struct EvalArgs {
  std::string model, data, labels, reference;
  int top = 5;
  bool json = false, progress = false, no_xnnpack = false;
  int threads = 1;
  DataArgs data_opts;
};
int cmd_eval(const EvalArgs& args);

struct ServeArgs {
  std::vector<std::string> models;  // NAME=PATH
  std::string store;
  std::string host = "127.0.0.1";
  int port = 8000;
  int threads = 32;
  int contexts = 0;  // 0: one per core
  int64_t max_queue = 64;
  int timeout_ms = 10000;
  int64_t max_body_bytes = 8 << 20;
  int64_t max_arena_bytes = 256 << 20;
  int64_t max_batch = 1024;
  std::string auth_token_file, tls_cert, tls_key;
  bool no_xnnpack = false;
  // The hybrid router (src/router) and field telemetry.
  std::string cloud, cloud_model, cloud_token_file, cloud_ca;
  double threshold = 0.5;
  bool no_ood = false, offline = false;
  int cloud_timeout_ms = 1000, cloud_deadline_ms = 2500, cloud_retries = 2;
  int breaker_failures = 5, breaker_cooldown_ms = 5000;
  int64_t cache_entries = 1024, drift_window = 1000;
  std::vector<std::string> profiles;  // [NAME=]FILE
};
int cmd_serve(const ServeArgs& args);
struct ProfileArgs {
  std::string model, data, output;
  int bins = 10;
  double ood_percentile = 99;
  bool progress = false, no_xnnpack = false;
  int threads = 1;
  DataArgs data_opts;
};
int cmd_profile(const ProfileArgs& args);

struct DriftArgs {
  std::string model, profile, data;
  bool json = false, progress = false, no_xnnpack = false;
  int threads = 1;
  DataArgs data_opts;
};
int cmd_drift(const DriftArgs& args);

}  // namespace petrel::cli
