#include "data_args.hpp"

#include <unistd.h>

#include <cstdio>

#include "cli_common.hpp"

namespace petrel::cli {
namespace {

Result<Shape> parse_dims(const std::string& s, const char* flag) {
  Shape out;
  size_t p = 0;
  while (p <= s.size()) {
    size_t e = s.find_first_of("x,", p);
    if (e == std::string::npos) e = s.size();
    const std::string tok = s.substr(p, e - p);
    if (tok.empty() || tok.size() > 9 || tok.find_first_not_of("0123456789") != std::string::npos)
      return invalid_argument(std::string(flag) + " '" + s + "': expected positive integers separated by x");
    out.push_back(std::stoll(tok));
    if (out.back() < 1) return invalid_argument(std::string(flag) + " '" + s + "': dims must be >= 1");
    p = e + 1;
  }
  return out;
}

}  // namespace

void add_data_options(CLI::App* app, DataArgs& a) {
  const char* g = "Data";
  app->add_option("--limit", a.limit, "Use at most N samples (0: all)")->group(g)->capture_default_str();
  app->add_option("--offset", a.offset, "Skip the first N samples")->group(g)->capture_default_str();
  app->add_option("--shape", a.shape, "Raw float32 files: shape of one sample, e.g. 1x1x28x28 (default: the model input's)")->group(g);
  const char* im = "Image preprocessing (IDX, .pgm/.ppm/.png)";
  app->add_option("--size", a.size, "Resize images to HxW (default: the model input's)")->group(im);
  app->add_option("--channels", a.channels, "1 (grey) or 3 (RGB); grey images are replicated, RGB converted to luma (default: the model input's)")->group(im);
  app->add_option("--layout", a.layout, "nchw or nhwc (default: guessed from the model input)")->group(im);
  app->add_option("--resize", a.resize, "stretch (to HxW) or crop (cover HxW keeping the aspect ratio, centre crop)")->group(im)->capture_default_str();
  app->add_option("--crop-fraction", a.crop_fraction, "With --resize crop: keep this central fraction (0.875: resize 256, crop 224)")->group(im)->capture_default_str();
  app->add_flag("--bgr", a.bgr, "Feed channels as B,G,R")->group(im);
  app->add_option("--scale", a.scale, "Multiply pixel values (0..255) by this first (default 1/255)")->group(im);
  app->add_option("--mean", a.mean, "Subtract per channel after scaling (1 or C values, default 0)")->group(im)->delimiter(',');
  app->add_option("--std", a.std, "Divide per channel after subtracting (1 or C values, default 1)")->group(im)->delimiter(',');
}

Result<quant::DataOptions> to_data_options(const DataArgs& a) {
  quant::DataOptions o;
  if (!a.shape.empty()) {
    PETREL_ASSIGN_OR_RETURN(o.shape, parse_dims(a.shape, "--shape"));
  }
  if (!a.size.empty()) {
    PETREL_ASSIGN_OR_RETURN(Shape hw, parse_dims(a.size, "--size"));
    if (hw.size() != 2) return invalid_argument("--size '" + a.size + "': expected HxW");
    o.image.height = hw[0];
    o.image.width = hw[1];
  }
  if (a.channels != 0 && a.channels != 1 && a.channels != 3) return invalid_argument("--channels must be 1 or 3");
  o.image.channels = a.channels;
  o.image.layout = a.layout;
  o.image.resize = a.resize;
  o.image.crop_fraction = a.crop_fraction;
  o.image.bgr = a.bgr;
  o.image.scale = a.scale;
  o.image.mean = a.mean;
  o.image.std = a.std;
  o.limit = a.limit;
  o.offset = a.offset;
  return o;
}

bool stderr_is_tty() { return isatty(2) == 1; }

void ProgressBar::update(const char* stage, int64_t done, int64_t total) {
  if (!enabled_) return;
  const double t = now_ms();
  if (stage_ != stage) {
    if (drawn_) std::fputc('\n', stderr);
    stage_ = stage;
    start_ms_ = t;
    last_ms_ = -1e9;
  }
  if (done < total && t - last_ms_ < 100) return;
  last_ms_ = t;
  const int width = 30;
  const int fill = total > 0 ? int(width * done / total) : width;
  std::string bar(size_t(fill), '=');
  if (fill < width) bar += '>';
  bar.resize(size_t(width), ' ');
  const double el = (t - start_ms_) / 1000.0;
  const double rate = el > 0 ? double(done) / el : 0;
  char eta[32] = "";
  if (rate > 0 && done < total) std::snprintf(eta, sizeof eta, "  ETA %.0fs", double(total - done) / rate);
  std::fprintf(stderr, "\r%-12s [%s] %lld/%lld  %.1f/s%s   ", stage, bar.c_str(), (long long)done, (long long)total, rate, eta);
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::finish() {
  if (drawn_) std::fputc('\n', stderr);
  drawn_ = false;
  stage_.clear();
}

}  // namespace petrel::cli
