#!/usr/bin/python3
"""Per-program throughput table for `make bench`: for 1 and 2 threads,

  training images/s  -- a short `train` run at the program's default batch, read from the
                        run's CSV (its `seconds` column is the epoch's training time, data
                        generation and loading included, the end-of-epoch evaluation not);
  inference images/s -- the program's own `bench` at batch 1 (fast_rcnn: 1 / its seconds per
                        scene without proposals, which are read from the cache; faster_rcnn:
                        1 / its seconds per scene, its RPN's proposals included).

The data are tiny sets made by bin/datagen in a scratch directory, so the table needs only
Fashion-MNIST and takes a few minutes. Prints the table and writes it as JSON.
Each figure is the best of --repeat runs (default 3): a short run on a shared 2-core
machine is easily slowed by anything else, never sped up.
Usage: program_table.py [--bin DIR] [--out FILE.json] [--threads 1,2] [--programs a,b]
                        [--repeat N]
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"program_table: {' '.join(cmd)} failed ({r.returncode}): "
                 f"{(r.stderr or r.stdout).strip().splitlines()[-1:]}")
    return r.stdout


def epoch_seconds(model):
    """Training seconds of the first epoch, from the run's CSV next to the model."""
    with open(os.path.splitext(model)[0] + ".csv") as f:
        return float(next(csv.DictReader(f))["seconds"])


def bench_batch1(out):
    rows = json.loads(out.strip().splitlines()[-1])
    return next(r["inference_images_per_s"] for r in rows if r["batch"] == 1)


# Each program: its short training run (images trained, extra flags) and its batch-1
# inference measurement. D is the scratch data directory, M the model path.
def programs(b, D):
    return {
        "classify": {
            "images": 1280,
            "train": [f"{b}/classify", "train", "--epochs", "1", "--limit", "1280"],
            "infer": lambda T: bench_batch1(run([f"{b}/classify", "bench", "--json",
                                                 "--threads", T])),
        },
        "classify_localize": {
            "images": 320,
            "train": [f"{b}/classify_localize", "train", "--scratch", "--epochs", "1",
                      "--limit", "320", "--data", f"{D}/single"],
            "infer": lambda T: bench_batch1(run([f"{b}/classify_localize", "bench", "--json",
                                                 "--threads", T])),
        },
        "deeppose": {
            "images": 320,
            "train": [f"{b}/deeppose", "train", "--epochs", "1", "--stages", "1",
                      "--limit", "320", "--data", f"{D}/figures"],
            "infer": lambda T: json.loads(run([f"{b}/deeppose", "bench", "--json", "--stages",
                                               "1", "--batch", "1", "--threads", T])
                                          .strip().splitlines()[-1])[0]["images_per_s"],
        },
        "fast_rcnn": {
            "images": 24,
            "train": [f"{b}/fast_rcnn", "train", "--scratch", "--epochs", "1", "--limit",
                      "24", "--val-images", "2", "--data", f"{D}/scenes", "--cache-dir",
                      f"{D}/cache"],
            "infer": lambda T: 1.0 / json.loads(run(
                [f"{b}/fast_rcnn", "bench", "--json", "--cached", "--limit", "4", "--data",
                 f"{D}/scenes", "--cache-dir", f"{D}/cache", "--threads", T])
                .strip().splitlines()[-1])["seconds_per_image"]["without_proposals"],
        },
        "faster_rcnn": {  # its proposals are its own: inference includes them
            "images": 24,
            "train": [f"{b}/faster_rcnn", "train", "--scratch", "--epochs", "1", "--limit",
                      "24", "--val-images", "2", "--data", f"{D}/scenes"],
            "infer": lambda T: 1.0 / json.loads(run(
                [f"{b}/faster_rcnn", "bench", "--json", "--limit", "4", "--data",
                 f"{D}/scenes", "--threads", T])
                .strip().splitlines()[-1])["seconds_per_image"]["total"],
        },
        "mask_rcnn": {  # Faster R-CNN + the mask branch; inference includes the RPN
            "images": 24,
            "train": [f"{b}/mask_rcnn", "train", "--no-init", "--scratch", "--epochs", "1",
                      "--limit", "24", "--val-images", "2", "--data", f"{D}/scenes"],
            "infer": lambda T: 1.0 / json.loads(run(
                [f"{b}/mask_rcnn", "bench", "--json", "--limit", "4", "--data",
                 f"{D}/scenes", "--threads", T])
                .strip().splitlines()[-1])["seconds_per_image"]["total"],
        },
        "yolo": {  # no proposals: one network, then decoding and NMS
            "images": 24,
            "train": [f"{b}/yolo", "train", "--scratch", "--epochs", "1", "--limit",
                      "24", "--val-images", "2", "--data", f"{D}/scenes"],
            "infer": lambda T: 1.0 / json.loads(run(
                [f"{b}/yolo", "bench", "--json", "--limit", "4", "--data",
                 f"{D}/scenes", "--threads", T])
                .strip().splitlines()[-1])["seconds_per_image"]["total"],
        },
        "fcn": {  # a label per pixel: one network, then the argmax
            "images": 24,
            "train": [f"{b}/fcn", "train", "--scratch", "--epochs", "1", "--limit",
                      "24", "--val-images", "2", "--data", f"{D}/scenes"],
            "infer": lambda T: bench_batch1(run([f"{b}/fcn", "bench", "--json",
                                                 "--threads", T])),
        },
        "ssd": {  # no proposals: one network, then NMS
            "images": 24,
            "train": [f"{b}/ssd", "train", "--scratch", "--epochs", "1", "--limit",
                      "24", "--val-images", "2", "--data", f"{D}/scenes"],
            "infer": lambda T: 1.0 / json.loads(run(
                [f"{b}/ssd", "bench", "--json", "--limit", "4", "--data",
                 f"{D}/scenes", "--threads", T])
                .strip().splitlines()[-1])["seconds_per_image"]["total"],
        },
    }


def make_data(b, D):
    g = [f"{b}/datagen"]
    q = ["--quiet"]
    run(g + ["scenes"] + q + ["--single", "--min-scale", "40", "--max-scale", "112", "--count",
                              "16", "--split", "test", "--seed", "2", "--out", f"{D}/single/test"])
    run(g + ["scenes"] + q + ["--count", "24", "--split", "train", "--seed", "1", "--out",
                              f"{D}/scenes/train"])
    run(g + ["scenes"] + q + ["--count", "4", "--split", "test", "--seed", "2", "--out",
                              f"{D}/scenes/test"])
    run(g + ["figures"] + q + ["--count", "320", "--seed", "1", "--out", f"{D}/figures/train"])
    run(g + ["figures"] + q + ["--count", "16", "--seed", "2", "--out", f"{D}/figures/test"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="bin")
    ap.add_argument("--out", default="out/bench/programs.json")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--programs",
                    default="classify,classify_localize,deeppose,fast_rcnn,faster_rcnn,mask_rcnn,yolo,ssd,fcn")
    args = ap.parse_args()
    b = os.path.abspath(args.bin)
    threads = args.threads.split(",")
    with tempfile.TemporaryDirectory(prefix="detlab-bench-") as D:
        make_data(b, D)
        progs = programs(b, D)
        # fast_rcnn's proposals are computed once, outside the timed runs.
        if "fast_rcnn" in args.programs.split(","):
            run(progs["fast_rcnn"]["train"] + ["--quiet", "--threads", "2", "--model",
                                               f"{D}/warm.safetensors"])
        rows = []
        for name in args.programs.split(","):
            p = progs[name]
            row = {"program": name, "train_images": p["images"]}
            for T in threads:
                model = f"{D}/{name}.{T}.safetensors"
                train, infer = [], []
                for _ in range(max(1, args.repeat)):
                    run(p["train"] + ["--quiet", "--threads", T, "--model", model])
                    train.append(p["images"] / epoch_seconds(model))
                    infer.append(p["infer"](T))
                row[f"train_images_per_s_{T}t"] = max(train)
                row[f"infer_images_per_s_{T}t"] = max(infer)
            rows.append(row)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(rows, f, indent=2)
    head = ["program"] + [f"train {T}t" for T in threads] + \
           [f"infer b1 {T}t" for T in threads]
    if len(threads) == 2:
        head.append(f"train {threads[1]}t/{threads[0]}t")
    print("per-program throughput, images/s (train: default batch, short run incl. data; "
          f"infer: batch 1; best of {args.repeat})")
    print("| " + " | ".join(head) + " |")
    print("|" + " --- |" * len(head))
    for r in rows:
        cells = [r["program"]]
        cells += [f"{r[f'train_images_per_s_{T}t']:.1f}" for T in threads]
        cells += [f"{r[f'infer_images_per_s_{T}t']:.1f}" for T in threads]
        if len(threads) == 2:
            cells.append(f"{r[f'train_images_per_s_{threads[1]}t'] / r[f'train_images_per_s_{threads[0]}t']:.2f}x")
        print("| " + " | ".join(cells) + " |")
    print(f"(written to {args.out})")


if __name__ == "__main__":
    main()
