// Data readers: good paths and every bad-input error (untrusted bytes never crash).
#include <gtest/gtest.h>
#ifdef PETREL_HAVE_ZLIB
#include <zlib.h>
#endif

#ifdef PETREL_HAVE_PNG
#include <png.h>
#endif

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/npy.hpp"
#include "quantize/dataset.hpp"

namespace petrel::quant {
namespace {
namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() / ("petrel_qdata_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    fs::create_directories(path_);
  }
  ~TempDir() { std::error_code ec; fs::remove_all(path_, ec); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string dir() const { return path_.string(); }

 private:
  fs::path path_;
  static inline int counter_ = 0;
};

void write_bytes(const std::string& path, const std::vector<uint8_t>& b) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}
std::vector<uint8_t> npy_bytes(const std::string& descr, const std::string& shape, size_t data_bytes) {
  std::string h = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  h.append((64 - (10 + h.size() + 1) % 64) % 64, ' ');
  h += '\n';
  std::string all = std::string("\x93NUMPY\x01\x00", 8);
  all += char(h.size() & 0xff);
  all += char(h.size() >> 8);
  all += h;
  all.append(data_bytes, '\0');
  return std::vector<uint8_t>(all.begin(), all.end());
}
std::vector<uint8_t> idx_bytes(uint8_t type, const std::vector<uint32_t>& dims, size_t payload) {
  std::vector<uint8_t> b{0, 0, type, uint8_t(dims.size())};
  for (uint32_t d : dims) {
    b.push_back(uint8_t(d >> 24)); b.push_back(uint8_t(d >> 16)); b.push_back(uint8_t(d >> 8)); b.push_back(uint8_t(d));
  }
  for (size_t i = 0; i < payload; ++i) b.push_back(uint8_t(i * 37));
  return b;
}
#ifdef PETREL_HAVE_ZLIB
std::vector<uint8_t> gzip_bytes(const std::vector<uint8_t>& in) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::vector<uint8_t> out(in.size() + 1024);
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = uInt(in.size());
  zs.next_out = out.data();
  zs.avail_out = uInt(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}
#else
// Without zlib the .gz cases are skipped (the readers then refuse .gz with Unsupported).
std::vector<uint8_t> gzip_bytes(const std::vector<uint8_t>&) { return {}; }
#endif

const std::vector<InputSpec> kImage{{"image", DataType::kFloat, {-1, 1, 2, 2}}};

std::string error_of(const std::string& path, const std::vector<InputSpec>& in = kImage, const DataOptions& o = {}) {
  auto d = open_dataset(path, in, o);
  EXPECT_FALSE(d.is_ok()) << path << " opened but should not have";
  return d.is_ok() ? std::string() : d.status().message();
}

TEST(Npy, BatchAndFolder) {
  TempDir t;
  auto b = Tensor::allocate(DataType::kFloat, {3, 1, 2, 2});
  ASSERT_TRUE(b.is_ok());
  for (int i = 0; i < 12; ++i) b->as<float>()[i] = float(i);
  ASSERT_TRUE(write_npy(t.file("batch.npy"), b.value()).is_ok());
  auto d = open_dataset(t.file("batch.npy"), kImage, {});
  ASSERT_TRUE(d.is_ok()) << d.status().to_string();
  EXPECT_EQ(d.value()->size(), 3);
  auto s = d.value()->get(2);
  ASSERT_TRUE(s.is_ok());
  EXPECT_EQ(s->at(0).shape, (Shape{1, 1, 2, 2}));
  EXPECT_EQ(s->at(0).as<float>()[0], 8.0f);
  // --limit / --offset.
  DataOptions o;
  o.offset = 1;
  o.limit = 1;
  auto w = open_dataset(t.file("batch.npy"), kImage, o);
  ASSERT_TRUE(w.is_ok());
  EXPECT_EQ(w.value()->size(), 1);
  EXPECT_EQ(w.value()->get(0)->at(0).as<float>()[0], 4.0f);
  // A folder of single samples without the batch dim.
  fs::create_directories(t.file("f"));
  Tensor one = Tensor::view(DataType::kFloat, {1, 2, 2}, b->as<float>() + 4);
  ASSERT_TRUE(write_npy(t.file("f/a.npy"), one).is_ok());
  ASSERT_TRUE(write_npy(t.file("f/b.npy"), one).is_ok());
  auto f = open_dataset(t.file("f"), kImage, {});
  ASSERT_TRUE(f.is_ok()) << f.status().to_string();
  EXPECT_EQ(f.value()->size(), 2);
  EXPECT_EQ(f.value()->get(1)->at(0).shape, (Shape{1, 1, 2, 2}));
}

TEST(Npy, BadInputs) {
  TempDir t;
  write_bytes(t.file("trunc.npy"), npy_bytes("<f4", "(3, 1, 2, 2)", 40));  // needs 48
  EXPECT_NE(error_of(t.file("trunc.npy")).find("needs 48"), std::string::npos);
  write_bytes(t.file("int.npy"), npy_bytes("<i4", "(3, 1, 2, 2)", 48));
  EXPECT_NE(error_of(t.file("int.npy")).find("holds int32"), std::string::npos);
  write_bytes(t.file("huge.npy"), npy_bytes("<f4", "(1099511627777, 1, 2, 2)", 16));
  EXPECT_FALSE(error_of(t.file("huge.npy")).empty());
  write_bytes(t.file("overflow.npy"), npy_bytes("<f4", "(99999999999999999999, 1)", 16));
  EXPECT_FALSE(error_of(t.file("overflow.npy")).empty());
  write_bytes(t.file("shape.npy"), npy_bytes("<f4", "(3, 3, 2, 2)", 144));
  EXPECT_NE(error_of(t.file("shape.npy")).find("does not fit"), std::string::npos);
  write_bytes(t.file("magic.npy"), {'N', 'O', 'P', 'E', 0, 0, 0, 0, 0, 0, 0, 0});
  EXPECT_NE(error_of(t.file("magic.npy")).find("bad magic"), std::string::npos);
  write_bytes(t.file("short.npy"), {0x93, 'N', 'U'});
  EXPECT_FALSE(error_of(t.file("short.npy")).empty());
  write_bytes(t.file("fortran.npy"), npy_bytes("<f4", "(3, 1, 2, 2)", 48));
  {
    auto f = npy_bytes("<f4", "(3, 1, 2, 2)", 48);
    const std::string from = "'fortran_order': False", to = "'fortran_order': True ";
    std::string str(f.begin(), f.end());
    str.replace(str.find(from), from.size(), to);
    write_bytes(t.file("fortran.npy"), std::vector<uint8_t>(str.begin(), str.end()));
    EXPECT_NE(error_of(t.file("fortran.npy")).find("Fortran"), std::string::npos);
  }
  EXPECT_FALSE(error_of(t.file("nonexistent.npy")).empty());
  EXPECT_FALSE(error_of(t.dir()).empty());  // a folder of bad .npy files: the first sample is checked
}

TEST(Raw, ShapeAndSize) {
  TempDir t;
  std::vector<uint8_t> raw(2 * 4 * 4, 0);
  write_bytes(t.file("x.bin"), raw);
  auto d = open_dataset(t.file("x.bin"), kImage, [] { DataOptions o; o.shape = {1, 1, 2, 2}; return o; }());
  ASSERT_TRUE(d.is_ok()) << d.status().to_string();
  EXPECT_EQ(d.value()->size(), 2);
  write_bytes(t.file("odd.bin"), std::vector<uint8_t>(20, 0));
  DataOptions o;
  o.shape = {1, 1, 2, 2};
  EXPECT_NE(error_of(t.file("odd.bin"), kImage, o).find("whole number"), std::string::npos);
  o.shape = {1, 1, 3, 3};
  EXPECT_NE(error_of(t.file("x.bin"), kImage, o).find("does not fit"), std::string::npos);
  o.shape = {};  // symbolic batch only: the model's shape with batch 1 works
  EXPECT_TRUE(open_dataset(t.file("x.bin"), kImage, o).is_ok());
}

TEST(Idx, GoodPlainAndGzip) {
#ifndef PETREL_HAVE_ZLIB
  GTEST_SKIP() << "built without zlib";
#endif
  TempDir t;
  auto b = idx_bytes(0x08, {3, 2, 2}, 12);
  write_bytes(t.file("imgs-idx3-ubyte"), b);
  write_bytes(t.file("imgs-idx3-ubyte.gz"), gzip_bytes(b));
  for (const char* name : {"imgs-idx3-ubyte", "imgs-idx3-ubyte.gz"}) {
    DataOptions o;
    o.image.scale = 1.0;  // raw pixel values
    auto d = open_dataset(t.file(name), kImage, o);
    ASSERT_TRUE(d.is_ok()) << d.status().to_string();
    EXPECT_EQ(d.value()->size(), 3);
    auto s = d.value()->get(1);
    ASSERT_TRUE(s.is_ok());
    EXPECT_EQ(s->at(0).as<float>()[0], float(uint8_t(4 * 37)));  // byte 4 of the payload
  }
  // Labels from IDX (uint8), text and npy.
  write_bytes(t.file("labels-idx1-ubyte.gz"), gzip_bytes({0, 0, 8, 1, 0, 0, 0, 3, 7, 1, 9}));
  auto l = read_labels(t.file("labels-idx1-ubyte.gz"));
  ASSERT_TRUE(l.is_ok()) << l.status().to_string();
  EXPECT_EQ(l.value(), (std::vector<int64_t>{7, 1, 9}));
  std::ofstream(t.file("l.txt")) << "# comment\n3\n\n-1\n 42 \n";
  EXPECT_EQ(read_labels(t.file("l.txt")).value(), (std::vector<int64_t>{3, -1, 42}));
}

TEST(Idx, BadInputs) {
#ifndef PETREL_HAVE_ZLIB
  GTEST_SKIP() << "built without zlib";
#endif
  EXPECT_NE(parse_idx(std::vector<uint8_t>{1, 2, 8, 3}.data(), 4).status().message().find("bad IDX magic"), std::string::npos);
  auto unk = idx_bytes(0x07, {1}, 1);
  EXPECT_NE(parse_idx(unk.data(), unk.size()).status().message().find("unknown element type 0x07"), std::string::npos);
  auto trunc = idx_bytes(0x08, {3, 2, 2}, 11);
  EXPECT_NE(parse_idx(trunc.data(), trunc.size()).status().message().find("truncated"), std::string::npos);
  auto extra = idx_bytes(0x08, {1, 2, 2}, 5);
  EXPECT_NE(parse_idx(extra.data(), extra.size()).status().message().find("trailing"), std::string::npos);
  auto huge = idx_bytes(0x08, {0xffffffffu, 0xffffffffu, 0xffffffffu}, 0);
  EXPECT_FALSE(parse_idx(huge.data(), huge.size()).is_ok());
  auto head = idx_bytes(0x08, {3, 2, 2}, 0);
  EXPECT_NE(parse_idx(head.data(), 9).status().message().find("header truncated"), std::string::npos);
  EXPECT_FALSE(parse_idx(head.data(), 2).is_ok());
  auto rank0 = idx_bytes(0x08, {}, 0);
  EXPECT_FALSE(parse_idx(rank0.data(), rank0.size()).is_ok());
  // gzip: truncated stream, corrupt stream, and a stream that expands past the bound.
  auto gz = gzip_bytes(idx_bytes(0x08, {100, 10, 10}, 10000));
  EXPECT_FALSE(gunzip(gz.data(), gz.size() / 2, 1 << 20).is_ok());
  auto bad = gz;
  for (size_t i = 12; i < bad.size() && i < 40; ++i) bad[i] ^= 0x5a;
  EXPECT_FALSE(gunzip(bad.data(), bad.size(), 1 << 20).is_ok());
  auto bomb = gunzip(gz.data(), gz.size(), 1000);
  ASSERT_FALSE(bomb.is_ok());
  EXPECT_NE(bomb.status().message().find("limit"), std::string::npos);
  // IDX images of the wrong kind for images.
  TempDir t;
  write_bytes(t.file("f-ubyte"), idx_bytes(0x0D, {1, 2, 2}, 16));
  EXPECT_NE(error_of(t.file("f-ubyte")).find("uint8"), std::string::npos);
  write_bytes(t.file("r-ubyte"), idx_bytes(0x08, {4}, 4));
  EXPECT_NE(error_of(t.file("r-ubyte")).find("N x H x W"), std::string::npos);
  write_bytes(t.file("l-ubyte"), idx_bytes(0x08, {2, 2}, 4));
  EXPECT_FALSE(read_labels(t.file("l-ubyte")).is_ok());
  std::ofstream(t.file("bad.txt")) << "3\nfour\n";
  EXPECT_NE(read_labels(t.file("bad.txt")).status().message().find(":2:"), std::string::npos);
  write_bytes(t.file("fl.npy"), npy_bytes("<f4", "(3,)", 12));
  EXPECT_NE(read_labels(t.file("fl.npy")).status().message().find("integers"), std::string::npos);
}

TEST(Images, PnmDecodeAndErrors) {
  const std::string pgm = "P5\n# a comment\n2 2\n255\n";
  std::vector<uint8_t> ok(pgm.begin(), pgm.end());
  for (uint8_t v : {0, 64, 128, 255}) ok.push_back(v);
  auto img = decode_pnm(ok.data(), ok.size());
  ASSERT_TRUE(img.is_ok()) << img.status().to_string();
  EXPECT_EQ(img->width, 2);
  EXPECT_EQ(img->channels, 1);
  EXPECT_EQ(img->pixels[3], 255);
  auto trunc = ok;
  trunc.pop_back();
  EXPECT_NE(decode_pnm(trunc.data(), trunc.size()).status().message().find("truncated"), std::string::npos);
  const std::string p2 = "P2\n2 2\n255\n";
  EXPECT_NE(decode_pnm(reinterpret_cast<const uint8_t*>(p2.data()), p2.size()).status().message().find("P5 or P6"), std::string::npos);
  const std::string deep = "P5\n2 2\n65535\n";
  EXPECT_EQ(decode_pnm(reinterpret_cast<const uint8_t*>(deep.data()), deep.size()).status().code(), StatusCode::kUnsupported);
  const std::string big = "P6\n99999999 99999999\n255\n";
  EXPECT_NE(decode_pnm(reinterpret_cast<const uint8_t*>(big.data()), big.size()).status().message().find("outside"), std::string::npos);
  const std::string junk = "P5\n2 x\n";
  EXPECT_FALSE(decode_pnm(reinterpret_cast<const uint8_t*>(junk.data()), junk.size()).is_ok());
  // PNG: bad signature and a truncated stream after a valid signature.
  const std::vector<uint8_t> sig{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R', 0, 0};
  EXPECT_FALSE(decode_png(sig.data(), sig.size()).is_ok());
  EXPECT_FALSE(decode_png(ok.data(), ok.size()).is_ok());
}

TEST(Images, PngDecodes) {
#ifndef PETREL_HAVE_PNG
  GTEST_SKIP() << "built without libpng";
#else
  // Encode a 3x2 RGB and a 2x2 grey+alpha image with libpng's simplified API, decode ours.
  const uint8_t rgb[18] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30, 40, 50, 60, 70, 80, 90};
  png_image im{};
  im.version = PNG_IMAGE_VERSION;
  im.width = 3;
  im.height = 2;
  im.format = PNG_FORMAT_RGB;
  png_alloc_size_t len = 0;
  ASSERT_TRUE(png_image_write_to_memory(&im, nullptr, &len, 0, rgb, 0, nullptr));
  std::vector<uint8_t> buf(len);
  ASSERT_TRUE(png_image_write_to_memory(&im, buf.data(), &len, 0, rgb, 0, nullptr));
  auto img = decode_png(buf.data(), len);
  ASSERT_TRUE(img.is_ok()) << img.status().to_string();
  EXPECT_EQ(img->width, 3);
  EXPECT_EQ(img->height, 2);
  EXPECT_EQ(img->channels, 3);
  EXPECT_EQ(img->pixels, std::vector<uint8_t>(rgb, rgb + 18));
  const uint8_t ga[8] = {0, 255, 100, 255, 200, 0, 255, 128};
  png_image im2{};
  im2.version = PNG_IMAGE_VERSION;
  im2.width = 2;
  im2.height = 2;
  im2.format = PNG_FORMAT_GA;
  len = 0;
  ASSERT_TRUE(png_image_write_to_memory(&im2, nullptr, &len, 0, ga, 0, nullptr));
  buf.assign(len, 0);
  ASSERT_TRUE(png_image_write_to_memory(&im2, buf.data(), &len, 0, ga, 0, nullptr));
  auto g = decode_png(buf.data(), len);
  ASSERT_TRUE(g.is_ok()) << g.status().to_string();
  EXPECT_EQ(g->channels, 1);  // alpha dropped
  EXPECT_EQ(g->pixels, (std::vector<uint8_t>{0, 100, 200, 255}));
  // Truncating a valid PNG before its image data ends gives an error, never a crash (the
  // 12-byte IEND trailer is not needed to decode the pixels).
  for (size_t cut = 8; cut + 12 < len; cut += 3) EXPECT_FALSE(decode_png(buf.data(), cut).is_ok()) << cut;
#endif
}

TEST(Images, PreprocessingFlags) {
  Image img;
  img.width = img.height = 2;
  img.channels = 1;
  img.pixels = {0, 51, 102, 255};
  ImageOptions o;
  o.mean = {0.5};
  o.std = {0.25};
  InputSpec in{"x", DataType::kFloat, {1, 1, 2, 2}};
  auto t = preprocess_image(img, in, o);
  ASSERT_TRUE(t.is_ok()) << t.status().to_string();
  EXPECT_FLOAT_EQ(t->as<float>()[0], -2.0f);  // (0/255 - 0.5) / 0.25
  EXPECT_FLOAT_EQ(t->as<float>()[3], 2.0f);
  // Grey -> 3 channels, NHWC, upscaled 2x: every channel the same, corners keep their pixel.
  InputSpec rgb{"x", DataType::kFloat, {1, 4, 4, 3}};
  ImageOptions o2;
  o2.scale = 1.0;
  auto u = preprocess_image(img, rgb, o2);
  ASSERT_TRUE(u.is_ok()) << u.status().to_string();
  EXPECT_EQ(u->shape, (Shape{1, 4, 4, 3}));
  const float* p = u->as<float>();
  EXPECT_FLOAT_EQ(p[0], 0.0f);
  EXPECT_FLOAT_EQ(p[1], p[0]);
  EXPECT_FLOAT_EQ(p[(3 * 4 + 3) * 3], 255.0f);
  // RGB -> grey uses BT.601 luma; BGR swaps.
  Image c;
  c.width = c.height = 1;
  c.channels = 3;
  c.pixels = {255, 0, 0};
  ImageOptions o3;
  o3.scale = 1.0;
  EXPECT_NEAR(preprocess_image(c, in, o3)->as<float>()[0], 0.299 * 255, 1e-3);
  InputSpec rgb1{"x", DataType::kFloat, {1, 3, 1, 1}};
  o3.bgr = true;
  auto b = preprocess_image(c, rgb1, o3);
  EXPECT_EQ(b->as<float>()[2], 255.0f);
  // Errors.
  ImageOptions bad;
  bad.std = {0};
  EXPECT_FALSE(preprocess_image(img, in, bad).is_ok());
  bad = {};
  bad.mean = {1, 2};
  EXPECT_FALSE(preprocess_image(img, in, bad).is_ok());
  bad = {};
  bad.resize = "squash";
  EXPECT_FALSE(preprocess_image(img, in, bad).is_ok());
  InputSpec sym{"x", DataType::kFloat, {1, 3, -1, -1}};
  EXPECT_NE(preprocess_image(img, sym, {}).status().message().find("--size"), std::string::npos);
  InputSpec ints{"x", DataType::kInt64, {1, 1, 2, 2}};
  EXPECT_FALSE(preprocess_image(img, ints, {}).is_ok());
}

TEST(Images, FolderOfPgm) {
  TempDir t;
  const std::string pgm = "P5 2 2 255\n";
  std::vector<uint8_t> b(pgm.begin(), pgm.end());
  for (uint8_t v : {10, 20, 30, 40}) b.push_back(v);
  write_bytes(t.file("b.pgm"), b);
  write_bytes(t.file("a.pgm"), b);
  write_bytes(t.file("notes.txt"), {'x'});
  auto d = open_dataset(t.dir(), kImage, {});
  ASSERT_TRUE(d.is_ok()) << d.status().to_string();
  EXPECT_EQ(d.value()->size(), 2);
  auto trunc = b;
  trunc.resize(trunc.size() - 1);
  write_bytes(t.file("0_bad.pgm"), trunc);  // sorts first: checked at open
  EXPECT_NE(error_of(t.dir()).find("0_bad.pgm"), std::string::npos);
}

TEST(Random, Deterministic) {
  std::vector<InputSpec> in{{"ids", DataType::kInt64, {1, 8}}, {"x", DataType::kFloat, {-1, 4}}};
  auto d = open_dataset("random:3", in, {});
  ASSERT_TRUE(d.is_ok()) << d.status().to_string();
  auto a = d.value()->get(1), b = d.value()->get(1);
  EXPECT_EQ(a->at(1).as<float>()[2], b->at(1).as<float>()[2]);
  EXPECT_EQ(a->at(1).shape, (Shape{1, 4}));
  EXPECT_FALSE(open_dataset("random:0", in, {}).is_ok());
  EXPECT_FALSE(open_dataset("random:x", in, {}).is_ok());
}

}  // namespace
}  // namespace petrel::quant
