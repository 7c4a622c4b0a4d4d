"""TwinCell: the cell contract (labels, determinism, safety), physics sanity, controller tracking."""
from dataclasses import replace

import numpy as np
import pytest

from sim.cell import TwinCell
from sim.config import CellConfig

pytestmark = pytest.mark.unit
CFG = CellConfig()


@pytest.fixture(scope="module")
def cell():
    return TwinCell(CFG, seed=0)


def _move_to(cell, info, goal_t2h, steps=15):
    """Drive the tip to `goal_t2h` (tip minus true hole, m) with a simple P law."""
    obs = cell.observe()
    for _ in range(steps):
        a = np.zeros(6)
        a[:3] = np.clip(0.5 * (np.asarray(goal_t2h) - info["tip_to_hole_m"]) / CFG.max_step_m, -1, 1)
        a[3:] = np.clip(-0.5 * obs[3:6] / CFG.max_step_rad, -1, 1)
        obs, term, trunc, info = cell.apply(a)
    return obs, info


def test_labels_and_dims():
    c = TwinCell(CFG)
    assert c.obs_labels == ("ee_x", "ee_y", "ee_z", "ee_rx", "ee_ry", "ee_rz", "v_x", "v_y", "v_z",
                            "w_x", "w_y", "w_z", "f_x", "f_y", "f_z", "tq_x", "tq_y", "tq_z")
    assert (c.obs_dim, c.action_dim) == (18, 6)
    assert c.action_labels == ("x", "y", "z", "rx", "ry", "rz")
    for space, labels in (("xyz", ("x", "y", "z")), ("xyz_yaw", ("x", "y", "z", "rz"))):
        c2 = TwinCell(replace(CFG, action_space=space))
        assert c2.action_labels == labels and c2.action_dim == len(labels)
        obs, term, trunc, info = c2.apply(np.ones(len(labels), np.float32) * 0.3)
        assert obs.shape == (18,) and obs.dtype == np.float32


def test_reset_is_random_within_bounds_and_counts_episodes(cell):
    offsets, starts = [], []
    ep0 = cell.episode
    for s in range(8):
        obs, info = cell.reset(seed=s)
        assert cell.step == 0
        offsets.append(info["hole_offset_m"])
        starts.append(obs[:3])
        assert set(info) >= {"success", "aborted", "insertion_depth_m", "hole_offset_m", "force_n", "tip_to_hole_m"}
        # tip_to_hole = start pose (nominal frame) minus the true hole offset
        np.testing.assert_allclose(info["tip_to_hole_m"][:2], obs[:2] - info["hole_offset_m"], atol=1e-5)
    assert cell.episode == ep0 + 8
    offsets, starts = np.array(offsets), np.array(starts)
    assert np.all(np.abs(offsets) <= CFG.hole_offset_m) and np.ptp(offsets[:, 0]) > 0.001
    assert np.all(np.abs(starts[:, :2]) <= CFG.start_xy_m + 1e-4)
    assert np.all((starts[:, 2] >= CFG.start_z_m[0] - 1e-4) & (starts[:, 2] <= CFG.start_z_m[1] + 1e-4))


def test_deterministic_under_seed():
    rng = np.random.default_rng(7)
    actions = rng.uniform(-1, 1, (12, 6))
    runs = []
    for _ in range(2):
        c = TwinCell(CFG)
        obs, _ = c.reset(seed=42)
        traj = [obs] + [c.apply(a)[0] for a in actions]
        runs.append(np.array(traj))
    np.testing.assert_array_equal(runs[0], runs[1])
    c = TwinCell(CFG)
    assert not np.array_equal(c.reset(seed=43)[0], runs[0][0])


def test_nan_action_raises_clear_error(cell):
    cell.reset(seed=1)
    with pytest.raises(ValueError, match="NaN"):
        cell.apply(np.array([0, np.nan, 0, 0, 0, 0]))
    with pytest.raises(ValueError, match="NaN/inf"):
        cell.apply(np.array([0, 0, np.inf, 0, 0, 0]))
    with pytest.raises(ValueError, match="6 values"):
        cell.apply(np.zeros(3))


def test_out_of_range_action_is_clipped():
    a, b = TwinCell(CFG), TwinCell(CFG)
    a.reset(seed=3), b.reset(seed=3)
    oa = a.apply(np.array([5.0, -7.0, 0.0, 0.0, 0.0, 0.0]))[0]
    ob = b.apply(np.array([1.0, -1.0, 0.0, 0.0, 0.0, 0.0]))[0]
    np.testing.assert_array_equal(oa, ob)


def test_target_clipped_to_safety_box(cell):
    cell.reset(seed=2)
    for _ in range(12):
        obs, *_ = cell.apply(np.array([1.0, -1.0, 1.0, 0, 0, 0]))
    box = np.array(CFG.safety_box_m)
    assert np.all(np.abs(cell.target[:3]) <= box + 1e-9)
    assert obs[0] == pytest.approx(box[0], abs=0.002) and obs[1] == pytest.approx(-box[1], abs=0.002)
    assert obs[2] == pytest.approx(box[2], abs=0.002)


def test_controller_tracks_and_settles(cell):
    obs0, info = cell.reset(seed=4)
    for _ in range(4):
        cell.apply(np.array([0.5, 0, 0, 0, 0, 0]))           # 4 x 5 mm = 20 mm along x
    for _ in range(6):
        obs, *_ = cell.hold()
    assert obs[0] - obs0[0] == pytest.approx(0.02, abs=0.001)          # tracking error < 1 mm
    assert abs(obs[1] - obs0[1]) < 0.001 and abs(obs[2] - obs0[2]) < 0.001
    assert np.linalg.norm(obs[3:6]) < 0.01                              # stays upright, rad
    assert np.linalg.norm(obs[6:9]) < 0.005                             # settled, m/s
    # holding keeps the pose (no drift), and a rotation command turns the peg
    for _ in range(10):
        held, *_ = cell.hold()
    assert np.abs(held[:3] - obs[:3]).max() < 2e-4
    for _ in range(3):
        rot, *_ = cell.apply(np.array([0, 0, 0, 0, 0, 1.0]))
    for _ in range(4):
        rot, *_ = cell.hold()
    assert rot[5] == pytest.approx(0.15, abs=0.02)


def test_peg_cannot_pass_through_board_beside_hole(cell):
    obs, info = cell.reset(seed=5)
    obs, info = _move_to(cell, info, [0.009, 0.0, 0.003])
    for _ in range(15):                                     # press down hard beside the hole
        obs, term, trunc, info = cell.apply(np.array([0, 0, -1.0, 0, 0, 0]))
    assert info["tip_to_hole_m"][2] > -0.0005 and info["insertion_depth_m"] == 0.0
    assert obs[14] == pytest.approx(CFG.stiffness_n_m * CFG.max_step_m, rel=0.2)  # f_z on the peg, N
    assert not info["success"]
    # far beyond the action's force: a target 5 cm under the surface (~100 N) still cannot tunnel
    import mujoco
    cell.data.ctrl[2] = cell.ee_pose()[2] - 0.05
    mujoco.mj_step(cell.model, cell.data, nstep=1000)
    assert cell.tip_to_hole()[2] > -0.0005


def test_peg_goes_in_when_aligned(cell):
    obs, info = cell.reset(seed=6)
    obs, info = _move_to(cell, info, [0.0, 0.0, 0.004])
    for step in range(15):
        obs, term, trunc, info = cell.apply(np.array([0, 0, -0.5, 0, 0, 0]))
        if term:
            break
    assert info["success"] and term and not info["aborted"]
    assert info["insertion_depth_m"] >= CFG.success_depth_m


def test_clearance_changes_the_hole():
    from sim.model import hole_radius_m
    tight, loose = TwinCell(replace(CFG, clearance_m=0.0002)), TwinCell(replace(CFG, clearance_m=0.003))
    w = [c.model.geom("wall0") for c in (tight, loose)]
    gap = [c.model.geom_pos[g.id][0] - c.model.geom_size[g.id][0] for c, g in zip((tight, loose), w)]
    assert gap[0] == pytest.approx(hole_radius_m(0.0002)) and gap[1] == pytest.approx(hole_radius_m(0.003))


def test_force_limit_aborts_and_timeout_truncates():
    c = TwinCell(replace(CFG, max_force_n=8.0, episode_steps=40))
    obs, info = c.reset(seed=5)
    obs, info = _move_to(c, info, [0.009, 0.0, 0.003])
    for _ in range(10):
        obs, term, trunc, info = c.apply(np.array([0, 0, -1.0, 0, 0, 0]))
        if term:
            break
    assert term and info["aborted"] and not info["success"] and info["max_force_n"] > 8.0
    c = TwinCell(replace(CFG, episode_steps=3))
    c.reset(seed=1)
    flags = [c.hold()[1:3] for _ in range(3)]
    assert flags == [(False, False), (False, False), (False, True)]


def test_render_is_not_blank(cell):
    cell.reset(seed=0)
    for cam in ("front", "wrist"):
        img = cell.render(cam, width=160, height=120)
        assert img.shape == (120, 160, 3) and img.dtype == np.uint8
        assert img.std() > 5.0, f"{cam} frame looks blank"
    with pytest.raises(ValueError):
        cell.render("top")


def test_tilted_peg_jams_part_way(cell):
    """0.2 rad of tilt with 0.5 mm radial clearance: the peg wedges a few mm in and stops."""
    obs, info = cell.reset(seed=6)
    for _ in range(15):
        a = np.zeros(6)
        a[:3] = np.clip(0.5 * (np.array([0, 0, 0.004]) - info["tip_to_hole_m"]) / CFG.max_step_m, -1, 1)
        a[3] = np.clip(0.5 * (0.2 - obs[3]) / CFG.max_step_rad, -1, 1)
        a[4:] = np.clip(-0.5 * obs[4:6] / CFG.max_step_rad, -1, 1)
        obs, term, trunc, info = cell.apply(a)
    for _ in range(15):
        obs, term, trunc, info = cell.apply(np.array([0, 0, -0.5, np.clip(0.5 * (0.2 - obs[3]) / 0.05, -1, 1), 0, 0]))
    assert 0.001 < info["insertion_depth_m"] < CFG.success_depth_m and not info["success"]
    assert obs[14] > 10.0                                  # the board holds the peg up, N


def test_absolute_target_joint_state_and_hole_frame(cell):
    """Franka-mode helpers: an equilibrium-pose target (clipped), joint state, the hole frame."""
    obs, _ = cell.reset(seed=2)
    cell.set_target(np.array([0.01, -0.005, 0.02, 0.0, 0.0, 0.1]))
    for _ in range(8):
        obs, *_ = cell.hold()
    np.testing.assert_allclose(obs[:3], [0.01, -0.005, 0.02], atol=5e-4)
    assert obs[5] == pytest.approx(0.1, abs=0.01)
    cell.set_target(np.array([1.0, 0, 0, 0, 0, 1.0]))                 # far outside the safety box
    assert cell.target[0] == CFG.safety_box_m[0] and np.linalg.norm(cell.target[3:]) == pytest.approx(CFG.safety_box_rad)
    with pytest.raises(ValueError, match="NaN"):
        cell.set_target(np.full(6, np.nan))
    q, dq = cell.joint_state()
    assert q.shape == dq.shape == (7,)
    pos, rot = cell.hole_frame
    np.testing.assert_allclose(pos, [0.5, 0.0, 0.03]) and np.testing.assert_allclose(rot, np.eye(3))


# ---- speed changes keep the physics bit for bit ------------------------------------------------
# sha256 of observations, joint state and step outcomes over whole episodes: any change to the
# twin's hot loop (cached MjData views, the inlined force check) must keep these bits.
# (mujoco, numpy, machine, AVX-512) -> digests: MuJoCo and numpy pick other kernels on AVX-512
# hosts, so each host type has its own bits; a platform not listed here skips the check.
TRAJECTORY_DIGESTS = {
    ("4.0.0", "2.3.5", "x86_64", False): {
        "mid": "58e61f4ddeaf0b841abada236d0046c25c04fc75f22e880f623c1c040785cac8",
        "random": "36ada6bd0287f4b8040431bb7e104393ea0363412a2293d47fb3f34510af3744",
        "mid_dt2": "656849c371169b06020b6165fe0b2a2942dcfdf6923a70c67e72c8d97260b803",
    },
    ("4.0.0", "2.3.5", "x86_64", True): {
        "mid": "9c38044c4c464924d991d633e96e37b7d395cc54163545d66abd962d5bbec76c",
        "random": "d735fcb7e547cb6cbec04483a7c378ec780c4e1a5d11d473fc954b416a98357e",
        "mid_dt2": "a90b52de086bcf4d90c3cc25e63341018caa3cffe104c03281a260b69ff94d8d",
    },
}


def _trajectory_digest(cfg, kind, seeds, expert_seed=0):
    import hashlib

    from sim.experts import ScriptedExpert

    c, h, rng = TwinCell(cfg), hashlib.sha256(), np.random.default_rng(0)
    ex = None if kind == "random" else ScriptedExpert(kind, seed=expert_seed, cell_cfg=cfg)
    for s in seeds:
        obs, info = c.reset(seed=s)
        if ex:
            ex.reset()
        h.update(obs.tobytes())
        for _ in range(cfg.episode_steps):
            obs, term, trunc, info = c.apply(rng.uniform(-1, 1, c.action_dim) if ex is None else ex.act(obs, info))
            h.update(obs.tobytes()), h.update(c.data.qpos.tobytes()), h.update(c.data.qvel.tobytes())
            h.update(np.array([info["force_n"], info["max_force_n"], info["insertion_depth_m"], term, trunc,
                               info["success"], info["aborted"]]).tobytes())
            if term or trunc:
                break
    return h.hexdigest()


@pytest.mark.parametrize("case", ["mid", "random", "mid_dt2"])
def test_trajectories_are_bit_identical_to_the_pinned_digests(case):
    import platform

    import mujoco

    try:
        avx512 = "avx512f" in open("/proc/cpuinfo").read()
    except OSError:
        avx512 = None
    here = (mujoco.__version__, np.__version__, platform.machine(), avx512)
    if here not in TRAJECTORY_DIGESTS:
        pytest.skip(f"digests pinned on {sorted(TRAJECTORY_DIGESTS)}; this is {here}")
    cfg, kind, seeds, expert_seed = {
        "mid": (CFG, "mid", range(10_000, 10_004), 0),
        "random": (CFG, "random", range(5), 0),
        "mid_dt2": (CellConfig(clearance_m=0.0005, physics_dt_s=0.002), "mid", range(3), 1),
    }[case]
    assert _trajectory_digest(cfg, kind, seeds, expert_seed) == TRAJECTORY_DIGESTS[here][case]
