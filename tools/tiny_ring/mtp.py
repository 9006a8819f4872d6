"""tiny-ring's MTP (nextn) draft layer: trained on the frozen model's hidden states, saved in the
checkpoint layout of Ling/Ring 2.0 (`num_nextn_predict_layers: 1`), and its goldens.

Layout (BailingMoeV2MTPLayer, DeepSeek-V3 style), with L = num_hidden_layers:
  model.layers.{L}.enorm / .hnorm / .final_layernorm   RMSNorms
  model.layers.{L}.eh_proj                             Linear 2H -> H, no bias
  model.layers.{L}.input_layernorm, .attention.*, .post_attention_layernorm, .mlp.*   a decoder block
                                                       (MoE, as its index >= first_k_dense_replace)
Position p: x = eh_proj([enorm(embed(token at p+1)), hnorm(h_p)]), the block (its own KV), then
final_layernorm and the main model's lm_head; it predicts the token at p+2. h_p is the main model's
hidden state after model.norm; in a draft chain, step j > 1 takes the MTP's own output of the
previous position instead.

Training keeps every main weight (and so every existing golden) as it is. The main model's hidden
states and its greedy next tokens are computed once for a pool of synthetic problems (dense expert
compute, so routing is exact); the layer learns to predict the main model's own greedy token two
ahead (what speculative decoding needs it to agree with), in two passes: pass 1 from the main hidden
states, pass 2 from its own pass-1 output one position back, with pass-1 keys for the positions
before (what a chain's second step sees at inference).
"""
from __future__ import annotations

import json
import math
import random
import time
from pathlib import Path

import numpy as np


def prefix(cfg):
    return f"model.layers.{cfg['num_hidden_layers']}."


def init_mtp(cfg, main, seed):
    """MTP parameters (experts stacked as in training): the block starts as a copy of the last main
    layer, eh_proj near [0, I] so that x starts close to hnorm(h)."""
    L = cfg["num_hidden_layers"]
    rng = np.random.default_rng(seed + 17)
    H, E = cfg["hidden_size"], cfg["num_experts"]
    src, dst = f"model.layers.{L - 1}.", prefix(cfg)
    p, bias = {}, {}
    stacked = {"gate_proj", "up_proj", "down_proj"}
    for k, v in main.items():
        if not k.startswith(src) or ".mlp.experts." in k or k.endswith("expert_bias"):
            continue
        p[dst + k[len(src):]] = v.copy()
    for name in stacked:
        p[dst + "mlp.experts." + name] = np.stack([main[f"{src}mlp.experts.{e}.{name}.weight"] for e in range(E)])
    bias[dst + "mlp.gate.expert_bias"] = main[src + "mlp.gate.expert_bias"].copy()
    eh = (rng.standard_normal((H, 2 * H)) * cfg["initializer_range"]).astype(np.float32)
    eh[:, H:] += np.eye(H, dtype=np.float32)
    p[dst + "eh_proj.weight"] = eh
    for n in ("enorm", "hnorm", "final_layernorm"):
        p[dst + n + ".weight"] = np.ones(H, np.float32)
    return p, bias


def build_mtp(cfg, parts, dense=False):
    """Both passes of the layer; `dense` computes every expert (exact routing, for evaluation),
    else the training dispatch with its capacity."""
    import jax
    import jax.numpy as jnp
    rms, rope, router, dispatch = parts["rms"], parts["rope"], parts["router"], parts["dispatch"]
    nh, nkv, hd, H = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"], cfg["hidden_size"]
    pre = prefix(cfg)

    def project(p, emb, h):
        x = jnp.concatenate([rms(emb, p[pre + "enorm.weight"]), rms(h, p[pre + "hnorm.weight"])], axis=-1)
        return x @ p[pre + "eh_proj.weight"].T

    def qkv(p, x, cos, sin):
        B, T, _ = x.shape
        h = rms(x, p[pre + "input_layernorm.weight"])
        a = (h @ p[pre + "attention.query_key_value.weight"].T).reshape(B, T, nh + 2 * nkv, hd)
        q, k, v = a[:, :, :nh], a[:, :, nh:nh + nkv], a[:, :, nh + nkv:]
        q = rope(rms(q, p[pre + "attention.query_layernorm.weight"]), cos, sin)
        k = rope(rms(k, p[pre + "attention.key_layernorm.weight"]), cos, sin)
        return q, jnp.repeat(k, nh // nkv, axis=2), jnp.repeat(v, nh // nkv, axis=2)

    def finish(p, b, x, o):
        B, T, _ = x.shape
        x = x + o.reshape(B, T, nh * hd) @ p[pre + "attention.dense.weight"].T
        hf = rms(x, p[pre + "post_attention_layernorm.weight"]).reshape(B * T, H)
        combine, _ = router(p, pre, hf, b[pre + "mlp.gate.expert_bias"])
        if dense:
            g = jnp.einsum("nh,efh->nef", hf, p[pre + "mlp.experts.gate_proj"])
            u = jnp.einsum("nh,efh->nef", hf, p[pre + "mlp.experts.up_proj"])
            y = jnp.einsum("nef,ehf->nh", jax.nn.silu(g) * u * combine[:, :, None], p[pre + "mlp.experts.down_proj"])
        else:
            y = dispatch(p, pre, hf, combine)
        sg = hf @ p[pre + "mlp.shared_experts.gate_proj.weight"].T
        su = hf @ p[pre + "mlp.shared_experts.up_proj.weight"].T
        y = y + (jax.nn.silu(sg) * su) @ p[pre + "mlp.shared_experts.down_proj.weight"].T
        return rms(x + y.reshape(B, T, H), p[pre + "final_layernorm.weight"])

    def forward(p, b, emb, h_main, cos, sin):
        T = emb.shape[1]
        scale = 1.0 / math.sqrt(hd)
        causal = jnp.asarray(np.tril(np.ones((T, T), bool)))
        strict = jnp.asarray(np.tril(np.ones((T, T), bool), -1))
        # Pass 1: every position from the main model's hidden state.
        x1 = project(p, emb, h_main)
        q1, k1, v1 = qkv(p, x1, cos, sin)
        s = jnp.where(causal[None, None], jnp.einsum("bqhd,bkhd->bhqk", q1, k1) * scale, -1e30)
        out1 = finish(p, b, x1, jnp.einsum("bhqk,bkhd->bqhd", jax.nn.softmax(s, axis=-1), v1))
        # Pass 2: position u from the pass-1 output at u - 1; earlier keys are pass 1's.
        h_prev = jnp.concatenate([jnp.zeros_like(out1[:, :1]), out1[:, :-1]], axis=1)
        x2 = project(p, emb, h_prev)
        q2, k2, v2 = qkv(p, x2, cos, sin)
        off = jnp.where(strict[None, None], jnp.einsum("bqhd,bkhd->bhqk", q2, k1) * scale, -1e30)
        diag = jnp.einsum("bqhd,bqhd->bhq", q2, k2) * scale
        m = jnp.maximum(off.max(-1), diag)
        e_off, e_diag = jnp.exp(off - m[..., None]), jnp.exp(diag - m)
        z = e_off.sum(-1) + e_diag
        o2 = (jnp.einsum("bhqk,bkhd->bqhd", e_off, v1) + jnp.einsum("bhq,bqhd->bqhd", e_diag, v2)) \
            / jnp.transpose(z, (0, 2, 1))[..., None]
        out2 = finish(p, b, x2, o2)
        return out1, out2

    return forward


def phase_mtp(args, ids_special, model_dir: Path):
    """Trains the MTP layer and writes it into model.safetensors and config.json."""
    import jax
    import jax.numpy as jnp
    import optax
    import train

    cfg = json.loads((model_dir / "config.json").read_text())
    cfg["num_nextn_predict_layers"] = 0
    L, pre = cfg["num_hidden_layers"], prefix(cfg)
    tok = train.load_tokenizer(model_dir)
    eos = ids_special["<|endoftext|>"]
    saved = train.read_safetensors(model_dir / "model.safetensors")
    main = {k: v for k, v in saved.items() if not k.startswith(pre)}

    # Frozen main model, exact (dense) expert compute, and its hidden states for a pool of problems.
    params0, bias0 = train.init_params(cfg, args.seed)
    mp, mb = {}, {}
    for k in params0:
        if k.endswith(("mlp.experts.gate_proj", "mlp.experts.up_proj", "mlp.experts.down_proj")):
            head, name = k.rsplit(".", 1)
            mp[k] = jnp.asarray(np.stack([main[f"{head}.{e}.{name}.weight"] for e in range(cfg["num_experts"])]))
        else:
            mp[k] = jnp.asarray(main[k])
    for k in bias0:
        mb[k] = jnp.asarray(main[k])
    main_fwd = train.build_jax_model(cfg, 0.0)

    # Op by op: compiling the whole dense-expert forward took XLA many CPU minutes here.
    def hidden_of(mp, mb, ids, tmask):
        logits, _, h = main_fwd(mp, mb, ids, tmask, return_hidden=True)
        return h, jnp.argmax(logits, -1).astype(jnp.int32)

    test = train.make_test_set(args.seed, args.test_per_task)
    test_keys = {t[1] for t in test}
    rng = random.Random(args.seed + 300)

    def encode(problems):
        seqs = [train.encode_example(tok, q, think, ans, eos) for (_, _, q, think, ans) in problems]
        # One length for every batch (longer traces cut), so the training step compiles once.
        T = args.mtp_length
        ids = np.full((len(seqs), T), eos, np.int32)
        tmask = np.zeros((len(seqs), T), np.float32)
        lmask = np.zeros((len(seqs), T), np.float32)
        for r, (a, b) in enumerate(seqs):
            full = (a + b)[:T + 1]
            n = len(full) - 1
            ids[r, :n] = full[:-1]
            tmask[r, :n] = 1.0
            lmask[r, len(a) - 1:n] = 1.0
        h, greedy = hidden_of(mp, mb, jnp.asarray(ids), jnp.asarray(tmask))
        # Position t: the token at t + 1 in (ids[t+1] = the data's), the main model's greedy token
        # after t + 1 out (its argmax at t + 1), counted where t + 1 is an answer position.
        nxt = np.concatenate([ids[:, 1:], np.full((len(seqs), 1), eos, np.int32)], 1)
        want = np.concatenate([np.asarray(greedy)[:, 1:], np.full((len(seqs), 1), eos, np.int32)], 1)
        mask = np.concatenate([lmask[:, 1:], np.zeros((len(seqs), 1), np.float32)], 1)
        return np.asarray(h), nxt, want, mask

    def problems(n, held_out):
        out = []
        if held_out:
            return test[:n]
        while len(out) < n:
            prob = train.make_problem(rng, rng.choices(train.TASKS, train.TASK_WEIGHTS)[0])
            if prob[1] not in test_keys:
                out.append(prob)
        return out

    t0 = time.time()
    pool = problems(args.mtp_pool, False)
    pool.sort(key=lambda t: len(t[3]))
    B = args.batch  # whole batches only: one shape to compile
    batches = [encode(pool[i:i + B]) for i in range(0, len(pool) - B + 1, B)]
    held = sorted(problems(len(test), True), key=lambda t: len(t[3]))
    held_batches = [encode(held[i:i + B]) for i in range(0, len(held) - B + 1, B)]
    print(f"mtp: main hidden states for {len(pool)} + {len(held)} problems in {time.time() - t0:.0f}s", flush=True)

    p, b = init_mtp(cfg, saved, args.seed)
    p = {k: jnp.asarray(v) for k, v in p.items()}
    b = {k: jnp.asarray(v) for k, v in b.items()}
    parts = train.build_jax_model(cfg, args.capacity_factor).parts
    fwd, fwd_eval = build_mtp(cfg, parts), build_mtp(cfg, parts, dense=True)
    emb_table = jnp.asarray(main["model.word_embeddings.weight"])
    head = jnp.asarray(main["lm_head.weight"])
    rd_inv = parts["inv_freq"]

    def tables(T):
        freqs = np.outer(np.arange(T), rd_inv)
        emb = np.concatenate([freqs, freqs], axis=-1)
        return jnp.asarray(np.cos(emb), jnp.float32), jnp.asarray(np.sin(emb), jnp.float32)

    def losses(p, b, h, nxt, want, mask, f=fwd):
        cos, sin = tables(h.shape[1])
        out1, out2 = f(p, b, emb_table[nxt], h, cos, sin)
        m2 = mask.at[:, 0].set(0.0)
        res = []
        for out, m in ((out1, mask), (out2, m2)):
            logits = out @ head.T
            nll = -jnp.take_along_axis(jax.nn.log_softmax(logits, -1), want[..., None], -1)[..., 0]
            agree = (jnp.argmax(logits, -1) == want) * m
            res.append(((nll * m).sum() / jnp.maximum(m.sum(), 1.0), agree.sum(), m.sum()))
        return res

    def loss_fn(p, b, h, nxt, want, mask):
        (l1, a1, n1), (l2, a2, n2) = losses(p, b, h, nxt, want, mask)
        return l1 + 0.5 * l2, (a1 / jnp.maximum(n1, 1), a2 / jnp.maximum(n2, 1))

    opt = optax.inject_hyperparams(lambda learning_rate: optax.chain(
        optax.clip_by_global_norm(1.0), optax.adamw(learning_rate, b1=0.9, b2=0.98, weight_decay=0.01,
                                                    mask=lambda q: {k: v.ndim >= 2 for k, v in q.items()})))(learning_rate=args.mtp_lr)
    st = opt.init(p)
    bias_keys = sorted(b)

    @jax.jit
    def step(p, b, st, h, nxt, want, mask):
        (loss, acc), g = jax.value_and_grad(loss_fn, has_aux=True)(p, b, h, nxt, want, mask)
        up, st = opt.update(g, st, p)
        return optax.apply_updates(p, up), st, loss, acc

    @jax.jit
    def held_step(p, b, h, nxt, want, mask):
        (_, a1, n1), (_, a2, n2) = losses(p, b, h, nxt, want, mask, f=fwd_eval)
        return a1, a2, n1, n2

    def held_out(p, b):
        tot = np.zeros(4)
        for arrs in held_batches:
            tot += np.array([float(x) for x in held_step(p, b, *[jnp.asarray(a) for a in arrs])])
        return {"step1_agreement": round(tot[0] / tot[2], 4), "step2_agreement": round(tot[1] / tot[3], 4)}

    order = random.Random(args.seed + 301)
    t1, n, log, ema = time.time(), 0, [], None
    budget = args.mtp_minutes * 60
    while time.time() - t1 < budget:
        idx = list(range(len(batches)))
        order.shuffle(idx)
        for i in idx:
            frac = min(1.0, (time.time() - t1) / budget)
            st.hyperparams["learning_rate"] = jnp.asarray(args.mtp_lr * min(1.0, (n + 1) / 100) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac))), jnp.float32)
            p, st, loss, acc = step(p, b, st, *[jnp.asarray(a) for a in batches[i]])
            n += 1
            ema = float(loss) if ema is None else 0.97 * ema + 0.03 * float(loss)
            if n % 50 == 0:
                print(f"mtp step {n} loss {float(loss):.4f} ema {ema:.4f} agreement {float(acc[0]):.3f} / {float(acc[1]):.3f} "
                      f"{(time.time() - t1) / 60:.1f} min", flush=True)
            if n % 400 == 0:
                res = held_out(p, b)
                log.append({"step": n, "loss_ema": ema, "minutes": round((time.time() - t1) / 60, 2), **res})
                print(f"  mtp held-out {res}", flush=True)
            if time.time() - t1 >= budget:
                break
    res = held_out(p, b)
    print(f"mtp: {n} steps in {(time.time() - t1) / 60:.1f} min, held-out {res}", flush=True)

    # Into the checkpoint: the main weights exactly as they were, the MTP layer beside them.
    tensors = dict(main)
    tensors.update(train.to_hf_tensors({k: np.asarray(v) for k, v in p.items()}, {k: np.asarray(v) for k, v in b.items()}, cfg))
    dtypes = {k: ("F32" if k.endswith("expert_bias") else "BF16") for k in tensors}
    train.write_safetensors(model_dir / "model.safetensors.tmp", tensors, dtypes, metadata={"format": "pt"})
    (model_dir / "model.safetensors.tmp").replace(model_dir / "model.safetensors")
    full = json.loads((model_dir / "config.json").read_text())
    full["num_nextn_predict_layers"] = 1
    (model_dir / "config.json").write_text(json.dumps(full, indent=2) + "\n")
    log_path = model_dir / "train_log.json"
    stats = json.loads(log_path.read_text()) if log_path.exists() else {}
    stats["mtp"] = {"steps": n, "minutes": round((time.time() - t1) / 60, 2), "pool": len(pool), "batch": args.batch,
                    "lr": args.mtp_lr, "held_out": res, "log": log, "loss": "main model's greedy token two ahead; pass 2 weighs 0.5"}
    log_path.write_text(json.dumps(stats, indent=1) + "\n")
    return res


def golden(ref, ids, steps=3, rows=4):
    """Draft logits for the golden file: the MTP pass over a prompt (each position given the next
    prompt token, the last one the main model's greedy token) and a greedy chain after it."""
    logits, _, _ = ref.forward(ids)
    hidden = ref.last_hidden
    nxt = list(ids[1:]) + [int(np.argmax(logits[-1]))]
    m, mh, cache = ref.mtp(nxt, hidden)
    T = len(ids)
    chain, chain_logits, h = [int(np.argmax(m[-1]))], [], mh[-1:]
    for j in range(steps):
        lj, h, cache = ref.mtp([chain[-1]], h, cache, start=T + j)
        chain_logits.append(lj[0])
        chain.append(int(np.argmax(lj[0])))
    fl = lambda a: [float(f"{x:.9g}") for x in np.asarray(a, np.float32).reshape(-1)]  # noqa: E731
    return {
        "next_tokens": [int(t) for t in nxt],
        "argmax": [int(t) for t in np.argmax(m, -1)],
        "margin": fl(np.diff(np.sort(m, -1)[:, -2:], axis=-1)[:, 0]),  # top-1 minus top-2 logit
        "rows": list(range(T - rows, T)),
        "logits": [fl(m[r]) for r in range(T - rows, T)],
        "chain_tokens": chain[:-1],
        "chain_logits": [fl(x) for x in chain_logits],
        "drafts": chain,
    }


def phase_golden(ref, path: Path):
    """Adds the MTP goldens to an existing golden.json, leaving the rest byte for byte."""
    text = path.read_text()
    g = json.loads(text)
    g["mtp"] = {"prompt_index": 0, **golden(ref, g["prompts"][0]["prompt_ids"])}
    path.write_text(json.dumps(g, separators=(",", ":")) + "\n")
    print(f"golden: MTP drafts after prompt 0: {g['mtp']['drafts']}; wrote {path}", flush=True)
