"""`rlif bench learner --quick`: every variant's figures, the device and the matmul floor are reported
(speed itself is measured by the bench, never asserted here)."""
import pytest
import torch

from learner import bench_learner

pytestmark = pytest.mark.unit


def test_quick_bench_reports_the_device_and_each_variant():
    r = bench_learner.run(quick=True, progress=False)
    assert r["device"] == ("cuda" if torch.cuda.is_available() else "cpu") and r["device_name"]
    for v in ("eager", "graph"):
        assert r[f"{v}_updates_per_s"] > 0 and r[f"{v}_speedup"] > 0 and f"{v}_warmup_s" in r
    assert r["best_fp32_variant"] in ("eager", "graph") and r["baseline_updates_per_s"] > 0
    assert r["matmul_only_updates_per_s"] > 0 and r["graph_metrics_every"] == bench_learner.READBACK
    assert r["graph_captured"] is False or torch.cuda.is_available()  # captured only on CUDA
    assert {"threads", "torch", "load_avg_1min", "cpu_capability"} <= set(r)
    # the learner node's training step, sampled from a real replay store
    assert r["train_step_critic_steps_per_s"] > 0 and r["train_step_sample_ms"] > 0
    assert r["train_step_critic_steps_per_s"] == pytest.approx(r["train_step_updates_per_s"] * r["train_step_utd"],
                                                               rel=0.01)
    assert r["train_step_graph_captured"] is False or torch.cuda.is_available()
