#!/usr/bin/python3
"""Golden dumps of Faster R-CNN's Region Proposal Network and box-head loss, computed by
torchvision 0.14 (Debian's python3-torchvision). Run with Debian's interpreter:

    /usr/bin/python3 tools/golden/make_torchvision_rpn_golden.py

Writes tests/golden/torchvision/rpn.json: a RegionProposalNetwork with fixed random
head weights on a fixed random feature map of a 2-image batch (the second image smaller
than the padded batch, so clipping uses each image's own size):
  - the head's objectness and box deltas, the anchors,
  - the anchor labels (1 / 0 / -1) and matched ground truth (allow_low_quality_matches),
  - the sampled anchors (torch.manual_seed before the sampler; the same seed again before
    compute_loss, so both draw the same sample) and the two RPN losses,
  - the proposal layer's output (filter_proposals: boxes and scores), in testing and in
    training mode;
and roi_heads.fastrcnn_loss on fixed logits, deltas, labels and targets (its box
regression has 4 columns per class including the background's, which detlab omits).
tests/test_faster_rcnn.cpp compares detlab to the file; CI never needs torch.
"""
import json
import os

import torch
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.roi_heads import fastrcnn_loss
from torchvision.models.detection.rpn import RegionProposalNetwork, RPNHead
from torchvision_dump import OUT, enc, ints


def rpn_case():
    torch.manual_seed(5)
    C, k = 8, 6
    sizes, ratios = (8.0, 16.0), (0.5, 1.0, 2.0)
    H, W, h, w = 24, 28, 6, 7
    image_sizes = [(24, 28), (20, 25)]
    features = torch.randn(2, C, h, w)
    head = RPNHead(C, k)
    with torch.no_grad():
        for p in head.parameters():
            p.copy_(torch.randn_like(p) * 0.3)
    rpn = RegionProposalNetwork(
        AnchorGenerator(sizes=(sizes,), aspect_ratios=(ratios,)), head,
        fg_iou_thresh=0.7, bg_iou_thresh=0.3, batch_size_per_image=16, positive_fraction=0.5,
        pre_nms_top_n=dict(training=60, testing=40), post_nms_top_n=dict(training=25, testing=12),
        nms_thresh=0.7, score_thresh=0.0)
    gt = [torch.tensor([[2.0, 3.0, 14.0, 11.0], [13.0, 6.0, 27.0, 22.0], [4.0, 14.0, 9.0, 19.0]]),
          torch.tensor([[5.0, 2.0, 21.0, 18.0]])]
    targets = [{"boxes": b, "labels": torch.ones(len(b), dtype=torch.int64)} for b in gt]
    images = ImageList(torch.zeros(2, 3, H, W), image_sizes)
    feats = {"0": features}

    objectness, deltas = head([features])
    anchors = rpn.anchor_generator(images, [features])
    labels, matched_gt_boxes = rpn.assign_targets_to_anchors(anchors, targets)
    regression_targets = rpn.box_coder.encode(matched_gt_boxes, anchors)
    # matched ground-truth index per anchor (for positives; -1 otherwise)
    matched = []
    for b, m, lab in zip(gt, matched_gt_boxes, labels):
        idx = torch.full((len(m),), -1, dtype=torch.int64)
        for i in range(len(m)):
            if lab[i] == 1:
                idx[i] = int(((b - m[i]).abs().sum(1) == 0).nonzero()[0])
        matched.append(idx)

    from torchvision.models.detection.rpn import concat_box_prediction_layers
    obj_flat, del_flat = concat_box_prediction_layers(objectness, deltas)
    torch.manual_seed(11)
    pos_masks, neg_masks = rpn.fg_bg_sampler(labels)
    torch.manual_seed(11)
    loss_obj, loss_box = rpn.compute_loss(obj_flat, del_flat, labels, regression_targets)

    num_images = 2
    proposals = rpn.box_coder.decode(del_flat.detach(), anchors).view(num_images, -1, 4)
    num_anchors_per_level = [k * h * w]
    rpn.eval()
    test_boxes, test_scores = rpn.filter_proposals(proposals, obj_flat.detach(), image_sizes,
                                                   num_anchors_per_level)
    rpn.train()
    train_boxes, train_scores = rpn.filter_proposals(proposals, obj_flat.detach(), image_sizes,
                                                     num_anchors_per_level)
    return {
        "channels": C, "anchor_sizes": list(sizes), "aspect_ratios": list(ratios),
        "batch": [H, W], "image_sizes": [list(s) for s in image_sizes],
        "fg_iou": 0.7, "bg_iou": 0.3, "batch_size_per_image": 16, "positive_fraction": 0.5,
        "test": {"pre_nms_top_n": 40, "post_nms_top_n": 12},
        "train": {"pre_nms_top_n": 60, "post_nms_top_n": 25}, "nms": 0.7,
        "weights": {name: enc(p) for name, p in head.state_dict().items()},
        "features": enc(features),
        "gt_boxes": [enc(b) for b in gt],
        "objectness": enc(objectness[0]), "deltas": enc(deltas[0]),
        "anchors": enc(anchors[0]),
        "labels": [ints(l) for l in labels],
        "matched_gt": [ints(m) for m in matched],
        "regression_targets": [enc(r) for r in regression_targets],
        "sampled_positives": [ints(torch.where(m)[0]) for m in pos_masks],
        "sampled_negatives": [ints(torch.where(m)[0]) for m in neg_masks],
        "loss_objectness": float(loss_obj), "loss_box": float(loss_box),
        "test_proposals": [enc(b) for b in test_boxes], "test_scores": [enc(s) for s in test_scores],
        "train_proposals": [enc(b) for b in train_boxes],
        "train_scores": [enc(s) for s in train_scores],
    }


def fastrcnn_loss_case():
    torch.manual_seed(7)
    R, classes = 12, 4  # background + 3
    logits = torch.randn(R, classes)
    deltas = torch.randn(R, classes * 4) * 0.5
    labels = torch.tensor([0, 1, 3, 0, 2, 2, 0, 1, 0, 3, 0, 0])
    targets = torch.randn(R, 4) * 0.3
    cls, box = fastrcnn_loss(logits, deltas, [labels[:7], labels[7:]], [targets[:7], targets[7:]])
    return {"logits": enc(logits), "deltas": enc(deltas), "labels": ints(labels),
            "targets": enc(targets), "loss_classifier": float(cls), "loss_box_reg": float(box)}


if __name__ == "__main__":
    doc = {"generator": "tools/golden/make_torchvision_rpn_golden.py",
           "torch": torch.__version__, "torchvision": __import__("torchvision").__version__,
           "rpn": rpn_case(), "fastrcnn_loss": fastrcnn_loss_case()}
    path = os.path.join(OUT, "rpn.json")
    with open(path, "w") as f:
        json.dump(doc, f)
        f.write("\n")
    print("wrote", path)
