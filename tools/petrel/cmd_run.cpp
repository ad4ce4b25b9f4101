// petrel run MODEL: run once (or --repeat N times) and summarise the outputs.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "cli_common.hpp"
#include "commands.hpp"
#include "core/npy.hpp"
#include "ota/store.hpp"

namespace petrel::cli {
namespace {

std::vector<std::string> read_labels(const std::string& path, Status& st) {
  std::vector<std::string> v;
  if (path.empty()) return v;
  std::ifstream f(path);
  if (!f) { st = not_found("cannot open labels file " + path); return v; }
  std::string line;
  while (std::getline(f, line)) v.push_back(line);
  return v;
}

std::string safe_file_name(const std::string& name) {
  std::string s = name.empty() ? "output" : name;
  for (char& c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) c = '_';
  if (s[0] == '.') s[0] = '_';
  return s;
}

// Top-k of one row of scores; converts logits to probabilities with softmax unless the row
// already is a probability distribution.
std::vector<std::pair<int64_t, double>> top_k(const TensorView& t, int64_t row, int64_t width, int k) {
  std::vector<double> p(static_cast<size_t>(width));
  Tensor view = Tensor::view(t.dtype, t.shape, t.data);
  for (int64_t j = 0; j < width; ++j) p[size_t(j)] = element_as_double(view, row * width + j);
  double sum = 0, mn = INFINITY, mx = -INFINITY;
  for (double x : p) { sum += x; mn = std::min(mn, x); mx = std::max(mx, x); }
  if (!(mn >= 0 && mx <= 1 && std::fabs(sum - 1) < 1e-3)) {
    double z = 0;
    for (double& x : p) { x = std::exp(x - mx); z += x; }
    for (double& x : p) x /= z;
  }
  std::vector<int64_t> idx(static_cast<size_t>(width));
  std::iota(idx.begin(), idx.end(), 0);
  const size_t kk = std::min<size_t>(size_t(k), idx.size());
  std::partial_sort(idx.begin(), idx.begin() + long(kk), idx.end(), [&](int64_t a, int64_t b) { return p[size_t(a)] > p[size_t(b)]; });
  std::vector<std::pair<int64_t, double>> out;
  for (size_t i = 0; i < kk; ++i) out.emplace_back(idx[i], p[size_t(idx[i])]);
  return out;
}

bool looks_like_classifier(const TensorView& t) {
  if (!dtype_is_float(t.dtype) || t.shape.empty()) return false;
  const int64_t width = t.shape.back();
  return width > 1 && width <= 100000 && t.numel() / width <= 16;
}

}  // namespace

int cmd_run(const RunArgs& args) {
  ShapeOverrides ov;
  if (Status st = parse_overrides(args.dims, args.shapes, ov); !st) return report(st);
  Status lst;
  auto labels = read_labels(args.labels, lst);
  if (!lst) return report(lst);
  if (args.repeat < 1 || args.top_k < 1 || args.threads < 1) return report(invalid_argument("--repeat, --top-k and --threads must be at least 1"));
  SessionOptions so;
  so.xnnpack = !args.no_xnnpack;
  so.threads = args.threads;
  so.optimize = !args.no_optimize;
  // --store: the update store's active model; load failures and the run's result count toward
  // its trial (a version on trial that fails is rolled back, and the previous one is used).
  std::unique_ptr<ota::Store> store;
  std::string model = args.model;
  if (!args.store.empty()) {
    if (!args.model.empty()) return report(invalid_argument("give a model file or --store, not both"));
    auto so_ = ota::Store::open(args.store);
    if (!so_) return report(so_.status());
    store = std::move(so_).value();
    auto p = store->begin_serving();
    if (!p) return report(p.status());
    model = *p;
  } else if (model.empty()) {
    return report(invalid_argument("give a model file (or --store DIR)"));
  }
  auto sr = Session::open(model, so);
  if (!sr && store) {
    (void)store->report_inference(false, model);
    auto p = store->begin_serving();
    if (!p) return report(p.status());
    model = *p;
    sr = Session::open(model, so);
  }
  if (!sr) return report(sr.status());
  Session& s = *sr.value();

  std::map<std::string, std::string> files;
  for (const auto& a : args.inputs) {
    size_t eq = a.find('=');
    if (eq == std::string::npos) {
      if (s.inputs().size() != 1) return report(invalid_argument("--input " + a + ": use NAME=FILE.npy (the model has " + std::to_string(s.inputs().size()) + " inputs)"));
      files[s.inputs()[0].name] = a;
    } else {
      files[a.substr(0, eq)] = a.substr(eq + 1);
    }
  }
  for (const auto& [name, file] : files) {
    bool found = false;
    for (auto& in : s.inputs()) found |= in.name == name;
    if (!found) return report(invalid_argument("--input " + name + ": the model has no such input"));
  }
  InputGenerator gen;
  std::vector<Tensor> tensors;
  tensors.reserve(s.inputs().size());
  for (const TensorInfo& in : s.inputs()) {
    auto it = files.find(in.name);
    Result<Tensor> t = invalid_argument("");
    if (it != files.end()) {
      t = read_npy(it->second);
      if (!t) return report(t.status());
      if (in.dtype != DataType::kUndefined && t->dtype != in.dtype)
        return report(invalid_argument("input '" + in.name + "' is " + std::string(dtype_name(in.dtype)) + " but " + it->second + " holds " + std::string(dtype_name(t->dtype))));
    } else {
      auto shape = resolve_shape(in, ov);
      if (!shape) return report(shape.status());
      t = gen.make(in.dtype, shape.value());
      if (!t) return report(t.status().with_context("input '" + in.name + "'"));
    }
    tensors.push_back(std::move(t).value());
    const Tensor& x = tensors.back();
    if (Status st = s.set_input(in.name, x.dtype, x.shape, x.data); !st) return report(st);
  }

  std::vector<double> times;
  for (int r = 0; r < args.repeat; ++r) {
    const double t0 = now_ms();
    Status st = s.run();
    times.push_back(now_ms() - t0);
    // A bad input (InvalidArgument) is the caller's fault, not the model's: it does not count.
    if (store && st.code() != StatusCode::kInvalidArgument) (void)store->report_inference(st.is_ok(), model);
    if (!st) return report(st);
  }
  const double first = times[0];
  std::vector<double> rest(times.begin() + (times.size() > 1 ? 1 : 0), times.end());
  std::sort(rest.begin(), rest.end());
  const double median = rest[rest.size() / 2];

  if (!args.output_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(args.output_dir, ec);
    if (ec) return report(io_error("cannot create " + args.output_dir + ": " + ec.message()));
  }
  for (size_t i = 0; i < s.outputs().size(); ++i) {
    auto o = s.output(i);
    if (!o) return report(o.status());
    const TensorView& t = o.value();
    const std::string& name = s.outputs()[i].name;
    if (!args.output_dir.empty()) {
      Tensor view = Tensor::view(t.dtype, t.shape, t.data);
      std::string path = args.output_dir + "/" + safe_file_name(name) + ".npy";
      if (Status st = write_npy(path, view); !st) return report(st);
    }
    if (args.quiet) {
      if (i == 0 && looks_like_classifier(t)) {
        auto best = top_k(t, 0, t.shape.back(), 1)[0];
        std::string label = best.first < int64_t(labels.size()) ? labels[size_t(best.first)] : "class " + std::to_string(best.first);
        std::printf("%-14s %5.1f%%  %.3f ms\n", label.c_str(), 100 * best.second, args.repeat > 1 ? median : first);
      }
      continue;
    }
    std::printf("output %s: %s%s", name.c_str(), std::string(dtype_name(t.dtype)).c_str(), shape_to_string(t.shape).c_str());
    if (t.dtype != DataType::kString && t.numel() > 0 && (dtype_is_float(t.dtype) || dtype_is_integer(t.dtype) || t.dtype == DataType::kBool)) {
      Tensor view = Tensor::view(t.dtype, t.shape, t.data);
      double mn = INFINITY, mx = -INFINITY, sum = 0;
      for (int64_t k = 0; k < t.numel(); ++k) {
        double x = element_as_double(view, k);
        mn = std::min(mn, x); mx = std::max(mx, x); sum += x;
      }
      std::printf("  min %.6g  max %.6g  mean %.6g", mn, mx, sum / double(t.numel()));
    }
    std::printf("\n");
    if (looks_like_classifier(t)) {
      const int64_t width = t.shape.back();
      for (int64_t row = 0; row < t.numel() / width; ++row) {
        std::printf("  top-%d%s:", std::min<int>(args.top_k, int(width)), t.numel() / width > 1 ? (" [" + std::to_string(row) + "]").c_str() : "");
        for (auto& [cls, p] : top_k(t, row, width, args.top_k)) {
          if (cls < int64_t(labels.size())) std::printf("  %s %.2f%%", labels[size_t(cls)].c_str(), 100 * p);
          else std::printf("  %lld %.2f%%", (long long)cls, 100 * p);
        }
        std::printf("\n");
      }
    }
  }
  if (!args.quiet) {
    if (args.repeat > 1) std::printf("latency: first run %.3f ms, median of %zu runs %.3f ms\n", first, rest.size(), median);
    else std::printf("latency: %.3f ms (first run, includes planning)\n", first);
    if (!args.output_dir.empty()) std::printf("outputs written to %s/\n", args.output_dir.c_str());
  }
  return kExitOk;
}

}  // namespace petrel::cli
