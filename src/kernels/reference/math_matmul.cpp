// MatMul (numpy semantics: batched broadcasting, 1-D operands), petrel.FusedMatMul (MatMul, then
// + bias[N], then the fused activation), MatMulInteger, QLinearMatMul.
#include <algorithm>
#include <cmath>

#include "kernels/reference/fused_act.hpp"
#include "kernels/reference/input_checks.hpp"
#include "kernels/reference/math_gemm.hpp"
#include "kernels/reference/math_quant.hpp"

namespace petrel::ref {
namespace {

// A 1-D A is promoted to [1,K] and a 1-D B to [K,1]; the added dim is dropped from the output.
struct MatMulDims {
  int64_t M = 0, N = 0, K = 0;
  Shape out;
  Shape batch;
  std::vector<int64_t> a_bs, b_bs;  // per batch dim, element stride of each operand (0: broadcast)
  int64_t batch_count = 1;
  bool fold = false;  // B is one matrix shared by all batches: A's batches stack into M
};

Status matmul_dims(const OpContext& ctx, const Shape& a, const Shape& b, MatMulDims& d) {
  if (a.empty() || b.empty()) return ctx.error("matmul operands must have rank >= 1");
  Shape as = a, bs = b;
  if (as.size() == 1) as.insert(as.begin(), 1);
  if (bs.size() == 1) bs.push_back(1);
  d.M = as[as.size() - 2];
  d.K = as.back();
  d.N = bs.back();
  if (bs[bs.size() - 2] != d.K)
    return ctx.error("inner dimensions differ: " + shape_to_string(a) + " x " + shape_to_string(b));
  Shape ab(as.begin(), as.end() - 2), bb(bs.begin(), bs.end() - 2);
  auto br = broadcast_shapes(ab, bb);
  if (!br) return ctx.error(br.status().message());
  d.batch = *br;
  d.a_bs = broadcast_strides(ab, d.batch);
  d.b_bs = broadcast_strides(bb, d.batch);
  for (auto& s : d.a_bs) s *= d.M * d.K;
  for (auto& s : d.b_bs) s *= d.K * d.N;
  d.out = d.batch;
  if (a.size() > 1) d.out.push_back(d.M);
  if (b.size() > 1) d.out.push_back(d.N);
  d.batch_count = 1;
  int64_t a_count = 1, b_count = 1;
  for (int64_t v : d.batch) d.batch_count *= v;
  for (int64_t v : ab) a_count *= v;
  for (int64_t v : bb) b_count *= v;
  d.fold = b_count == 1 && a_count == d.batch_count;
  return Status::ok();
}

// Calls f(a_offset, b_offset, c_offset) for every batch matrix.
template <typename F> void for_each_batch(const MatMulDims& d, F&& f) {
  const size_t r = d.batch.size();
  std::vector<int64_t> idx(r, 0);
  int64_t ao = 0, bo = 0;
  for (int64_t i = 0; i < d.batch_count; ++i) {
    f(ao, bo, i * d.M * d.N);
    for (size_t k = r; k-- > 0;) {
      if (++idx[k] < d.batch[k]) { ao += d.a_bs[k]; bo += d.b_bs[k]; break; }
      ao -= d.a_bs[k] * (d.batch[k] - 1);
      bo -= d.b_bs[k] * (d.batch[k] - 1);
      idx[k] = 0;
    }
  }
}

bool matmul_dtype_ok(DataType t) {
  switch (t) {
    case DataType::kFloat: case DataType::kDouble: case DataType::kFloat16: case DataType::kBFloat16:
    case DataType::kInt32: case DataType::kInt64: case DataType::kUInt32: case DataType::kUInt64:
      return true;
    default: return false;
  }
}

// MatMul, and with `fused` petrel.FusedMatMul (inputs A, B, optional bias [N]). Both honour a
// fused activation (core/fused_activation.hpp).
class MatMulKernel final : public Kernel {
 public:
  MatMulKernel(FusedActivation fa, bool fused) : fa_(fa), fused_(fused) {}

  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 2, fused_ ? 3 : 2));
    const Tensor& a = ctx.input(0);
    const Tensor& b = ctx.input(1);
    if (a.dtype != b.dtype) return ctx.error("A and B must have the same type");
    if (!matmul_dtype_ok(a.dtype)) return ctx.unsupported_error("dtype " + std::string(dtype_name(a.dtype)));
    MatMulDims d;
    PETREL_RETURN_IF_ERROR(matmul_dims(ctx, a.shape, b.shape, d));
    if (ctx.has_input(2)) {
      const Tensor& bias = ctx.input(2);
      if (b.rank() < 2) return ctx.error("a bias needs B of rank >= 2");
      if (bias.dtype != a.dtype || bias.rank() != 1 || bias.shape[0] != d.N)
        return ctx.error("bias must be 1-D with N = " + std::to_string(d.N) + " elements of A's dtype, got " +
                         std::string(dtype_name(bias.dtype)) + shape_to_string(bias.shape));
    }
    PETREL_RETURN_IF_ERROR(check_fused_activation(ctx, fa_, a.dtype));
    return ctx.set_output(0, a.dtype, d.out);
  }
  Status compute(OpContext& ctx) override {
    const Tensor& a = ctx.input(0);
    const Tensor& b = ctx.input(1);
    Tensor& c = ctx.output(0);
    MatMulDims d;
    PETREL_RETURN_IF_ERROR(matmul_dims(ctx, a.shape, b.shape, d));
    PETREL_RETURN_IF_ERROR(dispatch_all_numeric(a.dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* ap = a.as<T>();
      const T* bp = b.as<T>();
      T* cp = c.as<T>();
      if (d.fold) {
        gemm_any<T>(d.M * d.batch_count, d.N, d.K, {ap, d.K, 1}, {bp, d.N, 1}, cp, d.N);
      } else {
        for_each_batch(d, [&](int64_t ao, int64_t bo, int64_t co) {
          gemm_any<T>(d.M, d.N, d.K, {ap + ao, d.K, 1}, {bp + bo, d.N, 1}, cp + co, d.N);
        });
      }
      if (ctx.has_input(2) && d.N > 0) {
        const T* bias = ctx.input(2).as<T>();
        const int64_t rows = c.numel() / d.N;
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t n = 0; n < d.N; ++n) {
            T& v = cp[r * d.N + n];
            if constexpr (std::is_integral_v<T>) v = T(v + bias[n]);
            else v = store<T>(load(v) + load(bias[n]));
          }
      }
      return Status::ok();
    }));
    apply_fused_activation(fa_, c, ctx.pool);
    return Status::ok();
  }

 private:
  FusedActivation fa_;
  bool fused_;
};

// ---- integer products -------------------------------------------------------------------

bool is_q8(DataType t) { return t == DataType::kUInt8 || t == DataType::kInt8; }

// Zero point (or scale) that is either per tensor (one element) or per row/column (count n).
Status check_per(const OpContext& ctx, int i, int64_t n, DataType want, const char* what) {
  if (!ctx.has_input(i)) return Status::ok();
  const Tensor& t = ctx.input(i);
  if (t.dtype != want)
    return ctx.error(std::string(what) + " must be " + std::string(dtype_name(want)));
  if (t.rank() > 1 && t.numel() != 1) return ctx.error(std::string(what) + " must be a scalar or 1-D");
  if (t.numel() != 1 && t.numel() != n)
    return ctx.error(std::string(what) + " has " + std::to_string(t.numel()) + " elements, expected 1 or " + std::to_string(n));
  return Status::ok();
}

std::vector<int32_t> zero_points(const OpContext& ctx, int i) {
  if (!ctx.has_input(i)) return {0};
  const Tensor& t = ctx.input(i);
  std::vector<int32_t> v(size_t(t.numel()));
  for (int64_t k = 0; k < t.numel(); ++k) v[size_t(k)] = zero_point_at(&t, k);
  if (v.empty()) v.push_back(0);
  return v;
}

// One output row of (A - a_zp) x (B - b_zp) in int32 with wrap-around (defined via uint32).
template <typename TA, typename TB>
void int_row(const TA* a, int32_t azp, const TB* b, const std::vector<int32_t>& bzp, int64_t N,
             int64_t K, int32_t* out) {
  std::fill(out, out + N, 0);
  for (int64_t k = 0; k < K; ++k) {
    const int32_t av = int32_t(a[k]) - azp;
    if (av == 0) continue;
    const TB* br = b + k * N;
    if (bzp.size() == 1) {
      const int32_t z = bzp[0];
      for (int64_t n = 0; n < N; ++n) out[n] = int32_t(uint32_t(out[n]) + uint32_t(av * (int32_t(br[n]) - z)));
    } else {
      for (int64_t n = 0; n < N; ++n) out[n] = int32_t(uint32_t(out[n]) + uint32_t(av * (int32_t(br[n]) - bzp[size_t(n)])));
    }
  }
}

// Runs f(row_of_int32, m, out_row_offset) for every output row of an integer matmul.
template <typename F>
Status for_each_int_row(const MatMulDims& d, const Tensor& a, const Tensor& b,
                        const std::vector<int32_t>& azp, const std::vector<int32_t>& bzp,
                        int32_t* row, F&& f) {
  auto run = [&](auto* ap, auto* bp) {
    for_each_batch(d, [&](int64_t ao, int64_t bo, int64_t co) {
      for (int64_t m = 0; m < d.M; ++m) {
        int32_t z = azp.size() == 1 ? azp[0] : azp[size_t(m)];
        int_row(ap + ao + m * d.K, z, bp + bo, bzp, d.N, d.K, row);
        f(row, m, co + m * d.N);
      }
    });
  };
  const bool au = a.dtype == DataType::kUInt8, bu = b.dtype == DataType::kUInt8;
  if (au && bu) run(a.as<uint8_t>(), b.as<uint8_t>());
  else if (au) run(a.as<uint8_t>(), b.as<int8_t>());
  else if (bu) run(a.as<int8_t>(), b.as<uint8_t>());
  else run(a.as<int8_t>(), b.as<int8_t>());
  return Status::ok();
}

class MatMulIntegerKernel final : public Kernel {
 public:
  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 2, 4));
    const Tensor& a = ctx.input(0);
    const Tensor& b = ctx.input(1);
    if (!is_q8(a.dtype) || !is_q8(b.dtype)) return ctx.error("A and B must be uint8 or int8");
    MatMulDims d;
    PETREL_RETURN_IF_ERROR(matmul_dims(ctx, a.shape, b.shape, d));
    PETREL_RETURN_IF_ERROR(check_per(ctx, 2, d.M, a.dtype, "a_zero_point"));
    PETREL_RETURN_IF_ERROR(check_per(ctx, 3, d.N, b.dtype, "b_zero_point"));
    return ctx.set_output(0, DataType::kInt32, d.out);
  }
  Status compute(OpContext& ctx) override {
    MatMulDims d;
    PETREL_RETURN_IF_ERROR(matmul_dims(ctx, ctx.input(0).shape, ctx.input(1).shape, d));
    int32_t* c = ctx.output(0).as<int32_t>();
    std::vector<int32_t> row(size_t(d.N));
    return for_each_int_row(d, ctx.input(0), ctx.input(1), zero_points(ctx, 2), zero_points(ctx, 3),
                            row.data(), [&](const int32_t* r, int64_t, int64_t off) {
                              std::copy(r, r + d.N, c + off);
                            });
  }
};

// Inputs: a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point.
class QLinearMatMulKernel final : public Kernel {
 public:
  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 8, 8));
    const Tensor& a = ctx.input(0);
    const Tensor& b = ctx.input(3);
    const DataType yt = ctx.input(7).dtype;
    if (!is_q8(a.dtype) || !is_q8(b.dtype) || !is_q8(yt)) return ctx.error("a, b and y must be uint8 or int8");
    MatMulDims d;
    PETREL_RETURN_IF_ERROR(matmul_dims(ctx, a.shape, b.shape, d));
    PETREL_RETURN_IF_ERROR(check_per(ctx, 1, d.M, DataType::kFloat, "a_scale"));
    PETREL_RETURN_IF_ERROR(check_per(ctx, 2, d.M, a.dtype, "a_zero_point"));
    PETREL_RETURN_IF_ERROR(check_per(ctx, 4, d.N, DataType::kFloat, "b_scale"));
    PETREL_RETURN_IF_ERROR(check_per(ctx, 5, d.N, b.dtype, "b_zero_point"));
    PETREL_RETURN_IF_ERROR(check_per(ctx, 6, 1, DataType::kFloat, "y_scale"));
    PETREL_RETURN_IF_ERROR(check_per(ctx, 7, 1, yt, "y_zero_point"));
    return ctx.set_output(0, yt, d.out);
  }
  Status compute(OpContext& ctx) override {
    const Tensor& as = ctx.input(1);
    const Tensor& bs = ctx.input(4);
    MatMulDims d;
    PETREL_RETURN_IF_ERROR(matmul_dims(ctx, ctx.input(0).shape, ctx.input(3).shape, d));
    const double ys = ctx.input(6).as<float>()[0];
    const int32_t yzp = zero_point_at(&ctx.input(7), 0);
    // Per-column multipliers a_scale * b_scale / y_scale (numpy evaluates in float64 here).
    std::vector<double> bmul(size_t(bs.numel()));
    for (size_t n = 0; n < bmul.size(); ++n) bmul[n] = double(bs.as<float>()[n]) / ys;
    std::vector<int32_t> row(size_t(d.N));
    Tensor& y = ctx.output(0);
    const bool yu = y.dtype == DataType::kUInt8;
    return for_each_int_row(d, ctx.input(0), ctx.input(3), zero_points(ctx, 2), zero_points(ctx, 5),
                            row.data(), [&](const int32_t* r, int64_t m, int64_t off) {
      const double am = as.as<float>()[as.numel() == 1 ? 0 : m];
      for (int64_t n = 0; n < d.N; ++n) {
        const double v = double(r[n]) * am * bmul[bmul.size() == 1 ? 0 : size_t(n)];
        const double q = std::nearbyint(v) + yzp;
        if (yu) y.as<uint8_t>()[off + n] = saturate_round<uint8_t>(q);
        else y.as<int8_t>()[off + n] = saturate_round<int8_t>(q);
      }
    });
  }
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_matmul(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(FusedActivation fa, FusedActivation::from_node(n));
  return std::unique_ptr<Kernel>(new MatMulKernel(fa, false));
}
Result<std::unique_ptr<Kernel>> make_fused_matmul(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(FusedActivation fa, FusedActivation::from_node(n));
  return std::unique_ptr<Kernel>(new MatMulKernel(fa, true));
}
Result<std::unique_ptr<Kernel>> make_matmul_integer(const Node&) {
  return std::unique_ptr<Kernel>(new MatMulIntegerKernel());
}
Result<std::unique_ptr<Kernel>> make_qlinear_matmul(const Node&) {
  return std::unique_ptr<Kernel>(new QLinearMatMulKernel());
}

}  // namespace petrel::ref
