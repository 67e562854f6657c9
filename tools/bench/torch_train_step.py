#!/usr/bin/python3
"""The reference backbone's training step in PyTorch, timed like bin/bench_train_step.

4 x [conv3x3 pad 1 + ReLU + maxpool 2], channels 3 -> 32 -> 64 -> 128 -> 128,
Linear 8192 -> 10, cross-entropy, SGD momentum 0.9; batch 32 of 3 x 128 x 128; 2 threads.
Warm-up 2 steps, then the median ms over --steps steps; effective GFLOP/s counts
forward + backward as 3 x the forward multiply-adds x 2 of the convs and the linear.
Run with /usr/bin/python3 (the interpreter that has Debian's torch).
Usage: torch_train_step.py [--json] [--steps N]
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--steps", type=int, default=10)
    args = ap.parse_args()

    torch.set_num_threads(2)
    torch.manual_seed(1234)
    batch, H, W, classes = 32, 128, 128, 10
    chans = [3, 32, 64, 128, 128]
    convs = [torch.nn.Conv2d(chans[i], chans[i + 1], 3, padding=1) for i in range(4)]
    feat = chans[4] * (H // 16) * (W // 16)
    fc = torch.nn.Linear(feat, classes)
    params = [p for m in convs + [fc] for p in m.parameters()]
    opt = torch.optim.SGD(params, lr=0.01, momentum=0.9)
    images = torch.rand(batch, chans[0], H, W) * 2 - 1
    labels = torch.arange(batch) % classes

    phases = {}

    def step():
        t0 = time.perf_counter()
        x = images
        for c in convs:
            x = F.max_pool2d(F.relu(c(x)), 2)
        loss = F.cross_entropy(fc(torch.flatten(x, 1)), labels)
        t1 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        t2 = time.perf_counter()
        opt.step()
        t3 = time.perf_counter()
        phases["forward"] = (t1 - t0) * 1e3
        phases["backward"] = (t2 - t1) * 1e3
        phases["update"] = (t3 - t2) * 1e3
        return loss.item()

    for _ in range(2):
        step()
    total, fwd, bwd, upd = [], [], [], []
    loss = 0.0
    for _ in range(args.steps):
        t0 = time.perf_counter()
        loss = step()
        total.append((time.perf_counter() - t0) * 1e3)
        fwd.append(phases["forward"])
        bwd.append(phases["backward"])
        upd.append(phases["update"])

    macs = sum(batch * chans[l + 1] * chans[l] * 9 * (H >> l) * (W >> l) for l in range(4))
    macs += batch * feat * classes
    gflop_per_step = 3.0 * 2.0 * macs * 1e-9
    ms = statistics.median(total)
    gflops = gflop_per_step / (ms * 1e-3)
    if args.json:
        print(json.dumps({
            "engine": "pytorch " + torch.__version__, "threads": 2, "batch": batch,
            "steps": args.steps, "median_ms": ms, "gflops": gflops,
            "gflop_per_step": gflop_per_step, "forward_ms": statistics.median(fwd),
            "backward_ms": statistics.median(bwd), "update_ms": statistics.median(upd),
            "final_loss": loss}, indent=2))
    else:
        print(f"pytorch {torch.__version__} train step (batch {batch}, 3x{H}x{W}, 2 threads, "
              f"{args.steps} steps)")
        print(f"  median {ms:.1f} ms/step  (forward {statistics.median(fwd):.1f}, "
              f"backward {statistics.median(bwd):.1f}, update {statistics.median(upd):.1f})")
        print(f"  {gflop_per_step:.2f} GFLOP/step -> {gflops:.1f} GFLOP/s effective   "
              f"(final loss {loss:.4f})")


if __name__ == "__main__":
    main()
