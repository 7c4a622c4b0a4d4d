"""robot_stack/plan.py: which node processes a run gets, with which parameters."""
import pytest

from robot_stack import config as cfgmod
from robot_stack.plan import CAMERA_HZ, plan_nodes

pytestmark = pytest.mark.unit


def _specs(tmp_path, sets=(), **kw):
    prof, cfg = cfgmod.load_profile("sim"), cfgmod.resolve("sim", list(sets))
    return {s.name: s for s in plan_nodes(prof, cfg, tmp_path, **kw)}


def test_sim_profile_nodes_operator_and_observers(tmp_path):
    specs = _specs(tmp_path)
    assert set(specs) == {"cell", "actor", "mux", "recorder", "learner", "operator"}
    assert set(_specs(tmp_path, operator="none")) == {"cell", "actor", "mux", "recorder", "learner"}
    assert "teleop" in _specs(tmp_path, operator="keyboard")
    with pytest.raises(cfgmod.ConfigError, match="--operator"):
        _specs(tmp_path, operator="telepathy")


def test_twin_camera_only_with_the_dashboard_or_cell_render(tmp_path):
    assert "camera_hz" not in _specs(tmp_path)["cell"].params
    served = _specs(tmp_path, serve=True)
    assert "supervisor" in served and served["cell"].params["camera_hz"] == CAMERA_HZ
    assert _specs(tmp_path, ["cell.render=true"])["cell"].params["camera_hz"] == CAMERA_HZ


def test_the_clock_waits_for_a_recorder_only_when_the_graph_has_one(tmp_path):
    assert _specs(tmp_path)["cell"].params["wait_recorder"] is True
    cfg = cfgmod.resolve("sim", [])
    specs = {s.name: s for s in plan_nodes({"name": "t", "nodes": ["cell", "actor", "mux"]}, cfg, tmp_path)}
    assert specs["cell"].params["wait_recorder"] is False
