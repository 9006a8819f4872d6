"""Writes what an SGLang-JAX server answers on the endpoints the cockpit reads, from its source
(sgl-project/sglang-jax, commit cddbf6f1cc33cbdd453bd8f36ff7051cf46ca176):

- sglang-jax-server-info.json: GET /get_server_info (srt/entrypoints/http_server.py:255) is
  {**dataclasses.asdict(server_args), **scheduler_info, "internal_states": [...], "version"}.
  The ServerArgs field names and defaults are read out of srt/server_args.py with `ast`;
  scheduler_info is the "ready" message of srt/managers/scheduler.py (max_total_num_tokens,
  max_req_input_len); each internal state has exactly the keys Scheduler.get_internal_state
  (srt/managers/scheduler.py:1469) sets, read with `ast` too. The values of a busy server
  (3 running, 2 waiting, ...) are ours, written below.
- sglang-jax-metrics.txt: GET /metrics with --enable-metrics on a prefill server after three
  KV transfers. SGLang-JAX serves the real prometheus_client's MultiProcessCollector
  (srt/utils/common_utils.py:add_prometheus_middleware), and the only metrics it defines are
  the PD-disaggregation ones of srt/disaggregation/common/metrics.py (names, help, labels and
  multiprocess modes restated here); label values are those its callers pass.

Run: python3 make_sglang_jax_fixtures.py SGLANG_JAX_GIT_DIR
(a clone or bare copy of the repository; files are read with `git show` at the commit above).
"""
import ast
import json
import os
import subprocess
import sys
import tempfile

COMMIT = "cddbf6f1cc33cbdd453bd8f36ff7051cf46ca176"
git_dir = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))


def source(path):
    return subprocess.run(["git", "--git-dir", git_dir, "show", f"{COMMIT}:python/sgl_jax/{path}"],
                          check=True, capture_output=True, text=True).stdout


def server_args_defaults():
    tree = ast.parse(source("srt/server_args.py"))
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "ServerArgs")
    out = {}
    for st in cls.body:
        if isinstance(st, ast.AnnAssign) and isinstance(st.target, ast.Name):
            if st.value is None:
                out[st.target.id] = None
                continue
            try:
                out[st.target.id] = ast.literal_eval(st.value)
            except ValueError:
                out[st.target.id] = None  # a field(default_factory=...) or an expression
    return out


def internal_state_keys():
    tree = ast.parse(source("srt/managers/scheduler.py"))
    fn = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "get_internal_state")
    keys = []
    for n in ast.walk(fn):
        if isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name) and n.value.id == "ret" \
                and isinstance(n.ctx, ast.Store) and isinstance(n.slice, ast.Constant):
            if n.slice.value not in keys:
                keys.append(n.slice.value)
    return keys


def global_server_args_keys():
    tree = ast.parse(source("srt/managers/schedule_batch.py"))
    for n in tree.body:
        if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "GLOBAL_SERVER_ARGS_KEYS":
            return ast.literal_eval(n.value)
    raise SystemExit("GLOBAL_SERVER_ARGS_KEYS not found")


args = server_args_defaults()
args.update(model_path="Qwen/Qwen3-8B", tokenizer_path="Qwen/Qwen3-8B", device="tpu", tp_size=4,
            enable_metrics=True, served_model_name="Qwen/Qwen3-8B", chunked_prefill_size=4096, page_size=64)
capacity = 262144
busy = {  # a server with 3 requests running and 2 waiting
    "last_gen_throughput": 812.4,
    "memory_usage": {"kvcache": 18.5, "token_capacity": capacity},
    "engine_paused": False,
    "waiting_queue_size": 2,
    "pending_dp_reqs_size": 0,
    "running_batch_size": 3,
    "prefill_decode_size": 5,
    "waiting_queue_rids": ["a1f0", "b2e1"],
    "running_batch_rids": ["c3d2", "d4c3", "e5b4"],
    "cur_batch_is_none": False,
    "last_batch_is_none": False,
    "chunked_req_is_none": True,
    "chunked_req_rids": [None],
    "tree_cache_size": 40960,
    "req_to_token_pool_total": 4096,
    "req_to_token_pool_available": 4093,
    "req_to_token_pool_used": 3,
    "available_kv_tokens": 196608,
    "available_kv_tokens_per_dp": [196608],
    "num_generated_tokens": 3249,
    "forward_ct_decode": 1200,
    "new_token_ratio": 0.42,
    "init_new_token_ratio": 0.7,
    "disagg_prefill_queue_size": 0,
    "disagg_prealloc_queue_size": 0,
    "disagg_transfer_queue_size": 0,
}
keys = internal_state_keys()
missing = [k for k in keys if k not in busy]
extra = [k for k in busy if k not in keys]
if missing or extra:
    raise SystemExit(f"get_internal_state changed: missing {missing}, not in source {extra}")
state = {k: args.get(k) for k in global_server_args_keys()}
state.update({k: busy[k] for k in keys})
info = dict(args)
info.update({"status": "ready", "max_total_num_tokens": capacity, "max_req_input_len": 32763})
info["internal_states"] = [state]
info["version"] = "0.0.0.dev0"
with open(os.path.join(here, "sglang-jax-server-info.json"), "w") as f:
    json.dump(info, f, indent=1)
    f.write("\n")

# /metrics: prometheus_client in multiprocess mode, as the server runs it.
d = tempfile.mkdtemp()
os.environ["PROMETHEUS_MULTIPROC_DIR"] = d
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess  # noqa: E402

transitions = Counter("pd_state_transition_total", "PD KVPoll state transitions", labelnames=("from_state", "to_state", "role"))
nbytes = Counter("pd_transfer_bytes_total", "Bytes transferred across PD KV path", labelnames=("direction", "role"))
duration = Histogram("pd_transfer_duration_seconds", "Latency of each PD transfer phase", labelnames=("phase", "role"))
inflight = Gauge("pd_transfer_inflight", "Currently in-flight PD transfers", labelnames=("role",), multiprocess_mode="livesum")
Gauge("pd_host_pool_used_buffers", "QueueHostKVPool buffers currently allocated", labelnames=("pool_name",), multiprocess_mode="livesum")
Counter("pd_transfer_failures_total", "PD transfer failures by reason", labelnames=("reason", "role"))
registry_size = Gauge("pd_bootstrap_registry_size", "Number of P registrations in the bootstrap registry", multiprocess_mode="mostrecent")

for a, b in [("bootstrapping", "waiting_for_input"), ("waiting_for_input", "transferring"), ("transferring", "success")]:
    transitions.labels(from_state=a, to_state=b, role="prefill").inc(3)
nbytes.labels(direction="net", role="prefill").inc(3 * 18874368)
for v in (0.012, 0.015, 0.011):
    duration.labels(phase="ack", role="prefill").observe(v)
inflight.labels(role="prefill").inc()
registry_size.set(1)

r = CollectorRegistry()
multiprocess.MultiProcessCollector(r)
with open(os.path.join(here, "sglang-jax-metrics.txt"), "w") as f:
    f.write(generate_latest(r).decode())
