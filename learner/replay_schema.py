"""The replay store's on-disk schema: the one place that names its columns, attrs and counters.

On disk: a zarr v3 directory (`runs/<run>/replay.zarr`), readable by any plain zarr client,
nothing pickled::

    zarr.json          root attrs: schema "rlif-replay", schema_version 1, obs_labels,
                       action_labels, chunk_rows, meta (create's **meta), operators, cells
                       (vocabularies of the episode codes), n_committed_rows, n_committed_episodes,
                       dense_chunks (true: every chunk below the counters is a file, zeros too)
    rows/<column>      one row per control step, see ROW_COLUMNS
    episodes/<column>  one row per committed episode, see EPISODE_COLUMNS
    (camera frames, optional: rows/image_<camera>, episodes/final_image_<camera>, root attr
    images; learner/replay_images.py)

`learner.replay.ReplayStore` writes and reads this layout; `learner.replay_verify` and
`learner.replay_repair` check and mend it against the same names.
"""
from __future__ import annotations

import numpy as np

from learner import replay_images as RI

SCHEMA = "rlif-replay"
SCHEMA_VERSION = 1
EPISODE_META = ("operator", "cell", "aborted", "demo")  # keyword meta end_episode accepts


def ROW_COLUMNS(n_obs: int, n_act: int) -> dict:
    """Row columns on disk: name -> (dtype, trailing shape)."""
    return {"obs": ("float32", (n_obs,)), "action": ("float32", (n_act,)),  # action = executed
            "policy_action": ("float32", (n_act,)), "expert_action": ("float32", (n_act,)),
            "source": ("uint8", ()), "intervening": ("bool", ()), "episode": ("int32", ()),
            "step": ("int32", ()), "t": ("float64", ()),  # t: seconds (cell clock)
            "terminal": ("bool", ()), "truncated": ("bool", ())}  # set on an episode's last row


def EPISODE_COLUMNS(n_obs: int) -> dict:
    """Episode columns on disk. operator/cell are codes into root attrs operators/cells;
    interventions = takeovers (starts of operator-driven stretches), intervention_steps =
    operator-driven rows."""
    return {"start": ("int64", ()), "length": ("int32", ()), "success": ("bool", ()),
            "terminal": ("bool", ()), "truncated": ("bool", ()), "aborted": ("bool", ()),
            "demo": ("bool", ()), "interventions": ("int32", ()), "intervention_steps": ("int32", ()),
            "operator": ("int16", ()), "cell": ("int8", ()), "final_obs": ("float32", (n_obs,))}


def SPECS(n_obs: int, n_act: int, images: dict | None = None) -> dict:
    """Every column on disk by group, camera frames included."""
    images = images or {}
    return {"rows": {**ROW_COLUMNS(n_obs, n_act), **RI.row_columns(images)},
            "episodes": {**EPISODE_COLUMNS(n_obs), **RI.episode_columns(images)}}


REQUIRED_ATTRS = {"obs_labels": list, "action_labels": list, "operators": list, "cells": list,
                  "n_committed_rows": int, "n_committed_episodes": int}
DERIVED = {"r_rlif": ("float32", ()), "r_task": ("float32", ()), "last": ("bool", ()),
           "prior": ("bool", ()), "abort_end": ("bool", ())}  # RAM only, recomputed from the flags on load


def counter_problem(starts: np.ndarray, lengths: np.ndarray, n_rows: int) -> str | None:
    """Why counters (`len(starts)` episodes, `n_rows` rows) disagree with the committed episode
    table (contiguous episodes of >= 1 row from row 0, ending exactly at n_rows), or None."""
    e = len(starts)
    lengths = lengths.astype(np.int64)
    covered = int(lengths.sum())
    chain = e == 0 or (starts[0] == 0 and (lengths >= 1).all()
                       and (starts[1:] == starts[:-1] + lengths[:-1]).all())
    if chain and covered == n_rows:
        return None
    return (f"the counters disagree with the data: n_committed_rows={n_rows}, n_committed_episodes={e}, "
            f"but those episodes {'cover' if chain else 'do not form a contiguous table over'} {covered} rows")
