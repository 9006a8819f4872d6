#!/usr/bin/env python3
"""Record llama-tokenize's ids for our own texts on llama.cpp's vocabulary GGUFs, into
Tests/EngineTests/Fixtures/llama_tokenize_own.json (LlamaVocabTests compares with it).

    python3 tools/tokenizer/record_llama_tokenize.py LLAMA_TOKENIZE VOCAB_DIR

LLAMA_TOKENIZE is llama.cpp's llama-tokenize (built from the llama-cpp-python 0.3.36 sdist);
VOCAB_DIR holds its models/ggml-vocab-*.gguf. Each text goes through a file, unescaped:
    llama-tokenize -m VOCAB -f TEXT --ids --no-bos --no-parse-special --no-escape --log-disable
"""
import json
import pathlib
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
OUT = ROOT / "Tests" / "EngineTests" / "Fixtures" / "llama_tokenize_own.json"

VOCABS = ["bert-bge", "command-r", "deepseek-coder", "deepseek-llm", "falcon", "gemma-4", "gpt-2", "llama-bpe",
          "llama-spm", "mpt", "phi-3", "qwen2", "qwen35", "refact", "starcoder", "aquila", "baichuan", "gpt-neox"]

TEXTS = [
    "It's THEIR car, isn'T it? We'LL see; you'Re right, I'M sure, they'VE gone, she'D know.",
    "Long s: ſ 'ſ, Kelvin K, İstanbul, ﬁne ligature, Straße.",
    "numbers 1 12 123 1234 12345 123456 1234567 3.14159 -42 1e10 ١٢٣٤ ½ ² Ⅻ",
    "tabs\tand\t\ttabs, CRLF\r\nlines\r\n\r\n and   three spaces   end   ",
    "no-break\u00a0space, thin\u2009space, ideographic\u3000space, NEL\u0085here, LS\u2028PS\u2029.",
    "日本語のテキストと漢字、中文测试，한국어 텍스트입니다。",
    "emoji 👍🏽 👨‍👩‍👧‍👦 🇫🇷 ❤️ and symbols ∑∫√∞ ≠ ≤ → ₿ € £ ¥",
    "combining: e\u0301 a\u0308 n\u0303 — Devanagari नमस्ते दुनिया, Tamil வணக்கம், Thai สวัสดีครับ",
    "Arabic: مرحبا بالعالم، Hebrew: שלום עולם, Greek: Καλημέρα κόσμε, Cyrillic: Привет, мир!",
    "def f(x):\n    return {'a': [1, 2, 3], \"b\": x ** 2}  # comment\n\n\n    \n",
    "<|im_start|>user\nnot special here<|im_end|> <s> </s> [CLS] <unk>",
    "    leading spaces and trailing newline\n",
    "'s 'S 'll 'LL 'd 'D 're 'Re 've 'vE 't 'm'M''' quotes''",
    "URLs: https://example.com/path?q=1&r=2#frag and e-mail a.b@c.d, paths C:\\dir\\file.txt",
    "MixedCASEWordsLikeThisOne and camelCaseIdentifiers and SCREAMING_SNAKE_CASE",
    "  \n\n  \t \n",
    "a" * 40 + " " + "ab" * 30,
    "Ünïcödé ÀÉÎÕÜ àéîõü ÇÑ çñ ÅØÆ åøæ",
]


def tokenize(binary, vocab, text):
    with tempfile.NamedTemporaryFile("wb", suffix=".txt", delete=False) as f:
        f.write(text.encode("utf-8"))
        path = f.name
    try:
        out = subprocess.run([binary, "-m", vocab, "-f", path, "--ids", "--no-bos", "--no-parse-special", "--no-escape", "--log-disable"],
                             capture_output=True, check=True).stdout.decode()
    finally:
        pathlib.Path(path).unlink()
    line = [l for l in out.splitlines() if l.startswith("[")][-1]
    return json.loads(line)


def main():
    binary, directory = sys.argv[1], pathlib.Path(sys.argv[2])
    ids = {}
    # llama-tokenize spends seconds starting up, mostly waiting: run many at once.
    with ThreadPoolExecutor(max_workers=16) as pool:
        futures = {name: [pool.submit(tokenize, binary, str(directory / f"ggml-vocab-{name}.gguf"), t) for t in TEXTS]
                   for name in VOCABS}
        for name in VOCABS:
            try:
                ids[name] = [f.result() for f in futures[name]]
            except subprocess.CalledProcessError as e:
                print(f"{name}: llama-tokenize failed: {e.stderr.decode()[-300:]}", file=sys.stderr)
    out = {"generator": "tools/tokenizer/record_llama_tokenize.py",
           "command": "llama-tokenize -m VOCAB -f TEXT --ids --no-bos --no-parse-special --no-escape --log-disable",
           "llama_cpp": "llama-cpp-python 0.3.36 source distribution (vendor/llama.cpp)",
           "texts": TEXTS, "ids": ids}
    OUT.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(ids)} vocabularies x {len(TEXTS)} texts")


if __name__ == "__main__":
    main()
