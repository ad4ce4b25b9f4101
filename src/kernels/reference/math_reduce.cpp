// ReduceSum/Mean/Max/Min/Prod/L1/L2/LogSum/LogSumExp/SumSquare. Axes come from the attribute
// (opset < 18, ReduceSum < 13) or from the optional second input (ReduceSum >= 13, all >= 18).
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/reference/input_checks.hpp"
#include "kernels/reference/math_reduce_util.hpp"

namespace petrel::ref {
namespace {

template <typename C> bool is_nan(C v) {
  if constexpr (std::is_floating_point_v<C>) return std::isnan(v);
  else return false;
}

enum class RedOp { kSum, kMean, kMax, kMin, kProd, kL1, kL2, kLogSum, kLogSumExp, kSumSquare };

class ReduceKernel final : public Kernel {
 public:
  ReduceKernel(RedOp op, bool keepdims, bool noop, bool has_axes_attr, std::vector<int64_t> axes)
      : op_(op), keepdims_(keepdims), noop_(noop), has_axes_attr_(has_axes_attr), axes_attr_(std::move(axes)) {}

  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 1, 2));
    const Tensor& x = ctx.input(0);
    if (x.dtype == DataType::kBool || x.dtype == DataType::kString || dtype_size(x.dtype) == 0)
      return ctx.unsupported_error("dtype " + std::string(dtype_name(x.dtype)));
    std::vector<bool> red;
    bool identity = false;
    PETREL_RETURN_IF_ERROR(resolve_axes(ctx, red, identity));
    Shape out;
    for (size_t d = 0; d < x.shape.size(); ++d) {
      if (!red[d]) out.push_back(x.shape[d]);
      else if (keepdims_) out.push_back(1);
    }
    return ctx.set_output(0, x.dtype, identity ? x.shape : out);
  }

  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    Tensor& y = ctx.output(0);
    bool identity = false;
    PETREL_RETURN_IF_ERROR(resolve_axes(ctx, red_, identity));
    if (identity) {
      if (x.nbytes()) std::memcpy(y.data, x.data, x.nbytes());
      return Status::ok();
    }
    lay_.build(x.shape, red_);
    return dispatch_all_numeric(x.dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      run<T>(lay_, x.as<T>(), y.as<T>());
      return Status::ok();
    });
  }

 private:
  // Marks reduced dims. Empty axes reduce everything, or nothing when noop_with_empty_axes.
  // Fills members so that compute allocates nothing once their capacity is reached.
  Status resolve_axes(OpContext& ctx, std::vector<bool>& red, bool& identity) {
    const int64_t rank = ctx.input(0).rank();
    std::vector<int64_t>& axes = axes_;
    axes.assign(axes_attr_.begin(), axes_attr_.end());
    if (!has_axes_attr_ && ctx.has_input(1)) PETREL_RETURN_IF_ERROR(read_int_input(ctx, 1, axes));
    red.assign(size_t(rank), axes.empty());
    identity = axes.empty() && noop_;
    if (identity) return Status::ok();
    for (int64_t a : axes) {
      if (a < -rank || a >= rank)
        return ctx.error("axis " + std::to_string(a) + " out of range for rank " + std::to_string(rank));
      red[size_t(a < 0 ? a + rank : a)] = true;
    }
    return Status::ok();
  }

  template <typename T> void run(const ReduceLayout& lay, const T* x, T* y) const {
    using C = ComputeType<T>;
    constexpr bool kInt = std::is_integral_v<T>;
    const int64_t n = lay.red_count;
    lay.for_each_output([&](int64_t o, int64_t base) {
      double r = 0;
      switch (op_) {
        case RedOp::kMax:
        case RedOp::kMin: {
          const bool mx = op_ == RedOp::kMax;
          C m;
          if constexpr (kInt) m = mx ? std::numeric_limits<T>::lowest() : std::numeric_limits<T>::max();
          else m = mx ? -std::numeric_limits<C>::infinity() : std::numeric_limits<C>::infinity();
          // NaN propagates like numpy's maximum/minimum: once m is NaN no comparison is true.
          lay.for_each_reduced(base, [&](int64_t i) {
            const C v = load(x[i]);
            if ((mx ? v > m : v < m) || is_nan(v)) m = v;
          });
          y[o] = store<T>(m);
          return;
        }
        case RedOp::kSum: case RedOp::kProd: case RedOp::kL1: case RedOp::kSumSquare:
          if constexpr (kInt) {
            // Integer results wrap like numpy's fixed-width arithmetic (uint64 keeps it defined).
            uint64_t acc = op_ == RedOp::kProd ? 1 : 0;
            lay.for_each_reduced(base, [&](int64_t i) {
              const int64_t v = int64_t(x[i]);
              switch (op_) {
                case RedOp::kSum: acc += uint64_t(v); break;
                case RedOp::kProd: acc *= uint64_t(v); break;
                case RedOp::kL1: acc += std::is_signed_v<T> && v < 0 ? uint64_t(0) - uint64_t(v) : uint64_t(v); break;  // |INT64_MIN| wraps
                default: acc += uint64_t(v) * uint64_t(v); break;
              }
            });
            y[o] = T(int64_t(acc));
            return;
          }
          [[fallthrough]];
        default: {
          double acc = op_ == RedOp::kProd ? 1.0 : 0.0;
          double mxv = -std::numeric_limits<double>::infinity();
          if (op_ == RedOp::kLogSumExp)
            lay.for_each_reduced(base, [&](int64_t i) {
              const double v = double(load(x[i]));
              if (v > mxv || std::isnan(v)) mxv = v;
            });
          lay.for_each_reduced(base, [&](int64_t i) {
            const double v = double(load(x[i]));
            switch (op_) {
              case RedOp::kProd: acc *= v; break;
              case RedOp::kL1: acc += std::fabs(v); break;
              case RedOp::kL2: case RedOp::kSumSquare: acc += v * v; break;
              case RedOp::kLogSumExp: acc += std::exp(v - mxv); break;
              default: acc += v; break;
            }
          });
          switch (op_) {
            case RedOp::kMean: r = acc / double(n); break;
            case RedOp::kL2: r = std::sqrt(acc); break;
            case RedOp::kLogSum: r = std::log(acc); break;
            case RedOp::kLogSumExp: r = std::isinf(mxv) ? mxv : mxv + std::log(acc); break;
            default: r = acc; break;
          }
        }
      }
      if constexpr (kInt) {
        // Mean of an empty set is NaN; integer outputs get 0 instead of an undefined cast.
        y[o] = std::isfinite(r) ? T(int64_t(r)) : T(0);
      } else {
        y[o] = store<T>(C(r));
      }
    });
  }

  RedOp op_;
  bool keepdims_, noop_, has_axes_attr_;
  std::vector<int64_t> axes_attr_;
  // compute's scratch, kept between runs.
  std::vector<int64_t> axes_;
  std::vector<bool> red_;
  ReduceLayout lay_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_reduce(const Node& n) {
  static const struct { const char* name; RedOp op; } kOps[] = {
      {"ReduceSum", RedOp::kSum}, {"ReduceMean", RedOp::kMean}, {"ReduceMax", RedOp::kMax},
      {"ReduceMin", RedOp::kMin}, {"ReduceProd", RedOp::kProd}, {"ReduceL1", RedOp::kL1},
      {"ReduceL2", RedOp::kL2}, {"ReduceLogSum", RedOp::kLogSum},
      {"ReduceLogSumExp", RedOp::kLogSumExp}, {"ReduceSumSquare", RedOp::kSumSquare}};
  const RedOp* op = nullptr;
  for (const auto& e : kOps)
    if (n.op_type == e.name) op = &e.op;
  if (!op) return unsupported(n.label() + ": not a reduction");
  PETREL_ASSIGN_OR_RETURN(int64_t keepdims, attr_int(n, "keepdims", 1));
  PETREL_ASSIGN_OR_RETURN(int64_t noop, attr_int(n, "noop_with_empty_axes", 0));
  PETREL_ASSIGN_OR_RETURN(std::vector<int64_t> axes, attr_ints(n, "axes"));
  return std::unique_ptr<Kernel>(new ReduceKernel(*op, keepdims != 0, noop != 0, has_attr(n, "axes"), std::move(axes)));
}

}  // namespace petrel::ref
