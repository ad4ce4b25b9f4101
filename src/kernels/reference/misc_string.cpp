// StringNormalizer: stopword removal and case change on a [C] or [1, C] string tensor.
// Case mapping and case-insensitive comparison are ASCII-only (the locale attribute is accepted
// but not used: a portable build has no locale database).
#include <unordered_set>

#include "kernels/reference/misc_common.hpp"

namespace petrel::ref {
namespace {

enum class CaseAction : uint8_t { kNone, kLower, kUpper };

std::string ascii_lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  return s;
}
std::string ascii_upper(std::string s) {
  for (char& c : s)
    if (c >= 'a' && c <= 'z') c = char(c - 'a' + 'A');
  return s;
}

class StringNormalizerKernel final : public DynamicKernel {
 public:
  StringNormalizerKernel(CaseAction action, bool case_sensitive, std::vector<std::string> stopwords)
      : action_(action), case_sensitive_(case_sensitive) {
    for (auto& w : stopwords) stopwords_.insert(case_sensitive ? w : ascii_lower(w));
  }

  Status compute(OpContext& ctx) override {
    if (!has_value(ctx, 0) || !ctx.input_value(0).is_tensor()) return ctx.error("input must be a tensor");
    const Tensor& x = ctx.input(0);
    if (x.dtype != DataType::kString) return ctx.error("input must be a string tensor");
    const bool two_d = x.rank() == 2;
    if (!(x.rank() == 1 || (two_d && x.shape[0] == 1)))
      return ctx.error("input must have shape [C] or [1, C], got " + shape_to_string(x.shape));
    const std::string* in = x.as<std::string>();
    const int64_t n = x.numel();

    std::vector<int64_t> keep;
    keep.reserve(size_t(n));
    for (int64_t i = 0; i < n; ++i) {
      const bool stop = !stopwords_.empty() &&
                        stopwords_.count(case_sensitive_ ? in[i] : ascii_lower(in[i])) != 0;
      if (!stop) keep.push_back(i);
    }
    // An all-stopwords input yields a single empty string rather than an empty tensor.
    const int64_t m = keep.empty() ? 1 : int64_t(keep.size());
    Shape shape = two_d ? Shape{1, m} : Shape{m};
    PETREL_ASSIGN_OR_RETURN(Tensor * out, ctx.allocate_output(0, DataType::kString, shape));
    std::string* o = out->as<std::string>();
    for (size_t k = 0; k < keep.size(); ++k) {
      const std::string& s = in[keep[k]];
      o[k] = action_ == CaseAction::kLower ? ascii_lower(s) : action_ == CaseAction::kUpper ? ascii_upper(s) : s;
    }
    return Status::ok();
  }

 private:
  CaseAction action_;
  bool case_sensitive_;
  std::unordered_set<std::string> stopwords_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_string_normalizer(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(std::string action, attr_string(n, "case_change_action", "NONE"));
  PETREL_ASSIGN_OR_RETURN(int64_t sensitive, attr_int(n, "is_case_sensitive", 0));
  PETREL_ASSIGN_OR_RETURN(std::string locale, attr_string(n, "locale", ""));
  PETREL_ASSIGN_OR_RETURN(auto stopwords, attr_strings(n, "stopwords"));
  (void)locale;
  CaseAction a;
  if (action == "NONE") a = CaseAction::kNone;
  else if (action == "LOWER") a = CaseAction::kLower;
  else if (action == "UPPER") a = CaseAction::kUpper;
  else return unsupported(n.label() + ": case_change_action '" + action + "'");
  return std::unique_ptr<Kernel>(new StringNormalizerKernel(a, sensitive != 0, std::move(stopwords)));
}

}  // namespace petrel::ref
