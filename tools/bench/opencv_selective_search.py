#!/usr/bin/python3
"""OpenCV's Selective Search (opencv-contrib ximgproc) on the images of
`bin/selective_search bench`, as the yardstick for detlab's presets.

Needs Debian's python3-opencv (which includes the contrib ximgproc module) and
Debian's /usr/bin/python3:  apt-get install python3-opencv
Prints per image and mode: seconds (best of --repeat), number of boxes, and
recall@0.5 of all boxes where ground truth exists (labelme VOC photos, scenes).

    /usr/bin/python3 tools/bench/opencv_selective_search.py [--scenes DIR] [--threads N]
"""
import argparse
import json
import os
import sys
import time

try:
    import cv2
except ImportError:
    sys.exit("error: cv2 not importable: install Debian's python3-opencv and run with /usr/bin/python3")
if not hasattr(cv2, "ximgproc"):
    sys.exit("error: this OpenCV has no ximgproc (opencv-contrib) module: "
             "Debian's python3-opencv has it; pip's opencv-python does not")

LABELME = "data/samples/labelme"
PHOTOS = ["data/samples/skimage/chelsea.png", "data/samples/darknet/dog.jpg"]


def coco_boxes(directory):
    """file path -> list of ground-truth boxes (x1, y1, x2, y2) from a COCO file."""
    with open(os.path.join(directory, "annotations.json")) as f:
        coco = json.load(f)
    images = {}
    for im in coco["images"]:
        path = os.path.join(directory, im["file_name"])
        if not os.path.exists(path):
            path = os.path.join(directory, "images", im["file_name"])
        images[im["id"]] = path
    gt = {p: [] for p in images.values()}
    for a in coco["annotations"]:
        if a.get("iscrowd", 0):
            continue
        x, y, w, h = a["bbox"]
        gt[images[a["image_id"]]].append((x, y, x + w, y + h))
    return gt


def iou(a, b):
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def recalled(gt, boxes, thr=0.5):
    return sum(1 for g in gt if any(iou(g, b) >= thr for b in boxes))


def run(img, mode):
    ss = cv2.ximgproc.segmentation.createSelectiveSearchSegmentation()
    ss.setBaseImage(img)
    if mode == "fast":
        ss.switchToSelectiveSearchFast()
    else:
        ss.switchToSelectiveSearchQuality()
    rects = ss.process()  # (x, y, w, h)
    return [(x, y, x + w, y + h) for (x, y, w, h) in rects]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenes", default="data/generated/scenes/test")
    ap.add_argument("--scene-count", type=int, default=4, help="scenes to time")
    ap.add_argument("--recall-scenes", type=int, default=0,
                    help="also report recall@0.5 (fast mode) over this many scenes")
    ap.add_argument("--modes", default="fast,quality")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="cv2.setNumThreads (0 = OpenCV default)")
    args = ap.parse_args()
    if args.threads > 0:
        cv2.setNumThreads(args.threads)

    gt = {p: None for p in PHOTOS}
    gt.update(coco_boxes(LABELME))
    scene_gt = {}
    if os.path.isdir(args.scenes):
        scene_gt = coco_boxes(args.scenes)
        for p in sorted(scene_gt)[: args.scene_count]:
            gt[p] = scene_gt[p]
    else:
        print(f"(no scenes at {args.scenes})", file=sys.stderr)

    print(f"OpenCV {cv2.__version__}")
    print(f"{'image':<44} {'mode':>8} {'seconds':>8} {'boxes':>7} {'recall@0.5':>11}")
    for path, boxes_gt in gt.items():
        img = cv2.imread(path)
        if img is None:
            sys.exit(f"error: {path}: cannot read image")
        for mode in args.modes.split(","):
            best = 1e30
            for _ in range(args.repeat if mode == "fast" else 1):
                t0 = time.perf_counter()
                boxes = run(img, mode)
                best = min(best, time.perf_counter() - t0)
            rec = "-" if not boxes_gt else f"{recalled(boxes_gt, boxes)}/{len(boxes_gt)}"
            print(f"{path:<44} {mode:>8} {best:>8.3f} {len(boxes):>7} {rec:>11}")
    if args.recall_scenes > 0 and scene_gt:
        hit = total = nboxes = 0
        paths = sorted(scene_gt)[: args.recall_scenes]
        for p in paths:
            boxes = run(cv2.imread(p), "fast")
            hit += recalled(scene_gt[p], boxes)
            total += len(scene_gt[p])
            nboxes += len(boxes)
        print(f"scenes fast: recall@0.5 {hit / max(total, 1):.3f} ({hit}/{total}) "
              f"over {len(paths)} images, {nboxes / len(paths):.0f} boxes/image")


if __name__ == "__main__":
    main()
