"""Rewards and training selections, computed from the stored flags (never stored themselves).

The replay store keeps what happened (who drove each step, how each episode ended); what a
learner makes of it is decided here, at sample time, so one store serves RLIF, the task-reward
ablations, HG-DAgger, BC and DAgger. All functions take per-row numpy columns of ONE store
(rows of an episode are contiguous and in step order, as `learner.replay` writes them).

RLIF reward (arXiv 2311.12996): an *operator-driven* step is a row with `intervening` True
(the operator held control, whatever the mux finally executed). A *policy step* directly
followed, in the same episode, by an operator-driven step gets -1: it is the action the
operator judged bad enough to take over. Every other step gets 0, including the operator's
own steps and the last policy step before an episode boundary (never blamed across episodes).

Worked example (three episodes, `P` policy step, `H` operator-driven step)::

    row          0  1  2  3  4  5 | 6  7 | 8  9 10 11
    episode      0  0  0  0  0  0 | 1  1 | 2  2  2  2
    driver       P  P  H  H  P  H | P  P | H  P  P  H
    rlif reward  0 -1  0  0 -1  0 | 0  0 | 0  0 -1  0

  - row 1: the policy step right before the takeover at row 2 -> -1;
  - rows 2-3: a 2-step intervention -> 0 (operator steps are never penalised);
  - row 4: back on the policy for one step, then a new takeover -> -1 (back-to-back
    interventions are each blamed on the step before them);
  - row 5: the intervention lasts to the episode's end -> nothing more to blame;
  - row 7: the last step of episode 1 is followed by a takeover, but at the first step of
    episode 2: never blamed across an episode boundary -> 0;
  - row 8: a takeover at an episode's first step has no policy step before it -> nothing;
  - row 10: -1 (row 11 is a takeover).

Force aborts count as a takeover by the safety system: the last row of an aborted episode,
if the policy drove it, gets -1 like the step before a takeover; and that row is NOT terminal
for the backup (the sampler's `mask` is 1 there, bootstrapping from the state the abort stopped
in; see `abort_ends`). Why: with rewards in {0, -1}, a terminal abort would be worth 0, the best
value there is, so a learner would learn to end every episode by ramming the board before the
operator can take over (measured: the `quick` experiment reached 85 % aborts at 5k steps before
this rule). An abort is a cut, not an outcome of the task.

Task reward: +1 on the last row of every successful episode (success is terminal, so that row
is also the one whose `mask` is 0), 0 elsewhere. Aborts and timeouts give 0; under the task
reward alone an abort IS terminal (mask 0: a failed ending, the worst value there is, so the
rule above is not needed there). `rlif+task` is
the plain sum; a success right after an intervention therefore gives the operator's last step
+1 and the policy step before the takeover -1.

Selections (boolean row masks, see `subset_mask`):
  - "all":            every row (RLPD/RLIF with operator steps kept, as HIL-SERL does);
  - "policy":         rows that are not operator-driven (the RLIF reference code's RL buffer);
  - "operator":       rows the operator produced: source == HUMAN, plus every row of an episode
                      marked `demo` -- what HG-DAgger and BC imitate (the prior set of RLPD);
  - "expert_labeled": rows with a finite `expert_action` (DAgger: the simulated expert labels
                      every visited state; on the real robot this set is empty).
"""
from __future__ import annotations

import numpy as np

REWARDS = ("rlif", "task", "rlif+task")
SUBSETS = ("all", "policy", "operator", "expert_labeled")
HUMAN = 1  # learner.replay.Source.HUMAN (not imported: replay imports this module)


def rlif_rewards(intervening: np.ndarray, episode: np.ndarray, aborted: np.ndarray | None = None) -> np.ndarray:
    """Per-row RLIF reward (float32): -1 on a policy step directly followed, in the same
    episode, by an operator-driven step, and on a policy-driven last row of an aborted episode
    (`aborted`: the episode's flag per row); 0 everywhere else (see the module docstring)."""
    iv = np.asarray(intervening, dtype=bool)
    ep = np.asarray(episode)
    if iv.shape != ep.shape or iv.ndim != 1:
        raise ValueError(f"rlif_rewards: intervening {iv.shape} and episode {ep.shape} must be equal 1-D")
    r = np.zeros(iv.shape, dtype=np.float32)
    if iv.size > 1:
        blamed = ~iv[:-1] & iv[1:] & (ep[:-1] == ep[1:])
        r[:-1][blamed] = -1.0
    if aborted is not None:
        r[abort_ends(episode, aborted) & ~iv] = -1.0
    return r


def abort_ends(episode: np.ndarray, aborted: np.ndarray) -> np.ndarray:
    """Bool per row: the last row of an episode that ended in a force abort (`aborted` is the
    episode's flag per row). The sampler bootstraps through these rows (mask 1)."""
    ab = np.asarray(aborted, dtype=bool)
    last = episode_last(episode)
    if ab.shape != last.shape:
        raise ValueError(f"abort_ends: aborted {ab.shape} and episode {last.shape} differ")
    return last & ab


def episode_last(episode: np.ndarray) -> np.ndarray:
    """Bool per row: True on the last row of each (contiguous) episode."""
    ep = np.asarray(episode)
    last = np.ones(ep.shape, dtype=bool)
    if ep.size > 1:
        last[:-1] = ep[:-1] != ep[1:]
    return last


def task_rewards(episode: np.ndarray, success: np.ndarray) -> np.ndarray:
    """Per-row task reward (float32): +1 on the last row of each episode whose `success` is
    True, else 0. `success` is per row (the episode's outcome repeated on its rows)."""
    ok = np.asarray(success, dtype=bool)
    last = episode_last(episode)
    if ok.shape != last.shape:
        raise ValueError(f"task_rewards: success {ok.shape} and episode {last.shape} differ")
    return (last & ok).astype(np.float32)


def combine(reward: str, rlif: np.ndarray, task: np.ndarray) -> np.ndarray:
    """The reward named `reward` ("rlif", "task" or "rlif+task") from the two components."""
    if reward == "rlif":
        return rlif
    if reward == "task":
        return task
    if reward == "rlif+task":
        return rlif + task
    raise ValueError(f"reward={reward!r}; allowed: {list(REWARDS)}")


def prior_mask(source: np.ndarray, demo: np.ndarray) -> np.ndarray:
    """RLPD's prior set: rows the operator produced (source == HUMAN) or rows of demo episodes."""
    return (np.asarray(source) == HUMAN) | np.asarray(demo, dtype=bool)


def subset_mask(subset: str, *, intervening: np.ndarray, source: np.ndarray, demo: np.ndarray,
                expert_action: np.ndarray) -> np.ndarray:
    """Bool per row: the rows a learner trains on (see "Selections" in the module docstring)."""
    if subset == "all":
        return np.ones(np.shape(intervening), dtype=bool)
    if subset == "policy":
        return ~np.asarray(intervening, dtype=bool)
    if subset == "operator":
        return prior_mask(source, demo)
    if subset == "expert_labeled":
        ea = np.asarray(expert_action)
        return np.isfinite(ea).all(axis=tuple(range(1, ea.ndim))) if ea.ndim > 1 else np.isfinite(ea)
    raise ValueError(f"subset={subset!r}; allowed: {list(SUBSETS)}")


# What each baseline trains on (used by learner agents and documented in the README).
ALGO_SUBSET = {"rlpd": "all", "bc": "operator", "hg-dagger": "operator", "dagger": "expert_labeled"}
