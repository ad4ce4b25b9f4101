// The dataset sources of dataset.hpp and the label reader.
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/npy.hpp"
#include "onnx/mapped_file.hpp"
#include "quantize/dataset.hpp"

namespace petrel::quant {
namespace fs = std::filesystem;
namespace {

bool ends_with(const std::string& s, const std::string& suf) {
  return s.size() >= suf.size() && std::equal(suf.rbegin(), suf.rend(), s.rbegin(), [](char a, char b) { return std::tolower(a) == b; });
}

// The shape of one sample for `in`: the model's shape with a batch of 1 and symbolic dims
// taken from `have` (the data's shape) where given.
Status match_sample_shape(const InputSpec& in, const Shape& have, const std::string& where) {
  Shape want = in.shape;
  if (!want.empty()) want[0] = want[0] < 0 ? 1 : want[0];
  bool ok = want.size() == have.size();
  for (size_t i = 0; ok && i < want.size(); ++i) ok = want[i] < 0 || want[i] == have[i];
  if (!ok)
    return invalid_argument(where + ": sample shape " + shape_to_string(have) + " does not fit input '" + in.name + "' " +
                            shape_to_string(in.shape) + " (symbolic dims shown as -1)");
  return Status::ok();
}

// Accepts a tensor read for `in`, adding a leading batch dim of 1 when the data lacks it.
Result<Tensor> fit_sample(Tensor t, const InputSpec& in, const std::string& where) {
  if (t.dtype != in.dtype)
    return invalid_argument(where + ": holds " + std::string(dtype_name(t.dtype)) + " but input '" + in.name + "' is " + std::string(dtype_name(in.dtype)));
  if (t.shape.size() + 1 == in.shape.size()) t.shape.insert(t.shape.begin(), 1);
  PETREL_RETURN_IF_ERROR(match_sample_shape(in, t.shape, where));
  return t;
}

Result<std::vector<std::string>> list_dir(const std::string& dir, bool want_dirs) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    if (int64_t(out.size()) >= kMaxDirEntries) return invalid_argument(dir + ": more than " + std::to_string(kMaxDirEntries) + " entries");
    const bool is_dir = it->is_directory(ec);
    if (is_dir == want_dirs && it->path().filename().string()[0] != '.') out.push_back(it->path().string());
  }
  if (ec) return io_error("cannot list " + dir + ": " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

// A view on [offset, offset + limit) of another dataset.
class Window final : public Dataset {
 public:
  Window(std::unique_ptr<Dataset> d, int64_t off, int64_t n) : d_(std::move(d)), off_(off), n_(n) {}
  int64_t size() const override { return n_; }
  Result<std::vector<Tensor>> get(int64_t i) override { return d_->get(off_ + i); }
  std::string describe() const override { return d_->describe(); }

 private:
  std::unique_ptr<Dataset> d_;
  int64_t off_, n_;
};

// Samples [off, off + n) of a dataset owned elsewhere.
class BorrowedWindow final : public Dataset {
 public:
  BorrowedWindow(Dataset& d, int64_t off, int64_t n) : d_(d), off_(off), n_(n) {}
  int64_t size() const override { return n_; }
  Result<std::vector<Tensor>> get(int64_t i) override {
    if (i < 0 || i >= n_) return invalid_argument("sample " + std::to_string(i) + " is outside the window");
    return d_.get(off_ + i);
  }
  std::string describe() const override { return d_.describe(); }

 private:
  Dataset& d_;
  int64_t off_, n_;
};

class NpyFolder final : public Dataset {
 public:
  NpyFolder(std::string dir, std::vector<std::string> items, std::vector<InputSpec> in, bool nested)
      : dir_(std::move(dir)), items_(std::move(items)), in_(std::move(in)), nested_(nested) {}
  int64_t size() const override { return int64_t(items_.size()); }
  Result<std::vector<Tensor>> get(int64_t i) override {
    std::vector<Tensor> out;
    for (const InputSpec& in : in_) {
      const std::string path = nested_ ? items_[size_t(i)] + "/" + in.name + ".npy" : items_[size_t(i)];
      PETREL_ASSIGN_OR_RETURN(auto bytes, read_file(path));
      auto t = parse_npy(bytes.data(), bytes.size());
      if (!t) return t.status().with_context(path);
      PETREL_ASSIGN_OR_RETURN(Tensor s, fit_sample(std::move(t).value(), in, path));
      out.push_back(std::move(s));
    }
    return out;
  }
  std::string describe() const override {
    return dir_ + " (" + std::to_string(items_.size()) + (nested_ ? " sample folders)" : " .npy files)");
  }

 private:
  std::string dir_;
  std::vector<std::string> items_;
  std::vector<InputSpec> in_;
  bool nested_;
};

// Samples that are consecutive fixed-size records of a mapped file (.npy batch, raw float32).
class Records final : public Dataset {
 public:
  Records(std::shared_ptr<onnx::MappedFile> f, size_t offset, int64_t n, Shape sample, InputSpec in, std::string what)
      : f_(std::move(f)), off_(offset), n_(n), sample_(std::move(sample)), in_(std::move(in)), what_(std::move(what)) {}
  int64_t size() const override { return n_; }
  Result<std::vector<Tensor>> get(int64_t i) override {
    PETREL_ASSIGN_OR_RETURN(Tensor t, Tensor::allocate(in_.dtype, sample_));
    std::memcpy(t.data, f_->data() + off_ + size_t(i) * t.nbytes(), t.nbytes());
    return std::vector<Tensor>{std::move(t)};
  }
  std::string describe() const override { return what_; }

 private:
  std::shared_ptr<onnx::MappedFile> f_;
  size_t off_;
  int64_t n_;
  Shape sample_;
  InputSpec in_;
  std::string what_;
};

class IdxImages final : public Dataset {
 public:
  IdxImages(IdxData d, InputSpec in, ImageOptions o, std::string path)
      : d_(std::move(d)), in_(std::move(in)), o_(std::move(o)), path_(std::move(path)) {}
  int64_t size() const override { return d_.dims[0]; }
  Result<std::vector<Tensor>> get(int64_t i) override {
    Image img;
    img.height = d_.dims[1];
    img.width = d_.dims[2];
    img.channels = d_.dims.size() == 4 ? int(d_.dims[3]) : 1;
    const size_t n = size_t(img.height * img.width * img.channels);
    img.pixels.assign(d_.bytes.begin() + long(size_t(i) * n), d_.bytes.begin() + long(size_t(i + 1) * n));
    PETREL_ASSIGN_OR_RETURN(Tensor t, preprocess_image(img, in_, o_));
    return std::vector<Tensor>{std::move(t)};
  }
  std::string describe() const override {
    return path_ + " (" + std::to_string(d_.dims[0]) + " images " + std::to_string(d_.dims[1]) + "x" + std::to_string(d_.dims[2]) + ")";
  }

 private:
  IdxData d_;
  InputSpec in_;
  ImageOptions o_;
  std::string path_;
};

class ImageFolder final : public Dataset {
 public:
  ImageFolder(std::string dir, std::vector<std::string> files, InputSpec in, ImageOptions o)
      : dir_(std::move(dir)), files_(std::move(files)), in_(std::move(in)), o_(std::move(o)) {}
  int64_t size() const override { return int64_t(files_.size()); }
  Result<std::vector<Tensor>> get(int64_t i) override {
    const std::string& path = files_[size_t(i)];
    PETREL_ASSIGN_OR_RETURN(auto bytes, read_file(path, size_t(256) << 20));
    auto img = ends_with(path, ".png") ? decode_png(bytes.data(), bytes.size()) : decode_pnm(bytes.data(), bytes.size());
    if (!img) return img.status().with_context(path);
    auto t = preprocess_image(img.value(), in_, o_);
    if (!t) return t.status().with_context(path);
    return std::vector<Tensor>{std::move(t).value()};
  }
  std::string describe() const override { return dir_ + " (" + std::to_string(files_.size()) + " images)"; }

 private:
  std::string dir_;
  std::vector<std::string> files_;
  InputSpec in_;
  ImageOptions o_;
};

class RandomData final : public Dataset {
 public:
  RandomData(int64_t n, std::vector<InputSpec> in, std::vector<Shape> shapes) : n_(n), in_(std::move(in)), shapes_(std::move(shapes)) {}
  int64_t size() const override { return n_; }
  Result<std::vector<Tensor>> get(int64_t i) override {
    uint64_t state = 1234 + uint64_t(i) * 0x9e3779b97f4a7c15ull;
    auto next = [&] {  // splitmix64
      uint64_t z = (state += 0x9e3779b97f4a7c15ull);
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
      return z ^ (z >> 31);
    };
    std::vector<Tensor> out;
    for (size_t k = 0; k < in_.size(); ++k) {
      PETREL_ASSIGN_OR_RETURN(Tensor t, Tensor::allocate(in_[k].dtype, shapes_[k]));
      for (int64_t e = 0; e < t.numel(); ++e) {
        const double u = double(next() >> 11) / 9007199254740992.0;
        switch (t.dtype) {
          case DataType::kFloat: t.as<float>()[e] = float(u * 2 - 1); break;
          case DataType::kInt64: t.as<int64_t>()[e] = int64_t(u * 100); break;
          case DataType::kInt32: t.as<int32_t>()[e] = int32_t(u * 100); break;
          case DataType::kBool: t.as<uint8_t>()[e] = u < 0.5; break;
          default: return unsupported("random data for " + std::string(dtype_name(t.dtype)) + " inputs");
        }
      }
      out.push_back(std::move(t));
    }
    return out;
  }
  std::string describe() const override { return "random data (" + std::to_string(n_) + " samples)"; }

 private:
  int64_t n_;
  std::vector<InputSpec> in_;
  std::vector<Shape> shapes_;
};

Result<Shape> concrete_sample_shape(const InputSpec& in) {
  Shape s = in.shape;
  if (!s.empty() && s[0] < 0) s[0] = 1;
  for (int64_t d : s)
    if (d < 0) return invalid_argument("input '" + in.name + "' " + shape_to_string(in.shape) + " has symbolic dims: give --shape");
  return s;
}

Result<std::unique_ptr<Dataset>> open_npy_batch(const std::string& path, const InputSpec& in) {
  PETREL_ASSIGN_OR_RETURN(auto f, onnx::MappedFile::open(path));
  auto h = parse_npy_header(f->data(), f->size());
  if (!h) return h.status().with_context(path);
  if (h->dtype != in.dtype)
    return invalid_argument(path + ": holds " + std::string(dtype_name(h->dtype)) + " but input '" + in.name + "' is " + std::string(dtype_name(in.dtype)));
  if (h->shape.size() == in.shape.size() - 1) {  // a single sample without its batch dim
    Shape s = h->shape;
    s.insert(s.begin(), 1);
    PETREL_RETURN_IF_ERROR(match_sample_shape(in, s, path));
    return std::unique_ptr<Dataset>(new Records(f, h->data_offset, 1, s, in, path + " (1 sample)"));
  }
  if (h->shape.size() != in.shape.size() || h->shape.empty())
    return invalid_argument(path + ": shape " + shape_to_string(h->shape) + " is neither a batch (N, ...) nor one sample of input '" + in.name + "' " + shape_to_string(in.shape));
  Shape s = h->shape;
  const int64_t n = s[0];
  s[0] = 1;
  PETREL_RETURN_IF_ERROR(match_sample_shape(in, s, path));
  if (n > kMaxSamples) return invalid_argument(path + ": " + std::to_string(n) + " samples (limit " + std::to_string(kMaxSamples) + ")");
  return std::unique_ptr<Dataset>(new Records(f, h->data_offset, n, s, in, path + " (" + std::to_string(n) + " samples " + shape_to_string(s) + ")"));
}

Result<std::unique_ptr<Dataset>> open_raw(const std::string& path, const InputSpec& in, const Shape& given) {
  if (in.dtype != DataType::kFloat) return unsupported(path + ": raw files hold float32, input '" + in.name + "' is " + std::string(dtype_name(in.dtype)));
  Shape s = given;
  if (s.empty()) {
    auto c = concrete_sample_shape(in);
    if (!c) return c.status().with_context(path);
    s = c.value();
  }
  if (s.size() + 1 == in.shape.size()) s.insert(s.begin(), 1);
  PETREL_RETURN_IF_ERROR(match_sample_shape(in, s, path));
  PETREL_ASSIGN_OR_RETURN(int64_t per, checked_numel(s));
  PETREL_ASSIGN_OR_RETURN(auto f, onnx::MappedFile::open(path));
  const size_t bytes = size_t(per) * 4;
  if (bytes == 0 || f->size() == 0 || f->size() % bytes != 0)
    return invalid_argument(path + ": " + std::to_string(f->size()) + " bytes is not a whole number of float32 samples of shape " + shape_to_string(s) +
                            " (" + std::to_string(bytes) + " bytes each)");
  const int64_t n = int64_t(f->size() / bytes);
  if (n > kMaxSamples) return invalid_argument(path + ": too many samples");
  return std::unique_ptr<Dataset>(new Records(f, 0, n, s, in, path + " (" + std::to_string(n) + " raw float32 samples " + shape_to_string(s) + ")"));
}

bool is_image_file(const std::string& p) {
  return ends_with(p, ".pgm") || ends_with(p, ".ppm") || ends_with(p, ".pnm") || ends_with(p, ".png");
}

bool looks_like_idx(const std::string& p) {
  return ends_with(p, ".idx") || ends_with(p, "-ubyte") || ends_with(p, "-ubyte.gz") || ends_with(p, ".idx.gz") ||
         ends_with(p, "idx3-ubyte") || ends_with(p, ".gz");
}

Result<std::unique_ptr<Dataset>> open_any(const std::string& path, const std::vector<InputSpec>& in, const DataOptions& o) {
  if (in.empty()) return invalid_argument("the model has no inputs");
  if (path.rfind("random:", 0) == 0) {
    const std::string num = path.substr(7);
    int64_t n = 0;
    if (num.empty() || num.size() > 9 || num.find_first_not_of("0123456789") != std::string::npos || (n = std::stoll(num)) < 1)
      return invalid_argument("'" + path + "': expected random:N with N >= 1");
    std::vector<Shape> shapes;
    for (const InputSpec& s : in) {
      PETREL_ASSIGN_OR_RETURN(Shape c, concrete_sample_shape(s));
      shapes.push_back(c);
    }
    return std::unique_ptr<Dataset>(new RandomData(n, in, shapes));
  }
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    PETREL_ASSIGN_OR_RETURN(auto dirs, list_dir(path, true));
    PETREL_ASSIGN_OR_RETURN(auto files, list_dir(path, false));
    std::vector<std::string> npys, images;
    for (auto& f : files) {
      if (ends_with(f, ".npy")) npys.push_back(f);
      else if (is_image_file(f)) images.push_back(f);
    }
    if (!npys.empty() && in.size() == 1) return std::unique_ptr<Dataset>(new NpyFolder(path, npys, in, false));
    if (!images.empty()) {
      if (in.size() != 1) return invalid_argument(path + ": images feed single-input models only");
      return std::unique_ptr<Dataset>(new ImageFolder(path, images, in[0], o.image));
    }
    if (!dirs.empty()) return std::unique_ptr<Dataset>(new NpyFolder(path, dirs, in, true));
    return invalid_argument(path + ": no .npy files, images (.pgm .ppm .png) or sample folders in it");
  }
  if (!fs::exists(path, ec)) return not_found("cannot open " + path);
  if (in.size() != 1) return invalid_argument(path + ": a single file feeds single-input models only; use a folder of sample folders (INPUT.npy each)");
  if (ends_with(path, ".npy")) return open_npy_batch(path, in[0]);
  if (is_image_file(path)) return std::unique_ptr<Dataset>(new ImageFolder(path, {path}, in[0], o.image));
  if (looks_like_idx(path)) {
    PETREL_ASSIGN_OR_RETURN(IdxData d, read_idx(path));
    if (d.type != 0x08) return unsupported(path + ": IDX images must be uint8 (type 0x08)");
    if (d.dims.size() != 3 && !(d.dims.size() == 4 && (d.dims[3] == 1 || d.dims[3] == 3)))
      return invalid_argument(path + ": IDX images must be N x H x W (or N x H x W x 1|3), got " + shape_to_string(d.dims));
    if (d.dims[1] < 1 || d.dims[2] < 1 || d.dims[1] > kMaxImageSide || d.dims[2] > kMaxImageSide)
      return invalid_argument(path + ": IDX image size " + shape_to_string(d.dims) + " is out of range");
    if (d.dims[0] > kMaxSamples) return invalid_argument(path + ": too many images");
    return std::unique_ptr<Dataset>(new IdxImages(std::move(d), in[0], o.image, path));
  }
  return open_raw(path, in[0], o.shape);
}

}  // namespace

Result<std::unique_ptr<Dataset>> open_dataset(const std::string& path, const std::vector<InputSpec>& inputs, const DataOptions& o) {
  if (o.limit < 0 || o.offset < 0) return invalid_argument("--limit and --offset must be >= 0");
  PETREL_ASSIGN_OR_RETURN(auto d, open_any(path, inputs, o));
  const int64_t n = d->size();
  if (o.offset >= n && n > 0) return invalid_argument(path + ": --offset " + std::to_string(o.offset) + " skips all " + std::to_string(n) + " samples");
  if (n == 0) return invalid_argument(path + ": holds no samples");
  // Check the first sample now, so a wrong shape or dtype fails before any long run.
  auto first = d->get(o.offset);
  if (!first) return first.status();
  const int64_t avail = n - o.offset;
  const int64_t take = o.limit ? std::min(o.limit, avail) : avail;
  if (o.offset == 0 && take == n) return d;
  return std::unique_ptr<Dataset>(new Window(std::move(d), o.offset, take));
}

Result<std::vector<int64_t>> read_labels(const std::string& path) {
  std::vector<int64_t> out;
  if (ends_with(path, ".npy")) {
    PETREL_ASSIGN_OR_RETURN(Tensor t, read_npy(path));
    if (!dtype_is_integer(t.dtype)) return invalid_argument(path + ": labels must be integers, not " + std::string(dtype_name(t.dtype)));
    if (!(t.rank() == 1 || (t.rank() == 2 && t.shape[1] == 1))) return invalid_argument(path + ": labels must have shape (N,) or (N,1), got " + shape_to_string(t.shape));
    for (int64_t i = 0; i < t.numel(); ++i) out.push_back(element_as_int64(t, i));
    return out;
  }
  PETREL_ASSIGN_OR_RETURN(auto bytes, read_file(path));
  const bool gz = bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
  const bool idx = bytes.size() >= 4 && bytes[0] == 0 && bytes[1] == 0 && (bytes[2] == 0x08 || bytes[2] == 0x09) && bytes[3] == 1;
  if (gz || idx || looks_like_idx(path)) {
    PETREL_ASSIGN_OR_RETURN(IdxData d, read_idx(path));
    if (d.dims.size() != 1 || (d.type != 0x08 && d.type != 0x09)) return invalid_argument(path + ": IDX labels must be a 1-D uint8/int8 array");
    for (uint8_t b : d.bytes) out.push_back(d.type == 0x08 ? int64_t(b) : int64_t(int8_t(b)));
    return out;
  }
  std::istringstream in(std::string(bytes.begin(), bytes.end()));
  std::string line;
  int64_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    size_t p = line.find_first_not_of(" \t\r");
    if (p == std::string::npos || line[p] == '#') continue;
    size_t e = p + (line[p] == '-' ? 1 : 0);
    while (e < line.size() && line[e] >= '0' && line[e] <= '9') ++e;
    if (e == p + (line[p] == '-' ? 1 : 0) || e - p > 12 || (e < line.size() && line.find_first_not_of(" \t\r", e) != std::string::npos))
      return invalid_argument(path + ":" + std::to_string(lineno) + ": expected one integer label per line");
    out.push_back(std::stoll(line.substr(p, e - p)));
    if (int64_t(out.size()) > kMaxSamples) return invalid_argument(path + ": too many labels");
  }
  return out;
}

std::unique_ptr<Dataset> dataset_window(Dataset& base, int64_t offset, int64_t count) {
  offset = std::clamp<int64_t>(offset, 0, base.size());
  count = std::clamp<int64_t>(count, 0, base.size() - offset);
  return std::make_unique<BorrowedWindow>(base, offset, count);
}

}  // namespace petrel::quant
