// Image decoding (binary PGM/PPM natively, PNG through libpng) and preprocessing into the
// tensor a vision model expects.
#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstring>
#include <memory>

#include "quantize/dataset.hpp"

#ifdef PETREL_HAVE_PNG
#include <png.h>
#endif

namespace petrel::quant {
namespace {

// PNM header token: skips whitespace and # comments; reads a decimal number.
bool pnm_number(const uint8_t* d, size_t n, size_t& p, int64_t& v) {
  for (;;) {
    while (p < n && (d[p] == ' ' || d[p] == '\t' || d[p] == '\r' || d[p] == '\n')) ++p;
    if (p < n && d[p] == '#') {
      while (p < n && d[p] != '\n') ++p;
      continue;
    }
    break;
  }
  if (p >= n || d[p] < '0' || d[p] > '9') return false;
  v = 0;
  while (p < n && d[p] >= '0' && d[p] <= '9') {
    v = v * 10 + (d[p++] - '0');
    if (v > (int64_t(1) << 32)) return false;
  }
  return true;
}

Status check_dims(int64_t w, int64_t h) {
  if (w < 1 || h < 1 || w > kMaxImageSide || h > kMaxImageSide)
    return invalid_argument("image size " + std::to_string(w) + "x" + std::to_string(h) + " is outside 1.." + std::to_string(kMaxImageSide));
  return Status::ok();
}

}  // namespace

Result<Image> decode_pnm(const uint8_t* d, size_t n) {
  if (n < 2 || d[0] != 'P' || (d[1] != '5' && d[1] != '6'))
    return invalid_argument("not a binary PGM/PPM file (magic must be P5 or P6)");
  Image img;
  img.channels = d[1] == '5' ? 1 : 3;
  size_t p = 2;
  int64_t maxval = 0;
  if (!pnm_number(d, n, p, img.width) || !pnm_number(d, n, p, img.height) || !pnm_number(d, n, p, maxval))
    return invalid_argument("PGM/PPM header is malformed or truncated (at byte " + std::to_string(p) + ")");
  PETREL_RETURN_IF_ERROR(check_dims(img.width, img.height));
  if (maxval < 1 || maxval > 255) return unsupported("PGM/PPM maxval " + std::to_string(maxval) + " (only 8-bit images, maxval <= 255)");
  if (p >= n) return invalid_argument("PGM/PPM header is truncated");
  ++p;  // exactly one whitespace byte before the raster
  const size_t need = size_t(img.width) * size_t(img.height) * size_t(img.channels);
  if (n - p < need)
    return invalid_argument("PGM/PPM raster has " + std::to_string(n - p) + " bytes, " + std::to_string(img.width) + "x" +
                            std::to_string(img.height) + " needs " + std::to_string(need) + " (truncated)");
  img.pixels.assign(d + p, d + p + need);
  if (maxval != 255)
    for (uint8_t& v : img.pixels) v = uint8_t(std::min<int64_t>(255, (int64_t(v) * 255 + maxval / 2) / maxval));
  return img;
}

#ifdef PETREL_HAVE_PNG
namespace {
struct PngSource {
  const uint8_t* data;
  size_t size, pos;
};
void png_read_cb(png_structp png, png_bytep out, png_size_t len) {
  auto* s = static_cast<PngSource*>(png_get_io_ptr(png));
  if (len > s->size - s->pos) png_error(png, "truncated");
  std::memcpy(out, s->data + s->pos, len);
  s->pos += len;
}
void png_error_cb(png_structp png, png_const_charp msg) {
  auto* err = static_cast<std::string*>(png_get_error_ptr(png));
  *err = msg;
  png_longjmp(png, 1);
}
void png_warning_cb(png_structp, png_const_charp) {}
}  // namespace

Result<Image> decode_png(const uint8_t* data, size_t size) {
  if (size < 8 || png_sig_cmp(data, 0, 8) != 0) return invalid_argument("not a PNG file (bad signature)");
  // Everything that changes after setjmp lives behind this pointer (which itself does not
  // change), so it is well-defined when libpng longjmps back on an error.
  struct State {
    std::string err;
    PngSource src;
    png_structp png = nullptr;
    png_infop info = nullptr;
    Image img;
    std::vector<png_bytep> rows;
    ~State() { if (png) png_destroy_read_struct(&png, info ? &info : nullptr, nullptr); }
  };
  const std::unique_ptr<State> st(new State{{}, {data, size, 0}, nullptr, nullptr, {}, {}});
  st->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &st->err, png_error_cb, png_warning_cb);
  if (!st->png) return internal_error("libpng initialisation failed");
  st->info = png_create_info_struct(st->png);
  if (!st->info) return internal_error("libpng initialisation failed");
  if (setjmp(png_jmpbuf(st->png)))
    return invalid_argument("PNG is corrupt: " + (st->err.empty() ? std::string("decode error") : st->err));
  png_structp png = st->png;
  png_infop info = st->info;
  png_set_read_fn(png, &st->src, png_read_cb);
  png_set_user_limits(png, uint32_t(kMaxImageSide), uint32_t(kMaxImageSide));
  png_read_info(png, info);
  const png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
  const int ct = png_get_color_type(png, info);
  if (png_get_bit_depth(png, info) == 16) png_set_strip_16(png);
  if (ct == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (ct == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(png, info) < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
  png_set_strip_alpha(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  const int channels = png_get_channels(png, info);
  if (channels != 1 && channels != 3) png_error(png, "unexpected channel count");
  st->img.width = int64_t(w);
  st->img.height = int64_t(h);
  st->img.channels = channels;
  st->img.pixels.resize(size_t(w) * h * size_t(channels));
  st->rows.resize(h);
  for (png_uint_32 y = 0; y < h; ++y) st->rows[y] = st->img.pixels.data() + size_t(y) * w * size_t(channels);
  png_read_image(png, st->rows.data());
  return std::move(st->img);
}
#else
Result<Image> decode_png(const uint8_t*, size_t) {
  return unsupported("this build has no libpng: convert PNG images to PGM/PPM (or install libpng-dev and rebuild)");
}
#endif

Result<Tensor> preprocess_image(const Image& img, const InputSpec& in, const ImageOptions& o) {
  if (in.dtype != DataType::kFloat) return unsupported("input '" + in.name + "' is " + std::string(dtype_name(in.dtype)) + "; images feed float32 inputs only");
  if (in.shape.size() != 4) return invalid_argument("input '" + in.name + "' has shape rank " + std::to_string(in.shape.size()) + "; images feed rank-4 (NCHW or NHWC) inputs");
  std::string layout = o.layout;
  if (layout.empty()) {
    const bool c1 = in.shape[1] == 1 || in.shape[1] == 3, c3 = in.shape[3] == 1 || in.shape[3] == 3;
    layout = (c3 && !c1) ? "nhwc" : "nchw";
  }
  if (layout != "nchw" && layout != "nhwc") return invalid_argument("layout '" + layout + "' (expected nchw or nhwc)");
  const bool nchw = layout == "nchw";
  int64_t C = o.channels ? o.channels : (nchw ? in.shape[1] : in.shape[3]);
  int64_t H = o.height ? o.height : (nchw ? in.shape[2] : in.shape[1]);
  int64_t W = o.width ? o.width : (nchw ? in.shape[3] : in.shape[2]);
  if (C != 1 && C != 3) return invalid_argument("input '" + in.name + "': cannot tell the channel count (1 or 3) from its shape; give --channels");
  if (H < 1 || W < 1) return invalid_argument("input '" + in.name + "' has a symbolic height/width; give --size HxW");
  PETREL_RETURN_IF_ERROR(check_dims(W, H));
  if (img.channels != 1 && img.channels != 3) return invalid_argument("image has " + std::to_string(img.channels) + " channels");
  if (o.mean.size() != 1 && int64_t(o.mean.size()) != C) return invalid_argument("--mean needs 1 or " + std::to_string(C) + " values");
  if (o.std.size() != 1 && int64_t(o.std.size()) != C) return invalid_argument("--std needs 1 or " + std::to_string(C) + " values");
  for (double s : o.std)
    if (!(s != 0 && std::isfinite(s))) return invalid_argument("--std values must be finite and non-zero");
  if (!(o.crop_fraction > 0 && o.crop_fraction <= 1)) return invalid_argument("--crop-fraction must be in (0, 1]");

  // Source window (in source pixels) that maps onto the H×W output.
  double sx0 = 0, sy0 = 0, sw = double(img.width), sh = double(img.height);
  if (o.resize == "crop") {
    // Scale so the output covers the image's shorter side, then take the centre.
    const double s = std::max(double(W) / (img.width * o.crop_fraction), double(H) / (img.height * o.crop_fraction));
    sw = W / s;
    sh = H / s;
    sx0 = (img.width - sw) / 2;
    sy0 = (img.height - sh) / 2;
  } else if (o.resize != "stretch") {
    return invalid_argument("resize mode '" + o.resize + "' (expected stretch or crop)");
  }
  PETREL_ASSIGN_OR_RETURN(Tensor t, Tensor::allocate(DataType::kFloat, nchw ? Shape{1, C, H, W} : Shape{1, H, W, C}));
  float* out = t.as<float>();
  const double fx = sw / double(W), fy = sh / double(H);
  auto px = [&](int64_t x, int64_t y, int64_t c) -> double {
    x = std::clamp<int64_t>(x, 0, img.width - 1);
    y = std::clamp<int64_t>(y, 0, img.height - 1);
    const uint8_t* p = img.pixels.data() + (size_t(y) * size_t(img.width) + size_t(x)) * size_t(img.channels);
    if (img.channels == C) return p[c];
    if (img.channels == 1) return p[0];                  // grey -> RGB: replicate
    return 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];  // RGB -> grey: ITU-R BT.601 luma
  };
  for (int64_t y = 0; y < H; ++y) {
    const double sy = sy0 + (y + 0.5) * fy - 0.5;
    const int64_t y0 = int64_t(std::floor(sy));
    const double wy = sy - double(y0);
    for (int64_t x = 0; x < W; ++x) {
      const double sx = sx0 + (x + 0.5) * fx - 0.5;
      const int64_t x0 = int64_t(std::floor(sx));
      const double wx = sx - double(x0);
      for (int64_t c = 0; c < C; ++c) {
        const int64_t src_c = o.bgr && C == 3 ? 2 - c : c;
        const double v = (1 - wy) * ((1 - wx) * px(x0, y0, src_c) + wx * px(x0 + 1, y0, src_c)) +
                         wy * ((1 - wx) * px(x0, y0 + 1, src_c) + wx * px(x0 + 1, y0 + 1, src_c));
        const double m = o.mean.size() == 1 ? o.mean[0] : o.mean[size_t(c)];
        const double s = o.std.size() == 1 ? o.std[0] : o.std[size_t(c)];
        const float r = float((v * o.scale - m) / s);
        out[nchw ? (c * H + y) * W + x : (y * W + x) * C + c] = r;
      }
    }
  }
  return t;
}

}  // namespace petrel::quant
