#!/usr/bin/python3
"""Golden dumps of SSD's default boxes, matching and hard negative mining, computed by
torchvision 0.14 (Debian's python3-torchvision). Run with Debian's interpreter:

    /usr/bin/python3 tools/golden/make_torchvision_ssd_golden.py

Writes tests/golden/torchvision/ssd.json:
  - default_boxes: DefaultBoxGenerator on bin/ssd's default maps and scales (32, 16, 8, 4
    on a 128 x 128 image, s_min 0.12, s_max 0.48) with the paper's full set of ratios
    [2, 3] (bin/ssd's default is [2]), detlab's scales passed explicitly (the formula
    for k = 1..m + 1), and the last map's boxes with torchvision's own scale list (the
    formula, then 1.0; the other maps' boxes are the same), in pixels; and a non-square case (96 x 128, maps 12 x 16 and 6 x 8 and 3 x 4, ratios
    [2]) in both relative (cx, cy, w, h) and pixel form, with clip off and on;
  - matching: SSDMatcher(0.5) on the small case's default boxes and ground truths, two of
    which share their best default box;
  - loss: SSD.compute_loss (box coder (10, 10, 5, 5), neg_to_pos_ratio 3) on fixed random
    head outputs of a 2-image batch, and the negatives it selects, computed by the same
    lines as compute_loss (which does not return them) and checked here to give its loss.
tests/test_ssd.cpp compares detlab to the file; CI never needs torch.
"""
import json
import math
import os
import types

import torch
import torch.nn.functional as F
from torchvision.models.detection import _utils as det_utils
from torchvision.models.detection.anchor_utils import DefaultBoxGenerator
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.ssd import SSD
from torchvision.ops import box_iou
from torchvision_dump import OUT, enc, ints


def detlab_scales(s_min, s_max, m):
    # ssd_scales in src/detection/default_boxes.cpp: the formula for k = 1..m + 1
    return [s_min + (s_max - s_min) * k / (m - 1.0) for k in range(m + 1)]


def generate(ratios, maps, image, **kw):
    gen = DefaultBoxGenerator([ratios] * len(maps), **kw)
    feats = [torch.zeros(1, 1, h, w) for h, w in maps]
    images = ImageList(torch.zeros(1, 3, image[0], image[1]), [tuple(image)])
    pixels = gen(images, feats)[0]
    relative = gen._grid_default_boxes([list(m) for m in maps], list(image))
    return gen, pixels, relative


def default_box_cases():
    out = {}
    maps, image, ratios = [(32, 32), (16, 16), (8, 8), (4, 4)], [128, 128], [2, 3]
    s_min, s_max = 0.12, 0.48
    gen, pix, _ = generate(ratios, maps, image, scales=detlab_scales(s_min, s_max, len(maps)))
    out["default"] = {"maps": [list(m) for m in maps], "image": image, "aspect_ratios": ratios,
                      "s_min": s_min, "s_max": s_max, "scales": gen.scales, "boxes": enc(pix)}
    # torchvision's own scale list differs only in s_{m+1}: every map but the last has the
    # same boxes (checked here), so only the last map's are written.
    gen, tv, _ = generate(ratios, maps, image, min_ratio=s_min, max_ratio=s_max)
    last = maps[-1][0] * maps[-1][1] * (2 + 2 * len(ratios))
    assert torch.equal(tv[:-last], pix[:-last])
    out["torchvision_scales"] = {"scales": gen.scales, "last_map_boxes": enc(tv[-last:])}
    maps, image, ratios = [(12, 16), (6, 8), (3, 4)], [96, 128], [2]
    s_min, s_max = 0.2, 0.9  # SSD300's: the last map's boxes reach past the image
    for clip in (False, True):
        gen, pix, rel = generate(ratios, maps, image, scales=detlab_scales(s_min, s_max, len(maps)),
                                 clip=clip)
        out["small_clip" if clip else "small"] = {
            "maps": [list(m) for m in maps], "image": image, "aspect_ratios": ratios,
            "s_min": s_min, "s_max": s_max, "clip": clip, "scales": gen.scales,
            "relative": enc(rel), "boxes": enc(pix)}
    return out


def matching_case(anchors):
    gt = torch.tensor([[10.0, 12.0, 40.0, 30.0], [60.0, 40.0, 84.0, 90.0], [8.0, 60.0, 20.0, 70.0],
                       [62.0, 42.0, 86.0, 88.0], [100.0, 5.0, 127.0, 40.0]])
    q = box_iou(gt, anchors)
    matches = det_utils.SSDMatcher(0.5)(q)
    best = q.max(dim=1)[1]
    return {"gt_boxes": enc(gt), "matches": ints(matches), "best_default_box": ints(best)}


def loss_case():
    torch.manual_seed(3)
    maps, image, ratios = [(4, 4), (2, 2)], [32, 32], [2]
    gen, pix, _ = generate(ratios, maps, image, scales=detlab_scales(0.25, 0.6, 2))
    D, C = pix.shape[0], 4
    gt = [torch.tensor([[2.0, 3.0, 14.0, 13.0], [16.0, 10.0, 30.0, 31.0]]),
          torch.tensor([[5.0, 18.0, 13.0, 27.0]])]
    labels = [torch.tensor([1, 3]), torch.tensor([2])]
    targets = [{"boxes": b, "labels": l} for b, l in zip(gt, labels)]
    matcher = det_utils.SSDMatcher(0.5)
    matched = [matcher(box_iou(b, pix)) for b in gt]
    head = {"cls_logits": torch.randn(2, D, C) * 2.0, "bbox_regression": torch.randn(2, D, 4) * 0.5}
    me = types.SimpleNamespace(box_coder=det_utils.BoxCoder(weights=(10.0, 10.0, 5.0, 5.0)),
                               neg_to_pos_ratio=(1.0 - 0.25) / 0.25)
    losses = SSD.compute_loss(me, targets, head, [pix, pix], matched)

    # compute_loss's selection, line for line.
    cls_targets = torch.stack([torch.where(m >= 0, l[m.clamp(min=0)], torch.zeros_like(m))
                               for m, l in zip(matched, labels)])
    cls_loss = F.cross_entropy(head["cls_logits"].view(-1, C), cls_targets.view(-1),
                               reduction="none").view(cls_targets.size())
    foreground_idxs = cls_targets > 0
    num_negative = me.neg_to_pos_ratio * foreground_idxs.sum(1, keepdim=True)
    negative_loss = cls_loss.clone()
    negative_loss[foreground_idxs] = -float("inf")
    values, idx = negative_loss.sort(1, descending=True)
    background_idxs = idx.sort(1)[1] < num_negative
    N = max(1, int(foreground_idxs.sum()))
    cls_check = (cls_loss[foreground_idxs].sum() + cls_loss[background_idxs].sum()) / N
    assert abs(float(cls_check) - float(losses["classification"])) < 1e-6
    # no ties among the losses: any order of equal values would pick the same boxes
    assert len(set(cls_loss.reshape(-1).tolist())) == cls_loss.numel()
    return {"maps": [list(m) for m in maps], "image": image, "aspect_ratios": ratios,
            "s_min": 0.25, "s_max": 0.6, "classes": C, "default_boxes": enc(pix),
            "gt_boxes": [enc(b) for b in gt], "labels": [ints(l) for l in labels],
            "matched": [ints(m) for m in matched],
            "cls_logits": enc(head["cls_logits"]), "bbox_regression": enc(head["bbox_regression"]),
            "cls_loss": enc(cls_loss),
            "negatives": [ints(torch.where(b)[0]) for b in background_idxs],
            "loss_classification": float(losses["classification"]),
            "loss_bbox_regression": float(losses["bbox_regression"])}


if __name__ == "__main__":
    boxes = default_box_cases()
    small = torch.tensor(boxes["small"]["boxes"]["data"]).view(-1, 4)
    doc = {"generator": "tools/golden/make_torchvision_ssd_golden.py",
           "torch": torch.__version__, "torchvision": __import__("torchvision").__version__,
           "default_boxes": boxes, "matching": matching_case(small), "loss": loss_case()}
    path = os.path.join(OUT, "ssd.json")
    with open(path, "w") as f:
        json.dump(doc, f)
        f.write("\n")
    print("wrote", path)
