// Einsum: explicit ("ij,jk->ik") and implicit ("ij,jk") outputs, repeated labels within a term
// (diagonals), labels summed away, and "..." broadcasting dims.
#include <algorithm>
#include <map>

#include "kernels/reference/input_checks.hpp"
#include "kernels/reference/common.hpp"
#include "kernels/reference/math_gemm.hpp"

namespace petrel::ref {
namespace {

constexpr int kEllipsis = -1;      // marker in a parsed term
constexpr int kEllipsisBase = 256; // label ids of ellipsis dims: kEllipsisBase + position

struct Term {
  std::vector<int> labels;  // char codes, kEllipsis once at most
  bool has_ellipsis() const { return std::count(labels.begin(), labels.end(), kEllipsis) > 0; }
};

bool parse_term(const std::string& s, Term& t) {
  t.labels.clear();
  for (size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (c == '.') {
      if (s.compare(i, 3, "...") != 0 || t.has_ellipsis()) return false;
      t.labels.push_back(kEllipsis);
      i += 3;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      t.labels.push_back(c);
      ++i;
    } else {
      return false;
    }
  }
  return true;
}

// Everything the loops need, rebuilt from the input shapes.
struct Plan {
  std::vector<int64_t> out_dims, red_dims;
  std::vector<std::vector<int64_t>> out_strides, red_strides;  // per operand, per loop label
  Shape out_shape;
};

class EinsumKernel final : public Kernel {
 public:
  EinsumKernel(std::vector<Term> in, bool explicit_out, Term out)
      : in_(std::move(in)), explicit_(explicit_out), out_(std::move(out)) {}

  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, std::max(1, ctx.num_inputs()), kManyInputs));
    if (ctx.num_inputs() != int(in_.size()))
      return ctx.error("equation has " + std::to_string(in_.size()) + " operands, node has " + std::to_string(ctx.num_inputs()) + " inputs");
    const DataType dt = ctx.input(0).dtype;
    for (int i = 0; i < ctx.num_inputs(); ++i)
      if (ctx.input(i).dtype != dt) return ctx.error("all inputs must have the same type");
    if (dt == DataType::kBool || dt == DataType::kString || dtype_size(dt) == 0)
      return ctx.unsupported_error("dtype " + std::string(dtype_name(dt)));
    Plan p;
    PETREL_RETURN_IF_ERROR(plan(ctx, p));
    return ctx.set_output(0, dt, p.out_shape);
  }

  Status compute(OpContext& ctx) override {
    Plan p;
    PETREL_RETURN_IF_ERROR(plan(ctx, p));
    return dispatch_all_numeric(ctx.input(0).dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      run<T>(ctx, p);
      return Status::ok();
    });
  }

 private:
  Status plan(const OpContext& ctx, Plan& p) const {
    const size_t nin = in_.size();
    // Ellipsis rank: the most dims any operand's "..." covers; shorter ones align to the right.
    int64_t ell = 0;
    std::vector<int64_t> ell_rank(nin, 0);
    for (size_t i = 0; i < nin; ++i) {
      const int64_t named = int64_t(in_[i].labels.size()) - (in_[i].has_ellipsis() ? 1 : 0);
      const int64_t r = ctx.input(int(i)).rank();
      if (in_[i].has_ellipsis() ? r < named : r != named)
        return ctx.error("operand " + std::to_string(i) + " of rank " + std::to_string(r) + " does not match its subscripts");
      ell_rank[i] = r - named;
      ell = std::max(ell, ell_rank[i]);
    }
    // Expand each term to one label per axis, and size every label.
    std::map<int, int64_t> size;
    std::vector<std::vector<int>> axes(nin);
    for (size_t i = 0; i < nin; ++i) {
      for (int l : in_[i].labels) {
        if (l != kEllipsis) { axes[i].push_back(l); continue; }
        for (int64_t j = 0; j < ell_rank[i]; ++j) axes[i].push_back(kEllipsisBase + int(ell - ell_rank[i] + j));
      }
      const Shape& s = ctx.input(int(i)).shape;
      for (size_t a = 0; a < axes[i].size(); ++a) {
        const int l = axes[i][a];
        auto it = size.find(l);
        if (it == size.end()) size[l] = s[a];
        else if (it->second == 1) it->second = s[a];  // size-1 dims broadcast, as in numpy
        else if (s[a] != 1 && s[a] != it->second)
          return ctx.error(l >= kEllipsisBase ? std::string("\"...\" dims do not broadcast")
                                              : "dimension mismatch for label '" + std::string(1, char(l)) + "'");
      }
    }
    // Output labels: explicit, or "..." then the labels seen exactly once, in ASCII order.
    std::vector<int> out;
    if (explicit_) {
      for (int l : out_.labels) {
        if (l == kEllipsis) {
          for (int64_t j = 0; j < ell; ++j) out.push_back(kEllipsisBase + int(j));
        } else {
          if (!size.count(l)) return ctx.error("output label '" + std::string(1, char(l)) + "' is not in any input");
          out.push_back(l);
        }
      }
    } else {
      for (int64_t j = 0; j < ell; ++j) out.push_back(kEllipsisBase + int(j));
      std::map<int, int> count;
      for (const auto& t : in_)
        for (int l : t.labels)
          if (l != kEllipsis) ++count[l];
      for (const auto& [l, c] : count)
        if (c == 1) out.push_back(l);
    }
    std::vector<int> red;
    for (const auto& [l, s] : size)
      if (std::find(out.begin(), out.end(), l) == out.end()) red.push_back(l);
    auto strides_for = [&](const std::vector<int>& loop, std::vector<std::vector<int64_t>>& st) {
      st.assign(nin, std::vector<int64_t>(loop.size(), 0));
      for (size_t i = 0; i < nin; ++i) {
        const Shape& s = ctx.input(int(i)).shape;
        auto cs = contiguous_strides(s);
        for (size_t a = 0; a < axes[i].size(); ++a) {
          if (s[a] == 1) continue;  // broadcast (or trivially indexed) axis
          auto it = std::find(loop.begin(), loop.end(), axes[i][a]);
          if (it != loop.end()) st[i][size_t(it - loop.begin())] += cs[a];  // repeated label: diagonal
        }
      }
    };
    strides_for(out, p.out_strides);
    strides_for(red, p.red_strides);
    for (int l : out) p.out_dims.push_back(size[l]);
    for (int l : red) p.red_dims.push_back(size[l]);
    p.out_shape = p.out_dims;
    return checked_numel(p.out_shape).status();
  }

  template <typename T> void run(OpContext& ctx, const Plan& p) const {
    using Acc = GemmAcc<T>;
    const size_t nin = in_.size();
    std::vector<const T*> ptr(nin);
    for (size_t i = 0; i < nin; ++i) ptr[i] = ctx.input(int(i)).as<T>();
    T* y = ctx.output(0).as<T>();
    int64_t out_n = 1, red_n = 1;
    for (int64_t d : p.out_dims) out_n *= d;
    for (int64_t d : p.red_dims) red_n *= d;
    std::vector<int64_t> oidx(p.out_dims.size(), 0), ridx(p.red_dims.size(), 0), base(nin, 0), off(nin, 0);
    auto step = [&](const std::vector<int64_t>& dims, const std::vector<std::vector<int64_t>>& st,
                    std::vector<int64_t>& idx, std::vector<int64_t>& o) {
      for (size_t k = dims.size(); k-- > 0;) {
        if (++idx[k] < dims[k]) { for (size_t i = 0; i < nin; ++i) o[i] += st[i][k]; return; }
        for (size_t i = 0; i < nin; ++i) o[i] -= st[i][k] * (dims[k] - 1);
        idx[k] = 0;
      }
    };
    // The innermost reduced label runs as a tight strided loop; the rest step an odometer.
    std::vector<int64_t> rdims = p.red_dims, ist(nin, 0);
    std::vector<std::vector<int64_t>> rst = p.red_strides;
    int64_t inner = 1;
    if (!rdims.empty()) {
      inner = rdims.back();
      rdims.pop_back();
      for (size_t i = 0; i < nin; ++i) { ist[i] = rst[i].back(); rst[i].pop_back(); }
      red_n /= inner == 0 ? 1 : inner;
      if (inner == 0) red_n = 0;
    }
    ridx.assign(rdims.size(), 0);
    for (int64_t e = 0; e < out_n; ++e) {
      off = base;
      Acc acc = 0;
      for (int64_t r = 0; r < red_n; ++r) {
        if (nin == 2) {
          const T* a = ptr[0] + off[0];
          const T* b = ptr[1] + off[1];
          for (int64_t j = 0; j < inner; ++j) acc += gemm_load(a[j * ist[0]]) * gemm_load(b[j * ist[1]]);
        } else {
          for (int64_t j = 0; j < inner; ++j) {
            Acc prod = gemm_load(ptr[0][off[0] + j * ist[0]]);
            for (size_t i = 1; i < nin; ++i) prod *= gemm_load(ptr[i][off[i] + j * ist[i]]);
            acc += prod;
          }
        }
        step(rdims, rst, ridx, off);
      }
      y[e] = gemm_store<T>(acc);
      step(p.out_dims, p.out_strides, oidx, base);
    }
  }

  std::vector<Term> in_;
  bool explicit_;
  Term out_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_einsum(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(std::string eq, attr_string(n, "equation", ""));
  std::string s;
  for (char c : eq)
    if (c != ' ' && c != '\t') s += c;
  const size_t arrow = s.find("->");
  const std::string lhs = s.substr(0, arrow);
  std::vector<Term> in;
  size_t start = 0;
  while (true) {
    const size_t comma = lhs.find(',', start);
    Term t;
    if (!parse_term(lhs.substr(start, comma == std::string::npos ? std::string::npos : comma - start), t))
      return invalid_model(n.label() + ": bad einsum equation '" + eq + "'");
    in.push_back(std::move(t));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  Term out;
  if (arrow != std::string::npos) {
    if (!parse_term(s.substr(arrow + 2), out)) return invalid_model(n.label() + ": bad einsum output in '" + eq + "'");
    std::vector<int> seen = out.labels;
    std::sort(seen.begin(), seen.end());
    if (std::adjacent_find(seen.begin(), seen.end()) != seen.end())
      return invalid_model(n.label() + ": repeated output label in '" + eq + "'");
  }
  return std::unique_ptr<Kernel>(new EinsumKernel(std::move(in), arrow != std::string::npos, std::move(out)));
}

}  // namespace petrel::ref
