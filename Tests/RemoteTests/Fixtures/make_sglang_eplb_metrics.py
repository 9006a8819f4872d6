"""Writes sglang-eplb-metrics.txt: the expert-load part of SGLang's /metrics, made by the real
prometheus_client in multiprocess mode (as SGLang serves it with --enable-metrics) from the
definitions in sgl-project/sglang (python/sglang/srt/metrics/collector.py, commit 0025436e):

- sglang:eplb_gpu_physical_count: ExpertDispatchCollector's histogram, label `layer`, buckets
  0 .. ep_size-1 (one per EP rank). ExpertDistributionRecorder's
  _UtilizationRateAccumulatorMixin._collect_metrics_if_needed (python/sglang/srt/eplb/
  expert_distribution.py) adds each forward pass's per-(layer, rank) routed-token counts straight
  into the bucket of that rank (`_buckets[gpu_rank].inc(count)`, `_sum.inc(count * gpu_rank)`),
  every SGLANG_EPLB_HEATMAP_COLLECTION_INTERVAL passes, when the server runs with
  --expert-distribution-recorder-mode stat --enable-expert-distribution-metrics. The exposition
  makes the buckets cumulative, so a rank's count is its bucket minus the one below.
- sglang:eplb_balancedness: SchedulerMetricsCollector's Summary (labels model_name,
  engine_type, tp_rank, pp_rank, moe_ep_rank, forward_mode), one observation per pass of
  mean over layers of (mean rank load + 1e-5) / (max rank load + 1e-5)
  (compute_utilization_rate), when SGLANG_ENABLE_EPLB_BALANCEDNESS_METRIC is set.

The counts are those of four passes of a 3-layer, 4-rank model, written below; the test
checks the parsed matrix against LOADS. Run: python3 make_sglang_eplb_metrics.py
"""
import os
import tempfile

os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp()
from prometheus_client import CollectorRegistry, Histogram, Summary, generate_latest, multiprocess  # noqa: E402

EP_SIZE = 4
# LOADS[pass][layer][rank]: tokens routed to the experts on that rank in that pass.
LOADS = [
    [[10, 2, 0, 4], [5, 5, 5, 1], [0, 0, 16, 0]],
    [[7, 1, 3, 5], [4, 4, 4, 4], [1, 2, 12, 1]],
    [[9, 0, 1, 6], [6, 3, 5, 2], [0, 1, 15, 0]],
    [[8, 3, 2, 3], [3, 6, 4, 3], [2, 0, 14, 0]],
]
labels = {"model_name": "deepseek-ai/DeepSeek-V2-Lite", "engine_type": "unified", "tp_rank": "0", "pp_rank": "0",
          "moe_ep_rank": "0"}

heat = Histogram("sglang:eplb_gpu_physical_count",
                 "The selected count of physical experts on each layer and GPU rank.",
                 labelnames={"layer"}, buckets=[i for i in range(EP_SIZE)])
balance = Summary("sglang:eplb_balancedness", "Balancedness of MoE in expert parallelism.",
                  labelnames=list(labels.keys()) + ["forward_mode"])

for p in LOADS:
    for layer, ranks in enumerate(p):
        h = heat.labels(layer=str(layer))
        for rank, count in enumerate(ranks):
            if count > 0:
                h._sum.inc(count * rank)
                h._buckets[rank].inc(count)
    per_layer = [(sum(r) / len(r) + 1e-5) / (max(r) + 1e-5) for r in p]
    balance.labels(**labels, forward_mode="decode").observe(sum(per_layer) / len(per_layer))

r = CollectorRegistry()
multiprocess.MultiProcessCollector(r)
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "sglang-eplb-metrics.txt"), "w") as f:
    f.write(generate_latest(r).decode())
