#include "detection/postprocess.h"

#include <algorithm>
#include <cmath>

#include "detection/nms.h"

namespace dl {

std::vector<Detection> postprocess_detections(const Tensor& scores, int first_class,
                                              const Tensor& boxes, int width, int height,
                                              const PostprocessOptions& o) {
  check_shape(scores.dim() == 2 && boxes.dim() == 2 && boxes.size(0) == scores.size(0),
              "postprocess_detections", "scores [N, C] and boxes [N, 4 or 4K]");
  const int64_t N = scores.size(0), C = scores.size(1);
  const int K = static_cast<int>(C) - first_class;
  const bool per_class = boxes.size(1) == 4 * int64_t(K) && K != 1;
  check_shape(per_class || boxes.size(1) == 4, "postprocess_detections",
              "boxes must be [N, 4] or [N, 4K]");
  std::vector<Box> cb;
  std::vector<float> cs;
  std::vector<int> cc;
  for (int64_t i = 0; i < N; ++i)
    for (int k = 0; k < K; ++k) {
      const float p = scores[i * C + first_class + k];
      if (!(p >= o.score_threshold)) continue;
      const float* b = boxes.data() + (per_class ? (i * K + k) * 4 : i * 4);
      const Box box = clip_box({b[0], b[1], b[2], b[3]}, float(width), float(height));
      if (o.drop_empty && (box.width() <= 0 || box.height() <= 0)) continue;
      cb.push_back(box);
      cs.push_back(p);
      cc.push_back(k);
    }
  const std::vector<int> keep = batched_nms(cb, cs, cc, o.nms_iou);
  std::vector<Detection> out;
  for (size_t i = 0; i < keep.size() && static_cast<int>(i) < o.max_detections; ++i)
    out.push_back({cb[keep[i]], cc[keep[i]], cs[keep[i]], {}, {}});
  return out;
}

void softmax_strided(const float* logits, int64_t step, int classes, float* out) {
  float m = logits[0];
  for (int c = 1; c < classes; ++c) m = std::max(m, logits[c * step]);
  double z = 0;
  for (int c = 0; c < classes; ++c) z += std::exp(double(logits[c * step] - m));
  for (int c = 0; c < classes; ++c)
    out[c] = static_cast<float>(std::exp(double(logits[c * step] - m)) / z);
}

Tensor softmax_rows(const Tensor& logits) {
  check_shape(logits.dim() == 2, "softmax_rows", "logits must be [N, C]");
  const int64_t N = logits.size(0), C = logits.size(1);
  Tensor p({N, C});
  for (int64_t i = 0; i < N; ++i)
    softmax_strided(logits.data() + i * C, 1, static_cast<int>(C), p.data() + i * C);
  return p;
}

}  // namespace dl
