// Private helpers of the elementwise kernels: broadcast loops with contiguous/scalar fast paths,
// UB-free integer arithmetic and float->integer conversion.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "kernels/reference/common.hpp"

namespace petrel::ref::ew {

template <typename T> inline constexpr bool kIsFloat =
    std::is_floating_point_v<T> || std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>;
template <typename T> inline constexpr bool kIsInt =
    std::is_integral_v<T> && !std::is_same_v<T, bool>;

// ---- integer arithmetic without signed-overflow UB (wraps like numpy) ----
// Sub-int types are widened to uint32 so that the promoted product cannot overflow `int`.
template <typename T> using WrapT =
    std::conditional_t<(sizeof(T) < 4), uint32_t, std::make_unsigned_t<T>>;
template <typename T> inline T wrap_add(T a, T b) { return T(WrapT<T>(a) + WrapT<T>(b)); }
template <typename T> inline T wrap_sub(T a, T b) { return T(WrapT<T>(a) - WrapT<T>(b)); }
template <typename T> inline T wrap_mul(T a, T b) { return T(WrapT<T>(a) * WrapT<T>(b)); }
template <typename T> inline T wrap_neg(T a) { return T(WrapT<T>(0) - WrapT<T>(a)); }

// Truncating integer division; callers reject b == 0 first. INT_MIN / -1 wraps.
template <typename T> inline T int_div(T a, T b) {
  if constexpr (std::is_signed_v<T>) {
    if (b == -1) return wrap_neg(a);
  }
  return T(a / b);
}
// Remainder with the sign of the dividend (C fmod) or of the divisor (Python %).
template <typename T> inline T int_mod(T a, T b, bool python_sign) {
  if constexpr (std::is_signed_v<T>) {
    if (b == -1) return 0;
    T r = T(a % b);
    if (python_sign && r != 0 && ((r < 0) != (b < 0))) r = T(r + b);
    return r;
  } else {
    (void)python_sign;
    return T(a % b);
  }
}

// Float -> integer: truncation toward zero. Values beyond int64 (and NaN) become INT64_MIN,
// and narrower targets keep the low bits, which is what numpy's astype does on x86/ARM for
// in-int64-range values (e.g. float32(-1) -> uint8 255).
template <typename I, typename F> inline I float_to_int(F f) {
  const double d = std::trunc(double(f));
  if constexpr (std::is_same_v<I, uint64_t>) {
    if (d >= 0 && d < 18446744073709551616.0) return uint64_t(d);
  }
  int64_t v = std::numeric_limits<int64_t>::min();
  if (d >= -9223372036854775808.0 && d < 9223372036854775808.0) v = int64_t(d);
  return I(uint64_t(v));
}

// Generic scalar conversion between any two element types (bool is 0/1).
template <typename To, typename From> inline To convert(From v) {
  if constexpr (std::is_same_v<To, From>) {
    return v;
  } else if constexpr (std::is_same_v<To, bool>) {
    return load(v) != 0;  // NaN -> true, as in numpy
  } else if constexpr (std::is_same_v<From, bool>) {
    return To(ComputeType<To>(v ? 1 : 0));
  } else if constexpr (kIsFloat<To>) {
    if constexpr (std::is_same_v<To, Float16> || std::is_same_v<To, BFloat16>)
      return To(float(load(v)));
    else
      return To(load(v));
  } else if constexpr (kIsFloat<From>) {
    return float_to_int<To>(load(v));
  } else {
    return To(v);  // integer -> integer: modular (C++20 defines it)
  }
}

// ---- element loops ----
// f maps one raw element to one raw output element.
template <typename I, typename O, typename F>
inline void map_unary(const Tensor& in, Tensor& out, F&& f) {
  const I* x = in.as<I>();
  O* y = out.as<O>();
  const int64_t n = in.numel();
  for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
}
// Float-typed map: f works on ComputeType<T> (float for float16/bfloat16).
template <typename T, typename F> inline void map_float(const Tensor& in, Tensor& out, F&& f) {
  map_unary<T, T>(in, out, [&](T v) { return store<T>(f(load(v))); });
}

// Calls f(out_offset, in_offsets, in_steps, len) for each contiguous run of the output, with
// dims of size 1 dropped and adjacent dims merged whenever every input allows it. In the
// innermost run an input's step is 0 (broadcast) or 1, so callers specialise on it.
template <size_t K, typename F>
void for_each_run(const Shape& out, const std::array<const Shape*, K>& in, F&& f) {
  int64_t total = 1;
  for (int64_t d : out) total *= d;
  if (total == 0) return;
  // Scratch on the stack up to kMaxRank dims, so that a session's steady-state run allocates
  // nothing; higher ranks (legal, rare) use the heap.
  constexpr size_t kMaxRank = 16;
  struct Dim { int64_t size; std::array<int64_t, K> st; };
  std::array<Dim, kMaxRank + 1> dims_stack;
  std::array<int64_t, kMaxRank> idx_stack{};
  std::vector<Dim> dims_heap;
  std::vector<int64_t> idx_heap;
  Dim* dims = dims_stack.data();  // innermost first
  int64_t* idx = idx_stack.data();
  if (out.size() > kMaxRank) {
    dims_heap.resize(out.size() + 1);
    idx_heap.assign(out.size(), 0);
    dims = dims_heap.data();
    idx = idx_heap.data();
  }
  size_t nd = 0;
  std::array<int64_t, K> stride{};  // running contiguous stride of each input
  for (size_t k = 0; k < K; ++k) stride[k] = 1;
  for (size_t d = out.size(); d-- > 0;) {
    Dim cur{out[d], {}};
    for (size_t k = 0; k < K; ++k) {
      const Shape& s = *in[k];
      const size_t off = out.size() - s.size();  // inputs are right-aligned (numpy broadcasting)
      const int64_t sd = d >= off ? s[d - off] : 1;
      cur.st[k] = sd == 1 ? 0 : stride[k];
      stride[k] *= sd;
    }
    if (out[d] == 1) continue;
    if (nd > 0) {
      Dim& prev = dims[nd - 1];
      bool merge = true;
      for (size_t k = 0; k < K; ++k) merge = merge && cur.st[k] == prev.st[k] * prev.size;
      if (merge) { prev.size *= cur.size; continue; }
    }
    dims[nd++] = cur;
  }
  if (nd == 0) dims[nd++] = Dim{1, {}};
  const Dim inner = dims[0];
  const size_t r = nd - 1;  // outer dims: dims[1..r], dims[1] is the fastest
  std::array<int64_t, K> off{};
  int64_t o = 0;
  for (;;) {
    f(o, off, inner.st, inner.size);
    o += inner.size;
    size_t d = 1;
    for (; d <= r; ++d) {
      const Dim& dd = dims[d];
      if (++idx[d - 1] < dd.size) {
        for (size_t k = 0; k < K; ++k) off[k] += dd.st[k];
        break;
      }
      idx[d - 1] = 0;
      for (size_t k = 0; k < K; ++k) off[k] -= dd.st[k] * (dd.size - 1);
    }
    if (d > r) return;
  }
}

// out[i] = op(a[ia], b[ib]) with numpy broadcasting; op maps raw A, B to raw O.
template <typename A, typename B, typename O, typename Op>
void binary_loop(const Tensor& ta, const Tensor& tb, Tensor& to, Op&& op) {
  const A* a = ta.as<A>();
  const B* b = tb.as<B>();
  O* o = to.as<O>();
  const int64_t n = to.numel(), na = ta.numel(), nb = tb.numel();
  if (na == n && nb == n && ta.shape == tb.shape) {  // same shape: one flat loop
    for (int64_t i = 0; i < n; ++i) o[i] = op(a[i], b[i]);
    return;
  }
  if (nb == 1 && na == n) {
    const B y = b[0];
    for (int64_t i = 0; i < n; ++i) o[i] = op(a[i], y);
    return;
  }
  if (na == 1 && nb == n) {
    const A x = a[0];
    for (int64_t i = 0; i < n; ++i) o[i] = op(x, b[i]);
    return;
  }
  for_each_run<2>(to.shape, {&ta.shape, &tb.shape},
                  [&](int64_t oo, const std::array<int64_t, 2>& off, const std::array<int64_t, 2>& st, int64_t len) {
                    const A* x = a + off[0];
                    const B* y = b + off[1];
                    O* z = o + oo;
                    if (st[0] == 1 && st[1] == 1) {
                      for (int64_t i = 0; i < len; ++i) z[i] = op(x[i], y[i]);
                    } else if (st[0] == 1) {
                      const B yv = y[0];
                      for (int64_t i = 0; i < len; ++i) z[i] = op(x[i], yv);
                    } else if (st[1] == 1) {
                      const A xv = x[0];
                      for (int64_t i = 0; i < len; ++i) z[i] = op(xv, y[i]);
                    } else {
                      const O v = op(x[0], y[0]);
                      for (int64_t i = 0; i < len; ++i) z[i] = v;
                    }
                  });
}

// Opset < 7 binary ops: with attributes broadcast=1 and axis, B's dims align with A's starting
// at `axis` instead of at the end. Returns B viewed with the numpy-equivalent shape.
inline Tensor legacy_broadcast_view(int64_t axis, const Tensor& a, const Tensor& b) {
  Tensor v = Tensor::view(b.dtype, b.shape, b.data);
  if (axis < 0) axis += a.rank();
  if (axis >= 0 && axis + b.rank() <= a.rank()) v.shape.resize(size_t(a.rank() - axis), 1);
  return v;
}

// Reads the opset < 7 `broadcast`/`axis` attributes; axis_out = INT64_MIN when not used.
inline Status legacy_broadcast_axis(const Node& n, int64_t& axis_out) {
  axis_out = std::numeric_limits<int64_t>::min();
  PETREL_ASSIGN_OR_RETURN(int64_t bc, attr_int(n, "broadcast", 0));
  if (bc == 0 || !has_attr(n, "axis")) return Status::ok();
  PETREL_ASSIGN_OR_RETURN(axis_out, attr_int(n, "axis", 0));
  return Status::ok();
}

// Broadcast shape of all present inputs, error naming the node.
inline Status broadcast_inputs(OpContext& ctx, int first, int last, Shape& out) {
  out.clear();
  for (int i = first; i < last; ++i) {
    if (!ctx.has_input(i)) continue;
    auto r = broadcast_shapes(out, ctx.input(i).shape);
    if (!r) return ctx.error(r.status().message());
    out = std::move(r).value();
  }
  return Status::ok();
}

}  // namespace petrel::ref::ew
