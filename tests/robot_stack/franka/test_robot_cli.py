"""`rlif robot` and `rlif doctor --profile`: the controller's parameters from the config; against the
twin in franka mode, the push test (a hand pushing the peg up reads f_z > 0; a flipped
`franka.wrench_sign` fails with the fix), the home joints line and the driver checks of doctor."""
from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pytest
import yaml

from robot_stack import config as cfgmod
from robot_stack import topics as T
from robot_stack.franka import controller_params as CP
from robot_stack.franka import topics as FT
from tests.fakes.graph import Probe
from tests.helpers import wait_for
from tests.robot_stack.franka.test_bridge_graph import launch

RLIF = [sys.executable, "-m", "robot_stack.cli.main"]


def rlif(*args, timeout=120):
    return subprocess.run([*RLIF, *args], capture_output=True, text=True, timeout=timeout)


@pytest.mark.unit
def test_controller_params_come_from_the_profile(tmp_path):
    r = rlif("robot", "controller-params", "--profile", "robot", "--set", "cell.stiffness_n_m=1500",
             "--out", str(tmp_path / "p.yaml"))
    assert r.returncode == 0, r.stderr
    doc = yaml.safe_load((tmp_path / "p.yaml").read_text())
    params = doc["rlif_impedance_controller"]["ros__parameters"]
    assert params == {**CP.cell_params(cfgmod.resolve("robot", [])), "translational_stiffness": 1500.0}
    assert params["collision_wrench"][:3] == [80.0] * 3 and params["nominal_pose"] == [0.5, 0.0, 0.1, 1.0, 0.0, 0.0, 0.0]


@pytest.mark.unit
def test_bad_input_is_one_line():
    r = rlif("robot", "controller-params", "--profile", "robot", "--set", "franka.target_topic=/equilibrium_pose")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "/<controller>/equilibrium_pose" in r.stderr
    r = rlif("robot", "controller-params", "--profile", "robot", "--set", "franka.collision_force_n=50")
    assert r.returncode == 2 and "must exceed cell.max_force_n" in r.stderr and "Traceback" not in r.stderr
    r = rlif("doctor", "--profile", "sim")
    assert r.returncode == 2 and "needs a franka profile" in r.stderr


@pytest.mark.graph
def test_push_test_joints_and_doctor_against_the_twin(tmp_path):
    g, cfg, run_dir = launch(tmp_path, ["twin_franka"], node_params={
        "twin_franka": {"push_n": [0.0, 0.0, 12.0], "push_after_s": 0.0, "push_for_s": 1000.0}})
    try:
        r = rlif("robot", "push-test", "--profile", "robot-twin", "--seconds", "2", "--json")
        assert r.returncode == 0, r.stdout + r.stderr
        out = json.loads(r.stdout.strip().splitlines()[-1])
        assert out["ok"] and 10.0 < out["max_fz_n"] < 14.0, out  # the hand's 12 N, up, on the robot
        r = rlif("robot", "push-test", "--profile", "robot-twin", "--set", "franka.wrench_sign=1", "--seconds", "2")
        assert r.returncode == 1 and "FAIL" in r.stdout and "franka.wrench_sign=-1" in r.stdout
        r = rlif("robot", "joints", "--run-dir", str(run_dir), "--json")
        assert r.returncode == 0, r.stderr
        assert len(json.loads(r.stdout.strip().splitlines()[-1])["home_q"]) == 7
        # bad input to the controller (as rlif_impedance_controller): NaN, outside the box -> held, never applied
        probe, pose = Probe(), []
        try:
            ft = FT.franka_topics(cfg.franka)
            probe.node.create_subscription(ft.pose.msg_type, ft.pose.name,
                                           lambda m: pose.append(FT.unpack_pose(m)[0]), ft.pose.qos)
            pub = probe.node.create_publisher(ft.target.msg_type, ft.target.name, ft.target.qos)
            status = []
            probe.node.create_subscription(T.STATUS.msg_type, T.STATUS.name,
                                           lambda m: status.append(T.unpack_status(m)), T.STATUS.qos)
            wait_for(lambda: pose and pub.get_subscription_count() > 0, 20, what="the twin")
            p0 = pose[-1].copy()
            for target in ([np.nan, 0.0, 0.1], [p0[0] + 0.2, p0[1], p0[2]]):
                pub.publish(FT.pack_pose(target, [1.0, 0.0, 0.0, 0.0], time.time(), cfg.franka.base_frame))
                time.sleep(0.3)  # depth 1: one at a time
            twin = wait_for(lambda: [s for s in status if s["node"] == "twin_franka" and s.get("bad_targets") == 2],
                            10, what="the twin counting both refused targets")[-1]
            assert twin["targets"] == 0 and np.linalg.norm(pose[-1] - p0) < 0.006  # nothing applied (the push: 6 mm)
        finally:
            probe.close()
        r = rlif("doctor", "--profile", "robot-twin", "--json", timeout=180)
        checks = {c["name"]: c for c in json.loads(r.stdout.strip().splitlines()[-1])["checks"]}
        for name in ("franka pose", "franka wrench", "franka joints", "franka target"):
            assert checks[name]["level"] == "ok", checks[name]
        assert "twin_franka" in checks["franka target"]["detail"]  # the twin plays the controller
    finally:
        g.close()


@pytest.mark.graph
def test_doctor_without_a_driver_names_the_fix():
    r = rlif("doctor", "--profile", "robot", "--json", timeout=180)
    assert r.returncode == 1
    checks = {c["name"]: c for c in json.loads(r.stdout.strip().splitlines()[-1])["checks"]}
    assert checks["franka pose"]["level"] == "fail" and "docker compose" in checks["franka pose"]["fix"]
    assert checks["franka target"]["level"] == "fail" and "rlif_impedance_controller" in checks["franka target"]["fix"]
    # the profile's nodes talk UDP (graph.dds_transport): the Jazzy driver shares no memory with these wheels
    assert checks["dds transport"]["level"] == "ok" and "graph.dds_transport=UDPv4" in checks["dds transport"]["detail"]
