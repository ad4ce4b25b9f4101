// TfIdfVectorizer: counts pool n-grams (with skips) in each row of a [C] or [N, C] int/string
// tensor. The pool is stored level by level: ngram_counts[i] is where the (i+1)-grams start.
// Unigrams are counted once per position; for n >= 2 every (start, skip) pair is a distinct
// n-gram occurrence.
#include <algorithm>
#include <map>

#include "kernels/reference/misc_common.hpp"

namespace petrel::ref {
namespace {

enum class TfIdfMode : uint8_t { kTF, kIDF, kTFIDF };

class TfIdfKernel final : public Kernel {
 public:
  TfIdfKernel(bool strings, std::map<std::string, int64_t> ids, std::map<std::vector<int64_t>, int64_t> grams,
              std::vector<int64_t> levels, int64_t min_n, int64_t max_n, int64_t max_skip, TfIdfMode mode,
              std::vector<int64_t> indexes, std::vector<float> weights, int64_t out_dim)
      : strings_(strings), ids_(std::move(ids)), grams_(std::move(grams)), levels_(std::move(levels)),
        min_n_(min_n), max_n_(max_n), max_skip_(max_skip), mode_(mode), indexes_(std::move(indexes)),
        weights_(std::move(weights)), out_dim_(out_dim) {}

  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(need_inputs(ctx, 1));
    const Tensor& x = ctx.input(0);
    const bool ok_type = strings_ ? x.dtype == DataType::kString
                                  : (x.dtype == DataType::kInt32 || x.dtype == DataType::kInt64);
    if (!ok_type)
      return ctx.error("input dtype " + std::string(dtype_name(x.dtype)) + " does not match the " +
                       (strings_ ? "string" : "int64") + " pool");
    if (x.rank() == 1) return ctx.set_output(0, DataType::kFloat, {out_dim_});
    if (x.rank() == 2) return ctx.set_output(0, DataType::kFloat, {x.shape[0], out_dim_});
    return ctx.error("input must be 1-D or 2-D, got shape " + shape_to_string(x.shape));
  }

  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    Tensor& y = ctx.output(0);
    const int64_t rows = x.rank() == 2 ? x.shape[0] : 1;
    const int64_t cols = x.shape.back();
    float* out = y.as<float>();
    std::fill(out, out + y.numel(), 0.0f);

    std::vector<int64_t> tokens(static_cast<size_t>(cols)), counts(indexes_.size()), key;
    key.reserve(levels_.size());
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < cols; ++c) tokens[size_t(c)] = token(x, r * cols + c);
      std::fill(counts.begin(), counts.end(), 0);
      for (int64_t start = 0; start < cols; ++start) {
        for (int64_t n = std::max<int64_t>(min_n_, 1); n <= max_n_ && n <= int64_t(levels_.size()); ++n) {
          const int64_t skips = n == 1 ? 0 : max_skip_;
          for (int64_t skip = 0; skip <= skips; ++skip) {
            if (start + (n - 1) * (skip + 1) >= cols) break;
            key.clear();
            for (int64_t k = 0; k < n; ++k) key.push_back(tokens[size_t(start + k * (skip + 1))]);
            auto it = grams_.find(key);
            if (it != grams_.end()) ++counts[size_t(it->second)];
          }
        }
      }
      float* o = out + r * out_dim_;
      for (size_t k = 0; k < counts.size(); ++k) {
        if (counts[k] == 0) continue;
        const float w = weights_.empty() ? 1.0f : weights_[k];
        const float v = mode_ == TfIdfMode::kTF ? float(counts[k]) : mode_ == TfIdfMode::kIDF ? w : float(counts[k]) * w;
        o[indexes_[k]] += v;
      }
    }
    return Status::ok();
  }

 private:
  // Token id of element i: the value for int pools; the pool id (or -1) for string pools.
  int64_t token(const Tensor& x, int64_t i) const {
    if (!strings_) return element_as_int64(x, i);
    auto it = ids_.find(x.as<std::string>()[i]);
    return it == ids_.end() ? -1 : it->second;
  }

  bool strings_;
  std::map<std::string, int64_t> ids_;
  std::map<std::vector<int64_t>, int64_t> grams_;  // n-gram tokens -> position in ngram_indexes
  std::vector<int64_t> levels_;                    // ngram_counts
  int64_t min_n_, max_n_, max_skip_;
  TfIdfMode mode_;
  std::vector<int64_t> indexes_;
  std::vector<float> weights_;
  int64_t out_dim_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_tfidf_vectorizer(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(int64_t max_n, attr_int_required(n, "max_gram_length"));
  PETREL_ASSIGN_OR_RETURN(int64_t min_n, attr_int_required(n, "min_gram_length"));
  PETREL_ASSIGN_OR_RETURN(int64_t max_skip, attr_int_required(n, "max_skip_count"));
  PETREL_ASSIGN_OR_RETURN(std::string mode_s, attr_string(n, "mode", ""));
  PETREL_ASSIGN_OR_RETURN(auto levels, attr_ints(n, "ngram_counts"));
  PETREL_ASSIGN_OR_RETURN(auto indexes, attr_ints(n, "ngram_indexes"));
  PETREL_ASSIGN_OR_RETURN(auto pool_ints, attr_ints(n, "pool_int64s"));
  PETREL_ASSIGN_OR_RETURN(auto pool_strs, attr_strings(n, "pool_strings"));
  PETREL_ASSIGN_OR_RETURN(auto weights, attr_floats(n, "weights"));
  const std::string& L = n.label();
  TfIdfMode mode;
  if (mode_s == "TF") mode = TfIdfMode::kTF;
  else if (mode_s == "IDF") mode = TfIdfMode::kIDF;
  else if (mode_s == "TFIDF") mode = TfIdfMode::kTFIDF;
  else return unsupported(L + ": mode '" + mode_s + "'");
  if (min_n < 1 || max_n < min_n) return invalid_model(L + ": need 1 <= min_gram_length <= max_gram_length");
  if (max_skip < 0) return invalid_model(L + ": max_skip_count must be >= 0");
  const bool has_ints = n.attr("pool_int64s") != nullptr, strings = n.attr("pool_strings") != nullptr;
  if (has_ints == strings) return invalid_model(L + ": exactly one of pool_int64s and pool_strings must be given");

  // String pools are mapped to dense ids so both kinds share one n-gram table.
  std::map<std::string, int64_t> ids;
  std::vector<int64_t> pool;
  if (strings) {
    for (const auto& s : pool_strs) pool.push_back(ids.emplace(s, int64_t(ids.size())).first->second);
  } else {
    pool = pool_ints;
  }
  const int64_t pool_size = int64_t(pool.size());
  std::map<std::vector<int64_t>, int64_t> grams;
  int64_t k = 0;
  for (size_t lv = 0; lv < levels.size(); ++lv) {
    const int64_t begin = levels[lv], end = lv + 1 < levels.size() ? levels[lv + 1] : pool_size;
    const int64_t gn = int64_t(lv) + 1;
    if (begin < 0 || end < begin || end > pool_size || (end - begin) % gn != 0)
      return invalid_model(L + ": ngram_counts inconsistent with the pool");
    for (int64_t p = begin; p < end; p += gn, ++k) {
      if (k >= int64_t(indexes.size())) return invalid_model(L + ": too few ngram_indexes for the pool");
      grams.emplace(std::vector<int64_t>(pool.begin() + p, pool.begin() + p + gn), k);
    }
  }
  if (k != int64_t(indexes.size())) return invalid_model(L + ": ngram_indexes size does not match the pool");
  if (!weights.empty() && weights.size() != indexes.size())
    return invalid_model(L + ": weights size does not match ngram_indexes");
  int64_t out_dim = 0;
  for (int64_t i : indexes) {
    if (i < 0 || i >= kMaxElements) return invalid_model(L + ": ngram_indexes out of range");
    out_dim = std::max(out_dim, i + 1);
  }
  return std::unique_ptr<Kernel>(new TfIdfKernel(strings, std::move(ids), std::move(grams), std::move(levels), min_n,
                                                 max_n, max_skip, mode, std::move(indexes), std::move(weights), out_dim));
}

}  // namespace petrel::ref
