#!/usr/bin/env python3
"""Writes Tests/EngineTests/Fixtures/gemma_tensor_values.json: values of real tensors of the
Gemma 3 270M GGUF (Q5_0, Q4_K, Q6_K, Q8_0) as gguf-py dequantizes them, so the engine's
decoders are pinned on the block types of a real file, not only on random blocks.

    python3 tools/ggml/real_file_values.py ~/.cache/ringside/models/gemma-3-270m-q4_k_m.gguf
"""
import json
import pathlib
import sys

import gguf

OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/EngineTests/Fixtures/gemma_tensor_values.json"
reader = gguf.GGUFReader(sys.argv[1])
out = {}
for name in ["blk.0.attn_q.weight", "blk.0.attn_output.weight", "blk.0.ffn_down.weight",
             "blk.0.attn_v.weight", "token_embd.weight"]:
    t = next(x for x in reader.tensors if x.name == name)
    d = gguf.quants.dequantize(t.data, t.tensor_type)
    out[name] = {"type": t.tensor_type.name, "rows": int(d.shape[0]), "cols": int(d.shape[1]),
                 "row0": [float(v) for v in d[0][:64]], "row1": [float(v) for v in d[1][:64]],
                 "last_row_tail": [float(v) for v in d[-1][-64:]]}
OUT.write_text(json.dumps(out))
print(f"wrote {OUT}")
