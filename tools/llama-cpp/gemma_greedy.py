#!/usr/bin/env python3
"""Writes Tests/EngineTests/Fixtures/gemma3_llamacpp_greedy.json: llama.cpp's greedy
continuations (token ids and first-step top-5 logprobs) for a few raw prompts on the Gemma 3
270M GGUF, as an independent check of the gemma3 forward pass.

llama.cpp quantizes activations to 8 bits inside its matrix products and keeps an f16 KV
cache, so its logits differ slightly from an fp32 pass; the tests compare the first tokens only.

Run a llama-server built outside this repository on the model first:
    llama-server -m ~/.cache/ringside/models/gemma-3-270m-q4_k_m.gguf --port 8091 -t 1
    python3 tools/llama-cpp/gemma_greedy.py http://127.0.0.1:8091
"""
import json
import pathlib
import sys
import urllib.request

URL = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8091"
OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/EngineTests/Fixtures/gemma3_llamacpp_greedy.json"
PROMPTS = ["The capital of France is", "Water boils at a temperature of", "The largest planet in the solar system is"]


def post(path, body):
    req = urllib.request.Request(URL + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)


cases = []
for p in PROMPTS:
    prompt_ids = post("/tokenize", {"content": p, "add_special": True})["tokens"]
    d = post("/completion", {"prompt": p, "n_predict": 16, "temperature": 0, "n_probs": 5,
                             "cache_prompt": False, "post_sampling_probs": False})
    ids = [t["id"] for t in d["completion_probabilities"]]
    top5 = [[t["id"], t["logprob"]] for t in d["completion_probabilities"][0]["top_logprobs"]]
    cases.append({"prompt": p, "prompt_ids": prompt_ids, "greedy_ids": ids, "text": d["content"], "first_top5_logprobs": top5})
OUT.write_text(json.dumps({"engine": "llama.cpp llama-server", "cases": cases}, indent=1))
print(f"wrote {OUT}")
