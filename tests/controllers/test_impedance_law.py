"""The impedance controller's control law (C++, Eigen, no ROS), built here with cmake and g++.

- the C++ checks (test/test_impedance_law.cpp) pass;
- the law computes the twin's impedance wrench (sim/cell.py: MuJoCo position servos on the peg
  tip, F = K (x_target - x) - D xdot, with the twin's target rule) for the same state;
- the parameters the controller reads (params.hpp) are exactly those the package YAML and
  `rlif robot controller-params` give, and a missing or out-of-range gain is refused naming it.
A missing compiler, cmake or Eigen fails these tests with the fix (never a skip).
"""
from __future__ import annotations

import shutil
import subprocess

import mujoco
import numpy as np
import pytest

from robot_stack import config as cfgmod
from robot_stack.franka import controller_params as CP
from robot_stack.franka.geometry import HoleFrame, mat_to_quat
from sim import kinematics as kin
from sim.cell import TwinCell
from sim.config import CellConfig
from sim.model import HOME_Q

TEST_DIR = CP.PACKAGE / "test"
SHELL_ONLY = {"robot_type"}  # read by the ROS shell (interface names), not by the law


@pytest.fixture(scope="module")
def law_bin(tmp_path_factory):
    missing = [t for t in ("cmake", "g++") if shutil.which(t) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} not found: the controller law is C++ "
                    "(sudo apt-get install -y cmake g++ libeigen3-dev, or scripts/bootstrap.sh test)")
    build = tmp_path_factory.mktemp("law-build")
    r = subprocess.run(["cmake", "-S", str(TEST_DIR), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release"],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        hint = " (Eigen missing: apt-get install -y libeigen3-dev)" if "Eigen3" in r.stderr + r.stdout else ""
        pytest.fail(f"cmake configure failed{hint}:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    r = subprocess.run(["cmake", "--build", str(build)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"the controller law does not compile:\n{r.stdout[-4000:]}\n{r.stderr[-2000:]}"
    return build / "test_impedance_law"


def run(law_bin, *args, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([str(law_bin), *args], input=stdin, capture_output=True, text=True, timeout=60)


def write_params(path, params: dict) -> None:
    lines = [f"{k} {' '.join(repr(float(v)) for v in (x if isinstance(x, list) else [x]))}" for k, x in params.items()]
    path.write_text("\n".join(lines) + "\n")


def all_params(cfg) -> dict:
    fixed = {k: v for k, v in CP.package_params().items() if k not in SHELL_ONLY}
    return {**fixed, **CP.cell_params(cfg)}


def test_cpp_checks_pass(law_bin):
    r = run(law_bin)
    assert r.returncode == 0, r.stderr
    assert "checks passed" in r.stdout


def test_yaml_parameters_are_the_headers_list(law_bin):
    listed = [line.split()[0] for line in run(law_bin, "--list-params").stdout.splitlines()]
    fixed = set(CP.package_params()) - SHELL_ONLY
    cell = set(CP.cell_params(cfgmod.resolve("robot", [])))
    assert not fixed & cell, f"given twice: {fixed & cell}"
    assert fixed | cell == set(listed), (sorted(set(listed) - fixed - cell), sorted((fixed | cell) - set(listed)))
    shell = (CP.PACKAGE / "src" / "rlif_impedance_controller.cpp").read_text()
    for name in SHELL_ONLY:
        assert f'"{name}"' in shell  # the shell-only key is really read by the plugin


@pytest.mark.parametrize("profile", ["robot", "robot-twin"])
def test_the_generated_and_package_parameters_are_accepted(law_bin, tmp_path, profile):
    write_params(tmp_path / "p.txt", all_params(cfgmod.resolve(profile, [])))
    r = run(law_bin, "--check-params", str(tmp_path / "p.txt"))
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stdout + r.stderr


@pytest.mark.parametrize("name,value,expect", [
    ("translational_stiffness", None, "parameter 'translational_stiffness' is missing"),
    ("rotational_damping", None, "parameter 'rotational_damping' is missing"),
    ("rotational_stiffness", 900.0, "parameter 'rotational_stiffness' = 900 is out of range"),
    ("translational_damping", -5.0, "parameter 'translational_damping' = -5 is out of range"),
    ("max_step_m", float("nan"), "parameter 'max_step_m' = nan is out of range"),
    ("joint_stiffness", [600.0] * 6, "parameter 'joint_stiffness' has 6 values"),
])
def test_missing_or_out_of_range_gain_is_refused_naming_it(law_bin, tmp_path, name, value, expect):
    params = all_params(cfgmod.resolve("robot", []))
    if value is None:
        del params[name]
    else:
        params[name] = value
    write_params(tmp_path / "p.txt", params)
    r = run(law_bin, "--check-params", str(tmp_path / "p.txt"))
    assert r.returncode == 1 and r.stdout.startswith(expect), r.stdout
    assert len(r.stdout.strip().splitlines()) == 1


def test_fixed_saturation_is_the_twins_servo_force_range():
    twin = TwinCell(CellConfig(), seed=0)
    fixed = CP.package_params()
    assert np.allclose(twin.model.actuator_forcerange[:3], [-fixed["max_force_per_axis"], fixed["max_force_per_axis"]])
    assert np.allclose(twin.model.actuator_forcerange[3:], [-fixed["max_torque_per_axis"], fixed["max_torque_per_axis"]])


def test_law_computes_the_twins_wrench_for_the_same_state(law_bin, tmp_path):
    """Random arm states (IK), joint velocities, previous targets and actions: the twin applies its
    target rule (`TwinCell.apply`) and its servos give the wrench at that state; the C++ law gets
    the same measured pose and twist and the requested target (previous + delta) and must give
    the same reference and the same wrench. A request outside the safety box is held by the
    controller (the bridge clips before sending), so those cases check the hold."""
    cfg = cfgmod.resolve("robot-twin", [])
    write_params(tmp_path / "p.txt", all_params(cfg))
    twin = TwinCell(cfg.cell, seed=0)
    m, d, ids = twin.model, twin.data, twin.ids
    p_h, R_h = twin.hole_frame
    frame = HoleFrame(cfg.franka.hole_pose)
    assert np.allclose(frame.p, p_h) and np.allclose(frame.R, R_h)  # the profile's taught pose is the twin's
    rng = np.random.default_rng(7)
    scale = np.array([cfg.cell.max_step_m] * 3 + [cfg.cell.max_step_rad] * 3)
    box, box_rad = np.array(cfg.cell.safety_box_m), cfg.cell.safety_box_rad
    cases, expected = [], []
    for i in range(60):
        meas = np.concatenate([rng.uniform(-0.03, 0.03, 2), rng.uniform(0.0, 0.07, 1),
                               rng.normal(0, 1, 3) * rng.uniform(0, 0.25) / np.sqrt(3)])
        if i % 6 == 0:  # measured outside the box by up to 1 cm: the box clip after the step limit
            meas[2] = box[2] + rng.uniform(0.0, 0.01)
        q = kin.solve_ik(m, d, ids.ee, p_h + R_h @ meas[:3], kin.mat_to_rotvec(R_h @ _rot(meas[3:])), HOME_Q)
        d.qpos[:7], d.qvel[:7] = q, rng.normal(0, 0.1, 7)
        mujoco.mj_forward(m, d)
        pose = twin.ee_pose()
        prev = pose + np.concatenate([rng.uniform(-1, 1, 3) * scale[:3], np.zeros(3)])
        prev[3:] = kin.compose_rotvec(rng.uniform(-1, 1, 3) * scale[3:] / np.sqrt(3), pose[3:])
        action = rng.uniform(-1.2, 1.2, 6)
        delta = np.clip(action, -1, 1) * scale
        requested = np.concatenate([prev[:3] + delta[:3], kin.compose_rotvec(delta[3:], prev[3:])])
        qpos, qvel = d.qpos.copy(), d.qvel.copy()
        twin.target = prev.copy()
        twin.apply(action)  # the twin's target rule (then a period of physics we undo)
        target = twin.target.copy()
        d.qpos[:], d.qvel[:] = qpos, qvel
        d.ctrl[:] = target
        mujoco.mj_forward(m, d)
        twist = np.concatenate([d.sensordata[ids.linvel_adr:ids.linvel_adr + 3],
                                d.sensordata[ids.angvel_adr:ids.angvel_adr + 3]])
        quat_ee = mat_to_quat(d.site_xmat[ids.ee].reshape(3, 3) @ np.diag([1.0, -1.0, -1.0]))  # franka's EE axes
        req_pos, req_quat = frame.to_base(requested)
        inside = bool(np.all(np.abs(requested[:3]) <= box + 1e-4) and np.linalg.norm(requested[3:]) <= box_rad + 1e-3)
        cases.append(np.concatenate([d.site_xpos[ids.ee], quat_ee, twist, req_pos, req_quat]))
        expected.append((inside, target, d.actuator_force.copy(), pose))
    r = run(law_bin, "--wrench", str(tmp_path / "p.txt"),
            stdin="\n".join(" ".join(repr(float(v)) for v in c) for c in cases) + "\n")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == len(cases)
    n_inside = 0
    for line, (inside, target, f_twin, pose) in zip(lines, expected):
        status, *vals = line.split()
        vals = np.array(vals, dtype=float)
        ref = frame.from_base(vals[6:9], vals[9:13])
        if not inside:
            assert status == "held"  # a request outside the box is never applied: the law holds
            assert np.allclose(ref[:3], np.clip(pose[:3], -box, box), atol=1e-9)
            continue
        n_inside += 1
        assert status == "accepted"
        assert np.allclose(ref, target, atol=1e-9), (ref, target)  # the same target rule
        wrench_hole = np.concatenate([R_h.T @ vals[:3], R_h.T @ vals[3:6]])
        assert np.allclose(wrench_hole, f_twin, atol=1e-6), (wrench_hole, f_twin)  # the same wrench
    assert n_inside >= 30 and n_inside < len(cases)  # both branches were exercised


def _rot(rv):
    q = kin.rotvec_to_quat(rv)
    mat = np.zeros(9)
    mujoco.mju_quat2Mat(mat, q)
    return mat.reshape(3, 3)
