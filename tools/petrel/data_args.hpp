// Options shared by `petrel quantize` (--calib) and `petrel eval` (--data): how a data file or
// folder becomes model inputs (see src/quantize/dataset.hpp), and the progress bar.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "quantize/dataset.hpp"

namespace petrel::cli {

struct DataArgs {
  std::string shape;          // raw float32: one sample, AxBxC
  std::string size;           // images: HxW
  int channels = 0;
  std::string layout, resize = "stretch";
  double crop_fraction = 1.0;
  bool bgr = false;
  double scale = 1.0 / 255.0;
  std::vector<double> mean{0.0}, std{1.0};
  int64_t limit = 0, offset = 0;
};

// Registers the data flags on a subcommand.
void add_data_options(CLI::App* app, DataArgs& a);
Result<quant::DataOptions> to_data_options(const DataArgs& a);

// A one-line progress bar on stderr: "calibrating [=====>    ] 250/500  41.2/s  ETA 6s".
// Draws only when enabled (stderr is a terminal, or --progress); at most ~10 times a second.
class ProgressBar {
 public:
  explicit ProgressBar(bool enabled) : enabled_(enabled) {}
  ~ProgressBar() { finish(); }
  void update(const char* stage, int64_t done, int64_t total);
  void finish();
  std::function<void(const char*, int64_t, int64_t)> callback() {
    return [this](const char* s, int64_t d, int64_t t) { update(s, d, t); };
  }

 private:
  bool enabled_;
  bool drawn_ = false;
  std::string stage_;
  double start_ms_ = 0, last_ms_ = -1e9;
};
bool stderr_is_tty();

}  // namespace petrel::cli
