#!/usr/bin/python3
"""Golden dumps of Mask R-CNN's mask branch, computed by torchvision 0.14 (Debian's
python3-torchvision). Run with Debian's interpreter:

    /usr/bin/python3 tools/golden/make_torchvision_mask_golden.py

Writes tests/golden/torchvision/mask_rcnn.json, fixed random inputs for a 2-image batch:
  - roi_heads.project_masks_on_boxes: each positive RoI's ground-truth mask cropped and
    resized to M x M by RoIAlign (the mask targets, He et al. 2017 sec. 3), per image;
  - roi_heads.maskrcnn_loss: the per-pixel binary cross-entropy on the mask logits of
    each RoI's ground-truth class only, and its gradient with respect to the logits;
  - roi_heads.maskrcnn_inference: the sigmoid of each detection's own class's mask.
torchvision's labels count the background as class 0 and its mask logits have a channel
for it; tests/test_mask_rcnn.cpp passes the same channel indices. CI never needs torch.
"""
import json
import os

import torch
from torchvision.models.detection.roi_heads import (maskrcnn_inference, maskrcnn_loss,
                                                    project_masks_on_boxes)
from torchvision_dump import OUT, enc, ints


def blob_masks(G, H, W, gen):
    """G binary masks: random ellipses, so the crops have edges at sub-pixel places."""
    ys = torch.arange(H, dtype=torch.float32)[:, None]
    xs = torch.arange(W, dtype=torch.float32)[None, :]
    out = []
    for _ in range(G):
        cx, cy = torch.rand(2, generator=gen) * torch.tensor([W, H])
        rx, ry = 2 + torch.rand(2, generator=gen) * torch.tensor([W / 3, H / 3])
        out.append((((xs - cx) / rx) ** 2 + ((ys - cy) / ry) ** 2 <= 1).to(torch.float32))
    return torch.stack(out)


def mask_case():
    gen = torch.Generator().manual_seed(21)
    M, C = 7, 4  # mask side, classes incl. background (torchvision's layout)
    H, W = 20, 24
    gt_masks = [blob_masks(3, H, W, gen), blob_masks(2, H, W, gen)]
    gt_labels = [torch.tensor([1, 3, 2]), torch.tensor([2, 1])]
    # positive RoIs with fractional corners, some reaching outside the image
    proposals = [torch.tensor([[2.3, 1.7, 12.9, 15.2], [10.5, 4.25, 23.5, 18.0],
                               [-2.0, 3.0, 8.0, 19.5], [4.0, 4.0, 6.5, 7.0]]),
                 torch.tensor([[0.0, 0.0, 24.0, 20.0], [7.75, 2.5, 16.0, 11.0],
                               [15.0, 12.0, 26.0, 23.0]])]
    matched = [torch.tensor([0, 1, 2, 0]), torch.tensor([1, 0, 1])]
    R = sum(len(p) for p in proposals)
    logits = (torch.randn(R, C, M, M, generator=gen) * 2).requires_grad_(True)
    targets = [project_masks_on_boxes(m, p, i, M) for m, p, i in zip(gt_masks, proposals, matched)]
    loss = maskrcnn_loss(logits, proposals, gt_masks, gt_labels, matched)
    loss.backward()
    labels = torch.cat([l[i] for l, i in zip(gt_labels, matched)])
    # inference: the detections' labels (here the same), 1 channel each
    with torch.no_grad():
        probs = maskrcnn_inference(logits.detach(), [labels[:4], labels[4:]])
    return {
        "M": M, "classes": C, "height": H, "width": W,
        "gt_masks": [enc(m) for m in gt_masks],
        "gt_labels": [ints(l) for l in gt_labels],
        "proposals": [enc(p) for p in proposals],
        "matched": [ints(i) for i in matched],
        "logits": enc(logits),
        "targets": enc(torch.cat(targets)),
        "labels": ints(labels),
        "loss": float(loss),
        "grad": enc(logits.grad),
        "probs": enc(torch.cat(probs)),
    }


def main():
    torch.set_num_threads(1)
    doc = {"generator": "tools/golden/make_torchvision_mask_golden.py",
           "torch": torch.__version__, "mask": mask_case()}
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "mask_rcnn.json"), "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
