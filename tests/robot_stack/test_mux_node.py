"""The mux decides a step with the operator's newest word: when the takeover, the step's
observation and the policy's answer wait together (the mux was busy or descheduled), the
takeover is taken first, so that step is the operator's. The node runs in this test's process
(rclpy's default context); every message is acknowledged by the mux's readers before the mux
handles any, so the test does not depend on timing."""
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


def test_a_takeover_waiting_with_the_policy_answer_decides_the_step(tmp_path):
    cfg = write_run_config(tmp_path, [])
    labels = contract.action_labels(cfg.cell.action_space)
    rclpy.init(args=["--ros-args", "-p", f"run_dir:={tmp_path}"])
    mux = MuxNode()
    peer = rclpy.create_node("mux_test_peer")
    got: list[T.Command] = []
    try:
        pubs = {spec.name: peer.create_publisher(spec.msg_type, spec.name, spec.qos)
                for spec in (T.OBSERVATION, T.POLICY_ACTION, T.TELEOP_INTERVENING, T.TELEOP_TWIST)}
        peer.create_subscription(T.COMMAND.msg_type, T.COMMAND.name,
                                 lambda m: got.append(T.unpack_command(m, labels)), T.COMMAND.qos)
        readers = (mux.obs_sub, mux.policy_sub, mux.flag_sub, mux.twist_sub)
        deadline = time.monotonic() + 30
        while not (all(p.get_subscription_count() >= 1 for p in pubs.values())
                   and all(r.get_publisher_count() >= 1 for r in readers)
                   and mux.pub.get_subscription_count() >= 1):
            assert time.monotonic() < deadline, "discovery"
            time.sleep(0.05)
        push = [0.5, 0.0, 0.0, 0.0, 0.0, 0.0]  # operator's twist, +x
        # in the order they happen: the step's observation, the operator's takeover, the policy's answer
        pubs[T.OBSERVATION.name].publish(T.pack_observation(
            T.Observation(0, 0, 0.0, np.zeros(len(contract.OBS_LABELS), np.float32)), contract.OBS_LABELS))
        pubs[T.TELEOP_TWIST.name].publish(T.pack_twist(push, time.time()))
        pubs[T.TELEOP_INTERVENING.name].publish(T.pack_intervening(True))
        pubs[T.POLICY_ACTION.name].publish(T.pack_policy_action(
            T.PolicyAction(0, 0, np.full(len(labels), -0.3, np.float32)), labels))
        for p in pubs.values():  # the mux's readers hold all four before the mux handles one
            assert p.wait_for_all_acked(Duration(seconds=10))
        ex_mux, ex_peer = SingleThreadedExecutor(), SingleThreadedExecutor()
        ex_mux.add_node(mux)
        ex_peer.add_node(peer)
        deadline = time.monotonic() + 10
        while not got and time.monotonic() < deadline:
            ex_mux.spin_once(timeout_sec=0.01)
            ex_peer.spin_once(timeout_sec=0.01)
        assert got, "no command"
        c = got[0]
        assert (c.episode, c.step, c.source) == (0, 0, Source.HUMAN), c
        assert c.action[0] == pytest.approx(0.5)
    finally:
        mux.destroy_node()
        peer.destroy_node()
        rclpy.shutdown()
