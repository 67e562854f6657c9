#!/usr/bin/python3
"""Golden dumps of detlab's differentiable ops, computed by PyTorch (a peer no one
here wrote). Run with Debian's interpreter, the one that can import torch 1.13:

    /usr/bin/python3 tools/golden/make_torch_golden.py

Writes tests/golden/torch/<family>.json. Each case holds its inputs, the op's
parameters, a fixed random upstream gradient `grad_out`, the outputs, and the
gradients of sum(out * grad_out) with respect to every floating input. The last file,
small_cnn.json, is a whole training run: a small CNN's loss and every parameter after
3 SGD-momentum steps (the llm.c habit of checking a full step against the reference).
tests/test_torch_golden.cpp compares detlab to these files; CI never needs torch.
"""
import json
import os

import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "golden", "torch")
TOL = 1e-4  # |detlab - torch| <= TOL * max(1, max|torch|), per tensor


def enc(t):
    t = t.detach().to(torch.float32).contiguous()
    # 9 significant digits round-trip any float32 exactly, and keep the files small.
    return {"shape": list(t.shape), "data": [float(f"{v:.9g}") for v in t.reshape(-1).tolist()]}


def rnd(*shape, lo=-1.0, hi=1.0):
    return torch.rand(tuple(shape)) * (hi - lo) + lo


def distinct(*shape):
    """Distinct shuffled values: max pooling then has one winner per window."""
    n = 1
    for s in shape:
        n *= s
    return (torch.randperm(n).to(torch.float32) * 0.05 - 1.0).reshape(shape)


def case(name, op, params, inputs, fn, grad_inputs, extra_outputs=None, targets=None):
    """Runs fn(**inputs, **targets) -> tensor, backprops a random grad_out."""
    ins = {k: v.clone().requires_grad_(k in grad_inputs) for k, v in inputs.items()}
    out = fn(**ins, **(targets or {}))
    g = rnd(*out.shape)
    (out * g).sum().backward()
    c = {"name": name, "op": op, "params": params, "tol": TOL,
         "inputs": {k: enc(v) for k, v in inputs.items()},
         "targets": {k: enc(v) for k, v in (targets or {}).items()},
         "grad_out": enc(g), "outputs": {"out": enc(out)},
         "grads": {k: enc(ins[k].grad) for k in grad_inputs}}
    if extra_outputs:
        c["outputs"].update({k: enc(v) for k, v in extra_outputs().items()})
    return c


def conv_cases():
    cs = []
    specs = [  # N, C, H, W, K, kh, kw, stride, pad, dilation, groups, bias
        (2, 3, 8, 8, 4, 3, 3, 1, 1, 1, 1, True),
        (2, 4, 9, 7, 6, 3, 3, 2, 1, 1, 1, True),
        (1, 4, 10, 10, 4, 3, 3, 1, 2, 2, 1, False),
        (2, 6, 6, 6, 4, 3, 3, 1, 1, 1, 2, True),
        (2, 5, 7, 7, 5, 3, 3, 1, 1, 1, 5, True),     # depthwise
        (2, 8, 5, 5, 3, 1, 1, 1, 0, 1, 1, True),     # pointwise
        (1, 3, 9, 11, 2, 5, 3, 3, 2, 1, 1, True),    # non-square kernel, stride 3
    ]
    for (n, c, h, w, k, kh, kw, s, p, d, g, bias) in specs:
        inputs = {"x": rnd(n, c, h, w), "weight": rnd(k, c // g, kh, kw)}
        if bias:
            inputs["bias"] = rnd(k)
        params = {"stride": s, "pad": p, "dilation": d, "groups": g}
        cs.append(case(f"conv2d n{n} c{c} {h}x{w} k{k} {kh}x{kw} s{s} p{p} d{d} g{g}", "conv2d",
                       params, inputs,
                       lambda x, weight, bias=None: F.conv2d(x, weight, bias, s, p, d, g),
                       list(inputs)))
    tspecs = [  # N, Cin, H, W, Cout, k, stride, pad, output_pad, dilation, groups
        (2, 4, 5, 5, 3, 3, 1, 1, 0, 1, 1),
        (2, 4, 4, 4, 6, 3, 2, 1, 1, 1, 2),
        (1, 3, 5, 6, 2, 4, 2, 1, 0, 1, 1),
        (1, 2, 4, 4, 2, 3, 2, 0, 1, 2, 1),
    ]
    for (n, ci, h, w, co, kk, s, p, op_, d, g) in tspecs:
        inputs = {"x": rnd(n, ci, h, w), "weight": rnd(ci, co // g, kk, kk), "bias": rnd(co)}
        params = {"stride": s, "pad": p, "output_pad": op_, "dilation": d, "groups": g}
        cs.append(case(f"conv_transpose2d cin{ci} cout{co} k{kk} s{s} p{p} op{op_} d{d} g{g}",
                       "conv_transpose2d", params, inputs,
                       lambda x, weight, bias: F.conv_transpose2d(x, weight, bias, s, p, op_, g, d),
                       list(inputs)))
    return cs


def pool_cases():
    cs = []
    for (k, s, p, ceil) in [(2, 2, 0, False), (3, 2, 1, False), (3, 2, 1, True), (2, 2, 0, True),
                            (3, 1, 1, False)]:
        x = distinct(2, 3, 7, 7)
        params = {"kernel": k, "stride": s, "pad": p, "ceil_mode": ceil}
        cs.append(case(f"max_pool2d k{k} s{s} p{p} ceil{int(ceil)}", "max_pool2d", params, {"x": x},
                       lambda x: F.max_pool2d(x, k, s, p, ceil_mode=ceil), ["x"]))
        for inc in (True, False):
            prm = dict(params, count_include_pad=inc)
            cs.append(case(f"avg_pool2d k{k} s{s} p{p} ceil{int(ceil)} incpad{int(inc)}", "avg_pool2d",
                           prm, {"x": rnd(2, 3, 7, 7)},
                           lambda x: F.avg_pool2d(x, k, s, p, ceil_mode=ceil, count_include_pad=inc),
                           ["x"]))
    for (oh, ow) in [(1, 1), (3, 4), (5, 3)]:
        cs.append(case(f"adaptive_avg_pool2d {oh}x{ow}", "adaptive_avg_pool2d",
                       {"out_h": oh, "out_w": ow}, {"x": rnd(2, 3, 7, 10)},
                       lambda x: F.adaptive_avg_pool2d(x, (oh, ow)), ["x"]))
    for (oh, ow) in [(14, 20), (3, 4), (7, 13)]:
        for ac in (False, True):
            cs.append(case(f"upsample_bilinear2d {oh}x{ow} align{int(ac)}", "upsample_bilinear2d",
                           {"out_h": oh, "out_w": ow, "align_corners": ac}, {"x": rnd(2, 2, 7, 10)},
                           lambda x: F.interpolate(x, size=(oh, ow), mode="bilinear",
                                                   align_corners=ac), ["x"]))
    return cs


def norm_cases():
    cs = []
    for shape in [(4, 3, 5, 5), (8, 6)]:
        c = shape[1]
        for training in (True, False):
            rm, rv = rnd(c, lo=-0.5, hi=0.5), rnd(c, lo=0.5, hi=1.5)
            state = {}

            def fn(x, gamma, beta, running_mean, running_var):
                m, v = running_mean.detach().clone(), running_var.detach().clone()
                y = F.batch_norm(x, m, v, gamma, beta, training, 0.1, 1e-5)
                state["m"], state["v"] = m, v
                return y
            cs.append(case(f"batch_norm {list(shape)} train{int(training)}", "batch_norm",
                           {"training": training, "momentum": 0.1, "eps": 1e-5},
                           {"x": rnd(*shape, lo=-2, hi=3), "gamma": rnd(c), "beta": rnd(c),
                            "running_mean": rm, "running_var": rv},
                           fn, ["x", "gamma", "beta"],
                           extra_outputs=lambda: {"running_mean": state["m"],
                                                  "running_var": state["v"]}))
    # linear and the activations
    cs.append(case("linear with bias", "linear", {}, {"x": rnd(5, 7), "weight": rnd(4, 7),
                                                     "bias": rnd(4)},
                   lambda x, weight, bias: F.linear(x, weight, bias), ["x", "weight", "bias"]))
    cs.append(case("linear without bias", "linear", {}, {"x": rnd(3, 6), "weight": rnd(2, 6)},
                   lambda x, weight: F.linear(x, weight), ["x", "weight"]))
    for axis in (1, -1, 0):
        cs.append(case(f"softmax axis {axis}", "softmax", {"axis": axis}, {"x": rnd(3, 4, 5, lo=-3, hi=3)},
                       lambda x: F.softmax(x, dim=axis), ["x"]))
        cs.append(case(f"log_softmax axis {axis}", "log_softmax", {"axis": axis},
                       {"x": rnd(3, 4, 5, lo=-3, hi=3)}, lambda x: F.log_softmax(x, dim=axis), ["x"]))
    away = lambda: rnd(4, 6, lo=0.1, hi=2.0) * (torch.randint(0, 2, (4, 6)) * 2 - 1)
    cs.append(case("relu", "relu", {}, {"x": away()}, lambda x: F.relu(x), ["x"]))
    cs.append(case("leaky_relu 0.1", "leaky_relu", {"slope": 0.1}, {"x": away()},
                   lambda x: F.leaky_relu(x, 0.1), ["x"]))
    cs.append(case("sigmoid", "sigmoid", {}, {"x": rnd(4, 6, lo=-4, hi=4)}, torch.sigmoid, ["x"]))
    cs.append(case("tanh", "tanh", {}, {"x": rnd(4, 6, lo=-3, hi=3)}, torch.tanh, ["x"]))
    return cs


def loss_cases():
    cs = []
    red = ["mean", "sum", "none"]
    for r in red:
        t = torch.tensor([0, 3, 1, 2, 3, 1], dtype=torch.float32)
        cs.append(case(f"cross_entropy {r}", "cross_entropy", {"reduction": r},
                       {"logits": rnd(6, 4, lo=-2, hi=2)},
                       lambda logits, target: F.cross_entropy(logits, target.long(), reduction=r),
                       ["logits"], targets={"target": t}))
        w = torch.tensor([0.5, 2.0, 1.0, 1.5])
        t2 = torch.tensor([0, 3, -100, 2, 3, 1], dtype=torch.float32)
        cs.append(case(f"cross_entropy weight ignore {r}", "cross_entropy",
                       {"reduction": r, "ignore_index": -100},
                       {"logits": rnd(6, 4, lo=-2, hi=2)},
                       lambda logits, target, weight: F.cross_entropy(
                           logits, target.long(), weight=weight, ignore_index=-100, reduction=r),
                       ["logits"], targets={"target": t2, "weight": w}))
    t4 = torch.randint(0, 3, (2, 4, 5)).to(torch.float32)
    t4[0, 0, :2] = 255
    cs.append(case("cross_entropy NCHW ignore 255", "cross_entropy",
                   {"reduction": "mean", "ignore_index": 255}, {"logits": rnd(2, 3, 4, 5, lo=-2, hi=2)},
                   lambda logits, target: F.cross_entropy(logits, target.long(), ignore_index=255),
                   ["logits"], targets={"target": t4}))
    for r in red:
        y = (torch.rand(5, 3) > 0.5).to(torch.float32)
        cs.append(case(f"bce_with_logits {r}", "bce_with_logits", {"reduction": r},
                       {"logits": rnd(5, 3, lo=-3, hi=3)},
                       lambda logits, target: F.binary_cross_entropy_with_logits(logits, target, reduction=r),
                       ["logits"], targets={"target": y}))
        cs.append(case(f"bce_with_logits weight {r}", "bce_with_logits", {"reduction": r},
                       {"logits": rnd(5, 3, lo=-3, hi=3)},
                       lambda logits, target, weight: F.binary_cross_entropy_with_logits(
                           logits, target, weight=weight, reduction=r),
                       ["logits"], targets={"target": y, "weight": rnd(5, 3, lo=0.2, hi=2)}))
        for beta in (1.0, 1.0 / 9):
            cs.append(case(f"smooth_l1 beta {beta:.4f} {r}", "smooth_l1", {"reduction": r, "beta": beta},
                           {"pred": rnd(4, 5, lo=-2, hi=2)},
                           lambda pred, target: F.smooth_l1_loss(pred, target, reduction=r, beta=beta),
                           ["pred"], targets={"target": rnd(4, 5, lo=-2, hi=2)}))
        cs.append(case(f"mse {r}", "mse", {"reduction": r}, {"pred": rnd(4, 5)},
                       lambda pred, target: F.mse_loss(pred, target, reduction=r), ["pred"],
                       targets={"target": rnd(4, 5)}))
    return cs


def tensor_op_cases():
    """Elementwise (with broadcasting), reductions, products and shape ops."""
    cs = []
    pos = lambda *sh: rnd(*sh, lo=0.5, hi=2.0)
    away = lambda *sh: rnd(*sh, lo=0.2, hi=1.5) * (torch.randint(0, 2, sh) * 2 - 1)
    for op, f in [("add", torch.add), ("sub", torch.sub), ("mul", torch.mul), ("div", torch.div)]:
        cs.append(case(f"{op} broadcast", op, {}, {"a": rnd(2, 3, 4), "b": pos(3, 1)},
                       lambda a, b: f(a, b), ["a", "b"]))
    cs.append(case("add scalar", "add_scalar", {"s": 0.75}, {"a": rnd(3, 4)}, lambda a: a + 0.75, ["a"]))
    cs.append(case("mul scalar", "mul_scalar", {"s": -1.5}, {"a": rnd(3, 4)}, lambda a: a * -1.5, ["a"]))
    for op, f, make in [("neg", torch.neg, rnd), ("exp", torch.exp, rnd), ("log", torch.log, pos),
                        ("sqrt", torch.sqrt, pos), ("abs", torch.abs, away)]:
        cs.append(case(op, op, {}, {"a": make(3, 5)}, lambda a: f(a), ["a"]))
    cs.append(case("pow 2.5", "pow", {"p": 2.5}, {"a": pos(3, 5)}, lambda a: a.pow(2.5), ["a"]))
    cs.append(case("clamp", "clamp", {"lo": -0.5, "hi": 0.4}, {"a": rnd(4, 5)},
                   lambda a: a.clamp(-0.5, 0.4), ["a"]))
    for axes, keep in [([1], False), ([0, 2], True), ([-1], False)]:
        cs.append(case(f"sum {axes} keep{int(keep)}", "sum", {"axes": axes, "keepdim": keep},
                       {"a": rnd(2, 3, 4)}, lambda a: a.sum(dim=axes, keepdim=keep), ["a"]))
        cs.append(case(f"mean {axes} keep{int(keep)}", "mean", {"axes": axes, "keepdim": keep},
                       {"a": rnd(2, 3, 4)}, lambda a: a.mean(dim=axes, keepdim=keep), ["a"]))
    cs.append(case("sum_all", "sum_all", {}, {"a": rnd(3, 4)}, lambda a: a.sum(), ["a"]))
    cs.append(case("mean_all", "mean_all", {}, {"a": rnd(3, 4)}, lambda a: a.mean(), ["a"]))
    cs.append(case("max axis 1", "max", {"axis": 1, "keepdim": False}, {"a": distinct(3, 5, 2)},
                   lambda a: a.max(dim=1).values, ["a"]))
    for ta, tb in [(False, False), (True, False), (False, True), (True, True)]:
        sa = (5, 3) if ta else (3, 5)
        sb = (4, 5) if tb else (5, 4)
        cs.append(case(f"matmul ta{int(ta)} tb{int(tb)}", "matmul", {"trans_a": ta, "trans_b": tb},
                       {"a": rnd(*sa), "b": rnd(*sb)},
                       lambda a, b: (a.t() if ta else a) @ (b.t() if tb else b), ["a", "b"]))
    cs.append(case("bmm", "bmm", {"trans_a": False, "trans_b": True}, {"a": rnd(2, 3, 4), "b": rnd(2, 5, 4)},
                   lambda a, b: torch.bmm(a, b.transpose(1, 2)), ["a", "b"]))
    cs.append(case("reshape", "reshape", {"shape": [4, -1]}, {"a": rnd(2, 3, 4)},
                   lambda a: a.reshape(4, -1), ["a"]))
    cs.append(case("flatten", "flatten", {"start": 1}, {"a": rnd(2, 3, 4)}, lambda a: a.flatten(1), ["a"]))
    cs.append(case("permute", "permute", {"perm": [2, 0, 1]}, {"a": rnd(2, 3, 4)},
                   lambda a: a.permute(2, 0, 1), ["a"]))
    cs.append(case("transpose", "transpose", {"ax0": 0, "ax1": 2}, {"a": rnd(2, 3, 4)},
                   lambda a: a.transpose(0, 2), ["a"]))
    cs.append(case("slice step 2", "slice", {"axis": 2, "start": 1, "end": 6, "step": 2},
                   {"a": rnd(2, 3, 7)}, lambda a: a[:, :, 1:6:2], ["a"]))
    cs.append(case("concat", "concat", {"axis": 1}, {"a": rnd(2, 3, 4), "b": rnd(2, 2, 4)},
                   lambda a, b: torch.cat([a, b], 1), ["a", "b"]))
    cs.append(case("stack", "stack", {"axis": 1}, {"a": rnd(2, 4), "b": rnd(2, 4)},
                   lambda a, b: torch.stack([a, b], 1), ["a", "b"]))
    idx = torch.tensor([2, 0, 2, 1], dtype=torch.float32)
    cs.append(case("index_select", "index_select", {"axis": 1}, {"a": rnd(3, 4, 2)},
                   lambda a, index: a.index_select(1, index.long()), ["a"], targets={"index": idx}))
    gidx = torch.randint(0, 4, (3, 2, 2)).to(torch.float32)
    cs.append(case("gather", "gather", {"axis": 1}, {"a": rnd(3, 4, 2)},
                   lambda a, index: a.gather(1, index.long()), ["a"], targets={"index": gidx}))
    cs.append(case("pad2d", "pad2d", {"top": 1, "bottom": 2, "left": 0, "right": 3, "value": 0.5},
                   {"a": rnd(2, 2, 3, 3)}, lambda a: F.pad(a, (0, 3, 1, 2), value=0.5), ["a"]))
    return cs


def small_cnn():
    """conv3x3 3->8 + ReLU + maxpool2, conv3x3 8->16 + ReLU + maxpool2, linear 256->10,
    cross-entropy; 3 steps of SGD (lr 0.1, momentum 0.9, weight decay 1e-4)."""
    params = {
        "conv1.weight": rnd(8, 3, 3, 3, lo=-0.3, hi=0.3), "conv1.bias": rnd(8, lo=-0.1, hi=0.1),
        "conv2.weight": rnd(16, 8, 3, 3, lo=-0.2, hi=0.2), "conv2.bias": rnd(16, lo=-0.1, hi=0.1),
        "fc.weight": rnd(10, 256, lo=-0.06, hi=0.06), "fc.bias": rnd(10, lo=-0.1, hi=0.1),
    }
    x, target = rnd(4, 3, 16, 16), torch.tensor([1, 7, 3, 3])
    ps = {k: v.clone().requires_grad_(True) for k, v in params.items()}
    opt = torch.optim.SGD(list(ps.values()), lr=0.1, momentum=0.9, weight_decay=1e-4)
    losses = []
    for _ in range(3):
        opt.zero_grad()
        h = F.max_pool2d(F.relu(F.conv2d(x, ps["conv1.weight"], ps["conv1.bias"], padding=1)), 2)
        h = F.max_pool2d(F.relu(F.conv2d(h, ps["conv2.weight"], ps["conv2.bias"], padding=1)), 2)
        loss = F.cross_entropy(F.linear(h.flatten(1), ps["fc.weight"], ps["fc.bias"]), target)
        loss.backward()
        opt.step()
        losses.append(float(loss))
    return {"torch": torch.__version__, "tol": TOL, "lr": 0.1, "momentum": 0.9, "weight_decay": 1e-4,
            "x": enc(x), "target": enc(target.to(torch.float32)),
            "params_before": {k: enc(v) for k, v in params.items()},
            "losses": losses, "params_after": {k: enc(v) for k, v in ps.items()}}


def tf_ops_cases():
    """The ops of the networks imported from TensorFlow (lesson 06, bin/faces): depthwise
    convolutions (groups = channels, detlab's direct fast path), ReLU6, and TensorFlow's
    "same" padding, which pads an odd total on the right/bottom only (in PyTorch: F.pad,
    then a conv or pool without padding)."""
    state = torch.get_rng_state()  # its own seed: the files made after it stay as they were
    torch.manual_seed(20261203)
    cs = []
    for (n, c, h, w, s, p) in [(1, 6, 9, 9, 2, 1), (2, 4, 8, 7, 1, 1), (1, 3, 6, 6, 2, 0)]:
        inputs = {"x": rnd(n, c, h, w), "weight": rnd(c, 1, 3, 3)}
        cs.append(case(f"depthwise conv2d c{c} {h}x{w} s{s} p{p} no bias", "conv2d",
                       {"stride": s, "pad": p, "dilation": 1, "groups": c}, inputs,
                       lambda x, weight: F.conv2d(x, weight, None, s, p, 1, c), list(inputs)))
    cs.append(case("relu6", "relu6", {}, {"x": rnd(4, 6, lo=-3, hi=9)}, lambda x: F.relu6(x), ["x"]))

    def tf_same(size, k, s):
        out = -(-size // s)
        total = max((out - 1) * s + k - size, 0)
        return total // 2, total - total // 2

    for (c, h, w, k, s, g) in [(4, 8, 8, 3, 2, 1), (4, 7, 9, 3, 2, 4), (3, 6, 6, 1, 1, 1), (6, 9, 8, 3, 1, 6)]:
        inputs = {"x": rnd(1, c, h, w), "weight": rnd(c if g > 1 else 5, c // g, k, k), "bias": rnd(c if g > 1 else 5)}
        (pt, pb), (pl, pr) = tf_same(h, k, s), tf_same(w, k, s)
        cs.append(case(f"conv2d_same {h}x{w} k{k} s{s} g{g}", "conv2d_same", {"stride": s, "groups": g}, inputs,
                       lambda x, weight, bias: F.conv2d(F.pad(x, (pl, pr, pt, pb)), weight, bias, s, 0, 1, g),
                       list(inputs)))
    for (h, w, s) in [(7, 7, 2), (8, 9, 2), (13, 13, 1), (6, 5, 1)]:
        (pt, pb), (pl, pr) = tf_same(h, 2, s), tf_same(w, 2, s)
        cs.append(case(f"max_pool2d_same {h}x{w} 2x2/{s}", "max_pool2d_same", {"kernel": 2, "stride": s},
                       {"x": distinct(1, 2, h, w)},
                       lambda x: F.max_pool2d(F.pad(x, (pl, pr, pt, pb), value=float("-inf")), 2, s),
                       ["x"]))
    torch.set_rng_state(state)
    return cs


def main():
    torch.manual_seed(20261125)
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    families = {"conv": conv_cases, "pool": pool_cases, "norm_linear_activation": norm_cases,
                "loss": loss_cases, "tensor_ops": tensor_op_cases, "tf_ops": tf_ops_cases}
    for fam, make in families.items():
        cases = make()
        with open(os.path.join(OUT, fam + ".json"), "w") as f:
            json.dump({"torch": torch.__version__, "cases": cases}, f, separators=(",", ":"))
        print(f"{fam}: {len(cases)} cases")
    with open(os.path.join(OUT, "small_cnn.json"), "w") as f:
        json.dump(small_cnn(), f, separators=(",", ":"))
    print("small_cnn: 3 SGD steps")


if __name__ == "__main__":
    main()
