// Boxes: the one structure every detector shares (detectron2's structures/boxes).
// Coordinates are continuous pixels in corner form (x1, y1, x2, y2) with width =
// x2 - x1 (torchvision's convention, no "+1"). A box with x2 <= x1 or y2 <= y1 is
// degenerate: its area is 0 and its IoU with anything is 0.
#pragma once
#include <array>
#include <vector>

#include "tensor/tensor.h"

namespace dl {

struct Box {
  float x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  float width() const { return x2 - x1; }
  float height() const { return y2 - y1; }
  float cx() const { return 0.5f * (x1 + x2); }
  float cy() const { return 0.5f * (y1 + y2); }
};

// The three ways papers and files write a box: corners (torchvision, VOC), corner +
// size (COCO's bbox), centre + size (YOLO, SSD and the box coder).
enum class BoxFormat { XYXY, XYWH, CXCYWH };

Box box_from(const std::array<float, 4>& v, BoxFormat format);
std::array<float, 4> box_to(const Box& box, BoxFormat format);

float box_area(const Box& box);                                // 0 when degenerate
Box clip_box(const Box& box, float image_width, float image_height);
// The box in the left-right mirror of an image of width W (image/transforms.h hflip).
inline Box hflip_box(const Box& b, float W) { return {W - b.x2, b.y1, W - b.x1, b.y2}; }
Box intersect_boxes(const Box& a, const Box& b);               // may be degenerate
float box_iou(const Box& a, const Box& b);                     // 0 when the union is 0
// GIoU (Rezatofighi et al. 2019, eq. 1): IoU - |C \ (A u B)| / |C|, C the smallest
// enclosing box. In [-1, 1]; unlike IoU it still ranks boxes that do not overlap.
float generalized_box_iou(const Box& a, const Box& b);

// Pairwise matrices, row-major a.size() x b.size() (torchvision's box_iou and
// generalized_box_iou).
std::vector<float> box_iou_matrix(const std::vector<Box>& a, const std::vector<Box>& b);
std::vector<float> generalized_box_iou_matrix(const std::vector<Box>& a,
                                              const std::vector<Box>& b);

// Tensor [N, 4] (xyxy) <-> boxes, for network outputs and targets.
std::vector<Box> boxes_from_tensor(const Tensor& t);   // throws ShapeError unless [N, 4]
Tensor boxes_to_tensor(const std::vector<Box>& boxes);

// Drops boxes narrower or shorter than min_size; returns the kept indices in order.
std::vector<int> remove_small_boxes(const std::vector<Box>& boxes, float min_size);

}  // namespace dl
