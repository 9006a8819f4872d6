#!/usr/bin/env python3
"""Train `tiny-ring`: a few-million-parameter BailingMoeV2ForCausalLM (the Ling/Ring 2.0 layout)
that answers small arithmetic / comparison / sorting / letter-counting questions with a Ring-style
`<think>...</think>` trace, then write its Hugging Face files and the Swift test goldens.

Phases (all by default, in this order):
  tokenizer  byte-level BPE tokenizer.json + tokenizer_config.json (Ring chat template)
  train      JAX/optax training, f32, one CPU thread; weights saved as bf16 model.safetensors
  mtp        (not in the default list) the MTP draft layer on the frozen model's hidden states,
             written beside it as model.layers.{L}.* (mtp.py)
  mtp-golden (not in the default list) adds only the MTP part to an existing golden.json
  eval       held-out accuracy and expert load, with the independent numpy forward pass
  golden     Tests/EngineTests/Fixtures/tiny-ring/golden.json from the numpy forward pass

The numpy reference (class `NumpyBailing`) reads only the saved config.json and model.safetensors
(bf16 -> f32), so its goldens include bf16 rounding and share no code with the JAX training model.

Run with one thread and low priority (see README.md):
  OMP_NUM_THREADS=1 RAYON_NUM_THREADS=1 nice -n 19 python3 tools/tiny_ring/train.py
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import struct
import sys
import time
from pathlib import Path

# One compute thread everywhere, set before jax / numpy are imported.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("RAYON_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
MODEL_DIR = REPO / "models" / "tiny-ring"
FIXTURE_DIR = REPO / "Tests" / "EngineTests" / "Fixtures" / "tiny-ring"

# ----------------------------------------------------------------------------------------------
# Model configuration: the real Ling-mini-2.0 config.json keys, scaled down.
# ----------------------------------------------------------------------------------------------

SPECIAL_TOKENS = ["<|startoftext|>", "<|endoftext|>", "<role>", "</role>", "<think>", "</think>"]
VOCAB_SIZE = 512

CONFIG = {
    "architectures": ["BailingMoeV2ForCausalLM"],
    "model_type": "bailing_moe_v2",
    "vocab_size": VOCAB_SIZE,
    "hidden_size": 128,
    "intermediate_size": 384,
    "num_hidden_layers": 6,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 32,
    "hidden_act": "silu",
    "use_qkv_bias": False,
    "use_bias": False,
    "use_qk_norm": True,
    "rms_norm_eps": 1e-06,
    "tie_word_embeddings": False,
    "embedding_dropout": 0.0,
    "attention_dropout": 0.0,
    "output_dropout": 0.0,
    "initializer_range": 0.02,
    "max_position_embeddings": 512,
    "rope_theta": 10000.0,
    "rope_scaling": None,
    "partial_rotary_factor": 0.5,
    "first_k_dense_replace": 1,
    "num_experts": 16,
    "num_shared_experts": 1,
    "num_experts_per_tok": 4,
    "n_group": 4,
    "topk_group": 2,
    "moe_intermediate_size": 64,
    "moe_shared_expert_intermediate_size": 64,
    "routed_scaling_factor": 2.5,
    "score_function": "sigmoid",
    "moe_router_enable_expert_bias": True,
    "norm_topk_prob": True,
    "router_dtype": "fp32",
    "num_nextn_predict_layers": 0,
    "output_router_logits": False,
    "use_cache": True,
    "torch_dtype": "bfloat16",
    "bos_token_id": None,  # filled in from the tokenizer
    "eos_token_id": None,
    "pad_token_id": None,
}

# The Ring-mini-2.0 chat template, verbatim (MODELS.md 4.5).
CHAT_TEMPLATE = (
    "{% for message in messages %}{% set role = message['role'] | lower %}"
    "{% if role == 'user' %}{% set role = 'HUMAN' %}{% endif %}{% set role = role | upper %}"
    "{{ '<role>' + role + '</role>' + message['content'] }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<role>ASSISTANT</role><think>\\n' }}{% endif %}"
)

# Ling 2.0 pre-tokenizer regex (MODELS.md 4.6), as in Ling's tokenizer.json: one digit per piece.
LING_REGEX = (r"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]++[\r\n]*"
              r"|\s*[\r\n]|\s+(?!\S)|\s+")


def render_chat(messages, add_generation_prompt=True):
    """Python rendering of CHAT_TEMPLATE (checked against Jinja2 in phase_tokenizer)."""
    out = []
    for m in messages:
        role = m["role"].lower()
        if role == "user":
            role = "HUMAN"
        out.append("<role>" + role.upper() + "</role>" + m["content"])
    if add_generation_prompt:
        out.append("<role>ASSISTANT</role><think>\n")
    return "".join(out)


# ----------------------------------------------------------------------------------------------
# Synthetic reasoning tasks
# ----------------------------------------------------------------------------------------------

WORDS = """apple banana cherry grape lemon mango melon orange peach pear plum berry strawberry
raspberry blueberry coconut papaya kiwi lime apricot avocado tomato potato carrot onion garlic
pepper celery lettuce cabbage pumpkin radish spinach broccoli bean pea corn rice bread butter
cheese cookie candy honey sugar salt coffee tea water juice milk pizza pasta salad soup cake
cat dog horse mouse rabbit tiger lion zebra giraffe monkey donkey turtle snake eagle parrot
pigeon penguin dolphin whale shark octopus lobster spider beetle butterfly elephant kangaroo
koala panda camel sheep goat chicken duck goose frog lizard squirrel hamster bear wolf fox
deer moose otter beaver raccoon table chair window door pillow blanket mirror basket bottle
bucket candle carpet ladder hammer pencil paper letter button pocket jacket sweater mitten
helmet umbrella wallet rocket planet galaxy comet meteor volcano mountain valley river ocean
island desert forest jungle meadow garden bridge castle tunnel tower temple village city
street market school library museum theater hospital kitchen bedroom balcony cellar attic
summer winter autumn spring morning evening midnight thunder lightning rainbow blizzard
breeze shadow sunshine pebble boulder crystal diamond emerald silver copper bronze marble
engine wheel bicycle tractor wagon sailboat airplane helicopter subway scooter trumpet violin
guitar piano drum flute banjo cello harp whistle puzzle riddle secret mystery adventure
journey treasure kingdom dragon wizard giant goblin knight princess pirate sailor farmer
doctor teacher painter baker butcher cobbler tailor barber banner bubble carrot cassette
coffee committee mississippi tennessee bookkeeper balloon address success necessary
occasion possess accommodate""".split()
WORDS = sorted(set(WORDS))
LETTERS = "abcdefghijklmnopqrstuvwxyz"
TASKS = ["add", "sub", "compare", "sort", "count"]
TASK_WEIGHTS = [0.22, 0.22, 0.10, 0.24, 0.22]
PLACES = ["ones", "tens", "hundreds"]


def digits3(n):
    return f"{n:03d}"


def rand_num(rng, max_digits=3):
    nd = rng.randint(1, max_digits)
    lo = 0 if nd == 1 else 10 ** (nd - 1)
    return rng.randint(lo, 10 ** nd - 1)


def trace_add(a, b):
    sa, sb = digits3(a), digits3(b)
    lines = [f"Line up the digits: {sa} + {sb}."]
    carry = 0
    out = []
    for i in range(3):
        da, db = int(sa[2 - i]), int(sb[2 - i])
        s = da + db + carry
        lines.append(f"{PLACES[i]}: {da}+{db}+{carry}={s}, digit {s % 10}, carry {s // 10}.")
        out.append(s % 10)
        carry = s // 10
    result = a + b
    lines.append(f"So {a} + {b} = {result}.")
    return "\n".join(lines), str(result)


def column_sub(big, small, lines):
    sa, sb = digits3(big), digits3(small)
    borrow = 0
    for i in range(3):
        da, db = int(sa[2 - i]), int(sb[2 - i])
        if da - db - borrow < 0:
            d = 10 + da - db - borrow
            lines.append(f"{PLACES[i]}: {da}-{db}-{borrow}<0, so 1{da}-{db}-{borrow}={d}, digit {d}, borrow 1.")
            borrow = 1
        else:
            d = da - db - borrow
            lines.append(f"{PLACES[i]}: {da}-{db}-{borrow}={d}, digit {d}, borrow 0.")
            borrow = 0


def trace_sub(a, b):
    sa, sb = digits3(a), digits3(b)
    lines = [f"Line up the digits: {sa} and {sb}."]
    if a >= b:
        lines.append(f"{sa} >= {sb}, so compute {sa} - {sb}.")
        column_sub(a, b, lines)
    else:
        lines.append(f"{sa} < {sb}, so compute {sb} - {sa} and make it negative.")
        column_sub(b, a, lines)
    result = a - b
    lines.append(f"So {a} - {b} = {result}.")
    return "\n".join(lines), str(result)


def trace_compare(a, b, larger):
    sa, sb = digits3(a), digits3(b)
    lines = [f"Line up the digits: {sa} and {sb}."]
    for i in range(3):
        da, db = int(sa[i]), int(sb[i])
        place = PLACES[2 - i]
        if da == db:
            lines.append(f"{place}: {da} vs {db}, same.")
            continue
        rel = ">" if da > db else "<"
        lines.append(f"{place}: {da} vs {db}, {da} {rel} {db}.")
        break
    if a == b:
        lines.append(f"So {a} = {b}.")
        answer = str(a)
    else:
        hi, lo = max(a, b), min(a, b)
        lines.append(f"So {hi} > {lo}.")
        answer = str(hi if larger else lo)
    return "\n".join(lines), answer


def trace_sort(nums, ascending):
    lines = ["Take the " + ("smallest" if ascending else "largest") + " each time."]
    rest = list(nums)
    picked = []
    while rest:
        pick = min(rest) if ascending else max(rest)
        lines.append(f"From {', '.join(map(str, rest))} take {pick}.")
        rest.remove(pick)
        picked.append(pick)
    answer = ", ".join(map(str, picked))
    lines.append(f"Sorted: {answer}.")
    return "\n".join(lines), answer


def trace_count(word, letter):
    # One line per letter that puts the letter next to a copy of the target, so deciding a match
    # is a comparison of two adjacent tokens rather than a look back at the question; the first
    # format ("t:1 u:1 r:1") left that to attention and plateaued near 55 %.
    n = 0
    lines = [f"Spell {word} and count {letter}:"]
    for ch in word:
        hit = ch == letter
        n += hit
        lines.append(f"{ch}={letter}? {'yes' if hit else 'no'} {n}")
    lines.append(f"So {letter} appears {n} times.")
    return "\n".join(lines), str(n)


def make_problem(rng, task=None):
    """Returns (task, key, question, think, answer)."""
    task = task or rng.choices(TASKS, TASK_WEIGHTS)[0]
    if task == "add":
        a, b = rand_num(rng), rand_num(rng)
        q = f"What is {a} + {b}?"
        think, ans = trace_add(a, b)
        key = ("add", a, b)
    elif task == "sub":
        a, b = rand_num(rng), rand_num(rng)
        q = f"What is {a} - {b}?"
        think, ans = trace_sub(a, b)
        key = ("sub", a, b)
    elif task == "compare":
        a = rand_num(rng)
        r = rng.random()
        if r < 0.05:
            b = a
        elif r < 0.45:  # close numbers share leading digits
            b = max(0, min(999, a + rng.randint(-30, 30)))
        else:
            b = rand_num(rng)
        larger = rng.random() < 0.5
        q = f"Which is {'larger' if larger else 'smaller'}, {a} or {b}?"
        think, ans = trace_compare(a, b, larger)
        key = ("compare", a, b, larger)
    elif task == "sort":
        n = rng.randint(3, 5)
        nums = [rng.randint(0, 99) for _ in range(n)]
        asc = rng.random() < 0.5
        q = f"Sort {', '.join(map(str, nums))} in {'ascending' if asc else 'descending'} order."
        think, ans = trace_sort(nums, asc)
        key = ("sort", tuple(nums), asc)
    elif task == "count":
        word = rng.choice(WORDS)
        letter = rng.choice(word) if rng.random() < 0.75 else rng.choice(LETTERS)
        q = f"How many times does the letter {letter} appear in {word}?"
        think, ans = trace_count(word, letter)
        key = ("count", word, letter)
    else:
        raise ValueError(task)
    return task, key, q, think, ans


def completion_text(think, answer):
    """What the model writes after the generation prompt (which already opened `<think>\\n`)."""
    return f"{think}\n</think>\nThe answer is {answer}."


def parse_answer(text):
    """The final answer from generated text: after the first `</think>`, 'The answer is X.'"""
    if "</think>" not in text:
        return None
    tail = text.split("</think>", 1)[1].strip()
    prefix = "The answer is "
    if not tail.startswith(prefix):
        return None
    body = tail[len(prefix):]
    if body.endswith("."):
        body = body[:-1]
    return body.strip()


# ----------------------------------------------------------------------------------------------
# Phase 1: tokenizer
# ----------------------------------------------------------------------------------------------

def phase_tokenizer(out_dir: Path, seed: int):
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    rng = random.Random(seed + 1)
    corpus = []
    for _ in range(20000):
        _, _, q, think, ans = make_problem(rng)
        corpus.append(q)
        corpus.append(completion_text(think, ans))
    # Spell-out of every word so the count task's words are covered evenly.
    corpus.extend(f"How many times does the letter a appear in {w}?" for w in WORDS)
    # Role names as they appear between <role> and </role> (pre-tokenized on their own).
    corpus.extend(["HUMAN", "ASSISTANT", "SYSTEM"] * 2000)
    corpus.append("You are Ring, a tiny reasoning model. Hello! How are you? I am fine, thank you.")

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LING_REGEX), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    tok.post_processor = processors.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE, min_frequency=2, show_progress=False,
        special_tokens=SPECIAL_TOKENS[:4],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus, trainer=trainer)
    # <think> and </think> are ordinary added tokens (not special), as in Qwen3: they are always
    # parsed and always shown when decoding.
    from tokenizers import AddedToken
    tok.add_tokens([AddedToken("<think>", special=False, normalized=False),
                    AddedToken("</think>", special=False, normalized=False)])
    n = tok.get_vocab_size(with_added_tokens=True)
    if n != VOCAB_SIZE:
        # Keep the total at VOCAB_SIZE: retrain with room for the two added tokens.
        trainer = trainers.BpeTrainer(
            vocab_size=VOCAB_SIZE - 2, min_frequency=2, show_progress=False,
            special_tokens=SPECIAL_TOKENS[:4],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(LING_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
        ])
        tok.decoder = decoders.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
        tok.post_processor = processors.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
        tok.train_from_iterator(corpus, trainer=trainer)
        tok.add_tokens([AddedToken("<think>", special=False, normalized=False),
                        AddedToken("</think>", special=False, normalized=False)])
        n = tok.get_vocab_size(with_added_tokens=True)
    assert n == VOCAB_SIZE, n
    out_dir.mkdir(parents=True, exist_ok=True)
    tok.save(str(out_dir / "tokenizer.json"))

    ids = {t: tok.token_to_id(t) for t in SPECIAL_TOKENS}
    added_decoder = {}
    for t in SPECIAL_TOKENS:
        added_decoder[str(ids[t])] = {
            "content": t, "lstrip": False, "normalized": False, "rstrip": False,
            "single_word": False, "special": t not in ("<think>", "</think>")}
    tok_config = {
        "add_bos_token": False,
        "add_eos_token": False,
        "added_tokens_decoder": added_decoder,
        "bos_token": "<|startoftext|>",
        "eos_token": "<|endoftext|>",
        "pad_token": "<|endoftext|>",
        "clean_up_tokenization_spaces": False,
        "model_max_length": CONFIG["max_position_embeddings"],
        "tokenizer_class": "PreTrainedTokenizerFast",
        "chat_template": CHAT_TEMPLATE,
    }
    (out_dir / "tokenizer_config.json").write_text(json.dumps(tok_config, indent=2, ensure_ascii=False) + "\n")

    # The Python renderer must agree with the template as Jinja2 renders it.
    try:
        import jinja2
        env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)
        msgs = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is 1 + 2?"},
                {"role": "assistant", "content": "3"}, {"role": "user", "content": "Hi"}]
        got = env.from_string(CHAT_TEMPLATE).render(messages=msgs, add_generation_prompt=True)
        assert got == render_chat(msgs), (got, render_chat(msgs))
    except ImportError:
        pass
    print(f"tokenizer: {n} tokens, special ids {ids}", flush=True)
    return ids


def load_tokenizer(model_dir: Path):
    from tokenizers import Tokenizer
    return Tokenizer.from_file(str(model_dir / "tokenizer.json"))


def encode_example(tok, question, think, answer, eos_id):
    prompt = render_chat([{"role": "user", "content": question}])
    p_ids = tok.encode(prompt, add_special_tokens=False).ids
    c_ids = tok.encode(completion_text(think, answer), add_special_tokens=False).ids + [eos_id]
    return p_ids, c_ids


# ----------------------------------------------------------------------------------------------
# safetensors (written and read by hand: bf16 rounding is done here, round-to-nearest-even)
# ----------------------------------------------------------------------------------------------

def f32_to_bf16_bits(x: np.ndarray) -> np.ndarray:
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return rounded.astype(np.uint16)


def bf16_bits_to_f32(b: np.ndarray) -> np.ndarray:
    return (b.astype(np.uint32) << 16).view(np.float32)


def write_safetensors(path: Path, tensors: dict, dtypes: dict, metadata=None):
    header = {}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        arr = np.ascontiguousarray(tensors[name], dtype=np.float32)
        if dtypes.get(name, "BF16") == "BF16":
            raw = f32_to_bf16_bits(arr).tobytes()
            dt = "BF16"
        else:
            raw = arr.astype("<f4").tobytes()
            dt = "F32"
        header[name] = {"dtype": dt, "shape": list(arr.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    hjson = json.dumps(header, separators=(",", ":")).encode()
    hjson += b" " * ((8 - len(hjson) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for raw in blobs:
            f.write(raw)


def read_safetensors(path: Path) -> dict:
    data = Path(path).read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        raw = data[base + a: base + b]
        if info["dtype"] == "BF16":
            arr = bf16_bits_to_f32(np.frombuffer(raw, dtype="<u2"))
        elif info["dtype"] == "F32":
            arr = np.frombuffer(raw, dtype="<f4").astype(np.float32)
        elif info["dtype"] == "F16":
            arr = np.frombuffer(raw, dtype="<f2").astype(np.float32)
        else:
            raise ValueError(info["dtype"])
        out[name] = arr.reshape(info["shape"])
    return out


# ----------------------------------------------------------------------------------------------
# Phase 2: JAX training model (parameters keyed by their Hugging Face names)
# ----------------------------------------------------------------------------------------------

def init_params(cfg, seed):
    rng = np.random.default_rng(seed)
    H, V, L = cfg["hidden_size"], cfg["vocab_size"], cfg["num_hidden_layers"]
    nh, nkv, hd = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    E, F, Fs, I = cfg["num_experts"], cfg["moe_intermediate_size"], cfg["moe_shared_expert_intermediate_size"], cfg["intermediate_size"]
    std = cfg["initializer_range"]
    out_std = std / math.sqrt(2 * L)

    def n(*shape, s=std):
        return (rng.standard_normal(shape) * s).astype(np.float32)

    p = {"model.word_embeddings.weight": n(V, H), "model.norm.weight": np.ones(H, np.float32),
         "lm_head.weight": n(V, H)}
    bias = {}
    for i in range(L):
        pre = f"model.layers.{i}."
        p[pre + "input_layernorm.weight"] = np.ones(H, np.float32)
        p[pre + "post_attention_layernorm.weight"] = np.ones(H, np.float32)
        p[pre + "attention.query_key_value.weight"] = n((nh + 2 * nkv) * hd, H)
        p[pre + "attention.query_layernorm.weight"] = np.ones(hd, np.float32)
        p[pre + "attention.key_layernorm.weight"] = np.ones(hd, np.float32)
        p[pre + "attention.dense.weight"] = n(H, nh * hd, s=out_std)
        if i < cfg["first_k_dense_replace"]:
            p[pre + "mlp.gate_proj.weight"] = n(I, H)
            p[pre + "mlp.up_proj.weight"] = n(I, H)
            p[pre + "mlp.down_proj.weight"] = n(H, I, s=out_std)
        else:
            p[pre + "mlp.gate.weight"] = n(E, H)
            # stacked experts; split into mlp.experts.{e}.* at save time
            p[pre + "mlp.experts.gate_proj"] = n(E, F, H)
            p[pre + "mlp.experts.up_proj"] = n(E, F, H)
            p[pre + "mlp.experts.down_proj"] = n(E, H, F, s=out_std)
            p[pre + "mlp.shared_experts.gate_proj.weight"] = n(Fs, H)
            p[pre + "mlp.shared_experts.up_proj.weight"] = n(Fs, H)
            p[pre + "mlp.shared_experts.down_proj.weight"] = n(H, Fs, s=out_std)
            bias[pre + "mlp.gate.expert_bias"] = np.zeros(E, np.float32)
    return p, bias


def load_for_training(model_dir: Path, params, bias, cfg):
    """Training pytree from a saved model.safetensors (continuing a run; bf16-rounded weights)."""
    w = read_safetensors(model_dir / "model.safetensors")
    p = {}
    for k, v in params.items():
        if k.endswith(("mlp.experts.gate_proj", "mlp.experts.up_proj", "mlp.experts.down_proj")):
            pre, name = k.rsplit(".", 1)
            p[k] = np.stack([w[f"{pre}.{e}.{name}.weight"] for e in range(cfg["num_experts"])])
        else:
            p[k] = w[k]
        assert p[k].shape == v.shape, k
    b = {k: w[k] for k in bias}
    return p, b


def to_hf_tensors(params, bias, cfg):
    """HF tensor dict (f32 numpy) from the training pytree."""
    out = {}
    for k, v in params.items():
        v = np.asarray(v, dtype=np.float32)
        if k.endswith("mlp.experts.gate_proj") or k.endswith("mlp.experts.up_proj") or k.endswith("mlp.experts.down_proj"):
            pre, w = k.rsplit(".", 1)
            for e in range(v.shape[0]):
                out[f"{pre}.{e}.{w}.weight"] = v[e]
        else:
            out[k] = v
    for k, v in bias.items():
        out[k] = np.asarray(v, dtype=np.float32)
    return out


def build_jax_model(cfg, capacity_factor=0.0):
    import jax
    import jax.numpy as jnp

    H, L = cfg["hidden_size"], cfg["num_hidden_layers"]
    nh, nkv, hd = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    E, K = cfg["num_experts"], cfg["num_experts_per_tok"]
    G, TG = cfg["n_group"], cfg["topk_group"]
    rsf = cfg["routed_scaling_factor"]
    eps = cfg["rms_norm_eps"]
    rd = int(hd * cfg["partial_rotary_factor"])
    inv_freq = 1.0 / (cfg["rope_theta"] ** (np.arange(0, rd, 2, dtype=np.float64) / rd))

    def rms(x, w):
        return x * jax.lax.rsqrt(jnp.mean(x * x, axis=-1, keepdims=True) + eps) * w

    def rope(x, cos, sin):  # x [B,T,h,hd]; cos/sin [T, rd]
        xr, xp = x[..., :rd], x[..., rd:]
        x1, x2 = xr[..., : rd // 2], xr[..., rd // 2:]
        rot = jnp.concatenate([-x2, x1], axis=-1)
        xr = xr * cos[None, :, None, :] + rot * sin[None, :, None, :]
        return jnp.concatenate([xr, xp], axis=-1)

    def router(p, pre, h, b):
        logits = h @ p[pre + "mlp.gate.weight"].T  # fp32
        scores = jax.nn.sigmoid(logits)
        sfr = jax.lax.stop_gradient(scores) + b
        N = sfr.shape[0]
        grouped = sfr.reshape(N, G, E // G)
        gscore = jax.lax.top_k(grouped, 2)[0].sum(-1)  # [N,G]
        gidx = jax.lax.top_k(gscore, TG)[1]
        gmask = jax.nn.one_hot(gidx, G).sum(1) > 0  # [N,G]
        emask = jnp.repeat(gmask, E // G, axis=1)
        masked = jnp.where(emask, sfr, -jnp.inf)
        idx = jax.lax.top_k(masked, K)[1]  # [N,K]
        w = jnp.take_along_axis(scores, idx, axis=1)
        w = w / (w.sum(-1, keepdims=True) + 1e-20) * rsf
        onehot = jax.nn.one_hot(idx, E)  # [N,K,E]
        combine = (onehot * w[..., None]).sum(1)
        return combine, onehot.sum(1)

    def dispatch_experts(p, pre, hf, combine):
        """Sparse expert compute: sort (token, expert) pairs by expert into [E, C] slots
        (C = capacity_factor * N*K/E; overflow pairs are dropped, training only)."""
        N = hf.shape[0]
        C = int(math.ceil(capacity_factor * N * K / E))
        w_all, e_all = jax.lax.top_k(combine, K)  # the K selected experts and their weights
        flat_e = e_all.reshape(-1)
        flat_w = w_all.reshape(-1)
        flat_t = jnp.repeat(jnp.arange(N), K)
        order = jnp.argsort(flat_e, stable=True)
        se, sw, st = flat_e[order], flat_w[order], flat_t[order]
        starts = jnp.searchsorted(se, jnp.arange(E))
        pos = jnp.arange(N * K) - starts[se]
        keep = pos < C
        slot = jnp.where(keep, se * C + pos, E * C)  # E*C = overflow bin
        buf_t = jnp.full((E * C + 1,), N, jnp.int32).at[slot].set(st.astype(jnp.int32))[:E * C]
        buf_w = jnp.zeros((E * C + 1,), hf.dtype).at[slot].set(sw)[:E * C]
        hpad = jnp.concatenate([hf, jnp.zeros((1, hf.shape[1]), hf.dtype)], axis=0)
        xe = hpad[buf_t].reshape(E, C, hf.shape[1])
        g = jnp.einsum("ech,efh->ecf", xe, p[pre + "mlp.experts.gate_proj"])
        u = jnp.einsum("ech,efh->ecf", xe, p[pre + "mlp.experts.up_proj"])
        ye = jnp.einsum("ecf,ehf->ech", jax.nn.silu(g) * u, p[pre + "mlp.experts.down_proj"])
        ye = ye.reshape(E * C, -1) * buf_w[:, None]
        return jnp.zeros((N + 1, hf.shape[1]), hf.dtype).at[buf_t].add(ye)[:N]

    def forward(p, bias, ids, mask, return_hidden=False):
        B, T = ids.shape
        pos = np.arange(T)
        freqs = np.outer(pos, inv_freq)
        emb = np.concatenate([freqs, freqs], axis=-1)
        cos, sin = jnp.asarray(np.cos(emb), jnp.float32), jnp.asarray(np.sin(emb), jnp.float32)
        causal = jnp.asarray(np.tril(np.ones((T, T), bool)))
        x = p["model.word_embeddings.weight"][ids]
        counts = []
        for i in range(L):
            pre = f"model.layers.{i}."
            h = rms(x, p[pre + "input_layernorm.weight"])
            qkv = (h @ p[pre + "attention.query_key_value.weight"].T).reshape(B, T, nh + 2 * nkv, hd)
            q, k, v = qkv[:, :, :nh], qkv[:, :, nh:nh + nkv], qkv[:, :, nh + nkv:]
            q = rope(rms(q, p[pre + "attention.query_layernorm.weight"]), cos, sin)
            k = rope(rms(k, p[pre + "attention.key_layernorm.weight"]), cos, sin)
            rep = nh // nkv
            k = jnp.repeat(k, rep, axis=2)
            v = jnp.repeat(v, rep, axis=2)
            s = jnp.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(hd)
            s = jnp.where(causal[None, None], s, -1e30)
            a = jax.nn.softmax(s, axis=-1)
            o = jnp.einsum("bhqk,bkhd->bqhd", a, v).reshape(B, T, nh * hd)
            x = x + o @ p[pre + "attention.dense.weight"].T
            h = rms(x, p[pre + "post_attention_layernorm.weight"])
            if i < cfg["first_k_dense_replace"]:
                g = h @ p[pre + "mlp.gate_proj.weight"].T
                u = h @ p[pre + "mlp.up_proj.weight"].T
                x = x + (jax.nn.silu(g) * u) @ p[pre + "mlp.down_proj.weight"].T
            else:
                hf = h.reshape(B * T, H)
                combine, sel = router(p, pre, hf, bias[pre + "mlp.gate.expert_bias"])
                counts.append((sel * mask.reshape(B * T, 1)).sum(0))
                if capacity_factor <= 0:
                    # dense: every expert on every token, weighted by the (sparse) combine matrix
                    g = jnp.einsum("nh,efh->nef", hf, p[pre + "mlp.experts.gate_proj"])
                    u = jnp.einsum("nh,efh->nef", hf, p[pre + "mlp.experts.up_proj"])
                    act = jax.nn.silu(g) * u * combine[:, :, None]
                    y = jnp.einsum("nef,ehf->nh", act, p[pre + "mlp.experts.down_proj"])
                else:
                    y = dispatch_experts(p, pre, hf, combine)
                sg = hf @ p[pre + "mlp.shared_experts.gate_proj.weight"].T
                su = hf @ p[pre + "mlp.shared_experts.up_proj.weight"].T
                y = y + (jax.nn.silu(sg) * su) @ p[pre + "mlp.shared_experts.down_proj.weight"].T
                x = x + y.reshape(B, T, H)
        x = rms(x, p["model.norm.weight"])
        logits = x @ p["lm_head.weight"].T
        if return_hidden:  # the MTP layer's input (mtp.py)
            return logits, jnp.stack(counts), x
        return logits, jnp.stack(counts)

    forward.parts = {"rms": rms, "rope": rope, "router": router, "dispatch": dispatch_experts, "inv_freq": inv_freq}
    return forward


def phase_train(args, ids_special):
    import jax
    import jax.numpy as jnp
    import optax

    cfg = dict(CONFIG)
    tok = load_tokenizer(MODEL_DIR)
    eos = ids_special["<|endoftext|>"]
    forward = build_jax_model(cfg, args.capacity_factor)
    forward_dense = build_jax_model(cfg, 0.0)
    params, bias = init_params(cfg, args.seed)
    if args.init_from:
        params, bias = load_for_training(Path(args.init_from), params, bias, cfg)
        print(f"warm start from {args.init_from}", flush=True)
    params = {k: jnp.asarray(v) for k, v in params.items()}
    bias = {k: jnp.asarray(v) for k, v in bias.items()}
    bias_keys = sorted(bias)
    n_params = sum(int(np.prod(v.shape)) for v in params.values())
    print(f"parameters: {n_params:,} (+{sum(int(np.prod(v.shape)) for v in bias.values())} expert-bias entries)", flush=True)

    warmup = min(args.warmup, max(1, args.steps // 10))

    def lr_at(step, elapsed_s):
        """Warmup, then cosine decay over whichever runs out first: steps or the time limit."""
        if step < warmup:
            return args.lr * (step + 1) / warmup
        progress = max((step - warmup) / max(1, args.steps - warmup), elapsed_s / (args.max_minutes * 60))
        progress = min(progress, 1.0)
        return args.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))

    def make_opt(learning_rate):
        return optax.chain(optax.clip_by_global_norm(1.0),
                           optax.adamw(learning_rate, b1=0.9, b2=0.98, eps=1e-8, weight_decay=0.01,
                                       mask=lambda p: {k: v.ndim >= 2 for k, v in p.items()}))
    opt = optax.inject_hyperparams(make_opt)(learning_rate=args.lr)
    opt_state = opt.init(params)

    def loss_fn(p, b, ids, tgt, lmask, tmask, fwd=forward):
        logits, counts = fwd(p, b, ids, tmask)
        logp = jax.nn.log_softmax(logits, axis=-1)
        nll = -jnp.take_along_axis(logp, tgt[..., None], axis=-1)[..., 0]
        loss = (nll * lmask).sum() / jnp.maximum(lmask.sum(), 1.0)
        correct = (jnp.argmax(logits, -1) == tgt) | (lmask == 0)
        seq_ok = jnp.all(correct, axis=1)
        return loss, (counts, seq_ok)

    @jax.jit
    def train_step(p, b, st, ids, tgt, lmask, tmask):
        (loss, (counts, seq_ok)), grads = jax.value_and_grad(loss_fn, has_aux=True)(p, b, ids, tgt, lmask, tmask)
        updates, st = opt.update(grads, st, p)
        p = optax.apply_updates(p, updates)
        # aux-loss-free load balancing (DeepSeek-V3 / Ling): push under-loaded experts' bias up
        newb = {}
        for j, k in enumerate(bias_keys):
            c = counts[j]
            newb[k] = b[k] + args.bias_rate * jnp.sign(c.mean() - c)
        return p, newb, st, loss, counts, seq_ok.mean()

    @jax.jit
    def eval_step(p, b, ids, tgt, lmask, tmask):
        _, (counts, seq_ok) = loss_fn(p, b, ids, tgt, lmask, tmask, fwd=forward_dense)
        return seq_ok, counts

    # held-out problems: never trained on
    test = make_test_set(args.seed, args.test_per_task)
    test_keys = {t[1] for t in test}
    rng = random.Random(args.seed + 100 if args.data_seed is None else args.data_seed)
    weights = [float(x) for x in args.task_weights.split(",")] if args.task_weights else TASK_WEIGHTS

    def batch_from(problems):
        seqs = []
        for (_, _, q, think, ans) in problems:
            p_ids, c_ids = encode_example(tok, q, think, ans, eos)
            seqs.append((p_ids, c_ids))
        T = max(len(a) + len(b) for a, b in seqs) - 1
        T = int(math.ceil(T / 32) * 32)
        B = len(seqs)
        ids = np.full((B, T), eos, np.int32)
        tgt = np.full((B, T), eos, np.int32)
        lmask = np.zeros((B, T), np.float32)
        tmask = np.zeros((B, T), np.float32)
        for r, (a, b) in enumerate(seqs):
            full = a + b
            n = len(full) - 1
            ids[r, :n] = full[:-1]
            tgt[r, :n] = full[1:]
            lmask[r, len(a) - 1:n] = 1.0
            tmask[r, :n] = 1.0
        return ids, tgt, lmask, tmask

    def train_batches():
        while True:
            pool = []
            while len(pool) < args.batch * 8:
                prob = make_problem(rng, rng.choices(TASKS, weights)[0])
                if prob[1] in test_keys:
                    continue
                pool.append(prob)
            pool.sort(key=lambda t: len(t[3]))
            chunks = [pool[i:i + args.batch] for i in range(0, len(pool), args.batch)]
            rng.shuffle(chunks)
            for c in chunks:
                yield batch_from(c)

    def quick_eval(p, b, n_per_task=40):
        res = {}
        for task in TASKS:
            probs = [t for t in test if t[0] == task][:n_per_task]
            ok = []
            for i in range(0, len(probs), 40):
                arrs = batch_from(probs[i:i + 40])
                s, _ = eval_step(p, b, *[jnp.asarray(a) for a in arrs])
                ok.extend(np.asarray(s).tolist())
            res[task] = float(np.mean(ok))
        return res

    log = []
    t0 = time.time()
    gen = train_batches()
    step = 0
    ema = None
    # The time budget counts *active* time: wall time per step capped at 90 s, so a process that
    # is paused (SIGSTOP) by someone benchmarking the machine does not lose its training budget.
    active = 0.0
    prev = t0
    last = [0, 0.0]
    while step < args.steps:
        ids, tgt, lmask, tmask = next(gen)
        opt_state.hyperparams["learning_rate"] = jnp.asarray(lr_at(step, active), jnp.float32)
        params, bias, opt_state, loss, counts, acc = train_step(
            params, bias, opt_state, jnp.asarray(ids), jnp.asarray(tgt), jnp.asarray(lmask), jnp.asarray(tmask))
        step += 1
        lv = float(loss)
        now = time.time()
        active += min(now - prev, 90.0)
        prev = now
        ema = lv if ema is None else 0.98 * ema + 0.02 * lv
        if step % args.log_every == 0 or step == 1:
            c = np.asarray(counts)
            imb = (c.max(1) / np.maximum(c.mean(1), 1e-9)).round(2).tolist()
            el = active
            rate = (step - last[0]) / max(active - last[1], 1e-9)
            last[:] = [step, active]
            print(f"step {step} loss {lv:.4f} ema {ema:.4f} batch-seq-acc {float(acc):.2f} "
                  f"imbalance {[round(v, 2) for v in imb]} T={ids.shape[1]} {rate:.2f} steps/s "
                  f"lr {float(opt_state.hyperparams['learning_rate']):.2e} active {el / 60:.1f} min "
                  f"wall {(time.time() - t0) / 60:.1f} min", flush=True)
        if step % args.eval_every == 0 or step == args.steps:
            res = quick_eval(params, bias)
            print(f"  eval (teacher-forced exact match) step {step}: {res}", flush=True)
            log.append({"step": step, "loss_ema": ema, "tf_exact": res, "minutes": active / 60})
            save_model(params, bias, cfg, ids_special)
            now = time.time()
            active += min(now - prev, 90.0)
            prev = now
        if active > args.max_minutes * 60:
            print(f"stopping at step {step}: time limit {args.max_minutes} min", flush=True)
            break
    train_minutes = active / 60
    wall_minutes = (time.time() - t0) / 60
    save_model(params, bias, cfg, ids_special)
    stats = {"steps": step, "train_minutes": round(train_minutes, 2), "wall_minutes": round(wall_minutes, 2), "batch": args.batch, "lr": args.lr,
             "parameters": n_params, "log": log, "seed": args.seed}
    (MODEL_DIR / "train_log.json").write_text(json.dumps(stats, indent=1) + "\n")
    print(f"training done: {step} steps in {train_minutes:.1f} min", flush=True)
    return stats


def save_model(params, bias, cfg, ids_special):
    cfg = dict(cfg)
    cfg["bos_token_id"] = ids_special["<|startoftext|>"]
    cfg["eos_token_id"] = ids_special["<|endoftext|>"]
    cfg["pad_token_id"] = ids_special["<|endoftext|>"]
    tensors = to_hf_tensors({k: np.asarray(v) for k, v in params.items()},
                            {k: np.asarray(v) for k, v in bias.items()}, cfg)
    dtypes = {k: ("F32" if k.endswith("expert_bias") else "BF16") for k in tensors}
    MODEL_DIR.mkdir(parents=True, exist_ok=True)
    write_safetensors(MODEL_DIR / "model.safetensors.tmp", tensors, dtypes, metadata={"format": "pt"})
    os.replace(MODEL_DIR / "model.safetensors.tmp", MODEL_DIR / "model.safetensors")
    (MODEL_DIR / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
    gen = {"bos_token_id": cfg["bos_token_id"], "eos_token_id": cfg["eos_token_id"],
           "pad_token_id": cfg["pad_token_id"], "do_sample": False, "max_new_tokens": 256}
    (MODEL_DIR / "generation_config.json").write_text(json.dumps(gen, indent=2) + "\n")


def make_test_set(seed, per_task):
    rng = random.Random(seed + 7)
    out = []
    seen = set()
    for task in TASKS:
        n = 0
        while n < per_task:
            prob = make_problem(rng, task)
            if prob[1] in seen:
                continue
            seen.add(prob[1])
            out.append(prob)
            n += 1
    return out


# ----------------------------------------------------------------------------------------------
# Independent numpy reference forward pass (reads only config.json + model.safetensors)
# ----------------------------------------------------------------------------------------------

class NumpyBailing:
    """BailingMoeV2 forward in float32 numpy, written from MODELS.md 4.2-4.3 (HF modeling code)."""

    def __init__(self, model_dir: Path):
        self.cfg = json.loads((model_dir / "config.json").read_text())
        self.w = read_safetensors(model_dir / "model.safetensors")
        c = self.cfg
        self.nh, self.nkv, self.hd = c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]
        self.rd = int(self.hd * c["partial_rotary_factor"])
        self.inv_freq = 1.0 / (c["rope_theta"] ** (np.arange(0, self.rd, 2, dtype=np.float64) / self.rd))
        self.eps = c["rms_norm_eps"]

    def rms(self, x, w):
        x = x.astype(np.float32)
        return (x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + self.eps)) * w

    def rope(self, x, positions):  # x [T, heads, hd]
        ang = np.outer(positions, self.inv_freq)  # [T, rd/2]
        cos = np.cos(ang).astype(np.float32)[:, None, :]
        sin = np.sin(ang).astype(np.float32)[:, None, :]
        half = self.rd // 2
        x1 = x[..., :half]
        x2 = x[..., half:self.rd]
        out = x.copy()
        out[..., :half] = x1 * cos - x2 * sin
        out[..., half:self.rd] = x2 * cos + x1 * sin
        return out

    def route(self, layer, h):
        """Returns (selected ids [T,K], weights [T,K], router logits [T,E])."""
        c = self.cfg
        pre = f"model.layers.{layer}.mlp.gate."
        logits = h.astype(np.float32) @ self.w[pre + "weight"].T
        scores = 1.0 / (1.0 + np.exp(-logits))
        sfr = scores + self.w[pre + "expert_bias"]
        E, G, TG, K = c["num_experts"], c["n_group"], c["topk_group"], c["num_experts_per_tok"]
        T = h.shape[0]
        per = E // G
        ids = np.zeros((T, K), np.int64)
        wts = np.zeros((T, K), np.float32)
        for t in range(T):
            groups = sfr[t].reshape(G, per)
            gscore = np.sort(groups, axis=1)[:, -2:].sum(1)
            keep = np.argsort(-gscore, kind="stable")[:TG]
            masked = np.full(E, -np.inf, np.float32)
            for g in keep:
                masked[g * per:(g + 1) * per] = sfr[t, g * per:(g + 1) * per]
            sel = np.argsort(-masked, kind="stable")[:K]
            w = scores[t, sel]
            w = w / (w.sum() + 1e-20) * c["routed_scaling_factor"]
            ids[t] = sel
            wts[t] = w
        return ids, wts, logits

    def mlp(self, pre, h):
        g = h @ self.w[pre + "gate_proj.weight"].T
        u = h @ self.w[pre + "up_proj.weight"].T
        return ((g / (1.0 + np.exp(-g))) * u) @ self.w[pre + "down_proj.weight"].T

    def layer(self, i, x, positions, cache, routing):
        """Decoder block `i` (model.layers.{i}.*) over x [T, H] at `positions`; cache[i] is its (K, V)."""
        c = self.cfg
        nh, nkv, hd = self.nh, self.nkv, self.hd
        T = x.shape[0]
        pre = f"model.layers.{i}."
        h = self.rms(x, self.w[pre + "input_layernorm.weight"])
        qkv = (h @ self.w[pre + "attention.query_key_value.weight"].T).reshape(T, nh + 2 * nkv, hd)
        q, k, v = qkv[:, :nh], qkv[:, nh:nh + nkv], qkv[:, nh + nkv:]
        q = self.rope(self.rms(q, self.w[pre + "attention.query_layernorm.weight"]), positions)
        k = self.rope(self.rms(k, self.w[pre + "attention.key_layernorm.weight"]), positions)
        if cache[i] is not None:
            k = np.concatenate([cache[i][0], k], axis=0)
            v = np.concatenate([cache[i][1], v], axis=0)
        cache[i] = (k, v)
        S = k.shape[0]
        out = np.zeros((T, nh, hd), np.float32)
        for hh in range(nh):
            kv = hh // (nh // nkv)
            s = (q[:, hh] @ k[:, kv].T) / np.float32(math.sqrt(hd))  # [T, S]
            qpos = positions[:, None]
            kpos = np.arange(S)[None, :]
            s = np.where(kpos <= qpos, s, -np.inf)
            s = s - s.max(axis=1, keepdims=True)
            e = np.exp(s)
            out[:, hh] = (e / e.sum(axis=1, keepdims=True)) @ v[:, kv]
        x = x + out.reshape(T, nh * hd) @ self.w[pre + "attention.dense.weight"].T
        h = self.rms(x, self.w[pre + "post_attention_layernorm.weight"])
        if i < c["first_k_dense_replace"]:
            return x + self.mlp(pre + "mlp.", h)
        sel, wts, rlogits = self.route(i, h)
        y = self.mlp(pre + "mlp.shared_experts.", h)
        for t in range(T):
            for kk in range(sel.shape[1]):
                y[t] += wts[t, kk] * self.mlp(f"{pre}mlp.experts.{sel[t, kk]}.", h[t:t + 1])[0]
        routing.append({"layer": i, "experts": sel, "weights": wts, "router_logits": rlogits})
        return x + y

    def forward(self, ids, cache=None, start=0, record_routing=False):
        """Logits [T, V] for `ids` at positions start..; `cache` is a per-layer list of (K, V).
        The normed final hidden states (the MTP layer's input) are left in `last_hidden`."""
        c = self.cfg
        positions = np.arange(start, start + len(ids))
        x = self.w["model.word_embeddings.weight"][np.asarray(ids)]
        routing = []
        if cache is None:
            cache = [None] * c["num_hidden_layers"]
        for i in range(c["num_hidden_layers"]):
            x = self.layer(i, x, positions, cache, routing)
        x = self.rms(x, self.w["model.norm.weight"])
        self.last_hidden = x
        logits = x @ self.w["lm_head.weight"].T
        return logits.astype(np.float32), cache, routing

    def mtp(self, next_ids, hidden, cache=None, start=0):
        """The MTP (nextn) layer, model.layers.{L}.*, at positions start..: position p takes the token
        at p + 1 (`next_ids`) and a hidden state of position p (the main model's after model.norm,
        or in a draft chain the MTP's own output one position back). Returns (logits, its normed
        output, cache); `cache` is this layer's (K, V) in a one-item list."""
        L = self.cfg["num_hidden_layers"]
        pre = f"model.layers.{L}."
        e = self.w["model.word_embeddings.weight"][np.asarray(next_ids)]
        x = np.concatenate([self.rms(e, self.w[pre + "enorm.weight"]),
                            self.rms(np.asarray(hidden, np.float32), self.w[pre + "hnorm.weight"])], axis=-1)
        x = x @ self.w[pre + "eh_proj.weight"].T
        if cache is None:
            cache = [None] * (L + 1)
        x = self.layer(L, x, np.arange(start, start + len(next_ids)), cache, [])
        h = self.rms(x, self.w[pre + "final_layernorm.weight"])
        return (h @ self.w["lm_head.weight"].T).astype(np.float32), h, cache

    def generate(self, prompt_ids, max_new, eos_id=None, collect_routing=False):
        logits, cache, routing = self.forward(prompt_ids)
        all_routing = [routing] if collect_routing else None
        out = []
        nxt = int(np.argmax(logits[-1]))
        pos = len(prompt_ids)
        while len(out) < max_new:
            out.append(nxt)
            if eos_id is not None and nxt == eos_id:
                break
            logits, cache, routing = self.forward([nxt], cache=cache, start=pos)
            if collect_routing:
                all_routing.append(routing)
            pos += 1
            nxt = int(np.argmax(logits[-1]))
        return out, all_routing


# ----------------------------------------------------------------------------------------------
# Phase 3: held-out evaluation with the numpy reference
# ----------------------------------------------------------------------------------------------

def phase_eval(args):
    tok = load_tokenizer(MODEL_DIR)
    ref = NumpyBailing(MODEL_DIR)
    eos = ref.cfg["eos_token_id"]
    test = make_test_set(args.seed, args.test_per_task)
    E = ref.cfg["num_experts"]
    moe_layers = list(range(ref.cfg["first_k_dense_replace"], ref.cfg["num_hidden_layers"]))
    load = {l: np.zeros(E, np.int64) for l in moe_layers}
    per_task = {t: [0, 0] for t in TASKS}
    failures = []
    t0 = time.time()
    for n, (task, key, q, think, ans) in enumerate(test):
        prompt = render_chat([{"role": "user", "content": q}])
        p_ids = tok.encode(prompt, add_special_tokens=False).ids
        out, routing = ref.generate(p_ids, args.max_new, eos_id=eos, collect_routing=True)
        for step in routing:
            for r in step:
                np.add.at(load[r["layer"]], r["experts"].reshape(-1), 1)
        text = tok.decode([i for i in out if i != eos], skip_special_tokens=False)
        got = parse_answer(text)
        ok = got == ans
        per_task[task][0] += ok
        per_task[task][1] += 1
        if not ok and len(failures) < 30:
            failures.append({"task": task, "question": q, "expected": ans, "got": got, "output": text})
        if (n + 1) % 50 == 0:
            print(f"  eval {n + 1}/{len(test)} {time.time() - t0:.0f}s "
                  + " ".join(f"{t}={a}/{b}" for t, (a, b) in per_task.items()), flush=True)
    acc = {t: round(a / b, 4) for t, (a, b) in per_task.items()}
    total = sum(a for a, _ in per_task.values()) / sum(b for _, b in per_task.values())
    imbalance = {str(l): {"max_over_mean": round(float(load[l].max() / load[l].mean()), 3),
                          "min_over_mean": round(float(load[l].min() / load[l].mean()), 3),
                          "tokens_per_expert": load[l].tolist()} for l in moe_layers}
    res = {"per_task_accuracy": acc, "overall_accuracy": round(total, 4),
           "test_problems_per_task": args.test_per_task, "expert_load": imbalance,
           "failures": failures, "eval_seconds": round(time.time() - t0, 1)}
    (MODEL_DIR / "eval.json").write_text(json.dumps(res, indent=1) + "\n")
    print(f"held-out accuracy {acc} overall {total:.4f}", flush=True)
    print("expert load max/mean per MoE layer:", {l: v["max_over_mean"] for l, v in imbalance.items()}, flush=True)
    return res


# ----------------------------------------------------------------------------------------------
# Phase 4: goldens for the Swift tests
# ----------------------------------------------------------------------------------------------

GOLDEN_PROMPTS = [
    [{"role": "user", "content": "What is 47 + 385?"}],
    [{"role": "user", "content": "What is 503 - 78?"}],
    [{"role": "user", "content": "Sort 42, 7, 19, 88 in ascending order."}],
    [{"role": "system", "content": "You are Ring."},
     {"role": "user", "content": "How many times does the letter r appear in strawberry?"}],
]


def fl(a):
    """float32 values as JSON numbers; 9 significant digits round-trip float32 exactly."""
    return [float(f"{x:.9g}") for x in np.asarray(a, dtype=np.float32).reshape(-1)]


def phase_golden(args):
    tok = load_tokenizer(MODEL_DIR)
    ref = NumpyBailing(MODEL_DIR)
    eos = ref.cfg["eos_token_id"]
    FIXTURE_DIR.mkdir(parents=True, exist_ok=True)
    prompts = []
    routing_out = None
    short_all = None
    for n, msgs in enumerate(GOLDEN_PROMPTS):
        text = render_chat(msgs)
        ids = tok.encode(text, add_special_tokens=False).ids
        logits, _, routing = ref.forward(ids)
        last = logits[-1]
        top = np.argsort(-last, kind="stable")[:20]
        greedy, _ = ref.generate(ids, 24, eos_id=None)
        prompts.append({
            "messages": msgs,
            "prompt_text": text,
            "prompt_ids": [int(i) for i in ids],
            "last_logits": fl(last),
            "top20_ids": [int(i) for i in top],
            "top20_logits": fl(last[top]),
            "greedy_ids": [int(i) for i in greedy],
            "greedy_text": tok.decode(greedy, skip_special_tokens=False),
        })
        if n == 0:
            short_all = {"prompt_index": 0, "logits": [fl(row) for row in logits]}
            routing_out = {
                "prompt_index": 0,
                "layers": [{
                    "layer": r["layer"],
                    "experts": r["experts"].astype(int).tolist(),
                    "weights": [fl(row) for row in r["weights"]],
                    "router_logits": [fl(row) for row in r["router_logits"]],
                } for r in routing],
            }
    golden = {
        "description": "tiny-ring goldens from an independent numpy float32 forward pass over the bf16 "
                       "weights of models/tiny-ring/model.safetensors (tools/tiny_ring/train.py)",
        "model": "models/tiny-ring",
        "source": "numpy float32 reference (NumpyBailing in tools/tiny_ring/train.py)",
        "vocab_size": ref.cfg["vocab_size"],
        "eos_token_id": eos,
        "greedy_new_tokens": 24,
        "prompts": prompts,
        "all_position_logits": short_all,
        "routing": routing_out,
    }
    if ref.cfg.get("num_nextn_predict_layers", 0) > 0:
        import mtp
        golden["mtp"] = {"prompt_index": 0, **mtp.golden(ref, prompts[0]["prompt_ids"])}
        print(f"golden: MTP drafts after prompt 0: {golden['mtp']['drafts']}", flush=True)
    path = FIXTURE_DIR / "golden.json"
    path.write_text(json.dumps(golden, separators=(",", ":")) + "\n")
    for p in prompts:
        print(f"golden: {p['prompt_text']!r} -> {p['greedy_text']!r}", flush=True)
    print(f"wrote {path} ({path.stat().st_size} bytes)", flush=True)


# ----------------------------------------------------------------------------------------------

def main():
    global MODEL_DIR, FIXTURE_DIR
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--phases", default="tokenizer,train,eval,golden")
    ap.add_argument("--steps", type=int, default=20000)
    ap.add_argument("--max-minutes", type=float, default=55.0, help="stop training after this long")
    ap.add_argument("--batch", type=int, default=24)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--bias-rate", type=float, default=3e-3, help="expert-bias update speed u")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--capacity-factor", type=float, default=1.5,
                    help="expert capacity for sparse training dispatch; 0 = dense compute")
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--eval-every", type=int, default=500)
    ap.add_argument("--test-per-task", type=int, default=100)
    ap.add_argument("--max-new", type=int, default=200)
    ap.add_argument("--task-weights", default="", help=f"sampling weights for {','.join(TASKS)}")
    ap.add_argument("--data-seed", type=int, default=None, help="training-stream seed (default seed+100)")
    ap.add_argument("--init-from", default="", help="continue from a saved model directory (fresh optimizer)")
    ap.add_argument("--mtp-minutes", type=float, default=15.0, help="phase mtp: training time of the MTP layer")
    ap.add_argument("--mtp-pool", type=int, default=4000, help="phase mtp: problems whose main hidden states it trains on")
    ap.add_argument("--mtp-lr", type=float, default=2e-3)
    ap.add_argument("--mtp-length", type=int, default=192, help="phase mtp: tokens per training sequence (longer ones cut)")
    ap.add_argument("--model-dir", default=str(MODEL_DIR))
    ap.add_argument("--fixture-dir", default=str(FIXTURE_DIR))
    args = ap.parse_args()
    MODEL_DIR, FIXTURE_DIR = Path(args.model_dir), Path(args.fixture_dir)
    phases = args.phases.split(",")
    t0 = time.time()
    if "tokenizer" in phases:
        ids = phase_tokenizer(MODEL_DIR, args.seed)
    else:
        tok = load_tokenizer(MODEL_DIR)
        ids = {t: tok.token_to_id(t) for t in SPECIAL_TOKENS}
    if "train" in phases:
        phase_train(args, ids)
    if "mtp" in phases:
        import mtp
        mtp.phase_mtp(args, ids, MODEL_DIR)
    if "eval" in phases:
        phase_eval(args)
    if "golden" in phases:
        phase_golden(args)
    elif "mtp-golden" in phases:
        import mtp
        mtp.phase_golden(NumpyBailing(MODEL_DIR), FIXTURE_DIR / "golden.json")
    print(f"total {(time.time() - t0) / 60:.1f} min", flush=True)


if __name__ == "__main__":
    main()
