"""robot_stack/plan.py: which node processes a run gets, with which parameters."""
import json
import sys

import pytest

from robot_stack import config as cfgmod
from robot_stack.launcher import NodeProcess, NodeSpec, processes
from robot_stack.plan import plan_nodes, process_env

pytestmark = pytest.mark.unit


def _specs(tmp_path, sets=(), **kw):
    prof, cfg = cfgmod.load_profile("sim"), cfgmod.resolve("sim", list(sets))
    return {s.name: s for s in plan_nodes(prof, cfg, tmp_path, **kw)}


def _processes(tmp_path, sets=(), profile="sim", **kw):
    """The OS processes the launcher starts for the plan, by name."""
    prof, cfg = cfgmod.load_profile(profile), cfgmod.resolve(profile, list(sets))
    return {s.name: s for s in processes(plan_nodes(prof, cfg, tmp_path, **kw))}


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
    assert "supervisor" in served and served["cell"].params["camera_hz"] == 2.0  # supervisor.camera_hz
    assert _specs(tmp_path, ["cell.render=true", "supervisor.camera_hz=5"])["cell"].params["camera_hz"] == 5.0


def test_the_clock_waits_for_a_recorder_only_when_the_graph_has_one(tmp_path):
    assert _specs(tmp_path)["cell"].params["wait_recorder"] is True
    cfg = cfgmod.resolve("sim", [])
    specs = {s.name: s for s in plan_nodes({"name": "t", "nodes": ["cell", "actor", "mux"]}, cfg, tmp_path)}
    assert specs["cell"].params["wait_recorder"] is False


def test_the_twin_control_loop_is_one_process_and_the_learner_its_own(tmp_path):
    procs = _processes(tmp_path)
    assert set(procs) == {"control", "learner"}
    control = procs["control"]
    assert control.node_names() == ["actor", "mux", "operator", "recorder", "cell"]  # the clock built last
    assert control.is_clock() and control.executor == "events" and procs["learner"].executor == "events"
    argv = control.argv(tmp_path)
    assert argv[3:6] == ["actor+mux+operator+recorder+cell", "--executor", "events"]
    params = json.loads((tmp_path / "logs" / "control.params.yaml").read_text())  # JSON is YAML
    assert params["cell"]["ros__parameters"]["wait_for"] == "actor,mux,operator"
    assert params["mux"]["ros__parameters"]["sync_operator"] is True
    # dashboard and a human's teleop reader keep their own processes; split on request
    assert set(_processes(tmp_path, serve=True)) == {"control", "learner", "supervisor"}
    assert set(_processes(tmp_path, operator="keyboard")) == {"control", "learner", "teleop"}
    assert len(_processes(tmp_path, ["graph.compose=false"])) == 6


def test_robot_profiles_keep_one_process_per_node(tmp_path):
    procs = _processes(tmp_path, ["graph.compose=true"], profile="robot-twin")
    assert all(not p.members for p in procs.values())
    assert procs["franka_bridge"].params["wait_for"] == "actor,mux"
    assert procs["franka_bridge"].argv(tmp_path)[4] == "--ros-args"  # no composition, default executor


@pytest.mark.parametrize("profile, want", [("sim", {}), ("robot", {"FASTDDS_BUILTIN_TRANSPORTS": "UDPv4"}),
                                           ("robot-pc", {"FASTDDS_BUILTIN_TRANSPORTS": "UDPv4"}),
                                           ("robot-twin", {"FASTDDS_BUILTIN_TRANSPORTS": "UDPv4"})])
def test_franka_profiles_run_every_node_over_udp(profile, want):
    assert process_env(cfgmod.resolve(profile, [])) == want


def test_a_dds_transport_outside_fast_dds_set_is_refused():
    with pytest.raises(cfgmod.ConfigError, match="graph.dds_transport"):
        cfgmod.resolve("sim", ["graph.dds_transport=UDP"])


class _PrintEnv(NodeSpec):
    def argv(self, run_dir):
        return [sys.executable, "-c", "import os; print('transport', os.environ.get('FASTDDS_BUILTIN_TRANSPORTS'))"]


def test_the_launcher_gives_each_node_process_the_graph_environment(tmp_path):
    lines = []
    proc = NodeProcess(_PrintEnv("printer"), tmp_path, lines.append, {"FASTDDS_BUILTIN_TRANSPORTS": "UDPv4"})
    proc.proc.wait(timeout=30)
    proc.reader.join(timeout=10)
    proc.close_logs()
    assert lines == ["[printer] transport UDPv4"]
