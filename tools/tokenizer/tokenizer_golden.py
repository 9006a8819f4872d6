#!/usr/bin/env python3
"""Generate golden fixtures for the Swift tokenizer tests (dev-only; needs network-free
PyPI packages `gguf`, `tokenizers`, `regex`).

Writes into Tests/EngineTests/Fixtures/:
  smollm2_golden.json      ids from an HF `tokenizers` BPE built from the GGUF vocab+merges
                           with SmolLM2's pre-tokenizer (Digits + ByteLevel) and decoder
  pretokenizer_splits.json pre-token splits by Python `regex` for gpt2/smollm/llama3/qwen2/bailingmoe2
and, when given an output path as the second argument, the same HF tokenizer as tokenizer.json (to test
the tokenizer.json loader; too large to commit).

Usage: python3 tools/tokenizer_golden.py [SmolLM2.gguf]
"""
import json
import os
import sys

import gguf
import regex
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

sys.path.insert(0, os.path.dirname(__file__))
from test_strings import STRINGS, fuzz_strings  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "EngineTests", "Fixtures")
GGUF = sys.argv[1] if len(sys.argv) > 1 else os.path.expanduser("~/.cache/ringside/models/SmolLM2-135M-Instruct.Q4_1.gguf")

GPT2 = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
PATTERNS = {
    "gpt2": [GPT2],
    "smollm": [r"\p{N}", r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)"],
    "llama3": [r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"],
    "qwen2": [r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"],
    "bailingmoe2": [r"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+"],
}

CHAT = ("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
        "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n")


def split_all(patterns, text):
    """llama.cpp unicode_regex_split: each regex re-splits every piece, keeping gaps."""
    pieces = [text] if text else []
    for pattern in patterns:
        compiled = regex.compile(pattern)
        out = []
        for piece in pieces:
            last = 0
            for m in compiled.finditer(piece):
                if m.start() == m.end():
                    continue
                if m.start() > last:
                    out.append(piece[last:m.start()])
                out.append(m.group())
                last = m.end()
            if last < len(piece):
                out.append(piece[last:])
        pieces = out
    return pieces


def gguf_array(reader, key, kind):
    field = reader.fields[key]
    if kind is str:
        return [bytes(field.parts[i]).decode("utf-8") for i in field.data]
    return [kind(field.parts[i][0]) for i in field.data]


def build_hf(path):
    reader = gguf.GGUFReader(path)
    tokens = gguf_array(reader, "tokenizer.ggml.tokens", str)
    types = gguf_array(reader, "tokenizer.ggml.token_type", int)
    merges = [tuple(m.split(" ", 1)) for m in gguf_array(reader, "tokenizer.ggml.merges", str)]
    tok = Tokenizer(models.BPE(vocab={t: i for i, t in enumerate(tokens)}, merges=merges))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken(tokens[i], special=True, normalized=False)
                            for i, t in enumerate(types) if t == 3])
    return tok


def main():
    tok = build_hf(GGUF)
    # The brief's reference vectors must hold for the generator itself.
    assert tok.encode("The capital of France is").ids == [504, 3575, 282, 4649, 314]
    assert tok.encode("12345 + 67 = 12412").ids == [33, 34, 35, 36, 37, 1232, 216, 38, 39, 446, 216, 33, 34, 36, 33, 34]
    assert len(tok.encode(CHAT).ids) == 37

    cases = []
    for text in STRINGS + [CHAT] + fuzz_strings(200):
        ids = tok.encode(text).ids
        decoded = tok.decode(ids, skip_special_tokens=False)
        assert decoded == text, (text, decoded)
        cases.append({"text": text, "ids": ids})
    with open(os.path.join(FIXTURES, "smollm2_golden.json"), "w", encoding="utf-8") as f:
        json.dump({"source": "HF tokenizers BPE from GGUF vocab+merges, Digits+ByteLevel", "cases": cases},
                  f, ensure_ascii=False, indent=1)

    splits = []
    for text in STRINGS + fuzz_strings(300, seed=99):
        splits.append({"text": text, "splits": {name: split_all(p, text) for name, p in PATTERNS.items()}})
    with open(os.path.join(FIXTURES, "pretokenizer_splits.json"), "w", encoding="utf-8") as f:
        json.dump({"patterns": PATTERNS, "cases": splits}, f, ensure_ascii=False, indent=1)

    if len(sys.argv) > 2:
        tok.save(sys.argv[2])
    print(f"{len(cases)} golden cases, {len(splits)} split cases")


if __name__ == "__main__":
    main()
