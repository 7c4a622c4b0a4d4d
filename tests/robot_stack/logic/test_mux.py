import numpy as np
import pytest

from sim.contract import Source
from robot_stack.logic.mux import MuxCore

pytestmark = pytest.mark.unit
SIX = ("x", "y", "z", "rx", "ry", "rz")


def test_policy_drives_and_is_clipped():
    m = MuxCore(SIX)
    d = m.decide(np.array([2.0, -3, 0.5, 0, 0, 0], np.float32), now=0.0)
    assert d.source == Source.POLICY and d.fault is None
    np.testing.assert_allclose(d.action, [1, -1, 0.5, 0, 0, 0])


def test_nan_policy_action_holds_and_reports():
    d = MuxCore(SIX).decide(np.array([np.nan, 0, 0, 0, 0, 0], np.float32), now=0.0)
    assert d.source == Source.HOLD and "non-finite" in d.fault
    assert not d.action.any()


def test_missing_or_misshaped_policy_action_holds():
    m = MuxCore(SIX)
    assert m.decide(None, 0.0).source == Source.HOLD
    d = m.decide(np.zeros(3, np.float32), 0.0)
    assert d.source == Source.HOLD and "shape" in d.fault


def test_operator_takes_over_and_axes_follow_the_action_space():
    m = MuxCore(("x", "y", "z", "rz"))
    m.on_intervening(True, now=0.0)
    m.on_twist(np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]), now=0.01)
    d = m.decide(np.zeros(4, np.float32), now=0.02)
    assert d.source == Source.HUMAN
    np.testing.assert_allclose(d.action, [0.1, 0.2, 0.3, 0.6], rtol=1e-6)


def test_silent_teleop_while_intervening_holds_and_never_hands_back():
    m = MuxCore(SIX, teleop_timeout_s=0.1)
    m.on_intervening(True, now=0.0)
    d = m.decide(np.zeros(6, np.float32), now=0.5)
    assert d.source == Source.HOLD and d.fault == "teleop silent while intervening"
    d2 = m.decide(np.zeros(6, np.float32), now=5.0)
    assert d2.source == Source.HOLD and d2.fault is None  # reported once, still holding
    assert m.intervening
    m.on_twist(np.zeros(6), now=5.01)  # the device is back: operator drives again
    assert m.decide(np.zeros(6, np.float32), now=5.02).source == Source.HUMAN
    m.on_intervening(False, now=5.03)  # only an explicit release hands back
    assert m.decide(np.zeros(6, np.float32), now=5.04).source == Source.POLICY


def test_estop_holds_everything_until_cleared():
    m = MuxCore(SIX)
    m.on_estop(True)
    assert m.decide(np.zeros(6, np.float32), 0.0).source == Source.HOLD
    m.on_intervening(True, 0.0)
    assert m.decide(np.zeros(6, np.float32), 0.0).source == Source.HOLD
    m.on_estop(False)
    assert m.decide(np.zeros(6, np.float32), 0.01).source == Source.HUMAN


def test_nonfinite_operator_action_holds():
    m = MuxCore(SIX)
    m.on_intervening(True, 0.0)
    m.on_twist(np.array([np.inf, 0, 0, 0, 0, 0]), 0.0)
    d = m.decide(None, 0.01)
    assert d.source == Source.HOLD and "operator" in d.fault


def test_unknown_action_labels_rejected():
    with pytest.raises(ValueError, match="not twist axes"):
        MuxCore(("x", "gripper"))
