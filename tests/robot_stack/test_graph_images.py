"""Camera frames through the real graph (twin cell -> actor -> mux -> cell, recorder): with
`vision.image_size` > 0 every observation and every step record carries the frame of the state it
describes, the image actor acts on them, and the recorder stores them with their step.

Judged by what can only hold if the right frame went with the right step: the stored frames are
re-rendered on a second twin replaying the stored actions from the episode's seed, the frames an
observer read on `observation` are the stored ones of the same step key, and the actor's own
heartbeat counts the frames it handed to the policy. No timing is asserted.
"""
from __future__ import annotations

import time

import numpy as np
import pytest

from learner.replay import ReplayStore, Source
from learner.seeds import episode_seed
from robot_stack import topics as T
from tests.fakes.graph import Probe, actor_weights_file
from tests.helpers import wait_for
from tests.robot_stack.test_graph import launch

pytestmark = pytest.mark.graph
SIZE = 32  # the smallest frame the image encoder takes is 23 px; small frames render fast
CAMS = {"wrist": (SIZE, SIZE, 3)}
VISION = [f"vision.image_size={SIZE}", "vision.cameras=[wrist]", "cell.episode_steps=6"]
EPISODES = 2


@pytest.fixture
def probe():
    p = Probe(cameras=CAMS)
    yield p
    p.close()


def status_of(g, node: str) -> dict:
    return g.monitor.snapshot()[0].get(node, {})


def replay_frames(cfg, episode: int, sources, actions):
    """The wrist frames of an episode replayed on a fresh twin: one per step (the state its
    observation describes), then the final state's."""
    from sim.cell import TwinCell

    cell = TwinCell(cfg.cell, seed=cfg.train.seed, vision=cfg.vision)
    try:
        cell.reset(seed=episode_seed(cfg.train.seed, episode))
        frames = []
        for source, action in zip(sources, actions):
            frames.append(cell.images()["wrist"])
            if source == Source.HOLD:
                cell.hold()
            else:
                cell.apply(action)
        frames.append(cell.images()["wrist"])
        return frames
    finally:
        cell.close()


def first_episode_observed(probe) -> list[int]:
    """[the first episode whose first step's observation reached the probe], or [] before one did.
    The clock waits for its own nodes, never for the test's probe, whose DDS discovery may finish
    some episodes later: what the probe saw is judged from that episode on."""
    starts = [o.episode for o in probe.obs_since(0) if o.step == 0]
    return [min(starts)] if starts else []


def test_frames_reach_the_actor_and_are_stored_with_their_steps(tmp_path, probe):
    g, cfg, run_dir = launch(tmp_path, ["cell", "actor", "mux", "recorder"], sets=VISION)
    try:
        wait_for(lambda: any(c.source == Source.POLICY for c in probe.cmds_since(0)), 60,
                 what="policy commands: the image actor's answers drove")
        [first] = wait_for(lambda: first_episode_observed(probe), 30, what="an episode observed from its first step")
        judged = range(first, first + EPISODES)
        wait_for(lambda: status_of(g, "recorder").get("n_episodes", 0) >= judged[-1] + 1, 90,
                 what=f"episodes {judged[0]}-{judged[-1]} with frames committed")
        actor = wait_for(lambda: status_of(g, "actor").get("frames", 0) > 0 and status_of(g, "actor"), 10,
                         what="the actor's heartbeat counting frames")
        assert actor["frames"] <= actor["actions"] and actor["weights_rejected"] == 0
        assert status_of(g, "recorder").get("discarded", 0) == 0  # store episode k is the cell's episode k
        observed = {(o.episode, o.step): o.images["wrist"] for o in probe.obs_since(0)}
        # a state-only actor under this vision profile is refused; the actor keeps its weights
        t0 = time.monotonic()
        state_only = actor_weights_file(_state_only(cfg), tmp_path / "state_only.safetensors")
        pub = probe.node.create_publisher(T.POLICY_WEIGHTS.msg_type, T.POLICY_WEIGHTS.name, T.POLICY_WEIGHTS.qos)
        pub.publish(T.pack_weights(state_only.read_bytes()))
        fault = wait_for(lambda: [e for e in probe.events_of("fault", since=t0) if e.source == "actor"], 20,
                         what="the actor refusing state-only weights")[0]
        assert "rejected" in fault.data["what"] and "wrist" in fault.data["detail"], fault.data
        t1 = time.monotonic()
        wait_for(lambda: any(c.source == Source.POLICY for c in probe.cmds_since(t1)), 10,
                 what="policy actions from the last good weights")
        assert status_of(g, "actor")["policy_version"] == actor["policy_version"]
    finally:
        g.close()
    with ReplayStore.open(run_dir / "replay.zarr", readonly=True) as store:
        assert store.images == CAMS
        eps = store.episodes
        frames, sources, actions = store.column("image_wrist"), store.column("source"), store.column("action")
        for e in judged:
            rows = slice(int(eps["start"][e]), int(eps["start"][e] + eps["length"][e]))
            again = replay_frames(cfg, e, sources[rows], actions[rows])
            for k, frame in enumerate(frames[rows]):
                np.testing.assert_array_equal(frame, again[k], err_msg=f"episode {e} step {k}")
                if (e, k) in observed:  # what the observation carried is what was stored
                    np.testing.assert_array_equal(observed[(e, k)], frame, err_msg=f"observed {e}/{k}")
            np.testing.assert_array_equal(eps["final_image_wrist"][e], again[-1], err_msg=f"episode {e} final")
        assert len({f.tobytes() for f in frames}) > 1  # the scene moved
    assert sum((e, k) in observed for e in judged for k in range(6)) >= 6


def _state_only(cfg):
    import dataclasses

    return dataclasses.replace(cfg, vision=dataclasses.replace(cfg.vision, image_size=0))


def test_the_learner_trains_an_image_actor_that_the_actor_takes(tmp_path, probe):
    """With a learner in the graph, its weights (an image actor trained on the stored frames) reach
    the actor, which loads them (they fit the profile's cameras) and acts with them on frames."""
    sets = [*VISION, "agent.warmup_rows=12", "agent.batch_size=8", "agent.utd=1", "train.weights_every_s=0.5"]
    g, cfg, run_dir = launch(tmp_path, ["cell", "actor", "mux", "recorder", "learner"], sets=sets)
    try:
        wait_for(lambda: status_of(g, "learner").get("updates", 0) >= 1, 120, what="the learner's first update")
        t0 = time.monotonic()
        actor = wait_for(lambda: (status_of(g, "actor").get("policy_version", -1) >= 2
                                  and status_of(g, "actor")), 30, what="the actor loading the learner's weights")
        assert actor["weights_rejected"] == 0, actor
        wait_for(lambda: any(c.source == Source.POLICY for c in probe.cmds_since(t0)), 10,
                 what="actions from the learner's actor")
        assert not [e for e in probe.events_of("fault") if e.source in ("actor", "learner", "recorder")]
    finally:
        g.close()
