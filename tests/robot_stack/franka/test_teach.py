"""Teaching the hole pose: averaging (pure) and `rlif teach` against the twin in franka mode."""
import json
import subprocess
import sys

import numpy as np
import pytest

from robot_stack.franka.geometry import mat_to_quat, rotvec_to_mat
from robot_stack.franka.teach import TeachError, average_pose


@pytest.mark.unit
def test_average_of_a_still_arm_with_sign_flipped_quaternions():
    rng = np.random.default_rng(0)
    q0 = mat_to_quat(rotvec_to_mat([3.0, 0.1, 0.0]))  # near 180 deg: samples land on both hemispheres
    qs = [(-1) ** i * mat_to_quat(rotvec_to_mat([3.0, 0.1, 0.0]) @ rotvec_to_mat(rng.normal(0, 1e-3, 3)))
          for i in range(50)]
    ps = np.array([0.5, 0.0, 0.1]) + rng.normal(0, 5e-5, (50, 3))
    pose, spread = average_pose(ps, qs)
    assert np.allclose(pose[:3], [0.5, 0.0, 0.1], atol=5e-5) and spread < 5e-4
    assert abs(abs(float(pose[3:] @ q0)) - 1.0) < 1e-5 and pose[6] >= 0


@pytest.mark.unit
def test_a_moving_arm_or_no_samples_cannot_teach():
    qs = [[1.0, 0, 0, 0]] * 20
    with pytest.raises(TeachError, match="moved"):
        average_pose(np.linspace([0.5, 0, 0.1], [0.51, 0, 0.1], 20), qs)
    with pytest.raises(TeachError, match="samples"):
        average_pose(np.zeros((3, 3)), qs[:3])


@pytest.mark.graph
def test_rlif_teach_reads_the_twin_current_pose(tmp_path):
    from robot_stack.session import GraphSession
    from tests.fakes.graph import write_run_config

    run_dir = tmp_path / "run"
    cfg = write_run_config(run_dir, [], profile="robot-twin")
    g = GraphSession({"name": "t", "nodes": ["twin_franka"], "operator": "none"}, cfg, run_dir, "none",
                     resume=False, out=lambda s: None)
    with g:  # only the twin: nothing commands it, the arm rests at its start pose
        r = subprocess.run([sys.executable, "-m", "robot_stack.cli.main", "teach", "--profile", "robot-twin",
                            "--seconds", "0.5", "--json"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    pose = np.array(out["hole_pose"])
    assert out["samples"] >= 10 and out["spread_mm"] < 0.5
    hole = np.array(cfg.franka.hole_pose)
    assert np.all(np.abs(pose[:2] - hole[:2]) <= cfg.cell.start_xy_m)  # the twin's random start, above the hole
    assert cfg.cell.start_z_m[0] - 0.002 <= pose[2] - hole[2] <= cfg.cell.start_z_m[1] + 0.002
    assert abs(abs(float(pose[3:] @ hole[3:])) - 1.0) < 1e-4  # peg aligned: the taught orientation


@pytest.mark.graph
def test_rlif_teach_without_a_driver_says_what_to_check():
    r = subprocess.run([sys.executable, "-m", "robot_stack.cli.main", "teach", "--profile", "robot",
                        "--timeout", "1"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "franka_robot_state_broadcaster" in r.stderr and "Traceback" not in r.stderr
