#!/usr/bin/python3
"""Golden dumps of detlab's RoI operators, computed by torchvision (a peer no one here
wrote). Run with Debian's interpreter, the one that can import torch 1.13 and
torchvision 0.14:

    /usr/bin/python3 tools/golden/make_torchvision_roi_golden.py

Writes tests/golden/torchvision/roi_ops.json. Each case holds its inputs (the feature
map `x` and the RoIs `rois` as [K, 5] = (batch index, x1, y1, x2, y2) in image
coordinates), the op's parameters, a fixed random upstream gradient `grad_out`, the
output, and the gradient of sum(out * grad_out) with respect to `x`. Covered:
roi_pool, roi_align (aligned true/false, sampling ratio 0 and 2) and ps_roi_pool at
several spatial scales, with boxes partly outside the map, degenerate (zero-size and
inverted) boxes and several batch images; plus paste_masks_in_image (forward only).
tests/test_torchvision_roi.cpp compares detlab to this file; CI never needs torch.
"""
import json
import os

import torch
import torchvision
from torchvision.models.detection.roi_heads import paste_masks_in_image
from torchvision.ops import ps_roi_pool, roi_align, roi_pool
from torchvision_dump import OUT, enc

TOL = 1e-5  # |detlab - torchvision| <= TOL * max(1, max|torchvision|), per tensor


def rnd(*shape, lo=-1.0, hi=1.0):
    return torch.rand(tuple(shape)) * (hi - lo) + lo


def distinct(*shape):
    """Distinct shuffled values: RoI max pooling then has one winner per bin."""
    n = 1
    for s in shape:
        n *= s
    return (torch.randperm(n).to(torch.float32) * 0.01 - 1.0).reshape(shape)


def make_rois(n_images, img_h, img_w, n_random):
    """Hand-placed boxes (inside, partly outside, zero-size, inverted, whole image) and
    random ones spilling up to 20% past every border; coordinates in image pixels."""
    fixed = [
        [0, 0.1 * img_w, 0.2 * img_h, 0.6 * img_w, 0.7 * img_h],       # inside
        [n_images - 1, -0.3 * img_w, -0.2 * img_h, 0.4 * img_w, 0.5 * img_h],  # top-left out
        [0, 0.5 * img_w, 0.6 * img_h, 1.3 * img_w, 1.25 * img_h],     # bottom-right out
        [n_images - 1, 0.3 * img_w, 0.3 * img_h, 0.3 * img_w, 0.3 * img_h],   # zero-size
        [0, 0.7 * img_w, 0.4 * img_h, 0.2 * img_w, 0.1 * img_h],      # inverted
        [n_images - 1, 0.0, 0.0, img_w - 1.0, img_h - 1.0],           # whole image
        [0, 0.42 * img_w, 0.1 * img_h, 0.45 * img_w, 0.9 * img_h],    # thin sliver
    ]
    rows = [torch.tensor(r) for r in fixed]
    for _ in range(n_random):
        b = float(torch.randint(0, n_images, (1,)))
        x = rnd(2, lo=-0.2 * img_w, hi=1.2 * img_w).sort().values
        y = rnd(2, lo=-0.2 * img_h, hi=1.2 * img_h).sort().values
        rows.append(torch.tensor([b, float(x[0]), float(y[0]), float(x[1]), float(y[1])]))
    return torch.stack(rows).to(torch.float32)


def case(name, op, params, x, rois, fn):
    xg = x.clone().requires_grad_(True)
    out = fn(xg, rois)
    g = rnd(*out.shape)
    (out * g).sum().backward()
    return {"name": name, "op": op, "params": params, "tol": TOL,
            "inputs": {"x": enc(x), "rois": enc(rois)}, "grad_out": enc(g),
            "outputs": {"out": enc(out)}, "grads": {"x": enc(xg.grad)}}


SCALES = [1.0, 0.5, 0.25, 0.0625]
N, C, H, W = 2, 2, 9, 11


def roi_pool_cases():
    cs = []
    for scale in SCALES:
        rois = make_rois(N, H / scale, W / scale, 6)
        for (ph, pw) in [(2, 2), (3, 4), (7, 7)]:
            x = distinct(N, C, H, W)
            cs.append(case(f"roi_pool scale{scale} out{ph}x{pw}", "roi_pool",
                           {"spatial_scale": scale, "out_h": ph, "out_w": pw}, x, rois,
                           lambda x, r: roi_pool(x, r, (ph, pw), scale)))
    return cs


def roi_align_cases():
    cs = []
    for scale in SCALES:
        rois = make_rois(N, H / scale, W / scale, 6)
        for aligned in (False, True):
            for sr in (0, 2):
                for (ph, pw) in [(2, 3), (5, 5)]:
                    x = rnd(N, C, H, W)
                    cs.append(case(f"roi_align scale{scale} aligned{int(aligned)} sr{sr} out{ph}x{pw}",
                                   "roi_align",
                                   {"spatial_scale": scale, "out_h": ph, "out_w": pw,
                                    "sampling_ratio": sr, "aligned": aligned}, x, rois,
                                   lambda x, r: roi_align(x, r, (ph, pw), scale, sr, aligned)))
    return cs


def ps_roi_pool_cases():
    """torchvision 0.14's CPU ps_roi_pool forward clips bins to rows < H - 1 and columns
    < W - 1 while its backward (and the CUDA kernels) clip to H and W, so its CPU output
    is not the function its gradient differentiates. The op is linear in x, so the
    consistent output is J x, J the Jacobian that torchvision's own backward gives; that
    is stored as "out" (the CPU forward's value is kept as "out_cpu_forward")."""
    cs = []
    for scale in SCALES:
        rois = make_rois(N, H / scale, W / scale, 6)
        for (ph, pw, c_out) in [(2, 2, 2), (3, 2, 1), (1, 3, 1)]:
            x = rnd(N, c_out * ph * pw, H, W)
            fn = lambda x, r: ps_roi_pool(x, r, (ph, pw), scale)
            c = case(f"ps_roi_pool scale{scale} out{ph}x{pw} cout{c_out}", "ps_roi_pool",
                     {"spatial_scale": scale, "out_h": ph, "out_w": pw}, x, rois, fn)
            cpu_out = fn(x, rois)
            jac = torch.autograd.functional.jacobian(lambda v: fn(v, rois), x)
            out = (jac.reshape(cpu_out.numel(), -1) @ x.reshape(-1)).reshape(cpu_out.shape)
            c["outputs"] = {"out": enc(out), "out_cpu_forward": enc(cpu_out)}
            cs.append(c)
    return cs


def paste_masks_cases():
    """Mask R-CNN inference: M x M probabilities pasted into the image at their boxes.
    Boxes stay right of / below the image origin's far side (torchvision's slicing
    turns a box ending left of the image into Python negative indices)."""
    cs = []
    for (m, im_h, im_w, padding) in [(4, 20, 24, 1), (7, 31, 17, 1), (5, 16, 16, 0)]:
        boxes = [[2.0, 3.0, 10.5, 12.2], [-3.7, -2.2, 6.1, 5.9], [im_w - 6.4, im_h - 4.3, im_w + 5.5, im_h + 3.1],
                 [4.0, 4.0, 4.0, 4.0], [0.0, 0.0, im_w - 1.0, im_h - 1.0]]
        for _ in range(4):
            x = rnd(2, lo=-3.0, hi=im_w + 3.0).sort().values
            y = rnd(2, lo=-3.0, hi=im_h + 3.0).sort().values
            boxes.append([float(x[0]), float(y[0]), float(x[1]), float(y[1])])
        boxes = torch.tensor(boxes, dtype=torch.float32)
        masks = torch.rand(len(boxes), 1, m, m)
        out = paste_masks_in_image(masks, boxes, (im_h, im_w), padding=padding)
        cs.append({"name": f"paste_masks M{m} {im_h}x{im_w} pad{padding}", "op": "paste_masks_in_image",
                   "params": {"im_h": im_h, "im_w": im_w, "padding": padding}, "tol": TOL,
                   "inputs": {"masks": enc(masks), "boxes": enc(boxes)},
                   "outputs": {"out": enc(out)}})
    return cs


def roi_align_edge_cases():
    """RoIs whose sample points land within a rounding step of the map's border, where
    the sample is read (bilinear, clamped) on one side and is 0 on the other. Which side
    depends on the last bit of y0 + i * bin_h: a build that fuses that multiply-add
    (FMA) decides differently from torchvision's. The RoIs are picked by redoing the
    sample arithmetic in float32 both ways (numpy) and keeping those where the two
    disagree about a sample's validity or its cell; torchvision's output is the answer."""
    import numpy as np
    f32 = np.float32

    def sample_cells(start, size, bins, grid, limit):
        """(valid, cell) of every sample along one axis, unfused and fused."""
        bin_size = f32(size / f32(bins))
        out = []
        for fused in (False, True):
            cells = []
            for i in range(bins):
                if fused:  # fma(i, bin, start): the product exact, one rounding
                    t = f32(float(start) + float(i) * float(bin_size))
                else:
                    t = f32(start + f32(f32(i) * bin_size))
                for k in range(grid):
                    v = f32(t + f32(f32(f32(k + 0.5) * bin_size) / f32(grid)))
                    valid = f32(-1) <= v <= f32(limit)
                    cells.append((bool(valid), int(max(v, f32(0))) if valid else -1))
            out.append(cells)
        return out[0] != out[1]

    gen = torch.Generator().manual_seed(20261202)
    cs = []
    for scale in (1.0, 0.5, 0.25, 0.0625):
        for aligned in (False, True):
            for (ph, pw) in [(2, 3), (7, 7)]:
                off = f32(0.5) if aligned else f32(0)
                picked = []
                for _ in range(40000):
                    if len(picked) == 6:
                        break
                    r = (torch.rand(4, generator=gen) * 100).round() / 100
                    x1 = float(r[0]) * W / scale
                    y1 = float(r[1]) * H / scale
                    x2 = (W - 2 + 5 * float(r[2])) / scale
                    y2 = (H - 2 + 5 * float(r[3])) / scale
                    roi = [f32(round(v, 2)) for v in (x1, y1, x2, y2)]
                    x0, y0 = f32(roi[0] * f32(scale)) - off, f32(roi[1] * f32(scale)) - off
                    w, h = f32(f32(roi[2] * f32(scale)) - off) - x0, f32(f32(roi[3] * f32(scale)) - off) - y0
                    if not aligned:
                        w, h = max(w, f32(1)), max(h, f32(1))
                    gx, gy = int(np.ceil(w / f32(pw))), int(np.ceil(h / f32(ph)))
                    if gx <= 0 or gy <= 0:
                        continue
                    if sample_cells(x0, w, pw, gx, W) or sample_cells(y0, h, ph, gy, H):
                        picked.append([float(len(picked) % N)] + [float(v) for v in roi])
                if not picked:
                    continue
                rois = torch.tensor(picked, dtype=torch.float32)
                x = rnd(N, C, H, W)
                cs.append(case(f"roi_align border samples scale{scale} aligned{int(aligned)} out{ph}x{pw}",
                               "roi_align",
                               {"spatial_scale": scale, "out_h": ph, "out_w": pw,
                                "sampling_ratio": 0, "aligned": aligned}, x, rois,
                               lambda x, r: roi_align(x, r, (ph, pw), scale, 0, aligned)))
    return cs


def main():
    torch.manual_seed(20261125)
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    cases = roi_pool_cases() + roi_align_cases() + ps_roi_pool_cases() + paste_masks_cases()
    cases += roi_align_edge_cases()  # last: the cases above keep their random draws
    with open(os.path.join(OUT, "roi_ops.json"), "w") as f:
        json.dump({"torch": torch.__version__, "torchvision": torchvision.__version__,
                   "cases": cases}, f, separators=(",", ":"))
    print(f"roi_ops: {len(cases)} cases")


if __name__ == "__main__":
    main()
