#!/usr/bin/env python3
"""Writes Tests/EngineTests/Fixtures/dequant_golden.json: random blocks of every ggml type the
engine reads, with the values ggml's own Python package (gguf-py, `gguf.quants.dequantize`)
decodes them to. Q8_K is not in gguf-py; its values come from numpy straight from the block
layout ({f32 d; i8 qs[256]; i16 bsums[16]}, y = d * q). F16/BF16 come from numpy.

Scale fields are set to ordinary magnitudes so that random bytes never make NaN or Inf.

    python3 -m pip install gguf numpy
    python3 tools/ggml/dequant_golden.py
"""
import json
import pathlib

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf.quants import dequantize

OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/EngineTests/Fixtures/dequant_golden.json"
rng = np.random.default_rng(20261125)


def f16_bytes(values):
    return np.asarray(values, dtype=np.float16).tobytes()


def block(kind):
    """One random block with sane scales; returns bytes."""
    if kind == "Q4_0":
        return f16_bytes([rng.uniform(-0.1, 0.1)]) + rng.bytes(16)
    if kind == "Q4_1":
        return f16_bytes([rng.uniform(0, 0.1), rng.uniform(-1, 1)]) + rng.bytes(16)
    if kind == "Q5_0":
        return f16_bytes([rng.uniform(-0.1, 0.1)]) + rng.bytes(4 + 16)
    if kind == "Q5_1":
        return f16_bytes([rng.uniform(0, 0.1), rng.uniform(-1, 1)]) + rng.bytes(4 + 16)
    if kind == "Q8_0":
        return f16_bytes([rng.uniform(-0.01, 0.01)]) + rng.bytes(32)
    if kind == "Q4_K":
        return f16_bytes([rng.uniform(0, 0.01), rng.uniform(0, 0.01)]) + rng.bytes(12 + 128)
    if kind == "Q5_K":
        return f16_bytes([rng.uniform(0, 0.01), rng.uniform(0, 0.01)]) + rng.bytes(12 + 32 + 128)
    if kind == "Q6_K":
        return rng.bytes(128 + 64 + 16) + f16_bytes([rng.uniform(-0.01, 0.01)])
    if kind == "Q8_K":
        return np.float32(rng.uniform(-0.01, 0.01)).tobytes() + rng.bytes(256 + 32)
    if kind == "F16":
        return f16_bytes(rng.uniform(-4, 4, 32))
    if kind == "BF16":
        f = rng.uniform(-4, 4, 32).astype(np.float32)
        return (f.view(np.uint32) >> 16).astype(np.uint16).tobytes()
    raise ValueError(kind)


def decode(kind, raw):
    if kind == "F16":
        return np.frombuffer(raw, dtype=np.float16).astype(np.float32)
    if kind == "BF16":
        return (np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)
    if kind == "Q8_K":
        out = []
        for i in range(0, len(raw), 292):
            d = np.frombuffer(raw[i:i + 4], dtype=np.float32)[0]
            q = np.frombuffer(raw[i + 4:i + 260], dtype=np.int8).astype(np.float32)
            out.append(d * q)
        return np.concatenate(out)
    return dequantize(np.frombuffer(raw, dtype=np.uint8), getattr(T, kind)).reshape(-1)


cases = []
for kind, type_id in [("Q4_0", 2), ("Q4_1", 3), ("Q5_0", 6), ("Q5_1", 7), ("Q8_0", 8), ("Q4_K", 12),
                      ("Q5_K", 13), ("Q6_K", 14), ("Q8_K", 15), ("F16", 1), ("BF16", 30)]:
    raw = b"".join(block(kind) for _ in range(4))
    values = decode(kind, raw)
    cases.append({"type": kind, "type_id": type_id, "hex": raw.hex(),
                  "values": [float(v) for v in values.astype(np.float32)]})
OUT.write_text(json.dumps({"source": "gguf-py dequantize (numpy for F16, BF16, Q8_K)", "cases": cases}))
print(f"wrote {OUT} ({len(cases)} types)")
