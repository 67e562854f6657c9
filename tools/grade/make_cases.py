#!/usr/bin/env python3
"""Writes the *inputs* of detlab's golden cases (data/golden/<lesson>/*.json).

Run once when adding cases; then `bin/grade --regenerate LESSON` fills in the expected
outputs from the reference implementation and prints how they differ from what is
written here. Expected values given below were computed by hand: the regenerate
summary must report them unchanged (or within tolerance).

    tools/grade/make_cases.py [--only LESSON] [--force]

Existing case files are left alone unless --force is given, so a regenerated
`expected` is never lost by accident. Random inputs come from Python's random.Random
with a fixed seed (the Mersenne Twister: the same numbers on every platform).
"""
import argparse
import json
import math
import os
import random

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data", "golden")
FLOAT = {"abs": 1e-5, "rel": 1e-5}
CASES = []


def case(lesson, name, exercise, inputs, expected=None, tolerance="exact", points=1,
         time_limit_s=10, description=""):
    CASES.append((lesson, name, {
        "exercise": exercise, "description": description, "points": points,
        "time_limit_s": time_limit_s, "tolerance": tolerance, "inputs": inputs,
        "expected": expected or {}}))


def r4(x):
    return round(x, 4)


def random_boxes(rng, n, size=50.0):
    out = []
    for _ in range(n):
        x, y = rng.uniform(0, size), rng.uniform(0, size)
        out.append([r4(x), r4(y), r4(x + rng.uniform(1, size / 2)), r4(y + rng.uniform(1, size / 2))])
    return out


def clustered_boxes(rng, clusters, per_cluster, jitter):
    out = []
    for b in random_boxes(rng, clusters):
        for _ in range(per_cluster):
            out.append([r4(c + rng.uniform(-jitter, jitter)) for c in b])
    rng.shuffle(out)
    return out


def tensor(rng, shape, lo=-1.0, hi=1.0):
    n = 1
    for d in shape:
        n *= d
    return {"shape": shape, "data": [r4(rng.uniform(lo, hi)) for _ in range(n)]}


rng = random.Random(20261125)

# ---- classify: end to end -----------------------------------------------------------
case("classify", "e2e_train_2000", "program_metric", {
    "program": "classify",
    "args": ["train", "--limit", "2000", "--epochs", "1", "--seed", "1", "--quiet", "--json",
             "--model", "{tmp}/classify.safetensors"],
    "metrics": ["test_accuracy"]},
    {"test_accuracy": {"at_least": 0.70}}, points=5, time_limit_s=300,
    description="train on 2000 images for one epoch; the reference reaches 0.78")

# ---- classify_localize: IoU, GIoU, the multitask loss ---------------------------------
L = "classify_localize"
case(L, "iou_basic", "box_iou", {"a": [[0, 0, 2, 2]], "b": [[1, 1, 3, 3], [0, 0, 2, 2], [2, 0, 4, 2]]},
     {"iou": [[1 / 7, 1.0, 0.0]]}, FLOAT, description="partial overlap, identical, touching edge")
case(L, "iou_nested_and_disjoint", "box_iou",
     {"a": [[0, 0, 10, 10], [20, 20, 30, 25]], "b": [[2, 2, 4, 4], [0, 0, 10, 10], [100, 100, 110, 110]]},
     {"iou": [[0.04, 1.0, 0.0], [0.0, 0.0, 0.0]]}, FLOAT, description="a box inside another; far apart")
case(L, "iou_degenerate", "box_iou",
     {"a": [[5, 5, 5, 5], [4, 4, 2, 8], [0, 0, 10, 10]], "b": [[5, 5, 5, 5], [0, 0, 10, 10]]},
     {"iou": [[0.0, 0.0], [0.0, 0.0], [0.0, 1.0]]}, FLOAT,
     description="zero-area and inverted boxes have IoU 0, even with themselves")
case(L, "iou_empty", "box_iou", {"a": [], "b": [[0, 0, 1, 1]]}, {"iou": []}, FLOAT,
     description="no boxes on one side: an empty matrix")
case(L, "iou_random", "box_iou", {"a": random_boxes(rng, 6), "b": random_boxes(rng, 7)}, None, FLOAT,
     description="6 x 7 random boxes with fractional corners")
case(L, "giou_basic", "generalized_box_iou",
     {"a": [[0, 0, 1, 1]], "b": [[2, 0, 3, 1], [0, 0, 1, 1], [0, 0, 2, 2]]},
     {"giou": [[-1 / 3, 1.0, 0.25]]}, FLOAT, description="disjoint (negative), identical, nested")
case(L, "giou_far_apart", "generalized_box_iou", {"a": [[0, 0, 1, 1]], "b": [[99, 99, 100, 100]]},
     {"giou": [[2 / 10000 - 1]]}, FLOAT, description="tends to -1 as boxes move apart")
case(L, "giou_random", "generalized_box_iou", {"a": random_boxes(rng, 5), "b": random_boxes(rng, 5)},
     None, FLOAT, description="5 x 5 random boxes")
case(L, "loss_basic", "multitask_loss",
     {"scores": [[2.0, 0.0, -1.0], [0.5, 0.5, 0.5]], "labels": [0, 2],
      "boxes": [[0.5, 0.5, 0.2, 0.2], [0.1, 0.2, 0.3, 0.4]],
      "targets": [[0.5, 0.4, 0.2, 0.3], [0.1, 0.2, 0.3, 0.4]], "lambda": 5.0},
     None, FLOAT, description="two images, three classes, one perfect box")
case(L, "loss_lambda_zero", "multitask_loss",
     {"scores": [[0.0, 0.0]], "labels": [1], "boxes": [[1, 1, 1, 1]], "targets": [[0, 0, 0, 0]],
      "lambda": 0.0},
     {"loss": 0.6931471805599453, "classification": 0.6931471805599453, "localization": 4.0,
      "grad_scores": {"shape": [1, 2], "data": [0.5, -0.5]},
      "grad_boxes": {"shape": [1, 4], "data": [0, 0, 0, 0]}}, FLOAT,
     description="lambda 0: only cross-entropy, log 2 for two equal scores; no box gradient")
case(L, "loss_random", "multitask_loss",
     {"scores": tensor(rng, [4, 10], -3, 3), "labels": [3, 0, 9, 3],
      "boxes": tensor(rng, [4, 4], 0, 1), "targets": tensor(rng, [4, 4], 0, 1), "lambda": 2.5},
     None, FLOAT, description="four images, ten classes")

# ---- rcnn: NMS, box coding, VOC AP ------------------------------------------------------
L = "rcnn"
case(L, "nms_basic", "nms",
     {"boxes": [[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 9, 10]],
      "scores": [0.9, 0.8, 0.7, 0.95], "iou_threshold": 0.5},
     {"keep": [3, 2]}, description="two clusters; the best box of each survives")
case(L, "nms_iou_equals_threshold", "nms",
     {"boxes": [[0, 0, 2, 1], [0, 0, 1, 1]], "scores": [0.9, 0.8], "iou_threshold": 0.5},
     {"keep": [0, 1]}, description="IoU exactly 0.5 does not suppress: the test is IoU > threshold")
case(L, "nms_ties", "nms",
     {"boxes": [[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10], [50, 50, 60, 60]],
      "scores": [0.5, 0.5, 0.5, 0.5], "iou_threshold": 0.3},
     {"keep": [0, 3]}, description="equal scores: the lower index wins")
case(L, "nms_empty", "nms", {"boxes": [], "scores": [], "iou_threshold": 0.5}, {"keep": []},
     description="no boxes")
case(L, "nms_degenerate", "nms",
     {"boxes": [[5, 5, 5, 5], [5, 5, 5, 5], [0, 0, 10, 10]], "scores": [0.9, 0.8, 0.7],
      "iou_threshold": 0.0},
     {"keep": [0, 1, 2]}, description="zero-area boxes never suppress nor get suppressed")
case(L, "nms_random", "nms",
     {"boxes": clustered_boxes(rng, 6, 5, 3.0), "scores": [r4(rng.random()) for _ in range(30)],
      "iou_threshold": 0.3}, None, description="30 random boxes in 6 clusters")
case(L, "nms_per_class", "nms",
     {"boxes": [[0, 0, 10, 10], [1, 1, 10, 10], [0, 0, 10, 10]], "scores": [0.9, 0.8, 0.7],
      "classes": [0, 0, 1], "iou_threshold": 0.5},
     {"keep": [0, 2]}, description="batched NMS: boxes of different classes never suppress")
case(L, "encode_basic", "box_encode",
     {"targets": [[0, 0, 20, 10]], "references": [[0, 0, 10, 10]]},
     {"deltas": [[0.5, 0.0, 0.6931471805599453, 0.0]]}, FLOAT,
     description="same top-left, twice as wide: tx = 5/10, tw = log 2")
case(L, "encode_identity", "box_encode",
     {"targets": [[3, 4, 13, 24]], "references": [[3, 4, 13, 24]], "weights": [10, 10, 5, 5]},
     {"deltas": [[0, 0, 0, 0]]}, FLOAT, description="a box relative to itself: all zero")
case(L, "encode_weights", "box_encode",
     {"targets": [[10, 10, 30, 50]], "references": [[0, 0, 20, 40]], "weights": [10, 10, 5, 5]},
     {"deltas": [[5.0, 2.5, 0.0, 0.0]]}, FLOAT, description="Fast R-CNN's (10, 10, 5, 5) weights")
refs = random_boxes(rng, 8)
case(L, "encode_random", "box_encode", {"targets": random_boxes(rng, 8), "references": refs}, None,
     FLOAT, description="8 random pairs")
case(L, "decode_basic", "box_decode",
     {"deltas": [[0.5, 0.0, 0.6931471805599453, 0.0]], "references": [[0, 0, 10, 10]]},
     {"boxes": [[0, 0, 20, 10]]}, {"abs": 1e-4, "rel": 1e-5}, description="inverse of encode_basic")
case(L, "decode_clamp", "box_decode",
     {"deltas": [[0, 0, 100, -100]], "references": [[0, 0, 16, 16]]}, None,
     {"abs": 1e-3, "rel": 1e-5}, description="tw is clamped at log(1000/16); a tiny th is fine")
case(L, "decode_random", "box_decode",
     {"deltas": [[r4(rng.uniform(-1, 1)) for _ in range(4)] for _ in range(8)], "references": refs,
      "weights": [10, 10, 5, 5]}, None, {"abs": 1e-4, "rel": 1e-5}, description="8 random deltas")
case(L, "ap_11point", "voc_ap",
     {"recall": [0.5, 1.0], "precision": [1.0, 0.5], "method": "11point"},
     {"ap": 8.5 / 11}, FLOAT, description="recall 0..0.5 at precision 1, 0.6..1 at 0.5")
case(L, "ap_all_points", "voc_ap",
     {"recall": [0.25, 0.25, 0.5, 0.75], "precision": [1.0, 0.5, 0.6666666666666666, 0.75],
      "method": "all_points"},
     {"ap": 0.625}, FLOAT, description="interpolated precision is the max to the right")
case(L, "ap_empty", "voc_ap", {"recall": [], "precision": [], "method": "all_points"}, {"ap": 0.0},
     FLOAT, description="no detections: AP 0")
case(L, "voc_class_duplicates", "voc_evaluate_class",
     {"detections": [{"image": 1, "box": [0, 0, 10, 10], "score": 0.9},
                     {"image": 1, "box": [0, 0, 10, 11], "score": 0.8},
                     {"image": 2, "box": [0, 0, 5, 5], "score": 0.7}],
      "ground_truth": [{"image": 1, "box": [0, 0, 10, 10]}, {"image": 2, "box": [20, 20, 30, 30]}]},
     {"ap": 0.5, "tp": 1, "fp": 2, "num_gt": 2}, FLOAT,
     description="a duplicate detection is a false positive")
case(L, "voc_class_difficult", "voc_evaluate_class",
     {"detections": [{"image": 1, "box": [0, 0, 10, 10], "score": 0.9},
                     {"image": 1, "box": [20, 20, 30, 30], "score": 0.95}],
      "ground_truth": [{"image": 1, "box": [0, 0, 10, 10]},
                       {"image": 1, "box": [20, 20, 30, 30], "difficult": True}]},
     {"ap": 1.0, "tp": 1, "fp": 0, "num_gt": 1}, FLOAT,
     description="a detection of a difficult object counts neither way")
case(L, "voc_class_no_detections", "voc_evaluate_class",
     {"detections": [], "ground_truth": [{"image": 1, "box": [0, 0, 10, 10]}]},
     {"ap": 0.0, "tp": 0, "fp": 0, "num_gt": 1}, FLOAT, description="nothing found: AP 0")
gts = [{"image": i % 3, "box": b} for i, b in enumerate(random_boxes(rng, 6, 30))]
dets = [{"image": g["image"], "box": [r4(c + rng.uniform(-3, 3)) for c in g["box"]],
         "score": r4(rng.random())} for g in gts for _ in range(2)]
dets += [{"image": rng.randrange(3), "box": b, "score": r4(rng.random())} for b in random_boxes(rng, 5, 30)]
case(L, "voc_class_random", "voc_evaluate_class", {"detections": dets, "ground_truth": gts,
     "method": "11point"}, None, FLOAT,
     description="2 jittered detections per object + 5 random ones, 3 images, 11-point")

# ---- fast_rcnn: RoI pooling -------------------------------------------------------------
L = "fast_rcnn"
x36 = {"shape": [1, 1, 6, 6], "data": list(range(36))}
case(L, "roi_pool_whole_map", "roi_pool_forward",
     {"x": x36, "rois": [[0, 0, 0, 5, 5]], "output_size": [2, 2], "spatial_scale": 1.0},
     {"y": {"shape": [1, 1, 2, 2], "data": [14, 17, 32, 35]}, "argmax": [14, 17, 32, 35]},
     description="6x6 ramp, 2x2 bins: each bin's bottom-right cell")
case(L, "roi_pool_scaled", "roi_pool_forward",
     {"x": tensor(rng, [1, 2, 8, 8]), "rois": [[0, 2, 2, 9, 9], [0, 0, 0, 15, 7], [0, 7, 7, 8, 8]],
      "output_size": [3, 3], "spatial_scale": 0.5}, None, FLOAT,
     description="stride-2 features, three RoIs including a one-cell one")
case(L, "roi_pool_outside", "roi_pool_forward",
     {"x": tensor(rng, [2, 1, 5, 5]), "rois": [[1, 3, 3, 12, 12], [0, -4, -4, 1, 1]],
      "output_size": [4, 4], "spatial_scale": 1.0}, None, FLOAT,
     description="RoIs partly off the map: bins outside are empty and output 0")
case(L, "roi_pool_backward_overlap", "roi_pool_backward",
     {"x": tensor(rng, [1, 2, 6, 6]), "rois": [[0, 0, 0, 5, 5], [0, 1, 1, 4, 4]],
      "output_size": [2, 2], "spatial_scale": 1.0, "grad_y": tensor(rng, [2, 2, 2, 2])}, None, FLOAT,
     description="overlapping RoIs: gradients of a shared maximum add up")
case(L, "roi_pool_backward_scaled", "roi_pool_backward",
     {"x": tensor(rng, [2, 1, 8, 8]), "rois": [[1, 0, 0, 31, 31], [0, 4, 4, 20, 12]],
      "output_size": [3, 2], "spatial_scale": 0.25, "grad_y": tensor(rng, [2, 1, 3, 2])}, None, FLOAT,
     description="two images, stride 4")

# ---- faster_rcnn: anchors, IoU matching -------------------------------------------------
L = "faster_rcnn"
case(L, "cell_anchors_basic", "anchors", {"sizes": [32], "aspect_ratios": [1.0]},
     {"cell_anchors": [[-16, -16, 16, 16]]}, FLOAT, description="one square anchor")
case(L, "cell_anchors_ratios", "anchors", {"sizes": [32, 64], "aspect_ratios": [0.5, 1.0, 2.0]},
     None, FLOAT, description="ratio-major order, w = s / sqrt(r), h = s * sqrt(r), rounded")
case(L, "cell_anchors_round_half_even", "anchors", {"sizes": [3, 5], "aspect_ratios": [1.0]},
     {"cell_anchors": [[-2, -2, 2, 2], [-2, -2, 2, 2]]}, FLOAT,
     description="+-1.5 and +-2.5 round half to even: 2 and 2")
case(L, "grid_anchors", "anchors",
     {"sizes": [16], "aspect_ratios": [0.5, 2.0], "grid": [2, 3], "stride": [16, 8]}, None, FLOAT,
     description="2 x 3 grid; order: row, column, cell anchor")
case(L, "multilevel_anchors", "anchors",
     {"levels": [{"sizes": [16], "aspect_ratios": [1.0], "grid": [4, 4]},
                 {"sizes": [32, 48], "aspect_ratios": [1.0, 2.0], "grid": [2, 2]}],
      "image_size": [64, 64]}, None, FLOAT, description="two pyramid levels, strides 16 and 32")
case(L, "match_thresholds", "iou_matching",
     {"ground_truth": [[0, 0, 10, 10], [20, 20, 30, 30]],
      "predictions": [[0, 0, 10, 10], [0, 0, 10, 12], [0, 0, 10, 20], [20, 20, 30, 31], [50, 50, 60, 60]],
      "high_threshold": 0.7, "low_threshold": 0.3},
     {"matches": [0, 0, -2, 1, -1]}, description="foreground, between thresholds (-2), background (-1)")
case(L, "match_boundary", "iou_matching",
     {"ground_truth": [[0, 0, 10, 10]], "predictions": [[0, 0, 10, 20], [0, 0, 10, 40]],
      "high_threshold": 0.5, "low_threshold": 0.25},
     {"matches": [0, -2]}, description="IoU exactly 0.5 is foreground; exactly 0.25 is between")
case(L, "match_low_quality", "iou_matching",
     {"ground_truth": [[0, 0, 10, 10], [40, 40, 50, 50]],
      "predictions": [[0, 0, 10, 30], [0, 0, 10, 40], [40, 40, 50, 80], [45, 45, 55, 55]],
      "high_threshold": 0.7, "low_threshold": 0.3, "allow_low_quality_matches": True},
     None, description="the best anchor of each object is positive even below 0.7")
case(L, "match_no_ground_truth", "iou_matching",
     {"ground_truth": [], "predictions": [[0, 0, 1, 1], [2, 2, 3, 3]],
      "high_threshold": 0.7, "low_threshold": 0.3},
     {"matches": [-1, -1]}, description="an image without objects: all background")
case(L, "match_tie", "iou_matching",
     {"ground_truth": [[0, 0, 10, 10], [0, 0, 10, 10]], "predictions": [[0, 0, 10, 10]],
      "high_threshold": 0.5, "low_threshold": 0.5},
     {"matches": [0]}, description="two equally good objects: the lower index")
case(L, "match_random", "iou_matching",
     {"ground_truth": random_boxes(rng, 4, 40), "predictions": random_boxes(rng, 25, 40),
      "high_threshold": 0.5, "low_threshold": 0.2, "allow_low_quality_matches": True},
     None, description="25 random anchors, 4 objects")
case(L, "rpn_default_anchors", "anchors", {"sizes": [16, 32, 64], "aspect_ratios": [0.5, 1.0, 2.0]},
     None, FLOAT, description="lesson 05's k = 9 anchors at one position")
# Anchor 0 and 1 tie as the best (IoU 2/3) of the first object, below 0.7: both positive;
# anchor 3 (IoU 0.36) is ignored; anchor 4 covers the second object (IoU 0.8); anchor 2 is
# background.
case(L, "rpn_targets_best_anchor", "rpn_targets",
     {"anchors": [[0, 0, 10, 10], [4, 0, 14, 10], [50, 50, 60, 60], [0, 0, 10, 20], [30, 30, 40, 40]],
      "ground_truth": [[2, 0, 12, 10], [30, 30, 40, 38]], "positive_iou": 0.7, "negative_iou": 0.3},
     {"labels": [1, 1, 0, -1, 1], "matched_gt": [0, 0, -1, -1, 1]},
     description="IoU >= 0.7 object, < 0.3 background, between ignored; the best anchor of "
                 "each object is an object even below 0.7")
rpn_rng = random.Random(5)  # its own: the cases after these keep their inputs
case(L, "rpn_targets_random", "rpn_targets",
     {"anchors": random_boxes(rpn_rng, 30, 40), "ground_truth": random_boxes(rpn_rng, 3, 40),
      "positive_iou": 0.6, "negative_iou": 0.2}, None,
     description="30 random anchors, 3 objects")
case(L, "proposal_layer_by_hand", "proposal_layer",
     {"objectness": {"shape": [1, 3, 1, 1], "data": [2.0, 1.0, 3.0]},
      "deltas": {"shape": [1, 12, 1, 1], "data": [0.0] * 12},
      "anchors": [[0, 0, 10, 10], [0, 0, 10, 11], [20, -5, 40, 10]], "image_size": [30, 30],
      "pre_nms_top_n": 10, "post_nms_top_n": 10, "nms_iou": 0.7}, None, FLOAT,
     description="ranked by objectness, clipped to the image, the overlapping weaker box "
                 "suppressed")
case(L, "proposal_layer_random", "proposal_layer",
     {"objectness": {"shape": [1, 2, 3, 4], "data": [r4(rpn_rng.uniform(-3, 3)) for _ in range(24)]},
      "deltas": {"shape": [1, 8, 3, 4], "data": [r4(rpn_rng.uniform(-0.5, 0.5)) for _ in range(96)]},
      "anchors": [[x * 8 - w / 2 + 4, y * 8 - w / 2 + 4, x * 8 + w / 2 + 4, y * 8 + w / 2 + 4]
                  for y in range(3) for x in range(4) for w in (12, 20)],
      "image_size": [24, 32], "pre_nms_top_n": 15, "post_nms_top_n": 6, "nms_iou": 0.5},
     None, FLOAT, description="a 3 x 4 map with 2 anchors per position: top 15, NMS 0.5, top 6")

# COCO evaluation: one problem whose expected numbers come from pycocotools' COCOeval
# (tests/golden/cocoeval/, see its README), two hand-checked small ones.
COCO_SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "golden", "cocoeval")
coco_expected = json.load(open(os.path.join(COCO_SRC, "bbox_expected.json")))
case(L, "coco_pycocotools_bbox", "coco_ap",
     {"ground_truth": {"file": "inputs/coco_bbox_gt.json"},
      "results": {"file": "inputs/coco_bbox_results.json"}, "iou_type": "bbox"},
     {k: coco_expected[k] for k in ["stats", "category_ids", "class_ap", "class_ap50"]},
     {"abs": 1e-6, "rel": 0}, points=2,
     description="8 images, crowd regions, duplicates, maxDets; expected values from pycocotools")
coco_gt = {"images": [{"id": 1, "file_name": "1.png", "width": 100, "height": 100}],
           "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}],
           "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 50, 50], "area": 2500, "iscrowd": 0},
                           {"id": 2, "image_id": 1, "category_id": 2, "bbox": [0, 0, 20, 20], "area": 400, "iscrowd": 0}]}
case(L, "coco_perfect", "coco_ap",
     {"ground_truth": coco_gt, "iou_type": "bbox",
      "results": [{"image_id": 1, "category_id": 1, "bbox": [10, 10, 50, 50], "score": 0.9},
                  {"image_id": 1, "category_id": 2, "bbox": [0, 0, 20, 20], "score": 0.8}]},
     {"stats": [1, 1, 1, 1, 1, -1, 1, 1, 1, 1, 1, -1], "category_ids": [1, 2], "class_ap": [1, 1],
      "class_ap50": [1, 1]}, {"abs": 1e-9, "rel": 0},
     description="every object found exactly: AP 1; no large objects: -1")
case(L, "coco_no_detections", "coco_ap", {"ground_truth": coco_gt, "results": [], "iou_type": "bbox"},
     {"stats": [0, 0, 0, 0, 0, -1, 0, 0, 0, 0, 0, -1], "category_ids": [1, 2], "class_ap": [0, 0],
      "class_ap50": [0, 0]}, {"abs": 1e-9, "rel": 0}, description="nothing found: AP 0")

# ---- mask_rcnn: RoIAlign ------------------------------------------------------------------
L = "mask_rcnn"
case(L, "roi_align_constant", "roi_align_forward",
     {"x": {"shape": [1, 1, 4, 4], "data": [3.0] * 16}, "rois": [[0, 0.5, 0.5, 2.7, 3.1]],
      "output_size": [2, 2], "spatial_scale": 1.0, "sampling_ratio": 2, "aligned": True},
     {"y": {"shape": [1, 1, 2, 2], "data": [3.0, 3.0, 3.0, 3.0]}}, FLOAT,
     description="a constant map interpolates to the constant")
case(L, "roi_align_ramp", "roi_align_forward",
     {"x": x36, "rois": [[0, 1, 1, 3, 3]], "output_size": [1, 1], "spatial_scale": 1.0,
      "sampling_ratio": 1, "aligned": False},
     {"y": {"shape": [1, 1, 1, 1], "data": [14.0]}}, FLOAT,
     description="one sample at (2, 2) on the ramp 6y + x")
case(L, "roi_align_not_aligned", "roi_align_forward",
     {"x": tensor(rng, [1, 2, 7, 7]), "rois": [[0, 1.3, 0.7, 5.2, 4.9], [0, 2, 2, 2.4, 2.2]],
      "output_size": [3, 3], "spatial_scale": 1.0, "sampling_ratio": -1, "aligned": False}, None,
     FLOAT, description="adaptive sampling; a tiny RoI forced to 1 x 1 cell")
case(L, "roi_align_aligned", "roi_align_forward",
     {"x": tensor(rng, [2, 1, 8, 8]), "rois": [[1, 3.1, 5.4, 27.7, 30.2], [0, -6, -6, 10, 10]],
      "output_size": [2, 3], "spatial_scale": 0.25, "sampling_ratio": 2, "aligned": True}, None,
     FLOAT, description="half-pixel offsets, stride 4, a RoI partly off the map")
case(L, "roi_align_backward_basic", "roi_align_backward",
     {"x": {"shape": [1, 1, 4, 4], "data": [0.0] * 16}, "rois": [[0, 1, 1, 2, 2]],
      "output_size": [1, 1], "spatial_scale": 1.0, "sampling_ratio": 1, "aligned": False,
      "grad_y": {"shape": [1, 1, 1, 1], "data": [1.0]}},
     None, FLOAT, description="one sample at (1.5, 1.5): a quarter to each of four cells")
case(L, "roi_align_backward_random", "roi_align_backward",
     {"x": tensor(rng, [1, 2, 6, 6]), "rois": [[0, 0.5, 1.2, 4.4, 5.9], [0, 2, 0, 6, 3]],
      "output_size": [2, 2], "spatial_scale": 1.0, "sampling_ratio": -1, "aligned": True,
      "grad_y": tensor(rng, [2, 2, 2, 2])}, None, FLOAT,
     description="overlapping RoIs, adaptive sampling")

# ---- deeppose: PCK ---------------------------------------------------------------------
# ---- mask_rcnn: mask targets and mask pasting (their own generator: the cases above keep
# drawing the same numbers from rng)
mrng = random.Random(20261203)


def blob(rng, h, w):
    cx, cy = rng.uniform(0, w), rng.uniform(0, h)
    rx, ry = rng.uniform(1.5, w / 2), rng.uniform(1.5, h / 2)
    return [1.0 if ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1 else 0.0
            for y in range(h) for x in range(w)]


case(L, "mask_targets_full", "mask_targets",
     {"gt_masks": {"shape": [1, 8, 8], "data": [1.0] * 64}, "rois": [[1, 1, 5, 5]],
      "matched": [0], "M": 2},
     {"targets": {"shape": [1, 2, 2], "data": [1.0, 1.0, 1.0, 1.0]}}, FLOAT,
     description="an RoI inside a full mask: all ones")
case(L, "mask_targets_half", "mask_targets",
     {"gt_masks": {"shape": [1, 8, 8], "data": [1.0 if x < 4 else 0.0 for y in range(8) for x in range(8)]},
      "rois": [[0, 0, 8, 8]], "matched": [0], "M": 2},
     {"targets": {"shape": [1, 2, 2], "data": [0.875, 0.0, 0.875, 0.0]}}, FLOAT,
     description="left half of the mask; 4 x 4 samples per bin, the sample at x = 3.5 reads 0.5")
case(L, "mask_targets_random", "mask_targets",
     {"gt_masks": {"shape": [3, 12, 16], "data": blob(mrng, 12, 16) + blob(mrng, 12, 16) + blob(mrng, 12, 16)},
      "rois": [[1.5, 2.25, 9.75, 11.0], [6.0, 0.5, 15.5, 7.25], [-2.0, -1.0, 5.0, 6.0], [3.0, 3.0, 4.0, 4.5]],
      "matched": [2, 0, 1, 0], "M": 5}, None, FLOAT,
     description="fractional RoIs, one partly outside the image, one smaller than a cell")
case(L, "paste_masks_one", "paste_masks",
     {"masks": {"shape": [1, 2, 2], "data": [1.0, 0.0, 1.0, 1.0]}, "boxes": [[2, 2, 6, 6]],
      "height": 10, "width": 10}, None, FLOAT,
     description="a 2 x 2 mask padded by one cell, resized to its enlarged box, pasted")
case(L, "paste_masks_random", "paste_masks",
     {"masks": {"shape": [3, 6, 6], "data": [r4(mrng.uniform(0, 1)) for _ in range(108)]},
      "boxes": [[1.3, 2.7, 9.4, 8.8], [-3, 4, 5, 13], [6.5, 0, 7.5, 1.2]], "height": 12, "width": 11},
     None, FLOAT, description="fractional boxes, one crossing the image border, one under 2 pixels")

L = "deeppose"
case(L, "pck_box", "pck",
     {"samples": [{"predicted": [0, 0, 10, 10, 50, 50], "ground_truth": [0, 0, 2, 12, 10, 2, 80, 80, 2],
                   "box": [0, 0, 100, 50]}],
      "alpha": 0.1, "norm": "box"},
     {"mean": 2 / 3, "per_joint": [1.0, 1.0, 0.0], "counted": 3}, FLOAT,
     description="threshold 0.1 * max(100, 50) = 10: errors 0, 8, 42.4")
case(L, "pck_threshold_inclusive", "pck",
     {"samples": [{"predicted": [10, 0], "ground_truth": [0, 0, 2], "box": [0, 0, 100, 100]}],
      "alpha": 0.1, "norm": "box"},
     {"mean": 1.0, "per_joint": [1.0], "counted": 1}, FLOAT,
     description="an error equal to the threshold counts as correct (<=)")
case(L, "pck_invisible", "pck",
     {"samples": [{"predicted": [0, 0, 99, 99], "ground_truth": [0, 0, 2, 0, 0, 0],
                   "box": [0, 0, 10, 10]}], "alpha": 0.2, "norm": "box"},
     {"mean": 1.0, "per_joint": [1.0, None], "counted": 1}, FLOAT,
     description="unlabelled joints (v = 0) are left out: NaN (null) per joint")
case(L, "pck_torso", "pck",
     {"samples": [{"predicted": [0, 0, 0, 20, 5, 5], "ground_truth": [0, 0, 2, 0, 20, 2, 0, 0, 2]},
                  {"predicted": [1, 1, 0, 10, 3, 0], "ground_truth": [0, 0, 2, 0, 10, 2, 0, 0, 2]}],
      "alpha": 0.2, "norm": "torso", "torso": [0, 1]}, None, FLOAT,
     description="torso-normalised, two samples of different size")
case(L, "pck_degenerate_box", "pck",
     {"samples": [{"predicted": [0, 0, 10, 0, 5, 9], "ground_truth": [0, 0, 2, 10, 0, 2, 5, 5, 1],
                   "box": [0, 0, 0, 0]}], "alpha": 0.3, "norm": "box"}, None, FLOAT,
     description="zero box: the labelled joints' tight box is used")

# ---- deeppose: the cascade's window targets (models::window_targets) ---------------------
case(L, "window_targets_own_joint_only", "window_targets",
     {"keypoints": [44, 28, 2, 28, 34, 2, 30, 30, 1], "joint": 0, "window": [32, 32, 16, 16],
      "radius": 0.0},
     {"target": [[0.75, -0.25], [0, 0], [0, 0]], "mask": [[1, 1], [0, 0], [0, 0]]}, FLOAT,
     description="radius 0 (the paper): only the window's joint, even 0.75 windows off centre")
case(L, "window_targets_neighbours", "window_targets",
     {"keypoints": [44, 28, 2, 28, 34, 2, 30, 30, 1], "joint": 0, "window": [32, 32, 16, 16],
      "radius": 0.25},
     {"target": [[0.75, -0.25], [-0.25, 0.125], [-0.125, -0.125]],
      "mask": [[1, 1], [1, 1], [1, 1]]}, FLOAT,
     description="a neighbour on the border (|u| = radius) counts; a hidden one (v = 1) too")
case(L, "window_targets_unlabelled_and_outside", "window_targets",
     {"keypoints": [32, 32, 2, 32, 32, 0, 36.5, 32, 2, 30, 36, 2], "joint": 0,
      "window": [32, 32, 16, 16], "radius": 0.25},
     {"target": [[0, 0], [0, 0], [0, 0], [-0.125, 0.25]],
      "mask": [[1, 1], [0, 0], [0, 0], [1, 1]]}, FLOAT,
     description="v = 0 is never a target; 0.28 windows off is outside radius 0.25")
case(L, "window_targets_axes", "window_targets",
     {"keypoints": [9, 18, 2, 10, 24, 2, 12, 24, 2], "joint": 2, "window": [10, 20, 8, 16],
      "radius": 0.2},
     {"target": [[-0.125, -0.125], [0, 0], [0.25, 0.25]], "mask": [[1, 1], [0, 0], [1, 1]]},
     FLOAT, description="x by the window's width, y by its height; the last joint's window")

# ---- selective_search: graph segmentation ---------------------------------------------
L = "selective_search"
q = lambda w, c1, c2, k: {"w": w, "c1": {"size": c1[0], "internal": c1[1]},
                          "c2": {"size": c2[0], "internal": c2[1]}, "k": k}
case(L, "merge_criterion", "graph_segmentation_merge",
     {"queries": [q(5, (1, 0), (1, 0), 10), q(11, (1, 0), (1, 0), 10), q(10, (1, 0), (1, 0), 10),
                  q(3, (64, 2), (4, 0), 8), q(2, (64, 2), (4, 0), 8), q(2.125, (64, 2), (4, 1), 8)]},
     {"merge": [True, False, True, False, True, True],
      "tau": [[10, 10], [10, 10], [10, 10], [0.125, 2], [0.125, 2], [0.125, 2]]}, FLOAT,
     description="MInt = min(Int + k/|C|) over both; merge when w <= MInt, also at equality")
img = [[[200, 0, 0]] * 3 + [[0, 0, 200]] * 3 for _ in range(4)]
case(L, "segment_two_halves", "graph_segmentation", {"pixels": img, "k": 50, "sigma": 0},
     {"num_segments": 2, "labels": [[0, 0, 0, 1, 1, 1]] * 4}, description="red | blue: two segments")
case(L, "segment_uniform", "graph_segmentation",
     {"pixels": [[[7, 7, 7]] * 5] * 3, "k": 1, "sigma": 0},
     {"num_segments": 1, "labels": [[0] * 5] * 3}, description="one colour: one segment")
case(L, "segment_noise", "graph_segmentation",
     {"pixels": [[rng.randrange(256) for _ in range(8)] for _ in range(6)], "k": 60, "sigma": 0.5,
      "min_size": 3}, None, description="grey noise with smoothing and min_size")


# Selective search similarities and grouping (own generator: the cases above keep
# their random inputs).
srng = random.Random(7)


def hist(n):
    v = [srng.random() for _ in range(n)]
    t = sum(v)
    return [r4(x / t) for x in v]


def region(size, box, colour, texture):
    return {"size": size, "box": box, "colour": colour, "texture": texture}


case(L, "similarity_basic", "selective_search_similarity",
     {"a": region(10, [0, 0, 5, 2], [0.5, 0.5, 0, 0], [1, 0]),
      "b": region(10, [5, 0, 10, 2], [0.25, 0.25, 0.5, 0], [0.5, 0.5]), "image_size": 100},
     {"colour": 0.5, "texture": 0.5, "size": 0.8, "fill": 1.0, "total": 2.8,
      "merged": region(20, [0, 0, 10, 2], [0.375, 0.375, 0.25, 0], [0.75, 0.25])}, FLOAT,
     description="histogram intersection, eq. 3 and 4, size-weighted merged histograms")
case(L, "similarity_size_fill_only", "selective_search_similarity",
     {"a": region(4, [0, 0, 2, 2], [1, 0], [1]), "b": region(4, [8, 8, 10, 10], [1, 0], [1]),
      "image_size": 100, "strategy": "S+F"},
     {"colour": 1.0, "texture": 1.0, "size": 0.92, "fill": 0.08, "total": 1.0,
      "merged": region(8, [0, 0, 10, 10], [1, 0], [1])}, FLOAT,
     description="far-apart regions fill their box badly; strategy S+F ignores colour")
case(L, "similarity_random", "selective_search_similarity",
     {"a": region(120, [3, 4, 20, 18], hist(75), hist(240)),
      "b": region(45, [15, 10, 25, 22], hist(75), hist(240)), "image_size": 1024},
     None, FLOAT, description="three-channel histograms (75 colour, 240 texture bins)")
case(L, "grouping_tie", "selective_search_grouping",
     {"regions": [region(1, [i, 0, i + 1, 1], [1, 0], [1]) for i in range(3)],
      "neighbours": [[0, 1], [1, 2]], "image_size": 3},
     {"merged_from": [[0, 1], [2, 3]],
      "boxes": [[0, 0, 1, 1], [1, 0, 2, 1], [2, 0, 3, 1], [0, 0, 2, 1], [0, 0, 3, 1]]},
     description="equally similar pairs: the smaller indices merge first")
case(L, "grouping_random", "selective_search_grouping",
     {"regions": [region(srng.randrange(5, 40), [2 * i, 0, 2 * i + 2, 4], hist(25), hist(80))
                  for i in range(6)],
      "neighbours": [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [0, 5]], "image_size": 48},
     None, description="six regions in a ring; the order of the five merges")


# ---- yolo: the training targets (lesson 06) ----------------------------------------------
L = "yolo"
# The test's hand case (tests/test_yolo.cpp): S = 2, B = 2, C = 2 on a 100 x 100 image,
# 50-pixel cells. The object [12, 32, 48, 48] has its centre (30, 40) in cell (0, 0):
# x = 30/50 = 0.6, y = 40/50 = 0.8, sqrt(36/100) = 0.6, sqrt(16/100) = 0.4. Predictor 0
# (0.5, 0.8, 0.6, 0.5) is the box [7, 27.5, 43, 52.5]: IoU 496/980 = 124/245; predictor 1
# a 4 x 4 box inside the truth: IoU 16/576. Predictor 0 is responsible.
yolo_hand = [0.5, 0.8, 0.6, 0.5, 0.8, 0.6, 0.8, 0.2, 0.2, 0.3, 0.7, 0.1,
             0, 0, 0, 0, 0.2, 0, 0, 0, 0, 0, 0, 0,
             0, 0, 0, 0, 0, 0, 0, 0, 0, -0.4, 0, 0,
             0, 0, 0, 0, 0.1, 0, 0, 0, 0, 0.1, 0, 0]
case(L, "targets_one_object", "yolo_targets",
     {"grid": 2, "boxes": 2, "num_classes": 2, "image_size": [100, 100],
      "ground_truth": [[12, 32, 48, 48]], "labels": [0],
      "output": {"shape": [2, 2, 12], "data": yolo_hand}},
     {"cells": [[0, 0]], "predictors": [0], "classes": [0], "objects": [0], "xy": [[0.6, 0.8]],
      "sqrt_wh": [[0.6, 0.4]], "iou": [124 / 245]}, FLOAT,
     description="the centre's cell, x and y in the cell, sqrt w and h in the image; the "
                 "predictor with the higher IoU (124/245) is responsible")
# All-zero predictions overlap nothing: the closest predictor is responsible, a tie, so
# predictor 0. Centres (95, 15) -> cell (0, 1); (10, 10) and (20, 20) both in cell (0, 0):
# the larger box [0, 0, 40, 40] is kept; (80, 80) -> cell (1, 1), x = 80/50 - 1 = 0.6.
case(L, "targets_cells", "yolo_targets",
     {"grid": 2, "boxes": 2, "num_classes": 2, "image_size": [100, 100],
      "ground_truth": [[90, 10, 100, 20], [5, 5, 15, 15], [0, 0, 40, 40], [60, 60, 100, 100]],
      "labels": [1, 0, 1, 0]},
     {"cells": [[0, 0], [0, 1], [1, 1]], "predictors": [0, 0, 0], "classes": [1, 1, 0],
      "objects": [2, 0, 3], "xy": [[0.4, 0.4], [0.9, 0.3], [0.6, 0.6]],
      "sqrt_wh": [[0.4 ** 0.5, 0.4 ** 0.5], [0.1 ** 0.5, 0.1 ** 0.5], [0.4 ** 0.5, 0.4 ** 0.5]],
      "iou": [0, 0, 0]}, FLOAT,
     description="one object per cell (two centres in one cell: the larger box); targets "
                 "sorted by row, column")
# The truth [10, 10, 40, 40] (30 x 30) in cell (0, 0) of a 2 x 2 grid, B = 3: predictor 0 a
# 25 x 25 box on its centre (IoU 625/900), predictors 1 and 2 36 x 25 and 25 x 36
# (IoU 750/1050 = 5/7 each): the tie goes to the lower index, 1.
case(L, "targets_best_iou", "yolo_targets",
     {"grid": 2, "boxes": 3, "num_classes": 1, "image_size": [100, 100],
      "ground_truth": [[10, 10, 40, 40]], "labels": [0],
      "output": {"shape": [2, 2, 16],
                 "data": [0.5, 0.5, 0.5, 0.5, 0.9, 0.5, 0.5, 0.6, 0.5, 0.1, 0.5, 0.5, 0.5, 0.6, 0.2, 1]
                 + [0] * 48}},
     {"cells": [[0, 0]], "predictors": [1], "classes": [0], "objects": [0], "xy": [[0.5, 0.5]],
      "sqrt_wh": [[0.3 ** 0.5, 0.3 ** 0.5]], "iou": [5 / 7]}, FLOAT,
     description="the highest IoU is responsible, whatever the confidences; equal IoUs: the "
                 "lower index")
# No predictor overlaps the truth [60, 60, 90, 90] (cell (1, 1), target (0.5, 0.5, 0.548,
# 0.548)): predictor 0 outputs zeros (distance 1.1), predictor 1 (0.5, 0.5, 0.1, 0), a box
# without area (distance 0.5): predictor 1, confidence target 0.
case(L, "targets_no_overlap", "yolo_targets",
     {"grid": 2, "boxes": 2, "num_classes": 1, "image_size": [100, 100],
      "ground_truth": [[60, 60, 90, 90]], "labels": [0],
      "output": {"shape": [2, 2, 11], "data": [0] * 33 + [0, 0, 0, 0, 0.9, 0.5, 0.5, 0.1, 0, 0, 1]}},
     {"cells": [[1, 1]], "predictors": [1], "classes": [0], "objects": [0], "xy": [[0.5, 0.5]],
      "sqrt_wh": [[0.3 ** 0.5, 0.3 ** 0.5]], "iou": [0]}, FLOAT,
     description="no predictor overlaps the truth: the one closest in (x, y, sqrt w, sqrt h) "
                 "(the darknet code's rule)")
yolo_rng = random.Random(19)
yolo_gt = []
for _ in range(4):
    w, h = yolo_rng.uniform(16, 64), yolo_rng.uniform(16, 64)
    x, y = yolo_rng.uniform(0, 128 - w), yolo_rng.uniform(0, 128 - h)
    yolo_gt.append([r4(x), r4(y), r4(x + w), r4(y + h)])
case(L, "targets_scene_random", "yolo_targets",
     {"grid": 8, "boxes": 2, "num_classes": 10, "image_size": [128, 128], "ground_truth": yolo_gt,
      "labels": [yolo_rng.randrange(10) for _ in range(4)],
      "output": tensor(yolo_rng, [8, 8, 20], -0.2, 1.0)}, None, FLOAT,
     description="the default 8 x 8 grid, B = 2, C = 10 on a 128 x 128 scene: 4 objects, "
                 "random predictions")
# ---- faces: Tiny-YOLOv2's decoding (lesson 06, "a real one"; face-api's extractBoxes) ----
L = "yolo"
TINY_ANCHORS = [(1.603231, 2.094468), (6.041143, 7.080126), (2.882459, 3.518061),
                (4.266906, 5.178857), (9.041765, 10.66308)]


def tiny_decode(data, g, image_w, image_h, input_size, threshold):
    """The expected values, computed here independently: output [1, 25, G, G] row-major,
    anchor a's (tx, ty, tw, th, to) in channels 5a .. 5a + 4."""
    sig = lambda v: 1.0 / (1.0 + math.exp(-v))
    at = lambda a, v, r, c: data[((a * 5 + v) * g + r) * g + c]
    scale = input_size / max(image_w, image_h)
    corr_x = input_size / math.floor(image_w * scale + 0.5)  # JS Math.round (no ties here)
    corr_y = input_size / math.floor(image_h * scale + 0.5)
    cand, scores, boxes = [], [], []
    for r in range(g):
        for c in range(g):
            for a, (pw, ph) in enumerate(TINY_ANCHORS):
                score = sig(at(a, 4, r, c))
                if not score > threshold:
                    continue
                cx = (c + sig(at(a, 0, r, c))) / g * corr_x
                cy = (r + sig(at(a, 1, r, c))) / g * corr_y
                w = math.exp(at(a, 2, r, c)) * pw / g * corr_x
                h = math.exp(at(a, 3, r, c)) * ph / g * corr_y
                x, y = cx - w / 2, cy - h / 2
                cand.append([r, c, a])
                scores.append(score)
                boxes.append([x * image_w, y * image_h, (x + w) * image_w, (y + h) * image_h])
    return {"candidates": cand, "scores": scores, "boxes": boxes}


def tiny_case(name, data, g, image_hw, input_size, threshold, description):
    case(L, name, "tiny_yolo_decode",
         {"output": {"shape": [1, 25, g, g], "data": data}, "image_size": list(image_hw),
          "input_size": input_size, "score_threshold": threshold},
         tiny_decode(data, g, image_hw[1], image_hw[0], input_size, threshold),
         {"abs": 1e-3, "rel": 1e-5}, description=description)


one = [-20.0] * (25 * 2 * 2)
for v in range(4):
    one[((1 * 5 + v) * 2 + 1) * 2 + 0] = 0.0
one[((1 * 5 + 4) * 2 + 1) * 2 + 0] = 2.0
tiny_case("tiny_decode_one_anchor", one, 2, (64, 64), 64, 0.5,
          "one confident anchor (1, the 6.0 x 7.1-cell prior) at row 1, col 0 of a 2 x 2 grid, "
          "t = 0: centred in its cell, the prior's size")
tiny_rng = random.Random(20)
tiny_case("tiny_decode_wide_photo", [r4(tiny_rng.uniform(-2, 2)) for _ in range(100)], 2,
          (60, 100), 64, 0.5,
          "random outputs, a 100 x 60 photo padded to a square: boxes relative to the photo "
          "(the correction 64 / 38 in y)")
tiny_case("tiny_decode_grid_4", [r4(tiny_rng.uniform(-3, 3)) for _ in range(400)], 4,
          (128, 128), 128, 0.7, "a 4 x 4 grid, threshold 0.7: row by row, anchors in order")
# ---- ssd: default boxes of one map, hard negative mining (own generator) ---------------
L = "ssd"
ssd_rng = random.Random(6)


def dbox(grid, k, maps, s_min, s_max, ratios, image, clip=True):
    return {"grid": grid, "map": k, "maps": maps, "s_min": s_min, "s_max": s_max,
            "aspect_ratios": ratios, "image_size": image, "clip": clip}


case(L, "default_boxes_one_cell", "ssd_default_boxes", dbox([1, 1], 1, 2, 0.5, 0.7, [], [100, 100]),
     {"boxes": [[25, 25, 75, 75], [20.4196, 20.4196, 79.5804, 79.5804]]}, {"abs": 1e-3, "rel": 1e-5},
     description="one cell, scales 0.5 then 0.7: the square s_1 box and sqrt(0.5 x 0.7) = 0.5916")
case(L, "default_boxes_ratio_2", "ssd_default_boxes", dbox([1, 1], 1, 2, 0.5, 0.5, [2], [100, 100]),
     {"boxes": [[25, 25, 75, 75], [25, 25, 75, 75], [14.6447, 32.3223, 85.3553, 67.6777],
                [32.3223, 14.6447, 67.6777, 85.3553]]}, {"abs": 1e-3, "rel": 1e-5},
     description="ratio 2 and its reciprocal: w = s sqrt(2), h = s / sqrt(2), then swapped")
case(L, "default_boxes_grid_order", "ssd_default_boxes", dbox([2, 3], 1, 3, 0.2, 0.6, [2], [60, 90]),
     None, FLOAT, description="2 x 3 cells on a 90 x 60 image: row by row, centres at (i + 0.5) / f")
case(L, "default_boxes_middle_map", "ssd_default_boxes",
     dbox([8, 8], 3, 4, 0.12, 0.48, [2, 3], [128, 128]), None, FLOAT,
     description="bin/ssd's third map (8 x 8): s_3 = 0.36, s_4 = 0.48, ratios 2, 3")
case(L, "default_boxes_last_map", "ssd_default_boxes",
     dbox([4, 4], 4, 4, 0.12, 0.48, [2, 3], [128, 128]), None, FLOAT,
     description="bin/ssd's last map: s_5 continues the formula (0.60), s' = sqrt(0.48 x 0.60)")
case(L, "default_boxes_clip", "ssd_default_boxes", dbox([2, 2], 2, 2, 0.6, 0.9, [3], [50, 50]),
     None, FLOAT, description="s = 0.9 with ratio 3: the width 1.56 is clipped to the image's 1")
case(L, "hard_negatives_basic", "hard_negative_mining",
     {"conf_loss": [0.5, 2.0, 0.1, 3.0, 1.0, 0.2, 0.7, 0.3], "positive": [1, 0, 0, 0, 0, 0, 0, 0],
      "neg_pos_ratio": 3}, {"negatives": [3, 1, 4]},
     description="one positive: the three negatives with the highest loss, highest first")
case(L, "hard_negatives_skip_positives", "hard_negative_mining",
     {"conf_loss": [9.0, 2.0, 8.0, 1.0, 0.5], "positive": [1, 0, 1, 0, 0], "neg_pos_ratio": 1},
     {"negatives": [1, 3]}, description="a positive's loss never makes it a negative")
case(L, "hard_negatives_ties", "hard_negative_mining",
     {"conf_loss": [1.0, 2.0, 2.0, 1.0, 2.0, 1.0], "positive": [0, 0, 0, 0, 1, 0], "neg_pos_ratio": 3},
     {"negatives": [1, 2, 0]}, description="equal losses: the lower index first")
case(L, "hard_negatives_ceil", "hard_negative_mining",
     {"conf_loss": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], "positive": [1, 0, 0, 0, 0, 0], "neg_pos_ratio": 1.5},
     {"negatives": [5, 4]}, description="ratio 1.5 with one positive keeps ceil(1.5) = 2")
case(L, "hard_negatives_all", "hard_negative_mining",
     {"conf_loss": [0.3, 0.1, 0.2], "positive": [0, 1, 0], "neg_pos_ratio": 3},
     {"negatives": [0, 2]}, description="fewer negatives than 3 x positives: all of them")
case(L, "hard_negatives_no_positive", "hard_negative_mining",
     {"conf_loss": [0.3, 0.1, 0.2], "positive": [0, 0, 0], "neg_pos_ratio": 3},
     {"negatives": []}, description="no positive in the image: no negative either")
case(L, "hard_negatives_random", "hard_negative_mining",
     {"conf_loss": [r4(ssd_rng.uniform(0, 5)) for _ in range(300)],
      "positive": [int(ssd_rng.random() < 0.04) for _ in range(300)], "neg_pos_ratio": 3}, None,
     description="300 default boxes, a dozen positives")

# ---- fcn: max unpooling (lesson 07) --------------------------------------------------------
L = "fcn"
# The test's hand case (tests/test_fcn.cpp): the windows' maxima 5, 8, 9, 7 sit at flat
# positions 1, 6, 12 and 15; the decoder's values 10, 20, 30, 40 go back there.
case(L, "unpool_hand", "max_unpool",
     {"x": {"shape": [1, 1, 4, 4], "data": [1, 5, 2, 0, 3, 4, 8, 1, 0, 2, 1, 1, 9, 6, 3, 7]},
      "values": {"shape": [1, 1, 2, 2], "data": [10, 20, 30, 40]}},
     {"switches": [1, 6, 12, 15],
      "unpooled": {"shape": [1, 1, 4, 4], "data": [0, 10, 0, 0, 0, 0, 20, 0, 0, 0, 0, 0, 30, 0, 0, 40]}},
     description="each value back where its window's maximum was, zeros elsewhere")
# Ties: the first maximum in scan order wins (PyTorch's rule) -- window (0, 0) holds 3, 3,
# 3, 3: position 0; window (0, 1) holds 2, 7, 7, 1: position 3 (row 0, column 3). An odd
# last row and column (H = W = 5) are not pooled; unpooled, they stay 0.
case(L, "unpool_ties_and_odd_size", "max_unpool",
     {"x": {"shape": [1, 1, 5, 5], "data": [3, 3, 2, 7, 9,
                                            3, 3, 7, 1, 9,
                                            0, 1, 4, 4, 9,
                                            6, 0, 4, 5, 9,
                                            9, 9, 9, 9, 9]}},
     {"switches": [0, 3, 15, 18],
      "unpooled": {"shape": [1, 1, 5, 5], "data": [3, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                                   6, 0, 0, 5, 0, 0, 0, 0, 0, 0]}},
     description="equal values: the first in scan order; an odd border row and column stay 0")
fcn_rng = random.Random(7)
case(L, "unpool_random", "max_unpool",
     {"x": tensor(fcn_rng, [2, 3, 6, 8]), "values": tensor(fcn_rng, [2, 3, 3, 4])}, None,
     description="two images, three channels: switches are per plane")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only")
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args()
    for lesson, name, body in CASES:
        if args.only and lesson != args.only:
            continue
        d = os.path.join(ROOT, lesson)
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, name + ".json")
        if os.path.exists(path) and not args.force:
            continue
        if lesson == "faster_rcnn" and name.startswith("coco_pycocotools"):
            os.makedirs(os.path.join(d, "inputs"), exist_ok=True)
            for src, dst in [("bbox_gt.json", "coco_bbox_gt.json"), ("bbox_results.json", "coco_bbox_results.json")]:
                with open(os.path.join(COCO_SRC, src)) as fi, open(os.path.join(d, "inputs", dst), "w") as fo:
                    fo.write(fi.read())
        with open(path, "w") as f:
            json.dump(body, f, indent=1)
            f.write("\n")
        print("wrote", os.path.relpath(path))


if __name__ == "__main__":
    main()
