#!/usr/bin/python3
"""Golden files for detlab's optimizers and LR schedules, produced by PyTorch.

Run with Debian's interpreter (the one that can import torch 1.13):
    /usr/bin/python3 tools/golden/make_optim_golden.py
Writes tests/golden/optim/*.json: the initial parameters, the gradient fed at each
step, and the parameters PyTorch computes after each step (float32 throughout).
"""
import json
import math
import os

import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "golden", "optim")
STEPS = 5


def params0():
    return [torch.tensor([[0.5, -1.25, 2.0], [0.125, -0.75, 1.5]], dtype=torch.float32),
            torch.tensor([1.0, -2.0, 0.25, 3.0], dtype=torch.float32)]


def grad(step, i, shape):
    n = 1
    for s in shape:
        n *= s
    vals = [math.sin(0.7 * step + 1.3 * i + 0.37 * k) * (1.0 + 0.5 * k) for k in range(n)]
    return torch.tensor(vals, dtype=torch.float32).reshape(shape)


def run(name, make_opt, options):
    ps = [p.clone().requires_grad_(True) for p in params0()]
    opt = make_opt(ps)
    grads, after = [], []
    for step in range(STEPS):
        g = [grad(step, i, p.shape) for i, p in enumerate(ps)]
        for p, gi in zip(ps, g):
            p.grad = gi.clone()
        opt.step()
        grads.append([gi.flatten().tolist() for gi in g])
        after.append([p.detach().flatten().tolist() for p in ps])
    doc = {"optimizer": name, "options": options,
           "shapes": [list(p.shape) for p in ps],
           "initial": [p.flatten().tolist() for p in params0()],
           "grads": grads, "params_after": after}
    with open(os.path.join(OUT, f"{name}.json"), "w") as f:
        json.dump(doc, f, indent=1)


def schedules():
    def lrs(make, n):
        p = torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([p], lr=0.1)
        sched = make(opt)
        out = []
        for _ in range(n):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        return out
    doc = {
        "base_lr": 0.1,
        "step": {"step_size": 3, "gamma": 0.5,
                 "lr": lrs(lambda o: torch.optim.lr_scheduler.StepLR(o, 3, 0.5), 10)},
        "cosine": {"total": 8, "eta_min": 0.001,
                   "lr": lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 8, 0.001), 9)},
        "warmup": {"warmup": 4, "start": 0.1,
                   "lr": lrs(lambda o: torch.optim.lr_scheduler.LinearLR(o, 0.1, 1.0, 4), 8)},
    }
    with open(os.path.join(OUT, "schedules.json"), "w") as f:
        json.dump(doc, f, indent=1)


def clip():
    ps = [p.clone().requires_grad_(True) for p in params0()]
    for i, p in enumerate(ps):
        p.grad = grad(0, i, p.shape) * 3.0
    before = [p.grad.flatten().tolist() for p in ps]
    norm = torch.nn.utils.clip_grad_norm_(ps, 1.0)
    doc = {"max_norm": 1.0, "grads": before, "norm": float(norm),
           "clipped": [p.grad.flatten().tolist() for p in ps]}
    with open(os.path.join(OUT, "clip.json"), "w") as f:
        json.dump(doc, f, indent=1)


def main():
    os.makedirs(OUT, exist_ok=True)
    run("sgd_plain", lambda ps: torch.optim.SGD(ps, lr=0.1), {"lr": 0.1})
    run("sgd_momentum",
        lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01),
        {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01, "nesterov": False})
    run("sgd_nesterov",
        lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
        {"lr": 0.1, "momentum": 0.9, "dampening": 0.0, "weight_decay": 1e-3, "nesterov": True})
    run("adam", lambda ps: torch.optim.Adam(ps, lr=0.01, weight_decay=0.01),
        {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01})
    run("adamw", lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.1),
        {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.1})
    schedules()
    clip()


if __name__ == "__main__":
    main()
