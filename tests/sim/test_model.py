"""The MJCF: published Panda kinematics, limits, keyframe, collision filtering, the hole geometry."""
import mujoco
import numpy as np
import pytest

from sim.config import CellConfig
from sim.model import ASSETS, HOME_Q, build, hole_radius_m

pytestmark = pytest.mark.unit


def test_panda_alone_matches_published_kinematics():
    m = mujoco.MjModel.from_xml_path(str(ASSETS / "panda.xml"))
    d = mujoco.MjData(m)
    mujoco.mj_resetDataKeyframe(m, d, m.key("home").id)
    mujoco.mj_forward(m, d)
    # Franka's ready pose: flange 0.107 + hand 0.1034 m, TCP at (0.307, 0, 0.487) m, pointing down
    np.testing.assert_allclose(d.site_xpos[m.site("tcp").id], [0.3069, 0.0, 0.4869], atol=2e-4)
    assert d.site_xmat[m.site("tcp").id].reshape(3, 3)[2, 2] == pytest.approx(-1.0, abs=1e-6)
    lo, hi = m.jnt_range.T
    np.testing.assert_allclose(hi[[0, 1, 3, 5]], [2.8973, 1.7628, -0.0698, 3.7525])
    np.testing.assert_allclose(m.jnt_actfrcrange[:, 1], [87, 87, 87, 87, 12, 12, 12])
    np.testing.assert_allclose(m.key("home").qpos, HOME_Q, atol=1e-6)


def test_only_peg_and_hand_touch_table_and_board():
    m, ids = build(CellConfig())
    for g in range(m.ngeom):
        name = m.geom(g).name
        body = m.body(m.geom_bodyid[g]).name
        if m.geom_contype[g] or m.geom_conaffinity[g]:
            assert body in ("world", "board", "hand", "peg/peg"), (name, body)
        if m.geom_group[g] == 2:                      # visual class never collides
            assert m.geom_contype[g] == 0 and m.geom_conaffinity[g] == 0, name


@pytest.mark.parametrize("clearance", [0.0002, 0.001, 0.003])
def test_octagon_walls_are_tangent_to_the_hole_circle(clearance):
    m, _ = build(CellConfig(clearance_m=clearance))
    d = mujoco.MjData(m)
    mujoco.mj_forward(m, d)
    hole = d.site_xpos[m.site("hole").id]
    for k in range(8):
        g = m.geom(f"wall{k}").id
        inward = -d.geom_xmat[g].reshape(3, 3)[:, 0]              # box x axis points outwards
        face = d.geom_xpos[g] + inward * m.geom_size[g][0]
        assert np.dot(face - hole, -inward) == pytest.approx(hole_radius_m(clearance), abs=1e-9)


def test_scene_file_compiles_on_its_own():
    m = mujoco.MjModel.from_xml_path(str(ASSETS / "scene.xml"))
    assert m.nu == 6 and m.key("home") is not None and m.camera("front") and m.camera("wrist")


def test_physics_step_from_config():
    m, _ = build(CellConfig(physics_dt_s=0.002))
    assert m.opt.timestep == 0.002 and m.opt.integrator == mujoco.mjtIntegrator.mjINT_IMPLICITFAST


def test_sites_are_hidden_from_cameras():
    """A rendered frame must never show the true hole marker (sites render in groups 0-2)."""
    m, _ = build(CellConfig())
    assert all(m.site_group[i] >= 3 for i in range(m.nsite))
