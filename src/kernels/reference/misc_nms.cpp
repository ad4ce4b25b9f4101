// NonMaxSuppression: greedy per (batch, class) selection by descending score; a candidate is
// dropped when its IoU with an already selected box is strictly greater than iou_threshold.
// Ties in score keep the lower box index first (stable sort), as the reference does.
#include <algorithm>
#include <cmath>

#include "kernels/reference/misc_common.hpp"

namespace petrel::ref {
namespace {

struct Box {
  float y1, x1, y2, x2;
};

class NmsKernel final : public DynamicKernel {
 public:
  explicit NmsKernel(bool center) : center_(center) {}

  Status compute(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(need_inputs(ctx, 2));
    const Tensor& boxes = ctx.input(0);
    const Tensor& scores = ctx.input(1);
    if (!dtype_is_float(boxes.dtype) || !dtype_is_float(scores.dtype)) return ctx.error("boxes and scores must be float");
    if (boxes.rank() != 3 || boxes.shape[2] != 4) return ctx.error("boxes must have shape [batch, boxes, 4]");
    if (scores.rank() != 3 || scores.shape[0] != boxes.shape[0] || scores.shape[2] != boxes.shape[1])
      return ctx.error("scores must have shape [batch, classes, boxes] matching boxes");
    int64_t max_out = 0;
    float iou_threshold = 0, score_threshold = 0;
    const bool use_score = has_value(ctx, 4);
    if (has_value(ctx, 2) && ctx.input(2).numel() > 0) {
      PETREL_ASSIGN_OR_RETURN(max_out, read_scalar_int(ctx, 2, "max_output_boxes_per_class"));
    }
    if (has_value(ctx, 3) && ctx.input(3).numel() > 0) {
      PETREL_ASSIGN_OR_RETURN(double v, read_scalar_float(ctx, 3, "iou_threshold"));
      iou_threshold = float(v);
    }
    if (use_score) {
      PETREL_ASSIGN_OR_RETURN(double v, read_scalar_float(ctx, 4, "score_threshold"));
      score_threshold = float(v);
    }
    if (!(iou_threshold >= 0.0f && iou_threshold <= 1.0f)) return ctx.error("iou_threshold must be in [0, 1]");
    if (max_out < 0) max_out = 0;

    const int64_t nb = boxes.shape[0], nbox = boxes.shape[1], ncls = scores.shape[1];
    std::vector<int64_t> selected;  // triples (batch, class, box)
    std::vector<int64_t> order, kept;
    std::vector<Box> bx(static_cast<size_t>(nbox));
    for (int64_t b = 0; b < nb && max_out > 0; ++b) {
      for (int64_t i = 0; i < nbox; ++i) bx[size_t(i)] = load_box(boxes, (b * nbox + i) * 4);
      for (int64_t c = 0; c < ncls; ++c) {
        const int64_t base = (b * ncls + c) * nbox;
        order.clear();
        for (int64_t i = 0; i < nbox; ++i) {
          const double s = element_as_double(scores, base + i);
          // NaN scores are never selected (and would break the sort's ordering).
          if (!std::isnan(s) && (!use_score || s > score_threshold)) order.push_back(i);
        }
        std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t z) {
          return element_as_double(scores, base + a) > element_as_double(scores, base + z);
        });
        kept.clear();
        for (int64_t i : order) {
          if (int64_t(kept.size()) >= max_out) break;
          bool suppressed = false;
          for (int64_t k : kept)
            if (iou(bx[size_t(i)], bx[size_t(k)]) > iou_threshold) { suppressed = true; break; }
          if (suppressed) continue;
          kept.push_back(i);
          selected.insert(selected.end(), {b, c, i});
        }
      }
    }
    PETREL_ASSIGN_OR_RETURN(Tensor * out, ctx.allocate_output(0, DataType::kInt64, {int64_t(selected.size() / 3), 3}));
    std::copy(selected.begin(), selected.end(), out->as<int64_t>());
    return Status::ok();
  }

 private:
  // Normalises to (y1, x1, y2, x2) with y1 <= y2, x1 <= x2 (corners may come flipped).
  Box load_box(const Tensor& t, int64_t off) const {
    float a = float(element_as_double(t, off)), b = float(element_as_double(t, off + 1));
    float c = float(element_as_double(t, off + 2)), d = float(element_as_double(t, off + 3));
    if (center_) {  // (x_center, y_center, width, height)
      return Box{b - d / 2, a - c / 2, b + d / 2, a + c / 2};
    }
    return Box{std::min(a, c), std::min(b, d), std::max(a, c), std::max(b, d)};
  }

  static float iou(const Box& p, const Box& q) {
    const float ih = std::min(p.y2, q.y2) - std::max(p.y1, q.y1);
    const float iw = std::min(p.x2, q.x2) - std::max(p.x1, q.x1);
    if (ih <= 0 || iw <= 0) return 0;
    const float inter = ih * iw;
    const float uni = (p.y2 - p.y1) * (p.x2 - p.x1) + (q.y2 - q.y1) * (q.x2 - q.x1) - inter;
    if (!(uni > 0)) return 0;
    return inter / uni;
  }

  bool center_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_non_max_suppression(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(int64_t center, attr_int(n, "center_point_box", 0));
  if (center != 0 && center != 1) return unsupported(n.label() + ": center_point_box must be 0 or 1");
  return std::unique_ptr<Kernel>(new NmsKernel(center == 1));
}

}  // namespace petrel::ref
