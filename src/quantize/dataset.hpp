// Calibration and evaluation data: samples for a model's inputs read from files a user has.
// Every byte read here is untrusted: sizes are bounded and every error names the file (and the
// byte offset or sample where it helps); nothing aborts.
//
// Sources (open_dataset picks one from the path):
//   DIR of .npy files       one sample per file (sorted by name), shape = the model input's
//                           with or without the batch dimension of 1; multi-input models: DIR of
//                           sample folders, each with INPUT_NAME.npy per input
//   FILE.npy                a batch (N, ...) whose trailing dims are one sample
//   FILE (raw float32)      samples back to back; DataOptions::shape gives one sample's shape
//   FILE.idx / *-ubyte[.gz] MNIST/Fashion-MNIST IDX images (uint8 N×H×W), image preprocessing
//   DIR of images           .pgm/.ppm (binary P5/P6) and .png (when built with libpng), sorted
//                           by name, image preprocessing
//   random:N                N deterministic pseudo-random samples (smoke tests only)
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.hpp"

namespace petrel::quant {

// One model input as the data readers need it (dims < 0 are symbolic).
struct InputSpec {
  std::string name;
  DataType dtype = DataType::kFloat;
  Shape shape;
};

// How images (IDX, PGM/PPM/PNG) become a float tensor. Applied in this order: channel
// conversion (grey <-> RGB, optional BGR order), resize to size (bilinear, half-pixel centres),
// x = pixel * scale, x = (x - mean[c]) / std[c], layout.
struct ImageOptions {
  int64_t height = 0, width = 0;  // 0: the model input's (must then be static)
  int channels = 0;               // 0: the model input's (1 or 3)
  std::string layout;             // "nchw", "nhwc", or "" to guess from the model input
  std::string resize = "stretch"; // "stretch": to height×width; "crop": shorter side scaled to
                                  // cover, then centre crop (crop_fraction < 1 crops tighter)
  double crop_fraction = 1.0;     // e.g. 0.875 = resize to 256 then crop 224
  bool bgr = false;               // channel order B,G,R instead of R,G,B
  double scale = 1.0 / 255.0;
  std::vector<double> mean{0.0}, std{1.0};  // one value, or one per channel
};

struct DataOptions {
  Shape shape;          // raw float32 files: one sample's shape (default: the model input's)
  ImageOptions image;
  int64_t limit = 0;    // use at most this many samples (0: all)
  int64_t offset = 0;   // skip this many samples first
};

// Bounds on untrusted data.
constexpr int64_t kMaxSamples = int64_t(1) << 24;          // 16.7 M samples
constexpr int64_t kMaxImageSide = 16384;
constexpr size_t kMaxFileBytes = size_t(4) << 30;          // one data file (or its decompressed IDX)
constexpr int64_t kMaxDirEntries = 1 << 22;

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  // Sample i (0 <= i < size()): one tensor per model input, batch dimension 1.
  virtual Result<std::vector<Tensor>> get(int64_t i) = 0;
  // "fashion-mnist t10k-images (10000 images 28x28 -> [1,1,28,28])" for progress lines.
  virtual std::string describe() const = 0;
};

Result<std::unique_ptr<Dataset>> open_dataset(const std::string& path, const std::vector<InputSpec>& inputs,
                                              const DataOptions& options);

// Samples [offset, offset + count) of `base` (clamped to its size); `base` must outlive the view.
std::unique_ptr<Dataset> dataset_window(Dataset& base, int64_t offset, int64_t count);

// Class labels, one per sample: IDX label files (uint8, .gz allowed), .npy of integers (N,) or
// (N,1), or text with one integer per line (blank lines and lines starting with # skipped).
Result<std::vector<int64_t>> read_labels(const std::string& path);

// ---- pieces, exposed for tests ----

// An 8-bit image, rows top to bottom, channels interleaved.
struct Image {
  int64_t width = 0, height = 0;
  int channels = 0;  // 1 (grey) or 3 (RGB)
  std::vector<uint8_t> pixels;
};
// Binary PGM (P5) / PPM (P6) with maxval <= 255.
Result<Image> decode_pnm(const uint8_t* data, size_t size);
// PNG (any bit depth/colour type, reduced to 8-bit grey or RGB); Unsupported without libpng.
Result<Image> decode_png(const uint8_t* data, size_t size);
// Applies ImageOptions to one image, producing a [1,C,H,W] or [1,H,W,C] float32 tensor for `input`.
Result<Tensor> preprocess_image(const Image& img, const InputSpec& input, const ImageOptions& o);

// IDX file contents (big-endian dims); decompresses .gz (bounded) when built with zlib.
struct IdxData {
  uint8_t type = 0;   // 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
  Shape dims;
  std::vector<uint8_t> bytes;  // payload as stored (big-endian for multi-byte types)
};
Result<IdxData> parse_idx(const uint8_t* data, size_t size);
Result<IdxData> read_idx(const std::string& path);
// Reads a whole file (bounded by max_bytes); errors name the path.
Result<std::vector<uint8_t>> read_file(const std::string& path, size_t max_bytes = kMaxFileBytes);
// gzip -> bytes, at most max_bytes of output (a larger stream is an error, not an allocation).
Result<std::vector<uint8_t>> gunzip(const uint8_t* data, size_t size, size_t max_bytes);

}  // namespace petrel::quant
