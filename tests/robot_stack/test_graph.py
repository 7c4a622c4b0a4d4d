"""The real graph on localhost: node processes launched like `rlif up`, a probe participant.

Faults of DESIGN.md "Safety and faults": takeover within one tick, silent teleop while
intervening -> hold + fault (never a silent hand-back), actor killed -> hold then recovery,
NaN policy action -> hold, e-stop -> hold until cleared.
"""
from __future__ import annotations

import signal
import time

import numpy as np
import pytest

from learner.replay import ReplayStore, Source
from robot_stack import config as cfgmod
from robot_stack.session import GraphSession
from tests.fakes.graph import Probe, actor_weights_file, write_run_config
from tests.helpers import wait_for

pytestmark = pytest.mark.graph
HZ = 20.0  # wall-clock control rate for these tests (faster than 10 Hz, same logic)
TICK = 1.0 / HZ


@pytest.fixture
def probe():
    p = Probe()
    yield p
    p.close()


def launch(tmp_path, nodes, operator="none", sets=(), actor_weights=True):
    run_dir = tmp_path / "run"
    cfg = write_run_config(run_dir, [f"cell.control_hz={HZ}", "graph.accelerated=false", "graph.deadline_ms=30",
                                     "agent.hidden=[64, 64]", "cell.episode_steps=400", *sets])
    prof = {"name": "test", "nodes": nodes, "operator": operator}
    g = GraphSession(prof, cfg, run_dir, operator, resume=False, out=lambda s: None)
    if actor_weights and "actor" in nodes:
        w = actor_weights_file(cfg, run_dir / "actor.safetensors")
        for spec in g.specs:
            if spec.name == "actor":
                spec.params.update(weights=str(w), deterministic=True)
    return g.__enter__(), cfg, run_dir


def test_takeover_switches_source_within_one_tick_and_is_recorded(tmp_path, probe):
    g, cfg, run_dir = launch(tmp_path, ["cell", "actor", "mux", "recorder"])
    try:
        wait_for(lambda: any(c.source == Source.POLICY for c in probe.cmds_since(0)), 30, what="policy commands")
        stop = [False]

        def operator():
            while not stop[0]:
                probe.intervene(True, (0.3, 0, 0.2, 0, 0, 0))  # sideways and up: no contact
                time.sleep(0.01)  # 100 Hz teleop, like the spacemouse reader

        import threading

        th = threading.Thread(target=operator, daemon=True)
        t0 = time.monotonic()
        th.start()
        wait_for(lambda: len(probe.cmds_since(t0 + TICK)) >= 10, 10, what="commands after takeover")
        after = probe.cmds_since(t0 + TICK)  # every step that started a tick after the takeover
        assert all(c.source == Source.HUMAN for c in after), [c.source for c in after]
        np.testing.assert_allclose(after[0].action, [0.3, 0, 0.2, 0, 0, 0])
        stop[0] = True
        th.join()
        probe.intervene(False)
        t1 = time.monotonic()
        wait_for(lambda: len(probe.cmds_since(t1 + TICK)) >= 3, 10, what="commands after release")
        assert all(c.source == Source.POLICY for c in probe.cmds_since(t1 + TICK))
        probe.event("request_abort")
        wait_for(lambda: probe.events_of("episode_end"), 10, what="episode end")
    finally:
        g.close()
    with ReplayStore.open(run_dir / "replay.zarr", readonly=True) as store:
        assert store.n_episodes == 1
        source, intervening = store.column("source"), store.column("intervening")
    assert (source == Source.HUMAN).sum() >= 10
    np.testing.assert_array_equal(intervening, source == Source.HUMAN)
    first_human = int(np.flatnonzero(source == Source.HUMAN)[0])
    assert source[first_human - 1] == Source.POLICY  # the step RLIF blames (reward -1)
