// RNN, GRU and LSTM (opset 14: layout attribute). One kernel class; the cell is chosen by op.
// Gate order in W/R/B: RNN (i), GRU (z, r, h), LSTM (i, o, f, c); P holds LSTM peepholes (i, o, f).
// Each (direction, batch) row is run independently so sequence_lens is handled per row: steps past
// a row's length are not computed and its Y entries are zero. Clip applies to gate
// pre-activations (after biases and peepholes). Arithmetic runs in double.
#include <algorithm>
#include <cmath>

#include "kernels/reference/misc_common.hpp"

namespace petrel::ref {
namespace {

enum class Cell : uint8_t { kRnn, kGru, kLstm };

enum class ActKind : uint8_t {
  kRelu, kTanh, kSigmoid, kAffine, kLeakyRelu, kThresholdedRelu, kScaledTanh, kHardSigmoid, kElu, kSoftsign, kSoftplus
};

struct Act {
  ActKind kind = ActKind::kTanh;
  double alpha = 0, beta = 0;
  double operator()(double x) const {
    switch (kind) {
      case ActKind::kRelu: return x > 0 ? x : 0;
      case ActKind::kTanh: return std::tanh(x);
      case ActKind::kSigmoid: return 1 / (1 + std::exp(-x));
      case ActKind::kAffine: return alpha * x + beta;
      case ActKind::kLeakyRelu: return x >= 0 ? x : alpha * x;
      case ActKind::kThresholdedRelu: return x > alpha ? x : 0;
      case ActKind::kScaledTanh: return alpha * std::tanh(beta * x);
      case ActKind::kHardSigmoid: return std::clamp(alpha * x + beta, 0.0, 1.0);
      case ActKind::kElu: return x >= 0 ? x : alpha * (std::exp(x) - 1);
      case ActKind::kSoftsign: return x / (1 + std::fabs(x));
      case ActKind::kSoftplus: return std::log1p(std::exp(-std::fabs(x))) + std::max(x, 0.0);
    }
    return x;
  }
};

struct RnnConfig {
  Cell cell = Cell::kRnn;
  int64_t hidden = -1;  // -1: taken from R
  int dirs = 1;
  bool reverse_only = false;
  std::vector<Act> acts;  // gates-per-cell activations for each direction
  double clip = 0;        // 0: no clipping
  bool layout1 = false, linear_before_reset = false, input_forget = false;
};

int gates_of(Cell c) { return c == Cell::kRnn ? 1 : c == Cell::kGru ? 3 : 4; }

class RecurrentKernel final : public Kernel {
 public:
  explicit RecurrentKernel(RnnConfig cfg) : cfg_(std::move(cfg)) {}

  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(need_inputs(ctx, 3));
    const Tensor& x = ctx.input(0);
    const Tensor& w = ctx.input(1);
    const Tensor& r = ctx.input(2);
    if (!dtype_is_float(x.dtype)) return ctx.error("X must be a float tensor");
    if (x.rank() != 3 || w.rank() != 3 || r.rank() != 3) return ctx.error("X, W and R must be 3-D");
    if (w.dtype != x.dtype || r.dtype != x.dtype) return ctx.error("W and R must have X's dtype");
    const int64_t G = gates_of(cfg_.cell), D = cfg_.dirs;
    const int64_t H = cfg_.hidden >= 0 ? cfg_.hidden : r.shape[2];
    const int64_t S = cfg_.layout1 ? x.shape[1] : x.shape[0], B = cfg_.layout1 ? x.shape[0] : x.shape[1];
    const int64_t I = x.shape[2];
    if (w.shape != Shape{D, G * H, I}) return ctx.error("W must have shape " + shape_to_string({D, G * H, I}));
    if (r.shape != Shape{D, G * H, H}) return ctx.error("R must have shape " + shape_to_string({D, G * H, H}));
    auto check = [&](int i, const Shape& want, const char* name) -> Status {
      if (!has_value(ctx, i)) return Status::ok();
      const Tensor& t = ctx.input(i);
      if (t.dtype != x.dtype) return ctx.error(std::string(name) + " must have X's dtype");
      if (t.shape != want) return ctx.error(std::string(name) + " must have shape " + shape_to_string(want));
      return Status::ok();
    };
    const Shape state = cfg_.layout1 ? Shape{B, D, H} : Shape{D, B, H};
    PETREL_RETURN_IF_ERROR(check(3, {D, 2 * G * H}, "B"));
    PETREL_RETURN_IF_ERROR(check(5, state, "initial_h"));
    if (cfg_.cell == Cell::kLstm) {
      PETREL_RETURN_IF_ERROR(check(6, state, "initial_c"));
      PETREL_RETURN_IF_ERROR(check(7, {D, 3 * H}, "P"));
    }
    if (has_value(ctx, 4)) {
      const Tensor& sl = ctx.input(4);
      if (sl.dtype != DataType::kInt32 && sl.dtype != DataType::kInt64) return ctx.error("sequence_lens must be int32");
      if (sl.shape != Shape{B}) return ctx.error("sequence_lens must have shape [batch]");
    }
    const int max_out = cfg_.cell == Cell::kLstm ? 3 : 2;
    if (ctx.num_outputs() > max_out) return ctx.error("too many outputs");
    if (ctx.has_output(0))
      PETREL_RETURN_IF_ERROR(ctx.set_output(0, x.dtype, cfg_.layout1 ? Shape{B, S, D, H} : Shape{S, D, B, H}));
    if (ctx.has_output(1)) PETREL_RETURN_IF_ERROR(ctx.set_output(1, x.dtype, state));
    if (ctx.has_output(2)) PETREL_RETURN_IF_ERROR(ctx.set_output(2, x.dtype, state));
    return Status::ok();
  }

  Status compute(OpContext& ctx) override {
    return dispatch_float(ctx.input(0).dtype, [&](auto tag) { return run<typename decltype(tag)::type>(ctx); });
  }

 private:
  template <typename T> Status run(OpContext& ctx) {
    const Tensor& x = ctx.input(0);
    const int64_t G = gates_of(cfg_.cell), D = cfg_.dirs, H = ctx.input(2).shape[2], I = x.shape[2];
    const int64_t S = cfg_.layout1 ? x.shape[1] : x.shape[0], B = cfg_.layout1 ? x.shape[0] : x.shape[1];
    const T* X = x.as<T>();
    const T* W = ctx.input(1).as<T>();
    const T* R = ctx.input(2).as<T>();
    const T* Bias = has_value(ctx, 3) ? ctx.input(3).as<T>() : nullptr;
    const T* H0 = has_value(ctx, 5) ? ctx.input(5).as<T>() : nullptr;
    const T* C0 = cfg_.cell == Cell::kLstm && has_value(ctx, 6) ? ctx.input(6).as<T>() : nullptr;
    const T* P = cfg_.cell == Cell::kLstm && has_value(ctx, 7) ? ctx.input(7).as<T>() : nullptr;
    T* Y = ctx.has_output(0) ? ctx.output(0).as<T>() : nullptr;
    T* Yh = ctx.has_output(1) ? ctx.output(1).as<T>() : nullptr;
    T* Yc = ctx.has_output(2) ? ctx.output(2).as<T>() : nullptr;
    if (Y) std::fill(Y, Y + ctx.output(0).numel(), store<T>(ComputeType<T>(0)));

    std::vector<int64_t> lens(size_t(B), S);
    if (has_value(ctx, 4)) {
      for (int64_t b = 0; b < B; ++b) {
        lens[size_t(b)] = element_as_int64(ctx.input(4), b);
        if (lens[size_t(b)] < 0 || lens[size_t(b)] > S) return ctx.error("sequence_lens values must be in [0, seq_length]");
      }
    }
    auto x_at = [&](int64_t t, int64_t b) { return X + (cfg_.layout1 ? b * S + t : t * B + b) * I; };
    auto state_off = [&](int64_t d, int64_t b) { return (cfg_.layout1 ? b * D + d : d * B + b) * H; };
    auto y_off = [&](int64_t t, int64_t d, int64_t b) {
      return (cfg_.layout1 ? (b * S + t) * D + d : (t * D + d) * B + b) * H;
    };
    auto clip = [&](double v) { return cfg_.clip > 0 ? std::clamp(v, -cfg_.clip, cfg_.clip) : v; };

    std::vector<double> h(static_cast<size_t>(H)), c(static_cast<size_t>(H)), hn(static_cast<size_t>(H)), g(static_cast<size_t>(G * H)), rh(static_cast<size_t>(H));
    for (int64_t d = 0; d < D; ++d) {
      const bool reverse = cfg_.reverse_only || d == 1;
      const Act* act = cfg_.acts.data() + d * (cfg_.acts.size() / size_t(D));
      const T* Wd = W + d * G * H * I;
      const T* Rd = R + d * G * H * H;
      const T* Wb = Bias ? Bias + d * 2 * G * H : nullptr;
      const T* Rb = Bias ? Wb + G * H : nullptr;
      const T* Pd = P ? P + d * 3 * H : nullptr;
      auto wb = [&](int64_t k) { return Wb ? double(load(Wb[k])) : 0.0; };
      auto rb = [&](int64_t k) { return Rb ? double(load(Rb[k])) : 0.0; };
      for (int64_t b = 0; b < B; ++b) {
        const int64_t so = state_off(d, b);
        for (int64_t j = 0; j < H; ++j) {
          h[size_t(j)] = H0 ? double(load(H0[so + j])) : 0.0;
          c[size_t(j)] = C0 ? double(load(C0[so + j])) : 0.0;
        }
        const int64_t len = lens[size_t(b)];
        for (int64_t step = 0; step < len; ++step) {
          const int64_t t = reverse ? len - 1 - step : step;
          const T* xt = x_at(t, b);
          // Input projection plus both biases for every gate row; the recurrent term for every
          // row except GRU's h gate, which depends on linear_before_reset.
          for (int64_t k = 0; k < G * H; ++k) {
            double s = wb(k);
            const T* wr = Wd + k * I;
            for (int64_t i = 0; i < I; ++i) s += double(load(xt[i])) * double(load(wr[i]));
            if (!(cfg_.cell == Cell::kGru && k >= 2 * H)) {
              s += rb(k);
              const T* rr = Rd + k * H;
              for (int64_t m = 0; m < H; ++m) s += h[size_t(m)] * double(load(rr[m]));
            }
            g[size_t(k)] = s;
          }
          switch (cfg_.cell) {
            case Cell::kRnn:
              for (int64_t j = 0; j < H; ++j) hn[size_t(j)] = act[0](clip(g[size_t(j)]));
              break;
            case Cell::kGru: {
              for (int64_t j = 0; j < 2 * H; ++j) g[size_t(j)] = act[0](clip(g[size_t(j)]));  // z, r
              const double* z = g.data();
              const double* r = g.data() + H;
              for (int64_t j = 0; j < H; ++j) rh[size_t(j)] = r[j] * h[size_t(j)];
              for (int64_t j = 0; j < H; ++j) {
                const T* rr = Rd + (2 * H + j) * H;
                double rec = 0;
                if (cfg_.linear_before_reset) {
                  for (int64_t m = 0; m < H; ++m) rec += h[size_t(m)] * double(load(rr[m]));
                  rec = r[j] * (rec + rb(2 * H + j));
                } else {
                  for (int64_t m = 0; m < H; ++m) rec += rh[size_t(m)] * double(load(rr[m]));
                  rec += rb(2 * H + j);
                }
                const double hh = act[1](clip(g[size_t(2 * H + j)] + rec));
                hn[size_t(j)] = (1 - z[j]) * hh + z[j] * h[size_t(j)];
              }
              break;
            }
            case Cell::kLstm:
              for (int64_t j = 0; j < H; ++j) {
                const double cp = c[size_t(j)];
                const double pi = Pd ? double(load(Pd[j])) : 0.0, po = Pd ? double(load(Pd[H + j])) : 0.0;
                const double pf = Pd ? double(load(Pd[2 * H + j])) : 0.0;
                const double ig = act[0](clip(g[size_t(j)] + pi * cp));
                const double fg = cfg_.input_forget ? 1 - ig : act[0](clip(g[size_t(2 * H + j)] + pf * cp));
                const double cc = act[1](clip(g[size_t(3 * H + j)]));
                const double cn = fg * cp + ig * cc;
                const double og = act[0](clip(g[size_t(H + j)] + po * cn));
                c[size_t(j)] = cn;
                hn[size_t(j)] = og * act[2](cn);
              }
              break;
          }
          h.swap(hn);
          if (Y) {
            T* yt = Y + y_off(t, d, b);
            for (int64_t j = 0; j < H; ++j) yt[j] = store<T>(ComputeType<T>(h[size_t(j)]));
          }
        }
        for (int64_t j = 0; j < H; ++j) {
          if (Yh) Yh[so + j] = store<T>(ComputeType<T>(h[size_t(j)]));
          if (Yc) Yc[so + j] = store<T>(ComputeType<T>(c[size_t(j)]));
        }
      }
    }
    return Status::ok();
  }

  RnnConfig cfg_;
};

// Parses one activation name and takes its alpha/beta from the attribute lists in order.
Result<Act> parse_act(const Node& n, const std::string& name, const std::vector<float>& alphas, size_t& ai,
                      const std::vector<float>& betas, size_t& bi) {
  std::string s;
  for (char ch : name) s += char(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
  struct Def { const char* name; ActKind kind; int params; double da, db; };
  static const Def kDefs[] = {
      {"relu", ActKind::kRelu, 0, 0, 0},           {"tanh", ActKind::kTanh, 0, 0, 0},
      {"sigmoid", ActKind::kSigmoid, 0, 0, 0},     {"affine", ActKind::kAffine, 2, 1.0, 0.0},
      {"leakyrelu", ActKind::kLeakyRelu, 1, 0.01, 0}, {"thresholdedrelu", ActKind::kThresholdedRelu, 1, 1.0, 0},
      {"scaledtanh", ActKind::kScaledTanh, 2, 1.0, 1.0}, {"hardsigmoid", ActKind::kHardSigmoid, 2, 0.2, 0.5},
      {"elu", ActKind::kElu, 1, 1.0, 0},           {"softsign", ActKind::kSoftsign, 0, 0, 0},
      {"softplus", ActKind::kSoftplus, 0, 0, 0},
  };
  for (const Def& d : kDefs) {
    if (s != d.name) continue;
    Act a{d.kind, d.da, d.db};
    if (d.params >= 1) a.alpha = ai < alphas.size() ? double(alphas[ai++]) : d.da;
    if (d.params >= 2) a.beta = bi < betas.size() ? double(betas[bi++]) : d.db;
    return a;
  }
  return unsupported(n.label() + ": activation '" + name + "'");
}

Result<std::unique_ptr<Kernel>> make_recurrent(const Node& n, Cell cell) {
  RnnConfig cfg;
  cfg.cell = cell;
  PETREL_ASSIGN_OR_RETURN(cfg.hidden, attr_int(n, "hidden_size", -1));
  PETREL_ASSIGN_OR_RETURN(std::string dir, attr_string(n, "direction", "forward"));
  PETREL_ASSIGN_OR_RETURN(int64_t layout, attr_int(n, "layout", 0));
  PETREL_ASSIGN_OR_RETURN(auto names, attr_strings(n, "activations"));
  PETREL_ASSIGN_OR_RETURN(auto alphas, attr_floats(n, "activation_alpha"));
  PETREL_ASSIGN_OR_RETURN(auto betas, attr_floats(n, "activation_beta"));
  PETREL_ASSIGN_OR_RETURN(float clip, attr_float(n, "clip", 0.0f));
  PETREL_ASSIGN_OR_RETURN(int64_t lbr, attr_int(n, "linear_before_reset", 0));
  PETREL_ASSIGN_OR_RETURN(int64_t input_forget, attr_int(n, "input_forget", 0));
  const std::string& L = n.label();
  if (dir == "forward") cfg.dirs = 1;
  else if (dir == "reverse") cfg.dirs = 1, cfg.reverse_only = true;
  else if (dir == "bidirectional") cfg.dirs = 2;
  else return unsupported(L + ": direction '" + dir + "'");
  if (layout != 0 && layout != 1) return unsupported(L + ": layout " + std::to_string(layout));
  if (cfg.hidden == 0 || cfg.hidden < -1 || cfg.hidden > (int64_t(1) << 24))
    return invalid_model(L + ": hidden_size out of range");
  if (has_attr(n, "clip") && !(clip > 0)) return invalid_model(L + ": clip must be positive");
  cfg.clip = clip;
  cfg.layout1 = layout == 1;
  cfg.linear_before_reset = lbr != 0;
  cfg.input_forget = input_forget != 0;

  const size_t per = cell == Cell::kRnn ? 1 : cell == Cell::kGru ? 2 : 3;
  if (names.empty()) {
    const char* defaults[3] = {cell == Cell::kRnn ? "Tanh" : "Sigmoid", "Tanh", "Tanh"};
    for (int d = 0; d < cfg.dirs; ++d)
      for (size_t k = 0; k < per; ++k) names.push_back(defaults[k]);
  } else if (names.size() == per && cfg.dirs == 2) {
    for (size_t k = 0; k < per; ++k) names.push_back(names[k]);  // same functions for both directions
  } else if (names.size() > per * size_t(cfg.dirs)) {
    names.resize(per * size_t(cfg.dirs));  // e.g. RNN's schema default lists two for one direction
  }
  if (names.size() != per * size_t(cfg.dirs))
    return invalid_model(L + ": expected " + std::to_string(per * size_t(cfg.dirs)) + " activations");
  size_t ai = 0, bi = 0;
  for (const auto& name : names) {
    PETREL_ASSIGN_OR_RETURN(Act a, parse_act(n, name, alphas, ai, betas, bi));
    cfg.acts.push_back(a);
  }
  return std::unique_ptr<Kernel>(new RecurrentKernel(std::move(cfg)));
}

}  // namespace

Result<std::unique_ptr<Kernel>> make_rnn(const Node& n) { return make_recurrent(n, Cell::kRnn); }
Result<std::unique_ptr<Kernel>> make_gru(const Node& n) { return make_recurrent(n, Cell::kGru); }
Result<std::unique_ptr<Kernel>> make_lstm(const Node& n) { return make_recurrent(n, Cell::kLstm); }

}  // namespace petrel::ref
