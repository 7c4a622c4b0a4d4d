"""Sampling side of the replay store: cached labels, selection pools, the batch gather.

A mixin of `learner.replay.ReplayStore` (which owns the columns: `self.rows`, `self.eps`,
`self.pools`, `self._n`). Rewards and selections come from `learner.labeling`, computed once per
committed episode (`_derive`) into RAM-only columns, so `sample` is `rng.integers` plus numpy
gathers (well under a millisecond for 256 rows). The sample() contract is in replay's docstring.
"""
from __future__ import annotations

import numpy as np

from learner import labeling
from learner.errors import EmptySubset


class Sampler:
    def _derive(self, lo: int, hi: int) -> None:
        """RAM-only columns of committed rows lo:hi (whole episodes): rewards, last, prior, abort_end."""
        if hi <= lo:
            return
        c, ep = self.rows.cols, self.rows["episode"][lo:hi]
        aborted = self.eps["aborted"][ep]
        c["r_rlif"][lo:hi] = labeling.rlif_rewards(c["intervening"][lo:hi], ep, aborted)
        c["abort_end"][lo:hi] = labeling.abort_ends(ep, aborted)
        c["r_task"][lo:hi] = labeling.task_rewards(ep, self.eps["success"][ep])
        c["last"][lo:hi] = labeling.episode_last(ep)
        c["prior"][lo:hi] = labeling.prior_mask(c["source"][lo:hi], self.eps["demo"][ep])

    def _pool_mask(self, key, lo: int, hi: int) -> np.ndarray:
        subset, prior = key
        c = self.rows.cols
        m = labeling.subset_mask(subset, intervening=c["intervening"][lo:hi], source=c["source"][lo:hi],
                                 demo=self.eps["demo"][c["episode"][lo:hi]],
                                 expert_action=c["expert_action"][lo:hi])
        return m if prior is None else m & (c["prior"][lo:hi] == prior)

    def sample(self, batch_size: int, rng: np.random.Generator, reward: str = "rlif",
               symmetric: bool = False, subset: str = "all") -> dict[str, np.ndarray]:
        """A batch of committed rows, uniformly at random with replacement (see README)."""
        n = self._n
        if subset not in labeling.SUBSETS or reward not in labeling.REWARDS:
            raise ValueError(f"sample: subset {subset!r} / reward {reward!r}; allowed "
                             f"{list(labeling.SUBSETS)} / {list(labeling.REWARDS)}")
        if symmetric:  # prior half first, then the online half (agents rely on this order)
            prior, online = self.pools.get((subset, True), n), self.pools.get((subset, False), n)
            if len(prior) and len(online):
                parts = [(prior, batch_size // 2), (online, batch_size - batch_size // 2)]
            else:  # one set is empty: everything from the other
                parts = [(prior if len(prior) else online, batch_size)]
        else:
            parts = [(None if subset == "all" else self.pools.get((subset, None), n), batch_size)]
        idx = []
        for pool, m in parts:
            size = n if pool is None else len(pool)
            if size == 0:
                raise EmptySubset(f"sample: no committed rows in subset {subset!r} ({n} rows in the store)")
            i = rng.integers(0, size, size=m)
            idx.append(i if pool is None else pool[i])
        idx = idx[0] if len(idx) == 1 else np.concatenate(idx)
        return self._gather(idx.astype(np.int64, copy=False), reward)

    def _gather(self, idx: np.ndarray, reward: str) -> dict[str, np.ndarray]:
        c = self.rows.cols

        def rows2d(name, at=idx):  # np.take is ~3x faster than fancy indexing for 2-D rows
            return np.take(c[name], at, axis=0)

        nxt = rows2d("obs", idx + 1)  # the mirror always has a row beyond the last committed one
        last = c["last"][idx]
        if last.any():
            nxt[last] = self.eps["final_obs"][c["episode"][idx[last]]]
        term = c["terminal"][idx]
        # Under an RLIF reward an abort is a cut, not an outcome: bootstrap (see labeling). Under
        # the task reward alone it is a failed ending (0, terminal), like a real outcome.
        final = term if reward == "task" else term & ~c["abort_end"][idx]
        r_task = c["r_task"][idx] if reward != "rlif" else None
        frames = {}
        for cam in self.images:  # camera frames: this step's and the next state's, like obs
            frames[f"image_{cam}"], frames[f"next_image_{cam}"] = rows2d(f"image_{cam}"), rows2d(f"image_{cam}", idx + 1)
            if last.any():
                frames[f"next_image_{cam}"][last] = self.eps[f"final_image_{cam}"][c["episode"][idx[last]]]
        return {**frames, "obs": rows2d("obs"), "action": rows2d("action"), "next_obs": nxt,
                "reward": labeling.combine(reward, c["r_rlif"][idx], r_task),
                "mask": (~final).astype(np.float32), "done": (term | c["truncated"][idx]).astype(np.float32),
                "intervening": c["intervening"][idx], "source": c["source"][idx],
                "policy_action": rows2d("policy_action"), "expert_action": rows2d("expert_action"),
                "index": idx}

