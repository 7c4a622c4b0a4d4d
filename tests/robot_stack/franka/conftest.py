"""A fake arm for the pure Franka tests: measured pose = the commanded target after a lag."""
import numpy as np
import pytest

from robot_stack.config import FrankaConfig
from robot_stack.franka.geometry import HoleFrame
from sim.config import CellConfig

HOLE = (0.5, 0.0, 0.1, 1.0, 0.0, 0.0, 0.0)  # taught: EE pointing down (hole frame = base axes)


class FakeArm:
    """Feeds a core/cell base-frame poses of a hole-frame tip pose, and wrenches."""

    def __init__(self, sink, pose6=(0.0, 0.0, 0.04, 0, 0, 0)):
        self.sink, self.frame = sink, HoleFrame(HOLE)
        self.pose = np.array(pose6, dtype=float)
        self.t = 0.0

    def feed(self, dt=0.01, force=(0.0, 0.0, 0.0)):
        """One state sample; `force` on the robot in EE axes, published as franka does (its reaction)."""
        self.t += dt
        pos, quat = self.frame.to_base(self.pose)
        self.sink.on_pose(pos, quat, self.t)
        self.sink.on_wrench(-np.asarray(force, dtype=float), (0.0, 0.0, 0.0), self.t)

    def follow(self, target, frac=1.0):
        self.pose = self.pose + frac * (np.asarray(target) - self.pose)


@pytest.fixture
def cfgs():
    return CellConfig(), FrankaConfig(hole_pose=HOLE)
