"""The labelled `Float64MultiArray` topics: observation, policy action, command and step (the one
write path: each executed step, then the episode's end). Every value carries its label
(`robot_stack/wire.py`), so receivers match by key and a message of the wrong length or labels is
a `TopicError` saying what differs; with cameras, frames travel in labelled blocks after the values.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from std_msgs.msg import Float64MultiArray

from robot_stack import wire
from robot_stack.topics.specs import COMMAND, OBSERVATION, POLICY_ACTION, STEP, TopicSpec
from robot_stack.wire import Shapes, TopicError
from sim.contract import END_REASONS, EpisodeEnd, Source, Step


@dataclass(frozen=True)
class Observation:
    episode: int
    step: int
    t: float  # s since the episode started (cell clock)
    obs: np.ndarray  # float32, labelled by the cell's obs_labels
    images: dict | None = None  # {camera: uint8 (H, W, 3)} of the state obs describes; None without cameras


@dataclass(frozen=True)
class PolicyAction:
    episode: int
    step: int
    action: np.ndarray  # float32 in [-1, 1]


@dataclass(frozen=True)
class Command:
    episode: int
    step: int
    source: Source
    action: np.ndarray  # float32 in [-1, 1]; zeros when source is HOLD
    policy_action: np.ndarray | None = None  # the policy's proposal for this step (None: none in time)




# ---------------------------------------------------------------- MultiArray helpers
def _labelled(values: Sequence[float], labels: Sequence[str]) -> Float64MultiArray:
    return wire.pack(values, labels, "")


def _check_labels(msg: Float64MultiArray, expected: Sequence[str], topic: TopicSpec) -> np.ndarray:
    """The values of a message that carries no frames (any frame block is refused)."""
    return wire.unpack(msg, expected, topic.name)[0]


def _key(data: np.ndarray, topic: TopicSpec) -> tuple[int, int]:
    ep, st = data[0], data[1]
    if not (np.isfinite(ep) and np.isfinite(st)) or ep != int(ep) or st != int(st) or ep < 0 or st < 0:
        raise TopicError(f"{topic.name}: episode/step must be non-negative integers, got {ep}, {st}")
    return int(ep), int(st)


def observation_labels(obs_labels: Sequence[str]) -> tuple[str, ...]:
    return ("episode", "step", "t", *obs_labels)


def pack_observation(o: Observation, obs_labels: Sequence[str], cameras: Shapes | None = None) -> Float64MultiArray:
    """`cameras`: the graph's ({camera: (H, W, 3)}, `VisionConfig.frame_shapes`): `o.images` must hold exactly those."""
    if len(o.obs) != len(obs_labels):
        raise TopicError(f"{OBSERVATION.name}: obs has {len(o.obs)} values for {len(obs_labels)} labels")
    return wire.pack([o.episode, o.step, o.t, *o.obs], observation_labels(obs_labels), OBSERVATION.name,
                     o.images, cameras)


def unpack_observation(msg: Float64MultiArray, obs_labels: Sequence[str], cameras: Shapes | None = None) -> Observation:
    data, frames = wire.unpack(msg, observation_labels(obs_labels), OBSERVATION.name, cameras)
    ep, st = _key(data, OBSERVATION)
    return Observation(ep, st, float(data[2]), data[3:].astype(np.float32), frames)


def policy_action_labels(action_labels: Sequence[str]) -> tuple[str, ...]:
    return ("episode", "step", *action_labels)


def pack_policy_action(p: PolicyAction, action_labels: Sequence[str]) -> Float64MultiArray:
    return _labelled([p.episode, p.step, *p.action], policy_action_labels(action_labels))


def unpack_policy_action(msg: Float64MultiArray, action_labels: Sequence[str]) -> PolicyAction:
    """Non-finite action values are passed through: the mux, not the wire, decides to hold."""
    data = _check_labels(msg, policy_action_labels(action_labels), POLICY_ACTION)
    ep, st = _key(data, POLICY_ACTION)
    return PolicyAction(ep, st, data[2:].astype(np.float32))


def command_labels(action_labels: Sequence[str]) -> tuple[str, ...]:
    return ("episode", "step", "source", *action_labels, *(f"policy.{a}" for a in action_labels))


def _nan_if_none(a, n: int) -> np.ndarray:
    return np.full(n, np.nan, np.float32) if a is None else np.asarray(a, np.float32)


def pack_command(c: Command, action_labels: Sequence[str]) -> Float64MultiArray:
    pol = _nan_if_none(c.policy_action, len(action_labels))
    return _labelled([c.episode, c.step, int(c.source), *c.action, *pol], command_labels(action_labels))


def _source(value: float, topic: TopicSpec) -> Source:
    try:
        return Source(int(value))
    except ValueError:
        raise TopicError(f"{topic.name}: source {value} is not one of {[int(s) for s in Source]}") from None


def unpack_command(msg: Float64MultiArray, action_labels: Sequence[str]) -> Command:
    data = _check_labels(msg, command_labels(action_labels), COMMAND)
    ep, st = _key(data, COMMAND)
    n = len(action_labels)
    pol = data[3 + n:].astype(np.float32)
    return Command(ep, st, _source(data[2], COMMAND), data[3:3 + n].astype(np.float32),
                   None if np.isnan(pol).all() else pol)


# ---------------------------------------------------------------- step (the one write path)
END_COUNTS = ("interventions", "intervention_steps", "holds", "missed_deadlines")


def step_labels(obs_labels: Sequence[str], action_labels: Sequence[str]) -> tuple[str, ...]:
    return ("episode", "step", "t", "source", *obs_labels, *(f"action.{a}" for a in action_labels),
            *(f"policy.{a}" for a in action_labels))


def end_labels(obs_labels: Sequence[str]) -> tuple[str, ...]:
    return ("episode", "steps", "reason", *END_COUNTS, *(f"final.{o}" for o in obs_labels))


def pack_step(s: Step, obs_labels: Sequence[str], action_labels: Sequence[str],
              cameras: Shapes | None = None) -> Float64MultiArray:
    """`cameras` as for `pack_observation`: `s.images` must hold exactly the graph's cameras."""
    if len(s.obs) != len(obs_labels) or len(s.action) != len(action_labels):
        raise TopicError(f"{STEP.name}: a step needs {len(obs_labels)} obs and {len(action_labels)} action values")
    return wire.pack([s.episode, s.step, s.t, int(s.source), *s.obs, *s.action,
                      *_nan_if_none(s.policy_action, len(action_labels))], step_labels(obs_labels, action_labels),
                     STEP.name, s.images, cameras)


def pack_episode_end(e: EpisodeEnd, obs_labels: Sequence[str], cameras: Shapes | None = None) -> Float64MultiArray:
    """`cameras` as for `pack_observation`: `e.final_images` must hold exactly the graph's cameras."""
    return wire.pack([e.episode, e.steps, END_REASONS.index(e.reason), *(getattr(e, k) for k in END_COUNTS),
                      *e.final_obs], end_labels(obs_labels), STEP.name, e.final_images, cameras)


def unpack_step(msg: Float64MultiArray, obs_labels: Sequence[str], action_labels: Sequence[str],
                cameras: Shapes | None = None) -> Step | EpisodeEnd:
    """A `Step`, or the `EpisodeEnd` that follows an episode's last step (told apart by their labels);
    with `cameras`, each carries the frames of its state (`images`, `final_images`)."""
    if len(msg.layout.dim) > 1 and msg.layout.dim[1].label == "steps":
        data, frames = wire.unpack(msg, end_labels(obs_labels), STEP.name, cameras)
        ep, steps = _key(data, STEP)
        code, counts = data[2], data[3:3 + len(END_COUNTS)]
        if not (np.isfinite(code) and code == int(code) and 0 <= code < len(END_REASONS)):
            raise TopicError(f"{STEP.name}: reason {code} is not an index of {list(END_REASONS)}")
        if not (np.isfinite(counts).all() and (counts >= 0).all() and (counts == np.round(counts)).all()):
            raise TopicError(f"{STEP.name}: {list(END_COUNTS)} must be non-negative integers, got {counts.tolist()}")
        return EpisodeEnd(ep, steps, END_REASONS[int(code)], data[3 + len(END_COUNTS):].astype(np.float32),
                          *(int(c) for c in counts), final_images=frames)
    data, frames = wire.unpack(msg, step_labels(obs_labels, action_labels), STEP.name, cameras)
    ep, st = _key(data, STEP)
    n_obs, n_act = len(obs_labels), len(action_labels)
    obs = data[4:4 + n_obs].astype(np.float32)
    action = data[4 + n_obs:4 + n_obs + n_act].astype(np.float32)
    return Step(ep, st, float(data[2]), obs, action, data[4 + n_obs + n_act:].astype(np.float32),
                _source(data[3], STEP), frames)

