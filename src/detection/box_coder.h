// Box coder: the regression target a detector learns instead of raw coordinates
// (R-CNN, Girshick et al. 2014, appendix C; Faster R-CNN, Ren et al. 2015, eq. 2).
// A box is described relative to a reference box (anchor or proposal) a:
//   tx = wx (x - xa) / wa    ty = wy (y - ya) / ha
//   tw = ww log(w / wa)      th = wh log(h / ha)
// with (x, y) the centre and (w, h) the size. The deltas are scale-invariant
// translations and log-space scalings, so one regressor serves boxes of every size.
// The weights (wx, wy, ww, wh) rescale the targets to roughly unit variance, as in
// torchvision's BoxCoder: (1, 1, 1, 1) for the RPN, (10, 10, 5, 5) for the Fast/Faster
// R-CNN box head.
#pragma once
#include <array>
#include <vector>

#include "detection/boxes.h"
#include "tensor/tensor.h"

namespace dl {

// log(1000 / 16): decoding clamps tw and th here so exp() cannot overflow and no
// box grows more than 62.5x its reference in one step (Detectron's bbox_xform_clip).
// (A literal, not std::log, so it is a compile-time constant; the golden test checks it.)
constexpr float kBoxDeltaClamp = 4.13516655674235591f;

struct BoxCoder {
  float wx = 1, wy = 1, ww = 1, wh = 1;
  float clamp = kBoxDeltaClamp;   // upper bound on dw, dh after dividing by ww, wh
};

// The coder Fast/Faster R-CNN's box head uses (Detectron's BBOX_REG_WEIGHTS).
inline BoxCoder rcnn_box_coder() { return BoxCoder{10, 10, 5, 5, kBoxDeltaClamp}; }

using BoxDelta = std::array<float, 4>;   // (tx, ty, tw, th)

// Both boxes must have positive width and height (a degenerate reference has no scale
// to be relative to; the log of a non-positive size is not a number):
// std::invalid_argument otherwise, rather than an inf/NaN loss later.
BoxDelta encode_box(const Box& target, const Box& reference, const BoxCoder& coder = {});
// The inverse; tw, th are clamped from above (not below: exp of a very negative
// number is a harmless 0). A degenerate reference decodes to a degenerate box.
Box decode_box(const BoxDelta& delta, const Box& reference, const BoxCoder& coder = {});

std::vector<BoxDelta> encode_boxes(const std::vector<Box>& targets,
                                   const std::vector<Box>& references,
                                   const BoxCoder& coder = {});
std::vector<Box> decode_boxes(const std::vector<BoxDelta>& deltas,
                              const std::vector<Box>& references, const BoxCoder& coder = {});

// Tensor forms for the heads. encode_deltas returns [N, 4]. decode_deltas takes
// [N, 4K] deltas (K = 1 for class-agnostic regression, K = classes for per-class
// regression: columns 4k..4k+3 belong to class k) and returns [N, 4K] xyxy boxes,
// each decoded against reference row n. ShapeError on mismatched sizes.
Tensor encode_deltas(const std::vector<Box>& targets, const std::vector<Box>& references,
                     const BoxCoder& coder = {});
Tensor decode_deltas(const Tensor& deltas, const std::vector<Box>& references,
                     const BoxCoder& coder = {});

}  // namespace dl
