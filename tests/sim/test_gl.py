"""sim/gl.py: the packages that bundle their own LLVM are loaded before the first GL context (so a
process that renders a frame and then builds an optimizer does not crash), and nothing happens
where they are not installed."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap

import mujoco
import pytest

from sim import gl
from sim.cell import TwinCell
from sim.config import CellConfig

pytestmark = pytest.mark.unit


def _frame_with(monkeypatch, packages: tuple[str, ...]) -> list[set[str]]:
    """Render one frame with LOAD_BEFORE_GL = `packages`; the names of those packages already
    imported each time a GL context was made."""
    monkeypatch.setattr(gl, "LOAD_BEFORE_GL", packages)
    real, seen = mujoco.Renderer, []

    def renderer(*args, **kwargs):
        seen.append({p for p in packages if p in sys.modules})
        return real(*args, **kwargs)

    monkeypatch.setattr(mujoco, "Renderer", renderer)
    cell = TwinCell(CellConfig(episode_steps=5), seed=0)
    try:
        assert cell.render("wrist", 32, 32).std() > 0  # a real frame
    finally:
        cell.close()
    return seen


def test_an_installed_llvm_package_is_imported_before_the_first_context(monkeypatch, tmp_path):
    name = "rlif_fake_llvm_user"
    (tmp_path / name).mkdir()
    (tmp_path / name / "__init__.py").write_text("LOADED = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)
    try:
        assert _frame_with(monkeypatch, (name,)) == [{name}]
    finally:
        sys.modules.pop(name, None)


def test_a_package_that_is_not_installed_is_skipped(monkeypatch):
    assert _frame_with(monkeypatch, ("rlif_no_such_package",)) == [set()]
    assert "rlif_no_such_package" not in sys.modules


def test_a_frame_and_then_an_optimizer_in_one_process():
    """The crash itself: Mesa's llvmpipe context first, then torch.optim importing triton (only
    where triton is installed: the CUDA builds of torch, e.g. scripts/offrobot_env.sh)."""
    if importlib.util.find_spec("triton") is None:  # found, not imported: this process may have a context
        pytest.skip("triton is not installed (the CPU builds of torch do not bring it)")
    code = textwrap.dedent("""
        import torch
        from sim.cell import TwinCell
        from sim.config import CellConfig
        cell = TwinCell(CellConfig(episode_steps=5), seed=0)
        assert cell.render("wrist", 32, 32).std() > 0
        torch.optim.Adam(torch.nn.Linear(2, 2).parameters(), fused=True)  # imports torch._dynamo -> triton
        print("ok")
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.strip() == "ok", (r.returncode, r.stderr[-2000:])
