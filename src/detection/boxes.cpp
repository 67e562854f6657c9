#include "detection/boxes.h"

#include <algorithm>

namespace dl {

Box box_from(const std::array<float, 4>& v, BoxFormat format) {
  switch (format) {
    case BoxFormat::XYXY: return {v[0], v[1], v[2], v[3]};
    case BoxFormat::XYWH: return {v[0], v[1], v[0] + v[2], v[1] + v[3]};
    case BoxFormat::CXCYWH:
      return {v[0] - 0.5f * v[2], v[1] - 0.5f * v[3], v[0] + 0.5f * v[2], v[1] + 0.5f * v[3]};
  }
  return {};
}

std::array<float, 4> box_to(const Box& b, BoxFormat format) {
  switch (format) {
    case BoxFormat::XYXY: return {b.x1, b.y1, b.x2, b.y2};
    case BoxFormat::XYWH: return {b.x1, b.y1, b.width(), b.height()};
    case BoxFormat::CXCYWH: return {b.cx(), b.cy(), b.width(), b.height()};
  }
  return {};
}

float box_area(const Box& b) {
  return std::max(0.0f, b.width()) * std::max(0.0f, b.height());
}

Box clip_box(const Box& b, float image_width, float image_height) {
  return {std::clamp(b.x1, 0.0f, image_width), std::clamp(b.y1, 0.0f, image_height),
          std::clamp(b.x2, 0.0f, image_width), std::clamp(b.y2, 0.0f, image_height)};
}

Box intersect_boxes(const Box& a, const Box& b) {
  return {std::max(a.x1, b.x1), std::max(a.y1, b.y1), std::min(a.x2, b.x2),
          std::min(a.y2, b.y2)};
}

float box_iou(const Box& a, const Box& b) {
  const float inter = box_area(intersect_boxes(a, b));
  const float uni = box_area(a) + box_area(b) - inter;
  return uni > 0 ? inter / uni : 0.0f;
}

float generalized_box_iou(const Box& a, const Box& b) {
  const float inter = box_area(intersect_boxes(a, b));
  const float uni = box_area(a) + box_area(b) - inter;
  const Box hull{std::min(a.x1, b.x1), std::min(a.y1, b.y1), std::max(a.x2, b.x2),
                 std::max(a.y2, b.y2)};
  const float enclosing = box_area(hull);
  const float iou = uni > 0 ? inter / uni : 0.0f;
  return enclosing > 0 ? iou - (enclosing - uni) / enclosing : iou;
}

namespace {
std::vector<float> pairwise(const std::vector<Box>& a, const std::vector<Box>& b,
                            float (*f)(const Box&, const Box&)) {
  std::vector<float> m(a.size() * b.size());
  for (size_t i = 0; i < a.size(); ++i)
    for (size_t j = 0; j < b.size(); ++j) m[i * b.size() + j] = f(a[i], b[j]);
  return m;
}
}  // namespace

std::vector<float> box_iou_matrix(const std::vector<Box>& a, const std::vector<Box>& b) {
  return pairwise(a, b, box_iou);
}

std::vector<float> generalized_box_iou_matrix(const std::vector<Box>& a,
                                              const std::vector<Box>& b) {
  return pairwise(a, b, generalized_box_iou);
}

std::vector<Box> boxes_from_tensor(const Tensor& t) {
  check_shape(t.dim() == 2 && t.size(1) == 4, "boxes_from_tensor",
              "expected [N, 4] boxes, got " + t.shape_str());
  std::vector<Box> boxes(static_cast<size_t>(t.size(0)));
  for (size_t i = 0; i < boxes.size(); ++i) {
    const float* p = t.data() + 4 * i;
    boxes[i] = {p[0], p[1], p[2], p[3]};
  }
  return boxes;
}

Tensor boxes_to_tensor(const std::vector<Box>& boxes) {
  Tensor t({static_cast<int64_t>(boxes.size()), 4});
  for (size_t i = 0; i < boxes.size(); ++i) {
    float* p = t.data() + 4 * i;
    p[0] = boxes[i].x1, p[1] = boxes[i].y1, p[2] = boxes[i].x2, p[3] = boxes[i].y2;
  }
  return t;
}

std::vector<int> remove_small_boxes(const std::vector<Box>& boxes, float min_size) {
  std::vector<int> keep;
  for (size_t i = 0; i < boxes.size(); ++i)
    if (boxes[i].width() >= min_size && boxes[i].height() >= min_size)
      keep.push_back(static_cast<int>(i));
  return keep;
}

}  // namespace dl
