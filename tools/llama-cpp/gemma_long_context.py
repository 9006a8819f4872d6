#!/usr/bin/env python3
"""Writes Tests/EngineTests/Fixtures/gemma3_llamacpp_long_context.json: llama.cpp's first-step
top-10 log-probabilities for one raw prompt of about 2,200 tokens on the Gemma 3 270M GGUF, far
past the 512 positions its sliding-window layers see. Only the global layers (every sixth) can
reach the first lines, where the question at the end finds its answer; a window applied to every
layer, to none, or at the wrong size changes the result.

The prompt is built here, deterministically (a seeded list of made-up shipping records), and
stored in the fixture with its token ids, so the test needs neither this script nor llama.cpp.

Run llama.cpp's server (built outside this repository) on the model first, one sequence, with
a context that holds the prompt:
    llama-server -m ~/.cache/ringside/models/gemma-3-270m-q4_k_m.gguf --port 8092 -t 2 -np 1 -c 4096
    python3 tools/llama-cpp/gemma_long_context.py http://127.0.0.1:8092
"""
import json
import pathlib
import random
import sys
import urllib.request

URL = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8092"
OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/EngineTests/Fixtures/gemma3_llamacpp_long_context.json"
SERVER_COMMAND = ("llama-server -m ~/.cache/ringside/models/gemma-3-270m-q4_k_m.gguf --port 8092 -t 2 -np 1 -c 4096; "
                  "POST /completion {prompt, n_predict: 1, temperature: 0, n_probs: 10, cache_prompt: false, "
                  "post_sampling_probs: false}")


def prompt():
    rng = random.Random(17)
    names = ["Ada", "Bruno", "Chiara", "Dmitri", "Esme", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Keiko", "Luis",
             "Mara", "Nils", "Olga", "Pavel", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Viktor", "Wanda", "Yusuf"]
    cities = ["Lisbon", "Oslo", "Cairo", "Lima", "Osaka", "Quito", "Dakar", "Perth", "Tunis", "Hanoi", "Bergen",
              "Porto", "Nairobi", "Tallinn", "Valencia", "Montreal", "Krakow", "Busan", "Cork", "Leeds"]
    goods = ["copper wire", "olive oil", "wool blankets", "glass jars", "coffee beans", "bicycle parts", "paper rolls",
             "rice", "tea chests", "machine oil", "salt", "timber", "cotton thread", "tin plates"]
    lines = ["Harbour log of the schooner Marigold.",
             "Before anything else: the code word for the north gate is VELVET ORCHID. Keep it secret.",
             ""]
    for i in range(1, 71):
        n, a, b, g = rng.choice(names), rng.choice(cities), rng.choice(cities), rng.choice(goods)
        lines.append(f"Entry {i}: {n} shipped {rng.randint(2, 90)} crates of {g} from {a} to {b} "
                     f"on day {rng.randint(1, 365)}, paid {rng.randint(10, 999)} coins.")
    lines += ["", "End of the log. Question: what is the code word for the north gate?",
              "Answer: the code word for the north gate is"]
    return "\n".join(lines)


def post(path, body):
    req = urllib.request.Request(URL + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)


text = prompt()
ids = post("/tokenize", {"content": text, "add_special": True})["tokens"]
d = post("/completion", {"prompt": text, "n_predict": 1, "temperature": 0, "n_probs": 10,
                         "cache_prompt": False, "post_sampling_probs": False})
top = [[t["id"], t["logprob"]] for t in d["completion_probabilities"][0]["top_logprobs"]]
OUT.write_text(json.dumps({
    "engine": "llama.cpp llama-server (llama-cpp-python 0.3.36 sdist, CPU build)",
    "command": SERVER_COMMAND,
    "generator": "tools/llama-cpp/gemma_long_context.py",
    "prompt": text, "prompt_ids": ids, "first_top10_logprobs": top, "first_text": d["content"]}, indent=1))
print(f"wrote {OUT}: {len(ids)} prompt tokens, first token {d['content']!r}")
