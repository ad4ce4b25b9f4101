// Det: determinant of the trailing square matrices of [*, M, M].
#include <cmath>
#include <vector>

#include "kernels/reference/input_checks.hpp"
#include "kernels/reference/common.hpp"

namespace petrel::ref {
namespace {

class DetKernel final : public Kernel {
 public:
  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 1, 1));
    const Tensor& x = ctx.input(0);
    if (!dtype_is_float(x.dtype)) return ctx.unsupported_error("dtype " + std::string(dtype_name(x.dtype)));
    if (x.rank() < 2 || x.shape[size_t(x.rank() - 1)] != x.shape[size_t(x.rank() - 2)])
      return ctx.error("input must be [*, M, M], got " + shape_to_string(x.shape));
    return ctx.set_output(0, x.dtype, Shape(x.shape.begin(), x.shape.end() - 2));
  }

  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const int64_t m = x.shape.back();
    const int64_t count = ctx.output(0).numel();
    std::vector<double> a(size_t(m * m));
    return dispatch_float(x.dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* xp = x.as<T>();
      T* y = ctx.output(0).as<T>();
      for (int64_t b = 0; b < count; ++b) {
        for (int64_t i = 0; i < m * m; ++i) a[size_t(i)] = double(load(xp[b * m * m + i]));
        y[b] = store<T>(ComputeType<T>(lu_det(a.data(), m)));
      }
      return Status::ok();
    });
  }

 private:
  // Gaussian elimination with partial pivoting in double (LAPACK getrf, which numpy uses, also
  // pivots on the largest magnitude); each row swap flips the sign.
  static double lu_det(double* a, int64_t m) {
    double det = 1.0;
    for (int64_t k = 0; k < m; ++k) {
      int64_t p = k;
      for (int64_t i = k + 1; i < m; ++i)
        if (std::fabs(a[i * m + k]) > std::fabs(a[p * m + k])) p = i;
      if (a[p * m + k] == 0.0) return 0.0;
      if (p != k) {
        for (int64_t j = 0; j < m; ++j) std::swap(a[k * m + j], a[p * m + j]);
        det = -det;
      }
      const double piv = a[k * m + k];
      det *= piv;
      for (int64_t i = k + 1; i < m; ++i) {
        const double f = a[i * m + k] / piv;
        if (f == 0.0) continue;
        for (int64_t j = k + 1; j < m; ++j) a[i * m + j] -= f * a[k * m + j];
      }
    }
    return det;
  }
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_det(const Node&) { return std::unique_ptr<Kernel>(new DetKernel()); }

}  // namespace petrel::ref
