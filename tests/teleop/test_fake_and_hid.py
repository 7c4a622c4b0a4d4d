"""The fake device goes through pyspacemouse's own parser; device discovery picks the right
interface and names the fix when something is missing."""
from types import SimpleNamespace

import numpy as np
import pyspacemouse
import pytest

from teleop import hid as hidmod
from teleop.config import TeleopConfig
from teleop.errors import DeviceNotFound, DevicePermission
from teleop.operator import HumanOperator, open_source
from tests.fakes.spacemouse import DEMO, fake_operator, run_for
from tests.helpers import wait_for


@pytest.mark.unit
def test_fake_reports_are_parsed_by_pyspacemouse():
    clock, fake, source, op = fake_operator()
    assert isinstance(source.dev, pyspacemouse.SpaceMouseDevice)
    # a report as a SpaceMouse Wireless sends it: id 1, X Y Z Rx Ry Rz little-endian int16 counts
    fake.inject([bytes([1, 0x00, 0x00, 0x51, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0])])  # HID Y = -175 of 350
    clock.advance(0.005)
    source.pump()
    s = op.poll()
    assert s.axes == pytest.approx([0.5, 0, 0, 0, 0, 0])  # pyspacemouse's ROS convention: forward = +x
    assert source.tap.ids == {1: 1}


@pytest.mark.unit
def test_demo_sequence_push_let_go_press_a_button():
    clock, fake, source, op = fake_operator(release_hold_s=0.5)
    fake.play(DEMO)
    states = run_for(clock, source, op, 4.0)
    events = [(round(s.t - states[0].t + 0.1, 1), e) for s in states for e in s.events]
    assert [e for _, e in events] == ["takeover", "release", "takeover", "request_success", "release"]
    pushing = [s for s in states if s.intervening and s.action[0] > 0]
    assert 0.8 <= len(pushing) * 0.1 <= 1.2  # ~1 s of forward push at the 10 Hz polls


@pytest.mark.unit
def test_looped_script_repeats():
    clock, fake, source, op = fake_operator()
    fake.play(DEMO, loop=True, period_s=3.5)
    states = run_for(clock, source, op, 7.2)
    assert sum(s.events.count("request_success") for s in states) == 2


@pytest.mark.unit
def test_reader_thread_with_the_fake_device_takes_over():
    cfg = TeleopConfig(device="fake")
    with HumanOperator(open_source(cfg), cfg, "xyz") as op:
        seen = []
        wait_for(lambda: seen.extend(op.poll().events) or "takeover" in seen, timeout=10, what="demo takeover")
        assert op.source.status().pumps > 0


def _desc(vid, pid, path, usage_page=0x01, usage=0x08, interface=0):
    return SimpleNamespace(vendor_id=vid, product_id=pid, path=path, usage_page=usage_page, usage=usage,
                           interface_number=interface, product_string="x", manufacturer_string="y")


@pytest.mark.unit
def test_wireless_receiver_opens_the_multi_axis_interface(monkeypatch):
    devices = [_desc(0x256F, 0xC652, "/dev/hidraw1", usage_page=0x0C, usage=0x01, interface=0),
               _desc(0x256F, 0xC652, "/dev/hidraw2", interface=1),
               _desc(0x1234, 0x5678, "/dev/hidraw0")]
    monkeypatch.setattr(hidmod, "_enumerate", lambda: devices)
    dev, spec = hidmod.find_spacemouse(TeleopConfig())
    assert dev.path == "/dev/hidraw2" and spec.name == "UniversalReceiver"
    assert spec.convention == pyspacemouse.AxisConvention.ROS


@pytest.mark.unit
def test_no_device_and_unknown_models_name_the_udev_rule(monkeypatch):
    monkeypatch.setattr(hidmod, "_enumerate", lambda: [_desc(0x1234, 0x5678, "/dev/hidraw0")])
    with pytest.raises(DeviceNotFound, match="99-spacemouse.rules"):
        hidmod.find_spacemouse(TeleopConfig())
    monkeypatch.setattr(hidmod, "_enumerate", lambda: [_desc(0x256F, 0xFFFF, "/dev/hidraw0")])
    with pytest.raises(DeviceNotFound, match="256f:ffff"):
        hidmod.find_spacemouse(TeleopConfig())


@pytest.mark.unit
def test_unreadable_hidraw_node_is_a_permission_error(monkeypatch, tmp_path):
    node = tmp_path / "hidraw7"
    node.write_text("")
    node.chmod(0)
    monkeypatch.setattr(hidmod, "_enumerate", lambda: [_desc(0x256F, 0xC635, str(node))])
    monkeypatch.setattr(hidmod.os, "access", lambda p, m: False)  # root reads anything: pretend not
    fake_hid = SimpleNamespace(**vars(_desc(0x256F, 0xC635, str(node))))

    def fail_open():
        raise pyspacemouse.device.HIDException("Failed to open device")

    fake_hid.open = fail_open
    monkeypatch.setattr(hidmod, "find_spacemouse", lambda cfg: (fake_hid, hidmod.ros_spec("SpaceMouseCompact")))
    with pytest.raises(DevicePermission, match="udev"):
        hidmod.open_spacemouse(TeleopConfig())


@pytest.mark.unit
def test_fake_axes_round_trip_for_every_known_model():
    for model in pyspacemouse.get_device_specs():
        clock, fake, source, op = fake_operator(model=model)
        fake.set((0.25, -0.5, 0.1, 0.2, -0.3, 0.4))
        clock.advance(0.005)
        source.pump()
        axes = op.poll().axes
        # ROS: x = -Y, y = -X, z = -Z, roll = -Ry, pitch = -Rx, yaw = -Rz (pyspacemouse AxisConvention.ROS)
        assert axes == pytest.approx(np.array([0.5, -0.25, -0.1, 0.3, -0.2, -0.4]), abs=0.005), model


@pytest.mark.unit
def test_a_device_plugged_in_after_start_is_picked_up():
    from teleop.spacemouse import SpaceMouseSource
    from tests.fakes.spacemouse import FakeSpaceMouse, ManualClock, hid

    clock = ManualClock()
    fake = FakeSpaceMouse(clock=clock)
    fake.unplug()
    cfg = TeleopConfig(reconnect_s=1.0)
    with pytest.raises(DeviceNotFound):
        SpaceMouseSource(fake.opener(), cfg, clock)
    source = SpaceMouseSource(fake.opener(), cfg, clock, must_open=False)
    op = HumanOperator(source, cfg)
    s = op.poll()
    assert s.events == ["fault"] and "not connected" in s.fault and not s.intervening
    fake.replug()
    states = run_for(clock, source, op, 1.2)
    assert [e for x in states for e in x.events] == ["fault_cleared"]
    assert source.button_names == ("LEFT", "RIGHT")
    fake.set(hid(y=-0.4))
    clock.advance(0.005)
    source.pump()
    assert op.poll().events == ["takeover"]
