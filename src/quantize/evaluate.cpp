#include "quantize/evaluate.hpp"

#include <chrono>

namespace petrel::quant {

int64_t rank_of(const float* s, int64_t n, int64_t label) {
  int64_t r = 0;
  const float v = s[label];
  for (int64_t j = 0; j < n; ++j) r += s[j] > v || (j < label && s[j] == v);
  return r;
}

int64_t argmax(const float* s, int64_t n) {
  int64_t b = 0;
  for (int64_t j = 1; j < n; ++j)
    if (s[j] > s[b]) b = j;
  return b;
}

namespace {

Result<const Tensor*> scores_of(const GraphRunner& r, const char* which) {
  if (r.num_outputs() == 0) return invalid_argument(std::string(which) + " model has no outputs");
  const Value& v = r.output(0);
  if (!v.is_tensor() || v.tensor.dtype != DataType::kFloat || v.tensor.numel() < 1)
    return invalid_argument(std::string(which) + " model's first output is not a float32 tensor");
  const Tensor& t = v.tensor;
  if (t.numel() != t.shape.back())
    return invalid_argument(std::string(which) + " model's first output " + shape_to_string(t.shape) +
                            " is not one score vector per sample ([1, classes])");
  return &t;
}

}  // namespace

Result<EvalResult> evaluate(const Graph& model, const Graph* reference, Dataset& data, const std::vector<int64_t>& labels,
                            const EvalOptions& o) {
  if (o.top < 1) return invalid_argument("--top must be >= 1");
  if (int64_t(labels.size()) < data.size())
    return invalid_argument("there are " + std::to_string(labels.size()) + " labels for " + std::to_string(data.size()) + " samples");
  const auto t0 = std::chrono::steady_clock::now();
  PETREL_ASSIGN_OR_RETURN(auto runner, GraphRunner::create(model, o.runner));
  std::unique_ptr<GraphRunner> ref;
  if (reference) {
    RunnerOptions ro = o.runner;
    ro.activation_bits = 8;  // o.runner's is the evaluated model's
    PETREL_ASSIGN_OR_RETURN(ref, GraphRunner::create(*reference, ro));
  }
  EvalResult res;
  res.k = o.top;
  res.has_reference = reference != nullptr;
  const int64_t n = data.size();
  for (int64_t i = 0; i < n; ++i) {
    if (o.progress) o.progress("evaluating", i, n);
    auto sample = data.get(i);
    if (!sample) return sample.status().with_context("sample " + std::to_string(i));
    Status st = runner->run(sample.value());
    if (!st) return st.with_context("sample " + std::to_string(i));
    PETREL_ASSIGN_OR_RETURN(const Tensor* s, scores_of(*runner, "the"));
    const int64_t c = s->numel();
    if (res.classes == 0) res.classes = c;
    const int64_t label = labels[size_t(i)];
    if (label < 0 || label >= c)
      return invalid_argument("label " + std::to_string(label) + " of sample " + std::to_string(i) + " is outside the model's " +
                              std::to_string(c) + " classes");
    const int64_t r = rank_of(s->as<float>(), c, label);
    res.top1 += r == 0;
    res.topk += r < o.top;
    if (ref) {
      const int64_t mine = argmax(s->as<float>(), c);
      st = ref->run(sample.value());
      if (!st) return st.with_context("reference, sample " + std::to_string(i));
      PETREL_ASSIGN_OR_RETURN(const Tensor* rs, scores_of(*ref, "the reference"));
      if (rs->numel() != c) return invalid_argument("the reference model has " + std::to_string(rs->numel()) + " classes, the model " + std::to_string(c));
      const int64_t rr = rank_of(rs->as<float>(), c, label);
      res.ref_top1 += rr == 0;
      res.ref_topk += rr < o.top;
      res.agree += argmax(rs->as<float>(), c) == mine;
    }
    ++res.samples;
  }
  if (o.progress) o.progress("evaluating", n, n);
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

}  // namespace petrel::quant
