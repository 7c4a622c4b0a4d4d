"""Build the twin's MuJoCo model from the MJCF files in sim/assets/ and a CellConfig.

scene.xml includes panda.xml (robot) and task.xml (table, board, cameras); here the peg
(peg.xml) is attached to the hand's `peg_mount` site, the octagonal hole walls are moved for the
configured clearance, and the impedance gains and the physics step are set from the config.
`Ids` caches every index the cell needs (sites, sensors, geoms) so nothing is looked up by name
in the hot loop.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import mujoco
import numpy as np

from sim.config import CellConfig
from sim.rules import hole_radius_m

ASSETS = Path(__file__).resolve().parent / "assets"
HOLE_DEPTH_M = 0.03           # task.xml: board thickness = hole depth, m
WALL_HALF_T_M = 0.01          # task.xml: radial half thickness of each octagon wall, m
HOME_Q = np.array([0.0, -0.785398, 0.0, -2.356194, 0.0, 1.570796, 0.785398])  # rad


@dataclass(frozen=True)
class Ids:
    ee: int            # site at the peg tip (the controlled end effector)
    hole_nominal: int  # site: nominal hole frame (observations, actions, safety box)
    hole: int          # site: true hole entrance centre (moves with the board)
    ft: int            # site of the force/torque sensor (fingers -> peg)
    board_mocap: int   # mocap index of the board body
    peg_geom: int
    peg_body: int
    force_adr: int     # sensordata address of the wrist force (3)
    torque_adr: int    # sensordata address of the wrist torque (3)
    linvel_adr: int    # ee linear velocity in world (3)
    angvel_adr: int    # ee angular velocity in world (3)


def build(cfg: CellConfig) -> tuple[mujoco.MjModel, Ids]:
    """Compile the cell for `cfg`; returns the model and the cached indices."""
    spec = mujoco.MjSpec.from_file(str(ASSETS / "scene.xml"))
    peg = mujoco.MjSpec.from_file(str(ASSETS / "peg.xml"))
    spec.site("peg_mount").attach_body(peg.body("peg"), "peg/", "")  # names: peg/peg, peg/peg_tip
    for name, kind in (("ft_force", mujoco.mjtSensor.mjSENS_FORCE), ("ft_torque", mujoco.mjtSensor.mjSENS_TORQUE)):
        s = spec.add_sensor()
        s.name, s.type, s.objtype, s.objname = name, kind, mujoco.mjtObj.mjOBJ_SITE, "peg/ft"
    _set_clearance(spec, cfg.clearance_m)
    spec.option.timestep = cfg.physics_dt_s
    model = spec.compile()
    _set_gains(model, cfg)

    def sensor_adr(name: str) -> int:
        return int(model.sensor_adr[model.sensor(name).id])

    ids = Ids(
        ee=model.site("ee").id, hole_nominal=model.site("hole_nominal").id, hole=model.site("hole").id,
        ft=model.site("peg/ft").id, board_mocap=int(model.body_mocapid[model.body("board").id]),
        peg_geom=model.geom("peg/peg").id, peg_body=model.body("peg/peg").id,
        force_adr=sensor_adr("ft_force"), torque_adr=sensor_adr("ft_torque"),
        linvel_adr=sensor_adr("ee_linvel"), angvel_adr=sensor_adr("ee_angvel"),
    )
    return model, ids


def _set_clearance(spec: mujoco.MjSpec, clearance_m: float) -> None:
    """Move the 8 octagon walls so their inner faces are tangent to the hole circle."""
    r = hole_radius_m(clearance_m)
    half_w = r * math.tan(math.pi / 8) + WALL_HALF_T_M  # tangential half width: covers the corner, m
    for k in range(8):
        g = spec.geom(f"wall{k}")
        a = k * math.pi / 4
        c = r + WALL_HALF_T_M                        # wall centre distance from the hole axis, m
        g.pos = [c * math.cos(a), c * math.sin(a), g.pos[2]]
        g.quat = [math.cos(a / 2), 0.0, 0.0, math.sin(a / 2)]
        g.size = [WALL_HALF_T_M, half_w, g.size[2]]


def _set_gains(model: mujoco.MjModel, cfg: CellConfig) -> None:
    """Position servos: force = kp * ctrl - kp * length - kv * velocity (gain/bias parameters)."""
    for i in range(6):
        kp, kv = (cfg.stiffness_n_m, cfg.damping_n_s_m) if i < 3 else (cfg.stiffness_nm_rad, cfg.damping_nm_s_rad)
        model.actuator_gainprm[i, 0] = kp
        model.actuator_biasprm[i, :3] = (0.0, -kp, -kv)
