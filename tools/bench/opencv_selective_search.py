#!/usr/bin/python3
"""OpenCV's Selective Search (opencv-contrib ximgproc) on the images of
`bin/selective_search bench`, as the yardstick for detlab's presets.

Needs Debian's python3-opencv (4.6 includes the contrib ximgproc module) and
Debian's /usr/bin/python3:  apt-get install python3-opencv
Prints per image and mode: seconds (best of --repeat), number of boxes, and
recall@0.5 of all boxes where ground truth exists (labelme VOC photos, scenes).
With --with-detlab it first runs `bin/selective_search bench --json` (one program
at a time, so neither disturbs the other's timing) and prints both side by side,
with OpenCV's time divided by detlab's for the matching preset.

    /usr/bin/python3 tools/bench/opencv_selective_search.py [--with-detlab] [--threads N]
"""
import argparse
import json
import math
import os
import subprocess
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


def coco_boxes(directory, limit=None):
    """file path -> list of ground-truth boxes (x1, y1, x2, y2), in the file's image order."""
    path = os.path.join(directory, "annotations.json")
    try:
        with open(path) as f:
            coco = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f"error: {path}: {e}")
    images = {}
    for im in coco["images"][:limit]:
        p = os.path.join(directory, im["file_name"])
        if not os.path.exists(p):
            p = os.path.join(directory, "images", im["file_name"])
        images[im["id"]] = p
    gt = {p: [] for p in images.values()}
    for a in coco["annotations"]:
        if a.get("iscrowd", 0) or a["image_id"] not in images:
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


K_ARGS = {}  # base_k / inc_k when given on the command line, else OpenCV's defaults


def run(img, mode):
    ss = cv2.ximgproc.segmentation.createSelectiveSearchSegmentation()
    ss.setBaseImage(img)
    if mode == "fast":
        ss.switchToSelectiveSearchFast(**K_ARGS)
    else:
        ss.switchToSelectiveSearchQuality(**K_ARGS)
    rects = ss.process()  # (x, y, w, h)
    return [(x, y, x + w, y + h) for (x, y, w, h) in rects]


def run_detlab(binary, scene_dir, scene_count, threads):
    cmd = [binary, "bench", "--json", "--preset", "all", "--data", scene_dir,
           "--limit", str(scene_count)]
    if threads > 0:
        cmd += ["--threads", str(threads)]
    print("running: " + " ".join(cmd), file=sys.stderr)
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"error: {binary}: exit {p.returncode}: {p.stderr.strip()}")
    rows = {}
    for r in json.loads(p.stdout):
        rec = f"{r['recalled50']}/{r['objects']}" if "objects" in r else "-"
        rows[(r["image"], r["preset"])] = (r["seconds"], r["boxes"], rec)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenes", default="data/generated/scenes/test")
    ap.add_argument("--scene-count", type=int, default=4, help="scenes to time")
    ap.add_argument("--recall-scenes", type=int, default=0,
                    help="also report recall@0.5 (fast mode) over this many scenes")
    ap.add_argument("--modes", default="fast,quality")
    ap.add_argument("--repeat", type=int, default=3, help="best of this many runs (fast mode)")
    ap.add_argument("--threads", type=int, default=0,
                    help="cv2.setNumThreads and detlab --threads (0 = their default)")
    ap.add_argument("--with-detlab", action="store_true",
                    help="run bin/selective_search bench first and print both side by side")
    ap.add_argument("--detlab", default="bin/selective_search", help="the detlab program")
    ap.add_argument("--base-k", type=int, help="OpenCV's first k (the paper's fast mode: 50)")
    ap.add_argument("--inc-k", type=int, help="OpenCV's k increment (the paper's fast mode: 50)")
    args = ap.parse_args()
    if args.base_k is not None:
        K_ARGS["base_k"] = args.base_k
    if args.inc_k is not None:
        K_ARGS["inc_k"] = args.inc_k
    if args.threads > 0:
        cv2.setNumThreads(args.threads)
    modes = [m for m in args.modes.split(",") if m]
    for m in modes:
        if m not in ("fast", "quality"):
            ap.error(f"--modes: unknown mode '{m}' (fast, quality)")

    gt = {p: None for p in PHOTOS}
    gt.update(coco_boxes(LABELME))
    scene_gt = {}
    if os.path.isdir(args.scenes):
        gt.update(coco_boxes(args.scenes, args.scene_count))
        if args.recall_scenes > 0:
            scene_gt = coco_boxes(args.scenes, args.recall_scenes)
    else:
        print(f"(no scenes at {args.scenes})", file=sys.stderr)

    detlab = None
    if args.with_detlab:
        detlab = run_detlab(args.detlab, args.scenes, args.scene_count, args.threads)

    print(f"OpenCV {cv2.__version__}, {cv2.getNumThreads()} threads"
          + (f", {K_ARGS}" if K_ARGS else ", its default k values"))
    head = f"{'image':<48} {'method':>16} {'seconds':>8} {'boxes':>7} {'recall@0.5':>11}"
    print(head + ("  opencv/detlab time" if detlab else ""))
    ratios = {m: [] for m in modes}
    for path, boxes_gt in gt.items():
        img = cv2.imread(path)
        if img is None:
            sys.exit(f"error: {path}: cannot read image")
        if detlab and (path, "single") in detlab:
            s, n, rec = detlab[(path, "single")]
            print(f"{path:<48} {'detlab single':>16} {s:>8.3f} {n:>7} {rec:>11}")
        for mode in modes:
            best = 1e30
            for _ in range(args.repeat if mode == "fast" else 1):
                t0 = time.perf_counter()
                boxes = run(img, mode)
                best = min(best, time.perf_counter() - t0)
            rec = "-" if not boxes_gt else f"{recalled(boxes_gt, boxes)}/{len(boxes_gt)}"
            extra = ""
            if detlab and (path, mode) in detlab:
                s, n, drec = detlab[(path, mode)]
                print(f"{path:<48} {'detlab ' + mode:>16} {s:>8.3f} {n:>7} {drec:>11}")
                ratios[mode].append(best / s)
                extra = f"  {best / s:>6.2f}x"
            print(f"{path:<48} {'opencv ' + mode:>16} {best:>8.3f} {len(boxes):>7} {rec:>11}{extra}")
    if detlab:
        for mode, r in ratios.items():
            if r:
                g = math.exp(sum(math.log(x) for x in r) / len(r))
                print(f"{mode}: OpenCV takes {g:.2f}x detlab's time (geometric mean over {len(r)} images)")
    if args.recall_scenes > 0 and scene_gt:
        hit = total = nboxes = 0
        for p, g in scene_gt.items():
            boxes = run(cv2.imread(p), "fast")
            hit += recalled(g, boxes)
            total += len(g)
            nboxes += len(boxes)
        print(f"scenes opencv fast: recall@0.5 {hit / max(total, 1):.3f} ({hit}/{total}) "
              f"over {len(scene_gt)} images, {nboxes / len(scene_gt):.0f} boxes/image")


if __name__ == "__main__":
    main()
