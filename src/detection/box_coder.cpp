#include "detection/box_coder.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace dl {

namespace {

// Centre and size in torchvision's order of operations (x1 + w/2, not (x1+x2)/2), so
// the golden comparison is limited by exp/log rounding only.
struct CentreSize {
  float cx, cy, w, h;
};

CentreSize centre_size(const Box& b) {
  const float w = b.x2 - b.x1, h = b.y2 - b.y1;
  return {b.x1 + 0.5f * w, b.y1 + 0.5f * h, w, h};
}

void check_positive(const Box& b, const char* op, const char* which) {
  if (!(b.x2 > b.x1 && b.y2 > b.y1))
    throw std::invalid_argument(std::string(op) + ": " + which +
                                " box must have positive width and height");
}

void check_sizes(size_t a, size_t b, const char* op) {
  check_shape(a == b, op,
              std::to_string(a) + " boxes but " + std::to_string(b) + " reference boxes");
}

}  // namespace

BoxDelta encode_box(const Box& target, const Box& reference, const BoxCoder& c) {
  check_positive(reference, "encode_box", "reference");
  check_positive(target, "encode_box", "target");
  const CentreSize t = centre_size(target), r = centre_size(reference);
  return {c.wx * (t.cx - r.cx) / r.w, c.wy * (t.cy - r.cy) / r.h, c.ww * std::log(t.w / r.w),
          c.wh * std::log(t.h / r.h)};
}

Box decode_box(const BoxDelta& d, const Box& reference, const BoxCoder& c) {
  const CentreSize r = centre_size(reference);
  const float dx = d[0] / c.wx, dy = d[1] / c.wy;
  const float dw = std::min(d[2] / c.ww, c.clamp), dh = std::min(d[3] / c.wh, c.clamp);
  const float cx = dx * r.w + r.cx, cy = dy * r.h + r.cy;
  const float half_w = 0.5f * (std::exp(dw) * r.w), half_h = 0.5f * (std::exp(dh) * r.h);
  return {cx - half_w, cy - half_h, cx + half_w, cy + half_h};
}

std::vector<BoxDelta> encode_boxes(const std::vector<Box>& targets,
                                   const std::vector<Box>& references, const BoxCoder& coder) {
  check_sizes(targets.size(), references.size(), "encode_boxes");
  std::vector<BoxDelta> out(targets.size());
  for (size_t i = 0; i < targets.size(); ++i) out[i] = encode_box(targets[i], references[i], coder);
  return out;
}

std::vector<Box> decode_boxes(const std::vector<BoxDelta>& deltas,
                              const std::vector<Box>& references, const BoxCoder& coder) {
  check_sizes(deltas.size(), references.size(), "decode_boxes");
  std::vector<Box> out(deltas.size());
  for (size_t i = 0; i < deltas.size(); ++i) out[i] = decode_box(deltas[i], references[i], coder);
  return out;
}

Tensor encode_deltas(const std::vector<Box>& targets, const std::vector<Box>& references,
                     const BoxCoder& coder) {
  check_sizes(targets.size(), references.size(), "encode_deltas");
  Tensor out({static_cast<int64_t>(targets.size()), 4});
  for (size_t i = 0; i < targets.size(); ++i) {
    const BoxDelta d = encode_box(targets[i], references[i], coder);
    std::copy(d.begin(), d.end(), out.data() + 4 * i);
  }
  return out;
}

Tensor decode_deltas(const Tensor& deltas, const std::vector<Box>& references,
                     const BoxCoder& coder) {
  check_shape(deltas.dim() == 2 && deltas.size(1) % 4 == 0 && deltas.size(1) > 0,
              "decode_deltas", "expected [N, 4K] deltas, got " + deltas.shape_str());
  check_sizes(static_cast<size_t>(deltas.size(0)), references.size(), "decode_deltas");
  const int64_t n = deltas.size(0), cols = deltas.size(1);
  Tensor out({n, cols});
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < cols; k += 4) {
      const float* d = deltas.data() + i * cols + k;
      const Box b = decode_box({d[0], d[1], d[2], d[3]}, references[i], coder);
      float* o = out.data() + i * cols + k;
      o[0] = b.x1, o[1] = b.y1, o[2] = b.x2, o[3] = b.y2;
    }
  return out;
}

}  // namespace dl
