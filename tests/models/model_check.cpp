// Runs models of the benchmark set (scripts/models/export_benchmark_set.py) through Petrel and
// compares every output with PyTorch's: max |petrel - torch| must be <= 1e-4 x (max - min of
// torch's output).
//
// Models go through Session::open with the graph optimizer on (the default); --no-optimize runs
// them as loaded.
//
// Usage: petrel_model_check [--no-optimize] DIR [NAME ...]   (no names: every model folder under DIR)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/npy.hpp"
#include "petrel/petrel.hpp"

namespace fs = std::filesystem;
using namespace petrel;

namespace {

std::string file_name(const std::string& name) {
  std::string s = name;
  for (char& c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) c = '_';
  return s;
}

// Returns "" when the model matches, or what went wrong.
std::string check(const fs::path& dir, bool optimize, double& worst_rel, double& ms) {
  auto t0 = std::chrono::steady_clock::now();
  SessionOptions so;
  so.optimize = optimize;
  auto s = Session::open((dir / "model.onnx").string(), so);
  if (!s) return s.status().to_string();
  std::vector<Tensor> inputs;
  for (const auto& in : (*s)->inputs()) {
    auto t = read_npy((dir / ("input_" + file_name(in.name) + ".npy")).string());
    if (!t) return t.status().to_string();
    inputs.push_back(std::move(t).value());
    Status st = (*s)->set_input(in.name, inputs.back().dtype, inputs.back().shape, inputs.back().data);
    if (!st) return st.to_string();
  }
  Status st = (*s)->run();
  ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (!st) return st.to_string();
  worst_rel = 0;
  for (size_t i = 0; i < (*s)->outputs().size(); ++i) {
    const std::string& name = (*s)->outputs()[i].name;
    auto want = read_npy((dir / ("output_" + file_name(name) + ".npy")).string());
    if (!want) return want.status().to_string();
    auto got = (*s)->output(i);
    if (!got) return got.status().to_string();
    if (got->shape != want->shape) return "output " + name + ": shape " + shape_to_string(got->shape) + " != " + shape_to_string(want->shape);
    if (got->dtype != want->dtype) return "output " + name + ": dtype differs";
    Tensor g = Tensor::view(got->dtype, got->shape, got->data);
    double lo = INFINITY, hi = -INFINITY, err = 0;
    for (int64_t k = 0; k < want->numel(); ++k) {
      double w = element_as_double(want.value(), k), x = element_as_double(g, k);
      lo = std::min(lo, w);
      hi = std::max(hi, w);
      double e = std::fabs(w - x);
      if (std::isnan(e)) e = INFINITY;
      err = std::max(err, e);
    }
    double range = hi - lo;
    double rel = range > 0 ? err / range : err;
    worst_rel = std::max(worst_rel, rel);
    if (!(rel <= 1e-4)) {
      char buf[256];
      std::snprintf(buf, sizeof buf, "output %s: max abs error %.3g is %.3g of the output range %.3g (limit 1e-4)", name.c_str(), err, rel, range);
      return buf;
    }
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  bool optimize = true;
  if (argc > 1 && std::string(argv[1]) == "--no-optimize") {
    optimize = false;
    --argc;
    ++argv;
  }
  if (argc < 2) {
    std::fprintf(stderr, "usage: petrel_model_check [--no-optimize] DIR [NAME ...]\n");
    return 2;
  }
  fs::path root = argv[1];
  std::vector<std::string> names(argv + 2, argv + argc);
  if (names.empty() && fs::exists(root))
    for (auto& e : fs::directory_iterator(root))
      if (fs::exists(e.path() / "model.onnx")) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  if (names.empty()) {
    std::fprintf(stderr, "no models under %s: run /usr/bin/python3 scripts/models/export_benchmark_set.py --out %s\n", argv[1], argv[1]);
    return 1;
  }
  int passed = 0, failed = 0;
  for (const auto& n : names) {
    double rel = 0, ms = 0;
    fs::path dir = root / n;
    std::string err = fs::exists(dir / "model.onnx") ? check(dir, optimize, rel, ms)
                                                     : "missing " + (dir / "model.onnx").string() + " (run scripts/models/export_benchmark_set.py)";
    if (err.empty()) {
      std::printf("PASS %-20s max error %.2e of range  (%.0f ms load+run)\n", n.c_str(), rel, ms);
      ++passed;
    } else {
      std::printf("FAIL %-20s %s\n", n.c_str(), err.c_str());
      ++failed;
    }
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
