#!/usr/bin/env python3
"""Tiny random Qwen3 (dense) and Qwen3-MoE checkpoints with golden outputs from Hugging Face
`transformers` (Qwen3ForCausalLM / Qwen3MoeForCausalLM), for the Swift engine's tests.

Writes Tests/EngineTests/Fixtures/qwen3-tiny/ and Tests/EngineTests/Fixtures/qwen3moe-tiny/, each
with config.json, model.safetensors (bf16, per-expert tensor names as in the Hub checkpoints),
tokenizer.json, tokenizer_config.json and golden.json. The goldens are computed by transformers in
float32 from the bf16 weights it loads back from the written files.

Needs: torch, transformers (>= 4.51, tested with 5.24), tokenizers, numpy, jinja2.
  OMP_NUM_THREADS=1 nice -n 19 python3 tools/moe_fixtures/make_qwen3_fixtures.py
"""
from __future__ import annotations

import json
import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("RAYON_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "Tests" / "EngineTests" / "Fixtures"
QWEN3_TEMPLATE = (FIXTURES / "templates" / "qwen3.jinja").read_text()
VOCAB = 384
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
ADDED = ["<think>", "</think>"]
# Qwen2/Qwen3 pre-tokenizer regex (MODELS.md 5): one digit per piece.
QWEN_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
              r"|\s*[\r\n]+|\s+(?!\S)|\s+")

COMMON = {
    "vocab_size": VOCAB,
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 32,  # 4*32 = 128 != hidden 64, as in real Qwen3 (e.g. 0.6B: 16*128 vs 1024)
    "hidden_act": "silu",
    "max_position_embeddings": 512,
    "rms_norm_eps": 1e-06,
    "rope_theta": 1000000.0,
    "rope_scaling": None,
    "attention_bias": False,
    "attention_dropout": 0.0,
    "use_sliding_window": False,
    "sliding_window": None,
    "max_window_layers": 2,
    "initializer_range": 0.02,
    "use_cache": True,
    "torch_dtype": "bfloat16",
}
QWEN3 = dict(COMMON, architectures=["Qwen3ForCausalLM"], model_type="qwen3", tie_word_embeddings=True)
QWEN3_MOE = dict(COMMON, architectures=["Qwen3MoeForCausalLM"], model_type="qwen3_moe", tie_word_embeddings=False,
                 num_experts=8, num_experts_per_tok=2, moe_intermediate_size=32, norm_topk_prob=True,
                 decoder_sparse_step=1, mlp_only_layers=[], output_router_logits=False,
                 router_aux_loss_coef=0.001)

PROMPTS = [
    [{"role": "user", "content": "What is 47 + 385?"}],
    [{"role": "system", "content": "You are a tiny test model."},
     {"role": "user", "content": "Sort 42, 7, 19 in ascending order."}],
]
GREEDY_TOKENS = 16


# ---------------------------------------------------------------------------------------------

def make_tokenizer(out: Path):
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    sys.path.insert(0, str(REPO / "tools" / "tiny_ring"))
    import random
    import train as tiny  # the synthetic task text is a convenient small corpus
    rng = random.Random(5)
    corpus = []
    for _ in range(3000):
        _, _, q, think, ans = tiny.make_problem(rng)
        corpus += [q, tiny.completion_text(think, ans)]
    corpus += ["system", "user", "assistant", "You are a tiny test model."] * 300

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN_REGEX), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    tok.post_processor = processors.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    trainer = trainers.BpeTrainer(vocab_size=VOCAB - len(ADDED), min_frequency=2, show_progress=False,
                                  special_tokens=SPECIAL, initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus, trainer=trainer)
    tok.add_tokens([AddedToken(t, special=False, normalized=False) for t in ADDED])
    assert tok.get_vocab_size(with_added_tokens=True) == VOCAB
    tok.save(str(out / "tokenizer.json"))
    decoder = {str(tok.token_to_id(t)): {"content": t, "lstrip": False, "normalized": False, "rstrip": False,
                                         "single_word": False, "special": t in SPECIAL} for t in SPECIAL + ADDED}
    cfg = {"add_bos_token": False, "add_prefix_space": False, "added_tokens_decoder": decoder,
           "bos_token": None, "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>",
           "clean_up_tokenization_spaces": False, "errors": "replace", "model_max_length": 512,
           "split_special_tokens": False, "tokenizer_class": "Qwen2Tokenizer", "unk_token": None,
           "chat_template": QWEN3_TEMPLATE}
    (out / "tokenizer_config.json").write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n")
    return tok


def bf16_bits(x: np.ndarray) -> np.ndarray:
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def write_safetensors(path: Path, tensors: dict):
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        raw = bf16_bits(tensors[name]).tobytes()
        header[name] = {"dtype": "BF16", "shape": list(tensors[name].shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def random_weights(cfg: dict, seed: int) -> dict:
    """Hub-style tensor names. Weights are larger than a fresh init so logits are well separated."""
    rng = np.random.default_rng(seed)
    H, V, hd = cfg["hidden_size"], cfg["vocab_size"], cfg["head_dim"]
    nh, nkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]

    def n(*shape, s=0.08):
        return (rng.standard_normal(shape) * s).astype(np.float32)

    def norm(k):
        return (1.0 + 0.2 * rng.standard_normal(k)).astype(np.float32)

    w = {"model.embed_tokens.weight": n(V, H, s=0.2), "model.norm.weight": norm(H)}
    if not cfg["tie_word_embeddings"]:
        w["lm_head.weight"] = n(V, H, s=0.15)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        w[p + "input_layernorm.weight"] = norm(H)
        w[p + "post_attention_layernorm.weight"] = norm(H)
        w[p + "self_attn.q_proj.weight"] = n(nh * hd, H, s=0.15)
        w[p + "self_attn.k_proj.weight"] = n(nkv * hd, H, s=0.15)
        w[p + "self_attn.v_proj.weight"] = n(nkv * hd, H, s=0.15)
        w[p + "self_attn.o_proj.weight"] = n(H, nh * hd, s=0.3)
        w[p + "self_attn.q_norm.weight"] = norm(hd)
        w[p + "self_attn.k_norm.weight"] = norm(hd)
        sparse = ("num_experts" in cfg and i not in cfg["mlp_only_layers"]
                  and (i + 1) % cfg["decoder_sparse_step"] == 0)
        if sparse:
            F = cfg["moe_intermediate_size"]
            w[p + "mlp.gate.weight"] = n(cfg["num_experts"], H, s=0.3)
            for e in range(cfg["num_experts"]):
                w[p + f"mlp.experts.{e}.gate_proj.weight"] = n(F, H, s=0.15)
                w[p + f"mlp.experts.{e}.up_proj.weight"] = n(F, H, s=0.15)
                w[p + f"mlp.experts.{e}.down_proj.weight"] = n(H, F, s=0.4)
        else:
            I = cfg["intermediate_size"]
            w[p + "mlp.gate_proj.weight"] = n(I, H, s=0.15)
            w[p + "mlp.up_proj.weight"] = n(I, H, s=0.15)
            w[p + "mlp.down_proj.weight"] = n(H, I, s=0.3)
    return w


def fl(a):
    """float32 values, 8 significant digits (plenty for test tolerances, smaller JSON)."""
    return [float(f"{x:.8g}") for x in np.asarray(a, dtype=np.float32).reshape(-1)]


def run_model(model_cls, out: Path, tok, overrides=None):
    import torch
    from transformers import AutoConfig
    config = AutoConfig.from_pretrained(out)
    for k, v in (overrides or {}).items():
        setattr(config, k, v)
    model, info = model_cls.from_pretrained(out, config=config, dtype=torch.float32, output_loading_info=True)
    bad = {k: v for k, v in info.items() if v and k != "error_msgs" or (k == "error_msgs" and v)}
    if bad:
        raise SystemExit(f"{out.name}: transformers did not load every tensor: {bad}")
    model.eval()
    import jinja2
    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)
    template = env.from_string(QWEN3_TEMPLATE)
    prompts = []
    with torch.no_grad():
        for msgs in PROMPTS:
            text = template.render(messages=msgs, add_generation_prompt=True)
            ids = tok.encode(text, add_special_tokens=False).ids
            logits = model(torch.tensor([ids])).logits[0].float().numpy()
            seq = list(ids)
            greedy, margins = [], []
            for _ in range(GREEDY_TOKENS):  # full recompute each step: no cache involved
                last = model(torch.tensor([seq])).logits[0, -1]
                top2 = torch.topk(last, 2).values
                margins.append(float(top2[0] - top2[1]))
                nxt = int(last.argmax())
                greedy.append(nxt)
                seq.append(nxt)
            top = np.argsort(-logits[-1], kind="stable")[:10]
            prompts.append({"messages": msgs, "prompt_text": text, "prompt_ids": [int(i) for i in ids],
                            "logits": [fl(r) for r in logits],
                            "top10_last_ids": [int(i) for i in top], "top10_last_logits": fl(logits[-1][top]),
                            "greedy_ids": greedy, "greedy_min_top2_margin": min(margins), "greedy_text": tok.decode(greedy, skip_special_tokens=False)})
    return prompts


def build(name: str, cfg: dict, model_cls, seed: int, variants=None):
    import transformers
    out = FIXTURES / name
    out.mkdir(parents=True, exist_ok=True)
    tok = make_tokenizer(out)
    cfg = dict(cfg, bos_token_id=tok.token_to_id("<|endoftext|>"), eos_token_id=tok.token_to_id("<|im_end|>"),
               pad_token_id=tok.token_to_id("<|endoftext|>"))
    (out / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
    # Pick the first seed whose greedy continuations are varied and free of near-ties, so the
    # Swift tests are neither trivially passed by a degenerate repeat nor flaky.
    for seed in range(seed, seed + 50):
        write_safetensors(out / "model.safetensors", random_weights(cfg, seed))
        prompts = run_model(model_cls, out, tok)
        variant_prompts = {v: run_model(model_cls, out, tok, o) for v, o in (variants or {}).items()}
        if all(len(set(p["greedy_ids"])) >= 8 and p["greedy_min_top2_margin"] > 0.02 for p in prompts) and \
                all(p["greedy_min_top2_margin"] > 0.02 for ps in variant_prompts.values() for p in ps):
            break
    golden = {
        "description": f"{name}: random bf16 weights; goldens from Hugging Face transformers "
                       f"{transformers.__version__} {model_cls.__name__} in float32 (weights bf16 -> f32)",
        "source": f"transformers {transformers.__version__} {model_cls.__name__}",
        "dtype": "float32 compute from bf16 weights",
        "vocab_size": cfg["vocab_size"],
        "eos_token_id": cfg["eos_token_id"],
        "greedy_new_tokens": GREEDY_TOKENS,
        "weights_seed": seed,
        "prompts": prompts,
    }
    for vname, overrides in (variants or {}).items():
        golden.setdefault("variants", {})[vname] = {
            "config_overrides": overrides, "prompts": variant_prompts[vname]}
    (out / "golden.json").write_text(json.dumps(golden, separators=(",", ":")) + "\n")
    sizes = {p.name: p.stat().st_size for p in sorted(out.iterdir())}
    print(name, sizes)
    for p in golden["prompts"]:
        print("  ", repr(p["prompt_text"][-40:]), "->", p["greedy_ids"])


def main():
    import torch
    torch.set_num_threads(1)
    from transformers import Qwen3ForCausalLM, Qwen3MoeForCausalLM
    build("qwen3-tiny", QWEN3, Qwen3ForCausalLM, seed=11)
    build("qwen3moe-tiny", QWEN3_MOE, Qwen3MoeForCausalLM, seed=12,
          variants={"norm_topk_prob_false": {"norm_topk_prob": False}})


if __name__ == "__main__":
    main()
