"""Mapping device axes to action units: deadband, scale, signs, order, active axes, ROS convention."""
import numpy as np
import pytest

from teleop.config import TeleopConfig
from teleop.mapping import AxisMapper, active_mask
from tests.fakes.spacemouse import fake_operator, hid

pytestmark = pytest.mark.unit


def test_inside_deadband_is_no_input_and_zero_action():
    m = AxisMapper(TeleopConfig(deadband=0.1), "6d")
    axes = np.array([0.09, -0.1, 0.05, 0.0, -0.099, 0.1])
    assert not m.is_input(axes)
    assert np.all(m.action(axes) == 0.0)


def test_deadband_edge_is_continuous_and_full_scale_reaches_scale():
    m = AxisMapper(TeleopConfig(deadband=0.1, scale=0.8), "6d")
    just_out = m.action(np.array([0.1001, 0, 0, 0, 0, 0]))[0]
    assert 0.0 < just_out < 1e-3  # no jump at the deadband edge
    assert m.action(np.array([1.0, -1.0, 0.55, 0, 0, 0]))[:3] == pytest.approx([0.8, -0.8, 0.4])
    assert m.action(np.array([1.4, 0, 0, 0, 0, 0]))[0] == pytest.approx(0.8)  # over-deflection clipped


def test_action_is_float32_within_unit_range():
    m = AxisMapper(TeleopConfig(scale=3.0), "6d")
    a = m.action(np.array([1.0, -1.0, 0.5, 0.5, -0.5, 0.2]))
    assert a.dtype == np.float32 and a.shape == (6,)
    assert np.all(np.abs(a) <= 1.0)


def test_signs_and_axis_order():
    cfg = TeleopConfig(deadband=0.0, axis_signs=(-1.0, 1.0, 1.0, 1.0, 1.0, -1.0), axis_order=(1, 0, 2, 3, 4, 5))
    m = AxisMapper(cfg, "6d")
    a = m.action(np.array([0.2, 0.5, 0.0, 0.0, 0.0, 0.3]))
    assert a == pytest.approx([-0.5, 0.2, 0.0, 0.0, 0.0, -0.3])


@pytest.mark.parametrize("space, active", [("6d", [1, 1, 1, 1, 1, 1]), ("xyz", [1, 1, 1, 0, 0, 0]),
                                           ("xyz_yaw", [1, 1, 1, 0, 0, 1])])
def test_inactive_axes_are_zero_and_never_count_as_input(space, active):
    m = AxisMapper(TeleopConfig(deadband=0.05), space)
    full = np.full(6, 0.5)
    assert (m.action(full) != 0).tolist() == [bool(x) for x in active]
    rotation_only = np.array([0, 0, 0, 0.9, 0.9, 0.0])
    assert m.is_input(rotation_only) == (space == "6d")
    assert active_mask(space).tolist() == [bool(x) for x in active]


def test_unknown_action_space_is_an_error():
    with pytest.raises(ValueError, match="xyz_yaw"):
        AxisMapper(TeleopConfig(), "7d")


@pytest.mark.parametrize("model", ["SpaceMouseWireless", "SpaceNavigator", "SpaceMouseCompact", "SpaceMousePro"])
@pytest.mark.parametrize("gesture, axis, sign", [
    (hid(y=-0.5), 0, +1),  # push the cap away from you (HID +Y points at the user) -> forward, +x
    (hid(x=-0.5), 1, +1),  # push it left (HID +X is right) -> +y
    (hid(z=-0.5), 2, +1),  # lift it (HID +Z is down) -> +z
    (hid(ry=-0.5), 3, +1),  # tilt about the forward axis (ROS x = -HID Y) -> +roll
    (hid(rx=-0.5), 4, +1),  # tilt about the left axis (ROS y = -HID X) -> +pitch
    (hid(rz=-0.5), 5, +1),  # twist counter-clockwise seen from above -> +yaw
])
def test_real_hid_reports_give_ros_convention_actions(model, gesture, axis, sign):
    clock, fake, source, op = fake_operator("6d", model=model)
    fake.set(gesture)
    clock.advance(0.005)
    source.pump()
    s = op.poll()
    expected = np.zeros(6)
    expected[axis] = sign
    assert np.sign(s.action).tolist() == expected.tolist()
    assert abs(s.axes[axis]) == pytest.approx(0.5, abs=0.01)
