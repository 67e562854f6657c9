#!/usr/bin/env python3
"""Reads a detlab checkpoint with numpy alone, following the published safetensors
layout (8-byte little-endian header length, JSON header, raw data). That an
independent reader loads detlab's files is the proof that they are standard.

usage: read_safetensors.py FILE   -> one line per tensor: name shape sum, then metadata
"""
import json
import struct
import sys

import numpy as np

DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "F16": np.float16}


def read(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        arr = np.frombuffer(data[b:end], dtype=DTYPES[e["dtype"]]).reshape(e["shape"])
        tensors[name] = arr
    return tensors, meta


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        sys.exit(2)
    tensors, meta = read(sys.argv[1])
    for name in sorted(tensors):
        t = tensors[name]
        print(f"{name} {list(t.shape)} {float(t.astype(np.float64).sum()):.6g}")
    for k in sorted(meta):
        print(f"__metadata__ {k}={meta[k]}")


if __name__ == "__main__":
    main()
