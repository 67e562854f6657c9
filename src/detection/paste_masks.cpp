// Pasting per-RoI masks into the image (see paste_masks.h for the exact rules).
#include "detection/paste_masks.h"

#include <algorithm>
#include <cmath>

#include "tensor/upsample.h"

namespace dl {

Tensor paste_masks_in_image(const Tensor& masks, const Tensor& boxes, int64_t im_h, int64_t im_w,
                            int padding) {
  const char* op = "paste_masks_in_image";
  const bool four_d = masks.dim() == 4;
  check_shape((masks.dim() == 3 || (four_d && masks.size(1) == 1)) &&
                  masks.size(-1) == masks.size(-2) && masks.size(-1) > 0,
              op, "masks must be [K, M, M] or [K, 1, M, M], got " + masks.shape_str());
  const int64_t K = masks.size(0), M = masks.size(-1);
  check_shape(boxes.dim() == 2 && boxes.size(0) == K && boxes.size(1) == 4, op,
              "boxes must be [" + std::to_string(K) + ", 4] for masks " + masks.shape_str() +
                  ", got " + boxes.shape_str());
  check_shape(im_h > 0 && im_w > 0 && padding >= 0, op,
              "image size must be positive and padding non-negative");
  for (int64_t i = 0; i < boxes.numel(); ++i)
    check_shape(std::isfinite(boxes[i]), op, "boxes must be finite");

  const int64_t P = M + 2 * padding;
  // The box grows with the padding so the mask's cells keep their size (computed in
  // float, as torchvision's float tensors do, then truncated like .to(int64)).
  const float scale = static_cast<float>(static_cast<double>(P) / static_cast<double>(M));
  Tensor out = four_d ? Tensor({K, 1, im_h, im_w}) : Tensor({K, im_h, im_w});
#pragma omp parallel for schedule(dynamic)
  for (int64_t k = 0; k < K; ++k) {
    const float* b = boxes.data() + k * 4;
    const float w_half = (b[2] - b[0]) * 0.5f * scale, h_half = (b[3] - b[1]) * 0.5f * scale;
    const float x_c = (b[2] + b[0]) * 0.5f, y_c = (b[3] + b[1]) * 0.5f;
    const int64_t x1 = static_cast<int64_t>(x_c - w_half), x2 = static_cast<int64_t>(x_c + w_half);
    const int64_t y1 = static_cast<int64_t>(y_c - h_half), y2 = static_cast<int64_t>(y_c + h_half);
    const int64_t w = std::max<int64_t>(x2 - x1 + 1, 1), h = std::max<int64_t>(y2 - y1 + 1, 1);
    const int64_t x_lo = std::max<int64_t>(x1, 0), x_hi = std::min(x2 + 1, im_w);
    const int64_t y_lo = std::max<int64_t>(y1, 0), y_hi = std::min(y2 + 1, im_h);
    if (x_hi <= x_lo || y_hi <= y_lo) continue;  // nothing of the box inside the image

    Tensor padded({1, 1, P, P});
    const float* src = masks.data() + k * M * M;
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < M; ++j) padded[(i + padding) * P + j + padding] = src[i * M + j];
    const Tensor resized = upsample_bilinear2d_forward(padded, h, w, false);
    float* dst = out.data() + k * im_h * im_w;
    for (int64_t y = y_lo; y < y_hi; ++y)
      for (int64_t x = x_lo; x < x_hi; ++x) dst[y * im_w + x] = resized[(y - y1) * w + (x - x1)];
  }
  return out;
}

Tensor binarize_masks(const Tensor& probs, float threshold) {
  Tensor out(probs.shape());
  for (int64_t i = 0; i < probs.numel(); ++i) out[i] = probs[i] > threshold ? 1.0f : 0.0f;
  return out;
}

}  // namespace dl
