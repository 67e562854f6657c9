#!/usr/bin/env python3
"""Reads a detlab checkpoint with numpy alone (no safetensors package), following the
published safetensors layout: an 8-byte little-endian header length N, N bytes of
JSON {name: {dtype, shape, data_offsets}, "__metadata__": {str: str}}, then the raw
little-endian data, tensors laid end to end. That an independent reader loads
detlab's files, and that detlab loads this script's files, shows they are standard.

usage: read_safetensors.py FILE          -> "name [shape] sum" per tensor, then
                                            "__metadata__ key=value" per entry
       read_safetensors.py --write FILE  -> writes a small file of known values
"""
import json
import struct
import sys

import numpy as np

DTYPES = {"F32": "<f4", "F64": "<f8", "F16": "<f2", "I64": "<i8", "I32": "<i4"}


def read(path):
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError("shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > 100 * 1024 * 1024 or 8 + n > len(raw):
        raise ValueError(f"header length {n} does not fit a {len(raw)}-byte file")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    meta = header.pop("__metadata__", {})
    assert all(isinstance(v, str) for v in meta.values()), "metadata values must be strings"
    tensors, spans = {}, []
    for name, e in header.items():
        b, end = e["data_offsets"]
        dt = np.dtype(DTYPES[e["dtype"]])
        count = int(np.prod(e["shape"], dtype=np.int64))
        assert end - b == count * dt.itemsize, f"{name}: offsets do not match dtype x shape"
        tensors[name] = np.frombuffer(data[b:end], dtype=dt).reshape(e["shape"])
        spans.append((b, end))
    # The standard requires the data to be exactly the tensors, end to end.
    pos = 0
    for b, end in sorted(spans):
        assert b == pos, "tensor data overlaps or leaves a gap"
        pos = end
    assert pos == len(data), "trailing bytes after the last tensor"
    return tensors, meta


def write(path):
    """A file laid out differently from detlab's writer (unsorted names, no header
    padding, data in reverse name order) to show detlab reads any valid file."""
    tensors = {"b.weight": np.arange(6, dtype="<f4").reshape(2, 3) - 2.5,
               "a.bias": np.array([1e-3, -7.0], dtype="<f4")}
    header, blobs, pos = {}, [], 0
    for name, t in tensors.items():
        blob = t.tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [pos, pos + len(blob)]}
        blobs.append(blob)
        pos += len(blob)
    header["__metadata__"] = {"config": json.dumps({"channels": 3}), "writer": "numpy"}
    text = json.dumps(header).encode("utf-8")
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--write":
        write(sys.argv[2])
        return
    if len(sys.argv) != 2:
        print(__doc__.strip().split("usage: ")[1], file=sys.stderr)
        sys.exit(2)
    tensors, meta = read(sys.argv[1])
    for name in sorted(tensors):
        t = tensors[name]
        print(f"{name} {list(t.shape)} {float(t.astype(np.float64).sum()):.6g}")
    for k in sorted(meta):
        print(f"__metadata__ {k}={meta[k]}")


if __name__ == "__main__":
    main()
