// libFuzzer target: the quantization data readers (untrusted calibration/evaluation files).
// The first byte picks the reader; the rest is the file. Any crash, sanitizer report or
// unbounded allocation is a finding.
#include <cstddef>
#include <cstdint>

#include "core/npy.hpp"
#include "quantize/dataset.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  using namespace petrel;
  using namespace petrel::quant;
  const uint8_t which = data[0] % 5;
  const uint8_t* p = data + 1;
  const size_t n = size - 1;
  Result<Image> img = invalid_argument("");
  switch (which) {
    case 0: (void)parse_npy_header(p, n); break;
    case 1: (void)parse_idx(p, n); break;
    case 2: (void)gunzip(p, n, 1 << 20); break;
    case 3: img = decode_pnm(p, n); break;
    default: img = decode_png(p, n); break;
  }
  if (img.is_ok() && img->width * img->height <= (1 << 16)) {
    InputSpec in{"x", DataType::kFloat, {1, 3, 8, 8}};
    ImageOptions o;
    o.resize = (data[0] & 8) ? "crop" : "stretch";
    (void)preprocess_image(img.value(), in, o);
  }
  return 0;
}
