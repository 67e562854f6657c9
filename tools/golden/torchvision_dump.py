"""What every make_torchvision_*_golden.py writes its dumps with: the folder and the
encodings tests/golden_util.h reads (imported; run the generators, not this)."""
import os

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "golden",
                   "torchvision")


def enc(t):
    """A tensor as {"shape", "data"}: float32, 9 significant digits (round-trips any
    float32 exactly and keeps the files small)."""
    t = t.detach().to(torch.float32).contiguous()
    return {"shape": list(t.shape), "data": [float(f"{v:.9g}") for v in t.reshape(-1).tolist()]}


def ints(t):
    return [int(v) for v in t.reshape(-1).tolist()]
