#!/usr/bin/python3
"""Golden dumps of detlab's box machinery, computed by torchvision (a peer no one here
wrote). Run with Debian's interpreter, the one that can import torch 1.13 and
torchvision 0.14:

    /usr/bin/python3 tools/golden/make_torchvision_golden.py

Writes tests/golden/torchvision/boxes.json with cases for torchvision.ops.box_iou,
generalized_box_iou, nms and batched_nms, the detection models' BoxCoder (encode and
decode, weights (1,1,1,1) and (10,10,5,5)), AnchorGenerator and Matcher; then runs
make_torchvision_roi_golden.py for tests/golden/torchvision/roi_ops.json (RoI pool,
RoIAlign, PS-RoI pool, mask pasting).
tests/test_torchvision_boxes.cpp compares detlab to the file; CI never needs torch.

Exact score ties in nms: torch.sort(descending=True) is NOT stable on CPU (sorting
100 equal values returns a scrambled permutation), but torchvision 0.14's CPU nms
kernel sorts the scores with a stable sort, so equal scores are visited in index
order and the lower index wins: the same rule as detlab. The "ties" cases below pin
that down with many equal scores (a scrambled order would fail them). batched_nms
inherits it for N <= 1000 boxes on CPU (its "coordinate trick" path is a single nms
call). For N > 1000 it switches to per-class nms followed by an unstable re-sort of
the kept indices by score, so the order among equal scores is unspecified there;
the case marked "tie_order": "unspecified" documents this and is compared as a set.

Degenerate boxes: for two zero-area boxes torchvision's IoU is 0/0 = NaN (detlab
defines it as 0). In nms both mean "not suppressed" (NaN > t is false), so nms cases
include zero-area boxes, duplicates too; box_iou/giou cases avoid pairs of two
zero-area boxes, where the values themselves would differ.
"""
import json
import math
import os

import torch
import torchvision
from torchvision.models.detection._utils import BoxCoder, Matcher
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.image_list import ImageList
from torchvision.ops import batched_nms, box_iou, generalized_box_iou, nms
from torchvision.ops.boxes import _batched_nms_vanilla
from torchvision_dump import OUT, enc, ints

TOL = 1e-5  # |detlab - torchvision| <= TOL * max(1, max|torchvision|), per tensor


def random_boxes(n, extent=100.0, integer=False, min_size=1.0):
    xy = torch.rand(n, 2) * extent * 0.8
    wh = torch.rand(n, 2) * extent * 0.3 + min_size
    if integer:
        xy, wh = xy.floor(), wh.floor()
    return torch.cat([xy, xy + wh], dim=1)


def quantised_scores(n, levels):
    """Scores from a few values only, so exact ties are everywhere."""
    return torch.randint(0, levels, (n,)).to(torch.float32) / (levels - 1)


def iou_cases():
    hand_a = torch.tensor([[0, 0, 2, 2], [0, 0, 1, 1], [5, 5, 5, 9], [3, 3, 3, 3], [1, 0, 4, 1]],
                          dtype=torch.float32)  # rows 2, 3: zero-area line and point
    hand_b = torch.tensor([[1, 1, 3, 3], [2, 0, 3, 1], [9, 9, 10, 10], [0, 0, 3, 1],
                           [4, 4, 6, 10]], dtype=torch.float32)
    pairs = [("hand: overlap, touching, disjoint, contained, zero-area rows", hand_a, hand_b),
             ("random 7x9", random_boxes(7), random_boxes(9)),
             ("random 12x5 large", random_boxes(12, 1000.0), random_boxes(5, 1000.0))]
    iou, giou = [], []
    for name, a, b in pairs:
        iou.append({"name": name, "a": enc(a), "b": enc(b), "out": enc(box_iou(a, b))})
        giou.append({"name": name, "a": enc(a), "b": enc(b), "out": enc(generalized_box_iou(a, b))})
    return iou, giou


def nms_cases():
    cs = []

    def add(name, boxes, scores, thr, **extra):
        c = {"name": name, "boxes": enc(boxes), "scores": enc(scores), "iou_threshold": thr,
             "keep": ints(nms(boxes, scores, thr))}
        c.update(extra)
        cs.append(c)

    b, s = random_boxes(40, extent=40.0), torch.rand(40)
    for thr in (0.3, 0.5, 0.7):
        add(f"random 40, threshold {thr}", b, s, thr)
    b = random_boxes(200, integer=True)
    s = quantised_scores(200, 5)
    for thr in (0.2, 0.5):
        add(f"ties: 200 integer boxes, 5 score levels, threshold {thr}", b, s, thr)
    same = torch.tensor([[10, 10, 20, 20]] * 6 + [[12, 10, 22, 20]] * 3, dtype=torch.float32)
    add("ties: identical boxes with equal scores keep the lowest index", same,
        torch.tensor([0.5] * 9), 0.5)
    n = 1200
    apart = torch.tensor([[20 * i, 0, 20 * i + 10, 10] for i in range(n)], dtype=torch.float32)
    add("ties: 1200 disjoint boxes all scoring 1 (a stable sort keeps index order)", apart,
        torch.ones(n), 0.5)
    degenerate = torch.tensor([[0, 0, 0, 0], [0, 0, 0, 0], [5, 5, 5, 10], [0, 0, 10, 10],
                               [2, 2, 8, 2], [1, 1, 9, 9], [5, 5, 5, 10]], dtype=torch.float32)
    for thr in (0.0, 0.5):
        add(f"degenerate zero-area boxes, threshold {thr}", degenerate,
            torch.tensor([0.9, 0.8, 0.7, 0.6, 0.6, 0.5, 0.4]), thr)
    add("IoU exactly at the threshold is not suppressed",
        torch.tensor([[0, 0, 3, 1], [1, 0, 4, 1]], dtype=torch.float32),
        torch.tensor([0.9, 0.8]), 0.5)
    add("empty", torch.zeros(0, 4), torch.zeros(0), 0.5)
    return cs


def batched_cases():
    cs = []

    def add(name, boxes, scores, idxs, thr, **extra):
        c = {"name": name, "boxes": enc(boxes), "scores": enc(scores), "idxs": ints(idxs),
             "iou_threshold": thr, "keep": ints(batched_nms(boxes, scores, idxs, thr))}
        c.update(extra)
        cs.append(c)

    # Integer corners: the coordinate trick's class offsets are then exact in float32,
    # so its IoUs equal the per-class ones bit for bit.
    b = random_boxes(80, extent=50.0, integer=True)
    add("80 boxes, 4 classes, 4 score levels (coordinate-trick path)", b,
        quantised_scores(80, 4), torch.randint(0, 4, (80,)), 0.3)
    b = random_boxes(1100, extent=300.0, integer=True)
    add("1100 boxes, 5 classes, distinct scores (per-class path, N > 1000)", b,
        torch.randperm(1100).to(torch.float32) / 1100, torch.randint(0, 5, (1100,)), 0.4)
    n = 1100
    apart = torch.tensor([[20 * i, 0, 20 * i + 10, 10] for i in range(n)], dtype=torch.float32)
    add("1100 disjoint boxes all scoring 1 on the per-class path: unstable re-sort", apart,
        torch.ones(n), torch.arange(n) % 3, 0.5, tie_order="unspecified")
    add("empty", torch.zeros(0, 4), torch.zeros(0), torch.zeros(0, dtype=torch.int64), 0.5)
    return cs


def coder_cases():
    enc_cs, dec_cs = [], []
    for weights in ((1.0, 1.0, 1.0, 1.0), (10.0, 10.0, 5.0, 5.0)):
        coder = BoxCoder(weights)
        gt, anchors = random_boxes(30), random_boxes(30)
        enc_cs.append({"name": f"random 30, weights {weights}", "weights": list(weights),
                       "targets": enc(gt), "anchors": enc(anchors),
                       "out": enc(coder.encode_single(gt, anchors))})
        for k in (1, 3):
            codes = torch.randn(25, 4 * k) * 0.5
            codes[0, 2] = 10.0 * weights[2]    # beyond log(1000/16): clamped
            codes[1, 3] = 6.0 * weights[3]
            codes[2, 2] = -8.0 * weights[2]    # no lower clamp
            ref = random_boxes(25)
            dec_cs.append({"name": f"random 25, {k} class(es), weights {weights}",
                           "weights": list(weights), "deltas": enc(codes), "anchors": enc(ref),
                           "out": enc(coder.decode_single(codes, ref))})
    return enc_cs, dec_cs


def anchor_cases():
    cs = []
    specs = [  # sizes, aspect ratios, image (h, w), feature-map grids
        (((32, 64), (128,)), ((0.5, 1.0, 2.0), (0.5, 1.0, 2.0)), (64, 96), [(4, 6), (2, 3)]),
        (((33, 35, 45),), ((1.0, 0.7),), (70, 100), [(5, 7)]),   # halves round to even
        (((16,), (32,), (64,)), ((0.5, 1.0, 2.0),) * 3, (64, 64), [(8, 8), (4, 4), (2, 2)]),
    ]
    for sizes, ratios, (h, w), grids in specs:
        gen = AnchorGenerator(sizes, ratios)
        images = ImageList(torch.zeros(1, 3, h, w), [(h, w)])
        feats = [torch.zeros(1, 1, gh, gw) for gh, gw in grids]
        anchors = gen(images, feats)[0]
        cs.append({"name": f"sizes {sizes} ratios {ratios} image {h}x{w} grids {grids}",
                   "sizes": [list(s) for s in sizes], "aspect_ratios": [list(r) for r in ratios],
                   "image_size": [h, w], "grid_sizes": [list(g) for g in grids],
                   "out": enc(anchors)})
    return cs


def matcher_cases():
    cs = []
    gt = random_boxes(4, integer=True)
    gt = torch.cat([gt, gt[1:2]])        # a duplicate ground truth: ties along dim 0
    # Anchors near the ground truths (jittered copies) so every threshold band is hit,
    # plus two exact copies of one ground truth: ties along dim 1.
    near = gt.repeat(8, 1) + torch.randint(-3, 4, (40, 4)).to(torch.float32)
    near[:, 2:] = torch.maximum(near[:, 2:], near[:, :2] + 1)
    anchors = torch.cat([near, random_boxes(10, integer=True), gt[2:3], gt[2:3]])
    quality = box_iou(gt, anchors)
    for high, low, allow in ((0.7, 0.3, False), (0.7, 0.3, True), (0.5, 0.5, False),
                             (0.5, 0.4, True)):
        m = Matcher(high, low, allow_low_quality_matches=allow)
        cs.append({"name": f"high {high} low {low} low-quality {allow}", "high": high, "low": low,
                   "allow_low_quality_matches": allow, "quality": enc(quality),
                   "out": ints(m(quality.clone()))})
    return cs


def two_decimal_boxes(n, extent):
    """Corners with two decimals, as COCO files and the scenes' annotations write them:
    their IoUs land exactly on round thresholds far more often than random floats do."""
    xy = (torch.rand(n, 2) * extent * 80).round() / 100
    wh = (torch.rand(n, 2) * extent * 30).round() / 100 + 1
    return torch.cat([xy, xy + wh], dim=1)


def edge_cases():
    """Cases decided by the last bit of an IoU: a GCC build that fuses a*b + c (FMA)
    rounds differently from torchvision's, so an IoU equal to the threshold may come out
    just above it and suppress a box that torchvision keeps. box_iou_exact is compared
    bit for bit; the thresholds of the NMS cases are IoUs that occur in their own sets.
    batched_nms is torchvision's per-class definition (_batched_nms_vanilla, what
    batched_nms runs above 1000 boxes): below that, its coordinate trick shifts each
    class's boxes by a float offset, which changes the last bit of non-integer IoUs."""
    exact = []
    for n, extent in ((30, 20.0), (40, 100.0)):
        a, b = two_decimal_boxes(n, extent), two_decimal_boxes(n, extent)
        exact.append({"name": f"two-decimal {n}x{n}, extent {extent}", "a": enc(a), "b": enc(b),
                      "out": enc(box_iou(a, b))})
    nms_eq, batched_eq = [], []
    for n, extent in ((60, 20.0), (120, 40.0)):
        boxes = two_decimal_boxes(n, extent)
        scores = torch.rand(n)
        iou = box_iou(boxes, boxes)
        iou.fill_diagonal_(0)
        values = iou[(iou > 0.1) & (iou < 0.9)]
        picks = values[torch.randperm(values.numel())[:4]]
        idxs = torch.randint(0, 3, (n,))
        for thr in picks.tolist():  # a float32 IoU, exactly, as a double
            nms_eq.append({"name": f"two-decimal {n} boxes, threshold = an IoU of the set ({thr:.9g})",
                           "boxes": enc(boxes), "scores": enc(scores), "iou_threshold": thr,
                           "keep": ints(nms(boxes, scores, thr))})
            batched_eq.append({"name": f"two-decimal {n} boxes, 3 classes, threshold {thr:.9g}",
                               "boxes": enc(boxes), "scores": enc(scores), "idxs": ints(idxs),
                               "iou_threshold": thr,
                               "keep": ints(_batched_nms_vanilla(boxes, scores, idxs, thr))})
    return exact, nms_eq, batched_eq


def main():
    torch.manual_seed(20261125)
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    iou, giou = iou_cases()
    encode, decode = coder_cases()
    doc = {"torch": torch.__version__, "torchvision": torchvision.__version__, "tol": TOL,
           "box_iou": iou, "generalized_box_iou": giou, "nms": nms_cases(),
           "batched_nms": batched_cases(), "box_coder_encode": encode,
           "box_coder_decode": decode, "box_coder_clamp": math.log(1000.0 / 16),
           "anchors": anchor_cases(), "matcher": matcher_cases()}
    # Last, so that the cases above keep their random draws.
    doc["box_iou_exact"], doc["nms_at_threshold"], doc["batched_nms_at_threshold"] = edge_cases()
    with open(os.path.join(OUT, "boxes.json"), "w") as f:
        json.dump(doc, f, separators=(",", ":"))
    for k, v in doc.items():
        if isinstance(v, list):
            print(f"{k}: {len(v)} cases")


if __name__ == "__main__":
    main()
    # One command makes every torchvision golden file: the RoI operators live in
    # their own script (roi_ops.json), run here too.
    import make_torchvision_roi_golden
    make_torchvision_roi_golden.main()
