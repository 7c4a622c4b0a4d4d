"""Every episode-seed range of the project, in one place, so no two uses ever overlap.

An episode reset with seed k draws its start pose and its true hole offset from k alone, so a
seed range is a fixed set of episodes. The ranges (k counts from 0 in each):

- training and demo episodes of run seed s:  (s + 1) * TRAIN_STRIDE + k        (1e6 .. )
  (`episode_seed`: `rlif experiment`'s cells and `rlif train`'s graph alike: the cell node,
  the Franka bridge's start poses, episode videos, demo seeding)
- intermediate evaluations (learning curves):  EVAL + k                          (10,000 .. )
- expert calibration (choosing expert levels): CALIBRATION + k                   (20,000 .. )
- held-out final evaluation, default cell:     HELD_OUT + k                      (500,000 .. )
- held-out final evaluation, shifted cell:     SHIFTED + k                       (600,000 .. )
- deployment runs (final actor, operator on):  DEPLOY + k                        (700,000 .. )
- the reference agent's own training:          REFERENCE_TRAIN + k               (90,000,000 .. )

Random streams of one run on the graph (`stream_seed`): the learner's batch sampler and the
actor's exploration noise, each the run seed plus its own offset (`rlif experiment`'s cells draw
theirs in `experiment_cell`, from [11, run seed]).

Held-out seeds are never used for training, tuning or intermediate evaluation: they are read
only by the final evaluation of a finished cell.
"""
from __future__ import annotations

TRAIN_STRIDE = 1_000_000
EVAL = 10_000
CALIBRATION = 20_000
HELD_OUT = 500_000
SHIFTED = 600_000
DEPLOY = 700_000
REFERENCE_TRAIN = 90_000_000
MAX_EPISODES_PER_RANGE = 10_000  # evaluations use at most this many seeds of a range
STREAMS = {"sampler": 7, "exploration": 11}  # random streams of a run on the graph: run seed + offset


def stream_seed(run_seed: int, stream: str) -> int:
    """Seed of random stream `stream` (STREAMS) of run seed `run_seed`."""
    if stream not in STREAMS:
        raise ValueError(f"random stream {stream!r}: must be one of {sorted(STREAMS)}")
    return run_seed + STREAMS[stream]


def train_base(run_seed: int) -> int:
    """First training/demo episode seed of run seed `run_seed`."""
    if run_seed < 0 or run_seed >= 80:
        raise ValueError(f"run seed {run_seed}: must be in [0, 80) so its episodes stay in their own range")
    return (run_seed + 1) * TRAIN_STRIDE


def episode_seed(run_seed: int, episode: int) -> int:
    """Reset seed of training (or demo) episode `episode` of run seed `run_seed`."""
    if not 0 <= episode < TRAIN_STRIDE:
        raise ValueError(f"episode {episode}: must be in [0, {TRAIN_STRIDE}) to stay in its run's range")
    return train_base(run_seed) + episode
