#!/usr/bin/env python3
"""face-api's Tiny Face Detector (Tiny-YOLOv2 with depthwise-separable convolutions) built
in PyTorch 1.13 from the weights bin/import_tfjs wrote, next to detlab's own run of the
same network: batch 1, 416 x 416, the same thread count, in one script run.

detlab's figure is the "network" stage of `bin/faces bench` (the forward pass only, as
here; pre-processing and decoding are timed separately there): the mean over RUNS
passes after bench's warm-up; PyTorch's is the median of RUNS passes after 3 warm-ups.
That the two networks compute the same thing is checked elsewhere: detlab's against
face-api's JavaScript (tests/test_faces.cpp); this script only checks the output shape.

usage: torch_tiny_face.py [--threads 2] [--runs 30] [--model FILE] [--image FILE]
"""
import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "golden"))
import read_safetensors  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def build(w, torch):
    F = torch.nn.functional
    t = {k: torch.from_numpy(v.copy()) for k, v in w.items()}

    def pool_same(x, stride):
        # TensorFlow's "same": odd maps are padded right/bottom only (with -inf for max).
        h = x.shape[2]
        out = -(-h // stride)
        total = max((out - 1) * stride + 2 - h, 0)
        x = F.pad(x, (total // 2, total - total // 2, total // 2, total - total // 2),
                  value=float("-inf"))
        return F.max_pool2d(x, 2, stride)

    def forward(x):
        y = F.leaky_relu(F.conv2d(x, t["conv0.filters"], t["conv0.bias"]), 0.1)
        y = pool_same(y, 2)
        for i in range(1, 6):
            p = f"conv{i}."
            y = F.conv2d(y, t[p + "depthwise_filter"], None, padding=1, groups=y.shape[1])
            y = F.leaky_relu(F.conv2d(y, t[p + "pointwise_filter"], t[p + "bias"]), 0.1)
            y = pool_same(y, 2 if i < 5 else 1)
        return F.conv2d(y, t["conv8.filters"], t["conv8.bias"])

    return forward


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--model", default=os.path.join(
        ROOT, "data/pretrained/face-api/tiny_face_detector_model.safetensors"))
    ap.add_argument("--image", default=os.path.join(ROOT, "data/samples/skimage/astronaut.png"))
    args = ap.parse_args()

    # detlab first (its own process, same thread count).
    out = subprocess.run([os.path.join(ROOT, "bin/faces"), "bench", "--json", "--threads",
                          str(args.threads), "--model", args.model] + [args.image] * args.runs,
                         check=True, capture_output=True, text=True).stdout
    bench = json.loads(out)
    detlab_ms = 1000.0 * bench["seconds_per_image"]["network"]

    import torch
    torch.set_num_threads(args.threads)
    weights, _ = read_safetensors.read(args.model)
    net = build(weights, torch)
    x = torch.randn(1, 3, 416, 416, generator=torch.Generator().manual_seed(1))
    times = []
    with torch.no_grad():
        for _ in range(3):
            net(x)
        for _ in range(args.runs):
            t0 = time.perf_counter()
            y = net(x)
            times.append(time.perf_counter() - t0)
    times.sort()
    torch_ms = 1000.0 * times[len(times) // 2]
    assert tuple(y.shape) == (1, 25, 13, 13)
    print(f"tiny face detector, batch 1, 416x416, {args.threads} threads: "
          f"detlab {detlab_ms:.2f} ms (mean of {args.runs}), PyTorch {torch.__version__} "
          f"{torch_ms:.2f} ms (median of {args.runs}); PyTorch / detlab = {torch_ms / detlab_ms:.2f}")


if __name__ == "__main__":
    main()
