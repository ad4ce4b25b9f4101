// Runs the official ONNX backend test cases (Debian libonnx-testdata) through Petrel and judges
// them as the ONNX backend runner does: output dtype must match exactly, numbers must pass
// allclose(rtol=1e-3, atol=1e-7) with NaN == NaN, strings must be equal. Each case runs in a
// forked child with a time limit, so a crash or hang is reported as that case's result.
//
// With --optimize each model goes through the graph optimizer first (as Session::open does);
// the manifest must not change.
//
// Usage: petrel_conformance [--data DIR] [--filter REGEX] [--manifest FILE [--update]] [-v] [--timeout S] [--optimize] [--xnnpack]
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <sstream>

#include "onnx/model.hpp"
#include "optimize/optimizer.hpp"
#include "runtime/executor.hpp"
#ifdef PETREL_HAVE_XNNPACK
#include "kernels/xnnpack/provider.hpp"
#endif

namespace fs = std::filesystem;
using namespace petrel;

namespace {

bool g_xnnpack = false;  // --xnnpack: partition graphs for the XNNPACK provider first
bool g_optimize = false;

std::string compare_tensor(const Tensor& got, const Tensor& want) {
  if (got.dtype != want.dtype)
    return "dtype " + std::string(dtype_name(got.dtype)) + " != expected " + std::string(dtype_name(want.dtype));
  if (got.shape != want.shape) return "shape " + shape_to_string(got.shape) + " != expected " + shape_to_string(want.shape);
  const int64_t n = want.numel();
  if (want.dtype == DataType::kString) {
    for (int64_t i = 0; i < n; ++i)
      if (got.as<std::string>()[i] != want.as<std::string>()[i]) return "string " + std::to_string(i) + " differs";
    return "";
  }
  if (dtype_is_float(want.dtype) || want.dtype == DataType::kComplex64 || want.dtype == DataType::kComplex128) {
    const bool cplx = want.dtype == DataType::kComplex64 || want.dtype == DataType::kComplex128;
    const int64_t m = cplx ? 2 * n : n;
    int64_t bad = 0;
    double worst = 0;
    int64_t first = -1;
    for (int64_t i = 0; i < m; ++i) {
      double a, b;
      if (want.dtype == DataType::kComplex64) { a = got.as<float>()[i]; b = want.as<float>()[i]; }
      else if (want.dtype == DataType::kComplex128) { a = got.as<double>()[i]; b = want.as<double>()[i]; }
      else { a = element_as_double(got, i); b = element_as_double(want, i); }
      if (std::isnan(a) && std::isnan(b)) continue;
      if (std::isinf(b) && a == b) continue;
      double diff = std::fabs(a - b);
      if (!(diff <= 1e-7 + 1e-3 * std::fabs(b))) {
        if (first < 0) first = i;
        ++bad;
        worst = std::max(worst, std::isnan(diff) ? INFINITY : diff);
      }
    }
    if (bad) {
      std::ostringstream s;
      s << bad << " of " << m << " values differ (max abs diff " << worst << "; first at " << first << ": got "
        << (cplx ? 0.0 : element_as_double(got, first)) << ", want " << (cplx ? 0.0 : element_as_double(want, first)) << ")";
      return s.str();
    }
    return "";
  }
  if (want.nbytes() > 0 && std::memcmp(got.data, want.data, want.nbytes()) != 0) {  // empty tensors may have null data
    for (int64_t i = 0; i < n; ++i)
      if (element_as_int64(got, i) != element_as_int64(want, i))
        return "value " + std::to_string(i) + ": got " + std::to_string(element_as_int64(got, i)) + ", want " + std::to_string(element_as_int64(want, i));
    return "bytes differ";
  }
  return "";
}

std::string compare_value(const Value& got, const Value& want) {
  if (want.is_empty()) return got.is_empty() ? "" : "expected an empty optional";
  if (want.is_sequence()) {
    if (!got.is_sequence()) return "expected a sequence";
    if (got.sequence->size() != want.sequence->size())
      return "sequence length " + std::to_string(got.sequence->size()) + " != " + std::to_string(want.sequence->size());
    for (size_t i = 0; i < want.sequence->size(); ++i) {
      std::string e = compare_tensor((*got.sequence)[i], (*want.sequence)[i]);
      if (!e.empty()) return "sequence item " + std::to_string(i) + ": " + e;
    }
    return "";
  }
  if (!got.is_tensor()) return "expected a tensor";
  return compare_tensor(got.tensor, want.tensor);
}

// Runs one case in this process; returns "" on pass or the failure message.
std::string run_case(const fs::path& dir) {
  auto m = onnx::load_model((dir / "model.onnx").string());
  if (!m) return "load: " + m.status().to_string();
  if (g_optimize) {
    opt::OptimizeStats st;
    if (Status o = opt::optimize_graph(*m.value()->graph, &st); !o) return "optimize: " + o.to_string();
    if (!st.rejected.empty()) return "optimize: a pass proposed a broken patch: " + st.rejected[0];
  }
#ifdef PETREL_HAVE_XNNPACK
  if (g_xnnpack)
    if (Status st = xnnpack::partition_graph(*m.value()->graph); !st) return "partition: " + st.to_string();
#endif
  auto ex = GraphExecutor::create(m.value()->graph, true);
  if (!ex) return "create: " + ex.status().to_string();
  const Graph& g = *m.value()->graph;
  std::vector<fs::path> sets;
  for (auto& e : fs::directory_iterator(dir))
    if (e.is_directory() && e.path().filename().string().rfind("test_data_set_", 0) == 0) sets.push_back(e.path());
  std::sort(sets.begin(), sets.end());
  if (sets.empty()) return "no test data";
  for (auto& set : sets) {
    std::vector<Value> inputs, outputs;
    for (size_t k = 0; k < g.inputs.size(); ++k) {
      fs::path p = set / ("input_" + std::to_string(k) + ".pb");
      auto kind = g.values[size_t(g.inputs[k])].type.kind;
      if (!fs::exists(p)) return "missing " + p.string();
      auto v = onnx::load_value_file(p.string(), kind);
      if (!v) return "input: " + v.status().to_string();
      inputs.push_back(std::move(v).value());
    }
    Status st = ex.value()->run(inputs, {}, outputs);
    if (!st) return "run: " + st.to_string();
    for (size_t k = 0; k < g.outputs.size(); ++k) {
      fs::path p = set / ("output_" + std::to_string(k) + ".pb");
      auto kind = g.values[size_t(g.outputs[k])].type.kind;
      auto want = onnx::load_value_file(p.string(), kind);
      if (!want) return "expected output: " + want.status().to_string();
      std::string e = compare_value(outputs[k], want.value());
      if (!e.empty()) return "output " + std::to_string(k) + " '" + g.values[size_t(g.outputs[k])].name + "': " + e;
    }
  }
  return "";
}

struct Outcome {
  std::string status;  // pass | fail
  std::string message;
};

Outcome run_isolated(const fs::path& dir, int timeout_s) {
  int fds[2];
  if (pipe(fds) != 0) return {"fail", "pipe failed"};
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    alarm(unsigned(timeout_s));
    std::string r = run_case(dir);
    if (r.size() > 400) r = r.substr(0, 400) + "...";
    ssize_t w = write(fds[1], r.data(), r.size());
    (void)w;
    close(fds[1]);
    _exit(0);
  }
  close(fds[1]);
  std::string msg;
  char buf[512];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) msg.append(buf, size_t(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    return {"fail", sig == SIGALRM ? "timeout after " + std::to_string(timeout_s) + " s" : std::string("crash: signal ") + strsignal(sig)};
  }
  if (msg.empty()) return {"pass", ""};
  return {"fail", msg};
}

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  std::string data = "/usr/share/libonnx-testdata/data", filter, manifest;
  bool update = false, verbose = false;
  int timeout_s = 60;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) { std::cerr << a << " needs a value\n"; std::exit(2); }
      return argv[++i];
    };
    if (a == "--data") data = next();
    else if (a == "--filter") filter = next();
    else if (a == "--manifest") manifest = next();
    else if (a == "--update") update = true;
    else if (a == "--xnnpack") g_xnnpack = true;
    else if (a == "--timeout") timeout_s = std::stoi(next());
    else if (a == "-v" || a == "--verbose") verbose = true;
    else if (a == "--optimize") g_optimize = true;
    else if (a == "-h" || a == "--help") {
      std::cout << "usage: petrel_conformance [--data DIR] [--filter REGEX] [--manifest FILE [--update]] [-v] [--timeout S] [--optimize] [--xnnpack]\n"
                   "Runs the ONNX backend test cases under DIR/{node,pytorch-converted,pytorch-operator,simple}.\n"
                   "With --manifest, exits non-zero on any case whose result differs from the manifest;\n"
                   "--update rewrites the manifest with the results instead.\n";
      return 0;
    } else { std::cerr << "unknown argument " << a << "\n"; return 2; }
  }
  std::vector<std::string> cases;
  for (const char* suite : {"node", "pytorch-converted", "pytorch-operator", "simple"}) {
    fs::path d = fs::path(data) / suite;
    if (!fs::exists(d)) continue;
    for (auto& e : fs::directory_iterator(d))
      if (fs::exists(e.path() / "model.onnx")) cases.push_back(std::string(suite) + "/" + e.path().filename().string());
  }
  std::sort(cases.begin(), cases.end());
  if (cases.empty()) { std::cerr << "no test cases under " << data << " (install libonnx-testdata)\n"; return 2; }
  std::regex re(filter.empty() ? ".*" : filter);
  std::map<std::string, Outcome> expected;
  if (!manifest.empty() && fs::exists(manifest)) {
    std::ifstream in(manifest);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      std::istringstream ls(line);
      std::string name, st, reason;
      std::getline(ls, name, '\t');
      std::getline(ls, st, '\t');
      std::getline(ls, reason);
      expected[name] = {st, reason};
    }
  }
  int passed = 0, failed = 0, unexpected = 0;
  std::map<std::string, Outcome> results;
  for (const auto& c : cases) {
    if (!std::regex_search(c, re)) continue;
    Outcome o = run_isolated(fs::path(data) / c, timeout_s);
    results[c] = o;
    (o.status == "pass" ? passed : failed)++;
    bool surprise = false;
    if (!manifest.empty() && !update) {
      auto it = expected.find(c);
      std::string want = it == expected.end() ? "pass" : it->second.status;
      // "random": a random op whose draw may or may not match the reference; either is fine.
      if (want != o.status && want != "random") {
        surprise = true;
        ++unexpected;
      }
    }
    if (verbose || surprise || (manifest.empty() && o.status != "pass"))
      std::cout << (surprise ? (o.status == "pass" ? "UNEXPECTED PASS " : "UNEXPECTED FAIL ") : (o.status == "pass" ? "PASS " : "FAIL "))
                << c << (o.message.empty() ? "" : ": " + o.message) << "\n";
  }
  if (update && !manifest.empty()) {
    // A still-failing case keeps its curated reason; new failures get Petrel's error message.
    for (auto& [c, o] : results) {
      auto it = expected.find(c);
      if (o.status == "fail" && it != expected.end() && it->second.status == "fail" && !it->second.message.empty()) continue;
      if (it != expected.end() && it->second.status == "random") continue;
      expected[c] = o;
    }
    std::ofstream out(manifest);
    out << "# ONNX backend conformance manifest: case<TAB>expected status (pass|fail|random)<TAB>reason for a failure.\n"
           "# CI fails on any case whose result differs. Regenerate: petrel_conformance --manifest FILE --update\n";
    for (auto& [c, o] : expected) out << c << "\t" << o.status << "\t" << one_line(o.message) << "\n";
  }
  std::cout << "conformance: " << passed << " of " << (passed + failed) << " cases pass\n";
  if (!manifest.empty() && !update) {
    std::cout << (unexpected ? std::to_string(unexpected) + " cases differ from the manifest " + manifest + "\n" : "all cases match the manifest\n");
    std::cout << "conformance: " << failed << " known failures are listed in the manifest with their reasons\n";
    return unexpected ? 1 : 0;
  }
  std::cout << passed << " passed, " << failed << " failed\n";
  return 0;
}
