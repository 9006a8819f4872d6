#!/usr/bin/env python3
"""Record llama.cpp's tokenization of the shared test strings with Gemma 3's GGUF (dev-only).

Writes Tests/EngineTests/Fixtures/gemma3_golden.json: cases of {text, parse_special, ids},
ids without BOS. Ground truth is llama.cpp's `llama-tokenize` on the same GGUF.

Usage: python3 tools/gemma_golden.py [path/to/llama-tokenize] [gemma.gguf]
"""
import glob
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from test_strings import STRINGS, fuzz_strings  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "EngineTests", "Fixtures", "gemma3_golden.json")

EXTRA = [
    ("<start_of_turn>user\nHello<end_of_turn>\n", True),
    ("<bos><start_of_turn>user\nWhat is 2+2?<end_of_turn>\n<start_of_turn>model\n", True),
    ("<start_of_turn>user", False),
    ("a  b   c\n\n\nd\t\te      f", False),
    ("<table><tr><td>x</td></tr></table> <b>bold</b> and </s> strike", False),
    ("<table><tr><td>x</td></tr></table> <b>bold</b> and </s> strike", True),
    ("<unused0> <mask> [multimodal] <eos>", False),
    ("<unused0> <mask> [multimodal] <eos>", True),
    ("Byte fallback: \U0001F980\U0001FAE0 \u2603\ufe0f \U00010348 \u0000 end", False),
]


def find_binary():
    if len(sys.argv) > 1:
        return sys.argv[1]
    hits = [os.environ["LLAMA_TOKENIZE"]] if os.environ.get("LLAMA_TOKENIZE") else []
    if not hits:
        sys.exit("set LLAMA_TOKENIZE to a llama-tokenize binary (llama.cpp, built outside this repository)")
    return hits[0]


def tokenize(binary, model, text, parse_special):
    args = [binary, "-m", model, "--stdin", "--no-escape", "--ids", "--no-bos", "--log-disable"]
    if not parse_special:
        args.append("--no-parse-special")
    result = subprocess.run(args, input=text.encode("utf-8"), capture_output=True, check=True)
    line = [l for l in result.stdout.decode().splitlines() if l.startswith("[")][-1]
    return json.loads(line)


def main():
    binary = find_binary()
    model = sys.argv[2] if len(sys.argv) > 2 else os.path.expanduser("~/.cache/ringside/models/gemma-3-270m-q4_k_m.gguf")
    cases = [(text, False) for text in STRINGS] + EXTRA + [(text, False) for text in fuzz_strings(80, seed=7)]
    out = []
    for text, parse_special in cases:
        out.append({"text": text, "parse_special": parse_special, "ids": tokenize(binary, model, text, parse_special)})
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump({"source": f"llama.cpp {os.path.basename(binary)} on {os.path.basename(model)}", "cases": out},
                  f, ensure_ascii=False, indent=1)
    print(f"{len(out)} cases -> {OUT}")


if __name__ == "__main__":
    main()
