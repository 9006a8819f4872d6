"""Writes vllm-metrics.txt: what vLLM's /metrics serves, made by the real prometheus_client
from the metric definitions of vllm/v1/metrics/loggers.py (vllm-project/vllm, commit 005a810b:
PrometheusStatLogger.__init__, labelnames ["model_name", "engine"], the same names,
documentation strings and buckets), with values recorded as PrometheusStatLogger.record would
after a short run. Run: python3 make_vllm_metrics.py > vllm-metrics.txt
"""
import sys
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

r = CollectorRegistry()
L = ["model_name", "engine"]
M = ("Qwen/Qwen3-0.6B", "0")
running = Gauge("vllm:num_requests_running", "Number of requests in model execution batches.", L, registry=r)
waiting = Gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.", L, registry=r)
gpu_usage = Gauge("vllm:gpu_cache_usage_perc", "GPU KV-cache usage. 1 means 100 percent usage.DEPRECATED: Use vllm:kv_cache_usage_perc instead.", L, registry=r)
kv_usage = Gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", L, registry=r)
queries = Counter("vllm:prefix_cache_queries", "Prefix cache queries, in terms of number of queried tokens.", L, registry=r)
hits = Counter("vllm:prefix_cache_hits", "Prefix cache hits, in terms of number of cached tokens.", L, registry=r)
preempt = Counter("vllm:num_preemptions", "Cumulative number of preemption from the engine.", L, registry=r)
prompt = Counter("vllm:prompt_tokens", "Number of prefill tokens processed.", L, registry=r)
gen = Counter("vllm:generation_tokens", "Number of generation tokens processed.", L, registry=r)
success = Counter("vllm:request_success", "Count of successfully processed requests.", L + ["finished_reason"], registry=r)
ttft = Histogram("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", L, registry=r,
                 buckets=[0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
                          20.0, 40.0, 80.0, 160.0, 640.0, 2560.0])
tpot = Histogram("vllm:time_per_output_token_seconds", "Histogram of time per output token in seconds.", L, registry=r,
                 buckets=[0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0,
                          40.0, 80.0])

running.labels(*M).set(3)
waiting.labels(*M).set(1)
gpu_usage.labels(*M).set(0.125)
kv_usage.labels(*M).set(0.125)
queries.labels(*M).inc(4096)
hits.labels(*M).inc(1024)
preempt.labels(*M).inc(2)
prompt.labels(*M).inc(4096)
gen.labels(*M).inc(2048)
for reason in ("stop", "length", "abort"):
    success.labels(*M, reason).inc({"stop": 12, "length": 4, "abort": 0}[reason])
for v in [0.03, 0.05, 0.07, 0.07, 0.09, 0.2, 0.3, 0.3, 0.6, 1.2, 0.07, 0.05, 0.03, 0.09, 0.2, 0.07]:
    ttft.labels(*M).observe(v)
for v in [0.02] * 10 + [0.03] * 5 + [0.06]:
    tpot.labels(*M).observe(v)
sys.stdout.write(generate_latest(r).decode())
