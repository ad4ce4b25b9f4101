// Accuracy-driven mixed precision (`petrel quantize --target-agreement`), in the spirit of the
// accuracy-aware tuning of mature quantizers: start from the all-INT8 model; if its top-1
// agreement with the float model misses the target, keep the layers the sensitivity ranking
// puts worst in float, as few as needed.
//
// The search: rank the layers once (each quantized alone, output SQNR over a few calibration
// samples; ordered by that error per float byte the layer would cost), then binary-search the smallest k such that keeping the k worst in float reaches the
// target, then try to put kept layers back to INT8, the largest first (the ranking judges
// layers alone; together some matter less, and a big classifier is worth a trial). Every candidate is a real QDQ model measured on the
// agreement samples; the one returned was measured to reach the target (or is the best tried).
#include <algorithm>
#include <cmath>

#include "quantize/evaluate.hpp"
#include "quantize/quantizer.hpp"

namespace petrel::quant {
namespace {

// Argmax of a runner's first output, which must be one score vector ([1, classes]).
Result<int64_t> top1_of(const GraphRunner& r) {
  if (r.num_outputs() == 0) return invalid_argument("the model has no outputs");
  const Value& v = r.output(0);
  if (!v.is_tensor() || v.tensor.dtype != DataType::kFloat || v.tensor.numel() < 1 || v.tensor.numel() != v.tensor.shape.back())
    return invalid_argument("--target-agreement needs a classifier: the model's first output must be one float32 score "
                            "vector per sample ([1, classes])");
  return argmax(v.tensor.as<float>(), v.tensor.numel());
}

// A layer and the Relu/Clip that is the only reader of its output: they stay float together (a
// float Conv followed by a quantized Relu would still round the Conv's output).
std::vector<size_t> layer_group(const Graph& g, size_t i) {
  std::vector<size_t> grp{i};
  const Node& n = g.nodes[i];
  if (n.outputs.empty() || n.outputs[0] == kNoValue) return grp;
  const ValueId out = n.outputs[0];
  if (std::find(g.outputs.begin(), g.outputs.end(), out) != g.outputs.end()) return grp;
  int readers = 0;
  size_t reader = 0;
  for (size_t j = 0; j < g.nodes.size(); ++j) {
    for (ValueId v : g.nodes[j].inputs)
      if (v == out) ++readers, reader = j;
    for (ValueId v : g.nodes[j].implicit_inputs)
      if (v == out) readers += 2;
  }
  const Node& a = g.nodes[reader];
  if (readers == 1 && a.domain.empty() && (a.op_type == "Relu" || a.op_type == "Clip") && !a.inputs.empty() && a.inputs[0] == out)
    grp.push_back(reader);
  return grp;
}

// float32 bytes of a node's constant inputs other than its data input (weights, biases);
// `int8_weights`: the weight (input 1 of Conv/Gemm/MatMul) is stored as int8 and not counted.
int64_t float_param_bytes(const Graph& g, const Node& n, bool int8_weights = false) {
  int64_t b = 0;
  const bool weighted = n.op_type == "Conv" || n.op_type == "Gemm" || n.op_type == "MatMul";
  for (size_t k = int8_weights && weighted ? 2 : 1; k < n.inputs.size(); ++k) {
    const Tensor* t = n.inputs[k] == kNoValue ? nullptr : g.constant(n.inputs[k]);
    if (t && t->dtype == DataType::kFloat) b += t->numel() * 4;
  }
  if (n.op_type == "Add" || n.op_type == "Mul") {  // either operand may be the constant
    const Tensor* t = n.inputs.empty() || n.inputs[0] == kNoValue ? nullptr : g.constant(n.inputs[0]);
    if (t && t->dtype == DataType::kFloat) b += t->numel() * 4;
  }
  return b;
}

}  // namespace

Result<std::set<size_t>> choose_float_layers(const Graph& g, const std::map<ValueId, Range>& ranges, Dataset& calib,
                                             Dataset& agree, const QuantizeOptions& o, QuantizeReport* report) {
  QuantizeReport local;
  auto& mp = (report ? report : &local)->mixed;
  mp = {};
  mp.ran = true;
  mp.target = o.target_agreement;
  const int64_t n = agree.size();
  mp.samples = n;
  if (n < 1) return invalid_argument("--target-agreement: the agreement data holds no samples");
  // Agreement is a count: the target is met when at least this many answers agree.
  const int64_t need = int64_t(std::ceil(o.target_agreement * double(n) - 1e-9));

  // The float model's answers.
  std::vector<int64_t> want(size_t(n), 0);
  {
    PETREL_ASSIGN_OR_RETURN(auto ref, GraphRunner::create(g, o.runner));
    for (int64_t s = 0; s < n; ++s) {
      if (o.progress) o.progress("float answers", s, n);
      auto in = agree.get(s);
      if (!in) return in.status().with_context("agreement sample " + std::to_string(s));
      PETREL_RETURN_IF_ERROR(ref->run(in.value()).with_context("agreement sample " + std::to_string(s)));
      PETREL_ASSIGN_OR_RETURN(want[size_t(s)], top1_of(*ref));
    }
    if (o.progress) o.progress("float answers", n, n);
  }
  // Agreeing answers of the static-INT8 model with `keep` in float.
  auto agreeing = [&](const std::set<size_t>& keep) -> Result<int64_t> {
    Graph q = g;
    const StaticPlan p = plan_static(q, o, nullptr, &keep);
    PETREL_RETURN_IF_ERROR(apply_static(q, p, ranges, o, nullptr));
    PETREL_ASSIGN_OR_RETURN(auto r, GraphRunner::create(q, o.runner));
    int64_t same = 0;
    for (int64_t s = 0; s < n; ++s) {
      if (o.progress) o.progress("agreement", s, n);
      PETREL_ASSIGN_OR_RETURN(auto in, agree.get(s));
      PETREL_RETURN_IF_ERROR(r->run(in));
      PETREL_ASSIGN_OR_RETURN(int64_t got, top1_of(*r));
      same += got == want[size_t(s)];
    }
    if (o.progress) o.progress("agreement", n, n);
    ++mp.trials;
    return same;
  };

  PETREL_ASSIGN_OR_RETURN(const int64_t all_int8, agreeing({}));
  mp.int8_agreement = double(all_int8) / double(n);
  mp.tried.emplace_back(0, mp.int8_agreement);
  if (all_int8 >= need) {
    mp.reached = true;
    mp.agreement = mp.int8_agreement;
    return std::set<size_t>{};
  }

  const StaticPlan full = plan_static(g, o);
  PETREL_ASSIGN_OR_RETURN(auto ranking, layer_sensitivity(g, full, ranges, calib, o, o.ranking_samples));
  {
    // Order by error power per float byte kept (a knapsack greedy): the most output error removed
    // for the fewest bytes first. On mobilenet_v2 this halves the float bytes needed against
    // plain worst-first order (the 5 MiB classifier comes last). The 4 KiB floor keeps weightless
    // layers (Add, pools) from jumping ahead on a tiny error.
    auto score = [&](const LayerSensitivity& l) {
      const double bytes = double(float_param_bytes(g, g.nodes[l.index], o.fallback_int8_weights)) + 4096.0;
      return std::pow(10.0, -l.sqnr_db / 10) / bytes;
    };
    std::stable_sort(ranking.begin(), ranking.end(),
                     [&](const LayerSensitivity& a, const LayerSensitivity& b) { return score(a) > score(b); });
  }
  std::vector<std::vector<size_t>> groups;
  for (const LayerSensitivity& l : ranking) groups.push_back(layer_group(g, l.index));
  auto keep_of = [&](const std::vector<size_t>& which) {
    std::set<size_t> k;
    for (size_t w : which) k.insert(groups[w].begin(), groups[w].end());
    return k;
  };
  auto first = [](size_t k) {
    std::vector<size_t> v(k);
    for (size_t i = 0; i < k; ++i) v[i] = i;
    return v;
  };
  auto measure = [&](const std::vector<size_t>& which) -> Result<int64_t> {
    PETREL_ASSIGN_OR_RETURN(int64_t a, agreeing(keep_of(which)));
    mp.tried.emplace_back(int(which.size()), double(a) / double(n));
    return a;
  };

  // Smallest k (first k of the ranking in float) that reaches the target, by bisection: agreement is
  // assumed to grow with k only to steer the search; the answer's own measurement decides.
  size_t lo = 0, hi = groups.size();
  PETREL_ASSIGN_OR_RETURN(int64_t a_hi, measure(first(hi)));
  std::vector<size_t> best = first(hi);
  int64_t best_a = a_hi;
  if (a_hi >= need) {
    while (hi - lo > 1) {
      const size_t mid = lo + (hi - lo) / 2;
      PETREL_ASSIGN_OR_RETURN(int64_t a, measure(first(mid)));
      if (a >= need) {
        hi = mid;
        best_a = a;
      } else {
        lo = mid;
      }
    }
    best = first(hi);
    // Put kept layers back to INT8 where the target still holds, the largest first (they cost
    // the most bytes in float) and among equals the least sensitive first.
    std::vector<size_t> order = best;
    std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
      const int64_t bx = float_param_bytes(g, g.nodes[groups[x][0]], o.fallback_int8_weights);
      const int64_t by = float_param_bytes(g, g.nodes[groups[y][0]], o.fallback_int8_weights);
      return bx != by ? bx > by : x > y;
    });
    constexpr size_t kMaxPruneTrials = 12;
    for (size_t t = 0; t < order.size() && t < kMaxPruneTrials && best.size() > 1; ++t) {
      std::vector<size_t> without;
      for (size_t w : best)
        if (w != order[t]) without.push_back(w);
      PETREL_ASSIGN_OR_RETURN(int64_t a, measure(without));
      if (a >= need) {
        best = std::move(without);
        best_a = a;
      }
    }
  }
  mp.reached = best_a >= need;
  mp.agreement = double(best_a) / double(n);
  for (size_t w : best) {
    const Node& nd = g.nodes[groups[w][0]];
    mp.float_layers.push_back(nd.name + " (" + nd.op_type + ")");
    mp.float_weight_bytes += float_param_bytes(g, nd, o.fallback_int8_weights);
  }
  return keep_of(best);
}

}  // namespace petrel::quant
