#!/usr/bin/python3
"""The reference backbone's training step in PyTorch, timed like bin/bench_train_step.

4 x [conv3x3 pad 1 + ReLU + maxpool 2], channels 3 -> 32 -> 64 -> 128 -> 128,
Linear 8192 -> 10, cross-entropy, SGD momentum 0.9; batch 32 of 3 x 128 x 128; 2 threads.
Warm-up 2 steps, then the median ms over --steps steps; effective GFLOP/s counts
forward + backward as 3 x the forward multiply-adds x 2 of the convs and the linear.
Run with /usr/bin/python3 (the interpreter that has Debian's torch).

Allocator: with glibc's defaults every large buffer PyTorch frees goes back to the
kernel (blocks above the dynamic mmap threshold are unmapped, the heap top is trimmed),
so each step page-faults fresh zeroed pages for its activations and oneDNN's reorders --
a cost PyTorch users with jemalloc/tcmalloc never pay (issue 22 measured 1.6-2.3 s/step
against 0.24-0.28 s). The fair figure ("tuned") keeps freed memory in the process:
MALLOC_MMAP_THRESHOLD_/MALLOC_TRIM_THRESHOLD_/MALLOC_TOP_PAD_ below, which glibc reads
once at start-up, so the script re-executes itself with them set. detlab's engine
tunes its allocator the same way (src/tensor/tensor.cpp). --allocator default measures
glibc's defaults; --allocator both runs the two in turn (each in its own process).
Usage: torch_train_step.py [--json] [--steps N] [--threads T] [--allocator tuned|default|both]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

TUNED_ENV = {
    "MALLOC_MMAP_THRESHOLD_": "4294967296",
    "MALLOC_TRIM_THRESHOLD_": "4294967296",
    "MALLOC_TOP_PAD_": "1073741824",
}


def allocator_env(kind):
    """os.environ with the tuned variables set (tuned) or removed (default)."""
    env = {k: v for k, v in os.environ.items() if k not in TUNED_ENV}
    if kind == "tuned":
        env.update(TUNED_ENV)
    return env


def current_allocator():
    if all(os.environ.get(k) == v for k, v in TUNED_ENV.items()):
        return "tuned"
    if not any(k in os.environ for k in TUNED_ENV):
        return "default"
    return "custom"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--allocator", choices=["tuned", "default", "both"], default="tuned")
    args = ap.parse_args()

    if args.allocator == "both":  # one process per allocator setting, tuned first
        results = []
        for kind in ("tuned", "default"):
            cmd = [sys.executable, os.path.abspath(__file__), "--steps", str(args.steps),
                   "--threads", str(args.threads), "--allocator", kind]
            if args.json:
                out = subprocess.run(cmd + ["--json"], env=allocator_env(kind), check=True,
                                     capture_output=True, text=True).stdout
                results.append(json.loads(out))
            else:
                subprocess.run(cmd, env=allocator_env(kind), check=True)
        if args.json:
            print(json.dumps(results, indent=2))
        return
    if current_allocator() != args.allocator:  # glibc reads these only at start-up
        os.execve(sys.executable, [sys.executable, os.path.abspath(__file__)] + sys.argv[1:],
                  allocator_env(args.allocator))

    import torch
    import torch.nn.functional as F

    torch.set_num_threads(args.threads)
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
            "engine": "pytorch " + torch.__version__, "allocator": args.allocator,
            "threads": args.threads, "batch": batch,
            "steps": args.steps, "median_ms": ms, "gflops": gflops,
            "gflop_per_step": gflop_per_step, "forward_ms": statistics.median(fwd),
            "backward_ms": statistics.median(bwd), "update_ms": statistics.median(upd),
            "final_loss": loss}, indent=2))
    else:
        print(f"pytorch {torch.__version__} train step (batch {batch}, 3x{H}x{W}, "
              f"{args.threads} threads, {args.steps} steps, {args.allocator} allocator)")
        print(f"  median {ms:.1f} ms/step  (forward {statistics.median(fwd):.1f}, "
              f"backward {statistics.median(bwd):.1f}, update {statistics.median(upd):.1f})")
        print(f"  {gflop_per_step:.2f} GFLOP/step -> {gflops:.1f} GFLOP/s effective   "
              f"(final loss {loss:.4f})")


if __name__ == "__main__":
    main()
