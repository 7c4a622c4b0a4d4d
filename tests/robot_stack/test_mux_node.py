"""The mux node decides each step from what its readers hold, whatever the order of arrival:
- a takeover waiting beside the step's observation and the policy's answer (the mux was busy or
  descheduled) is taken first, so that step is the operator's;
- a policy answer that reached the mux before the step's observation decides the step as soon as
  the observation comes (the actor can be faster than the mux).
The node runs in this test's process (rclpy's default context); each message is acknowledged by
the mux's readers before the mux spins, so the tests do not depend on timing."""
from __future__ import annotations

import time

import numpy as np
import pytest
import rclpy
from rclpy.duration import Duration
from rclpy.executors import SingleThreadedExecutor

from robot_stack import contract
from robot_stack import topics as T
from robot_stack.nodes.mux import MuxNode
from sim.contract import Source
from tests.fakes.graph import write_run_config

pytestmark = pytest.mark.graph


class MuxBench:
    """The mux node plus a peer that publishes its inputs and collects its commands."""

    def __init__(self, run_dir):
        cfg = write_run_config(run_dir, [])
        self.labels = contract.action_labels(cfg.cell.action_space)
        rclpy.init(args=["--ros-args", "-p", f"run_dir:={run_dir}"])
        self.mux = MuxNode()
        self.peer = rclpy.create_node("mux_test_peer")
        self.got: list[T.Command] = []
        self.pubs = {spec.name: self.peer.create_publisher(spec.msg_type, spec.name, spec.qos)
                     for spec in (T.OBSERVATION, T.POLICY_ACTION, T.TELEOP_INTERVENING, T.TELEOP_TWIST)}
        self.peer.create_subscription(T.COMMAND.msg_type, T.COMMAND.name,
                                      lambda m: self.got.append(T.unpack_command(m, self.labels)), T.COMMAND.qos)
        m = self.mux
        readers = (m.obs_sub, m.policy_sub, m.flag_sub, m.twist_sub)
        deadline = time.monotonic() + 30
        while not (all(p.get_subscription_count() >= 1 for p in self.pubs.values())
                   and all(r.get_publisher_count() >= 1 for r in readers) and m.pub.get_subscription_count() >= 1):
            assert time.monotonic() < deadline, "discovery"
            time.sleep(0.05)
        self.ex_mux, self.ex_peer = SingleThreadedExecutor(), SingleThreadedExecutor()
        self.ex_mux.add_node(self.mux)
        self.ex_peer.add_node(self.peer)

    def observation(self, episode: int, step: int) -> None:
        self.pubs[T.OBSERVATION.name].publish(T.pack_observation(
            T.Observation(episode, step, 0.05 * step, np.zeros(len(contract.OBS_LABELS), np.float32)),
            contract.OBS_LABELS))

    def policy(self, episode: int, step: int, value: float) -> None:
        self.pubs[T.POLICY_ACTION.name].publish(T.pack_policy_action(
            T.PolicyAction(episode, step, np.full(len(self.labels), value, np.float32)), self.labels))

    def takeover(self, twist) -> None:
        self.pubs[T.TELEOP_TWIST.name].publish(T.pack_twist(list(twist), time.time()))
        self.pubs[T.TELEOP_INTERVENING.name].publish(T.pack_intervening(True))

    def acked(self) -> None:
        """Every message published so far is held by the mux's readers."""
        for p in self.pubs.values():
            assert p.wait_for_all_acked(Duration(seconds=10))

    def spin_until(self, done, seconds: float = 10.0) -> None:
        deadline = time.monotonic() + seconds
        while not done() and time.monotonic() < deadline:
            self.ex_mux.spin_once(timeout_sec=0.01)
            self.ex_peer.spin_once(timeout_sec=0.01)

    def close(self) -> None:
        self.mux.destroy_node()
        self.peer.destroy_node()
        rclpy.shutdown()


@pytest.fixture
def bench(tmp_path):
    b = MuxBench(tmp_path)
    yield b
    b.close()


def test_a_takeover_waiting_with_the_policy_answer_decides_the_step(bench):
    # in the order they happen: the step's observation, the operator's takeover, the policy's answer
    bench.observation(0, 0)
    bench.takeover([0.5, 0.0, 0.0, 0.0, 0.0, 0.0])  # +x
    bench.policy(0, 0, -0.3)
    bench.acked()  # the mux's readers hold all four before the mux handles one
    bench.spin_until(lambda: bench.got)
    assert bench.got, "no command"
    c = bench.got[0]
    assert (c.episode, c.step, c.source) == (0, 0, Source.HUMAN), c
    assert c.action[0] == pytest.approx(0.5)


def test_a_policy_answer_before_its_observation_decides_the_step_when_the_observation_comes(bench):
    bench.observation(0, 0)  # the mux is on step 0
    bench.acked()
    bench.spin_until(lambda: bench.mux.key == (0, 0))
    bench.policy(0, 1, 0.25)  # the actor answered step 1 before the mux saw step 1
    bench.acked()
    bench.spin_until(lambda: (0, 1) in bench.mux.early)
    assert (0, 1) in bench.mux.early and not bench.got
    bench.observation(0, 1)
    bench.acked()
    bench.spin_until(lambda: bench.got)
    assert [(c.episode, c.step, c.source) for c in bench.got] == [(0, 1, Source.POLICY)]
    np.testing.assert_allclose(bench.got[0].action, 0.25)
