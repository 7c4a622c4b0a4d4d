"""`rlif bench learner --quick`: every variant's figures, the device and the matmul floor are reported
(speed itself is measured by the bench, never asserted here)."""
import pytest
import torch

from learner import bench_learner, bench_preset

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
    # the experiment presets' small learner, per variant (quick: eager only)
    assert r["preset_eager_ms_per_update"] > 0 and r["preset_threads"] == 1 and r["preset_utd"] == 2
    assert isinstance(r["cpu_bf16_native"], bool)
    assert torch.get_num_threads() == r["threads"]  # the preset's 1 thread does not leak out


@pytest.mark.parametrize("flags, native", [("fpu sse avx512f avx512_bf16 avx512_vnni", True),
                                           ("fpu sse avx512f amx_bf16 amx_tile", True),
                                           ("fpu sse avx2 fma", False)])
def test_native_bf16_is_read_from_the_cpu_flags(tmp_path, flags, native):
    info = tmp_path / "cpuinfo"
    info.write_text(f"processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: {flags}\n\nprocessor\t: 1\n")
    assert bench_preset.cpu_bf16_native(info) is native


def test_arm_features_line_and_a_missing_file_are_understood(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nFeatures\t: fp asimd bf16 i8mm\n")
    assert bench_preset.cpu_bf16_native(info) is True
    assert bench_preset.cpu_bf16_native(tmp_path / "absent") is False
