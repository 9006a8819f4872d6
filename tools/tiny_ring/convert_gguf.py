#!/usr/bin/env python3
"""Run llama.cpp's own convert_hf_to_gguf.py on models/tiny-ring.

The only thing this wrapper changes: llama.cpp recognises a BPE pre-tokenizer by hashing the ids
its tokenizer gives for a fixed test string, so a *new* vocabulary is never recognised, even when
its pre-tokenizer is exactly Ling 2.0's. When the hash is unknown and tokenizer.json's Split
regex is Ling's (the `bailingmoe2` regex), the wrapper answers "bailingmoe2"; anything else still
fails as upstream does. Everything else (hparams, tensor names, expert merging, metadata) is the
converter's unmodified code.

Usage (needs torch, transformers, numpy, sentencepiece not required; gguf-py comes from llama.cpp):
  nice -n 19 python3 tools/tiny_ring/convert_gguf.py LLAMA_CPP_DIR models/tiny-ring \\
      --outtype f32 --outfile Tests/EngineTests/Fixtures/tiny-ring/tiny-ring.f32.gguf
"""
import json
import runpy
import sys
from pathlib import Path

LING_REGEX = (r"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]++[\r\n]*"
              r"|\s*[\r\n]|\s+(?!\S)|\s+")


def split_regexes(node):
    if not isinstance(node, dict):
        return []
    if node.get("type") == "Sequence":
        return [r for child in node.get("pretokenizers", []) for r in split_regexes(child)]
    if node.get("type") == "Split":
        return [node.get("pattern", {}).get("Regex")]
    return []


def main():
    llama_dir = Path(sys.argv[1]).resolve()
    model_dir = Path(sys.argv[2]).resolve()
    rest = sys.argv[3:]
    sys.path.insert(0, str(llama_dir / "gguf-py"))
    sys.path.insert(0, str(llama_dir))
    import conversion.base as base  # noqa: E402

    regexes = split_regexes(json.loads((model_dir / "tokenizer.json").read_text()).get("pre_tokenizer"))
    owner = next(c for c in base.TextModel.__mro__ if "get_vocab_base_pre" in c.__dict__)
    original = owner.get_vocab_base_pre

    def get_vocab_base_pre(self, tokenizer):
        try:
            return original(self, tokenizer)
        except NotImplementedError:
            if regexes == [LING_REGEX]:
                print("convert_gguf.py: unknown vocabulary hash, Ling 2.0 pre-tokenizer regex -> 'bailingmoe2'")
                return "bailingmoe2"
            raise

    owner.get_vocab_base_pre = get_vocab_base_pre
    sys.argv = [str(llama_dir / "convert_hf_to_gguf.py"), str(model_dir)] + rest
    runpy.run_path(str(llama_dir / "convert_hf_to_gguf.py"), run_name="__main__")


if __name__ == "__main__":
    main()
