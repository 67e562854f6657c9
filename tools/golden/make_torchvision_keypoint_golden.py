#!/usr/bin/python3
"""Golden dumps of Mask R-CNN's keypoint branch (He et al. 2017, sec. 5), computed by
torchvision 0.14 (Debian's python3-torchvision). Run with Debian's interpreter:

    /usr/bin/python3 tools/golden/make_torchvision_keypoint_golden.py

Writes tests/golden/torchvision/keypoint_rcnn.json, fixed random inputs for a 2-image
batch of positive RoIs:
  - roi_heads.keypoints_to_heatmap: each joint's flat index in the m x m grid of its RoI
    and whether it counts (labelled and inside), joints exactly on the far edges, outside
    the RoI and unlabelled included;
  - roi_heads.keypointrcnn_loss: the softmax cross-entropy over the m^2 positions per
    valid joint, and its gradient with respect to the logits;
  - roi_heads.heatmaps_to_keypoints: the heatmaps resized to the boxes (bicubic), the
    argmax joints and their scores, for fractional boxes wider and narrower than m and
    one thinner than a pixel.
tests/test_keypoint_rcnn.cpp compares detlab's keypoint_targets, keypoint_loss and
heatmaps_to_keypoints with them. CI never needs torch.
"""
import json
import os

import torch
from torchvision.models.detection.roi_heads import (heatmaps_to_keypoints, keypointrcnn_loss,
                                                    keypoints_to_heatmap)
from torchvision_dump import OUT, enc, ints


def keypoint_case():
    gen = torch.Generator().manual_seed(7)
    M, K = 8, 5  # heatmap side, joints
    # two images; gt people with K joints each (x, y, v)
    gt = []
    for G in (2, 1):
        xy = torch.rand(G, K, 2, generator=gen) * 30
        v = torch.randint(0, 3, (G, K, 1), generator=gen).to(torch.float32)
        gt.append(torch.cat([xy, v], dim=2))
    proposals = [torch.tensor([[2.5, 3.25, 21.0, 27.5], [0.0, 0.0, 30.0, 30.0],
                               [10.2, 4.7, 14.9, 29.3]]),
                 torch.tensor([[5.0, 5.0, 25.0, 25.0], [1.3, 8.6, 28.4, 12.1]])]
    matched = [torch.tensor([0, 1, 0]), torch.tensor([0, 0])]
    # joints exactly on the far edges of their RoI (torchvision puts them in the last cell)
    gt[0][0, 0, 0] = 21.0
    gt[0][0, 0, 2] = 2.0
    gt[0][1, 1, 1] = 30.0
    gt[0][1, 1, 2] = 1.0
    R = sum(len(p) for p in proposals)
    logits = (torch.randn(R, K, M, M, generator=gen) * 3).requires_grad_(True)
    heat, valid = [], []
    for p, g, m in zip(proposals, gt, matched):
        h, v = keypoints_to_heatmap(g[m], p, M)
        heat.append(h.view(-1))
        valid.append(v.view(-1))
    loss = keypointrcnn_loss(logits, proposals, gt, matched)
    loss.backward()
    # inference: heatmaps of 3 boxes (wider than M, narrower, thinner than a pixel)
    maps = torch.randn(3, K, M, M, generator=gen) * 2
    boxes = torch.tensor([[3.3, 4.1, 40.7, 19.9], [10.0, 12.5, 15.25, 17.0],
                          [7.0, 2.0, 7.4, 9.6]])
    with torch.no_grad():
        kp, scores = heatmaps_to_keypoints(maps, boxes)
    return {
        "M": M, "joints": K,
        "gt_keypoints": [enc(g) for g in gt],
        "proposals": [enc(p) for p in proposals],
        "matched": [ints(i) for i in matched],
        "heatmap_index": ints(torch.cat(heat)),
        "valid": ints(torch.cat(valid)),
        "logits": enc(logits),
        "loss": float(loss),
        "grad": enc(logits.grad),
        "maps": enc(maps),
        "boxes": enc(boxes),
        "keypoints": enc(kp),
        "scores": enc(scores),
    }


def main():
    torch.set_num_threads(1)
    doc = {"generator": "tools/golden/make_torchvision_keypoint_golden.py",
           "torch": torch.__version__, "keypoint": keypoint_case()}
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "keypoint_rcnn.json"), "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
