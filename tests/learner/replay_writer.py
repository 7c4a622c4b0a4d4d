"""A replay writer for the crash and concurrency tests, run as a real process:

    python -m tests.learner.replay_writer PATH (mid K | loop)

Writes episodes whose every value is a function of (episode, step) (see `row`; with a store
that has cameras, every frame too: `frame`), so a reader can check each row it sees. Prints `committed E` after each end_episode returns. `mid K`:
commit K episodes, append 3 rows of the next one, print `MID`, then sleep (to be killed).
`loop`: commit episodes forever.
"""
from __future__ import annotations

import sys
import time

import numpy as np

from learner.replay import ReplayStore, Source

OBS = [f"o{i}" for i in range(18)]
ACT = [f"a{i}" for i in range(6)]
IMAGES = {"wrist": (16, 16, 3)}  # the image-store variant's camera


def frame(ep: int, step: int) -> np.ndarray:
    """A frame whose every pixel says (episode, step)."""
    f = np.empty(IMAGES["wrist"], np.uint8)
    f[..., 0], f[..., 1], f[..., 2] = ep % 256, step % 256, (ep * 31 + step) % 256
    return f


def length(ep: int) -> int:
    return 3 + (ep * 7) % 11


def row(ep: int, step: int):
    obs = np.arange(18, dtype=np.float32) + 1000 * ep + step
    action = np.full(6, ep + step / 100, dtype=np.float32)
    iv = step % 5 == 3
    return obs, action, iv


def append_step(store: ReplayStore, ep: int, step: int) -> None:
    obs, action, iv = row(ep, step)
    store.append(obs, action, -action, Source.HUMAN if iv else Source.POLICY, iv, t=0.1 * step,
                 expert_action=action if ep % 2 else None,
                 images={"wrist": frame(ep, step)} if store.images else None)


def write_episode(store: ReplayStore, ep: int) -> None:
    for step in range(length(ep)):
        append_step(store, ep, step)
    store.end_episode(terminal=ep % 3 == 0, success=ep % 3 == 0, truncated=ep % 3 != 0,
                      final_obs=row(ep, length(ep))[0], operator="writer", cell="sim",
                      final_images={"wrist": frame(ep, length(ep))} if store.images else None)


def check_rows(store: ReplayStore, lo: int = 0) -> None:
    """Assert that committed rows lo.. hold exactly what `row` says (raises AssertionError)."""
    n = store.n_rows
    ep, step = store.column("episode")[lo:n].astype(np.int64), store.column("step")[lo:n].astype(np.int64)
    obs = store.column("obs")[lo:n]
    want = np.arange(18, dtype=np.float32)[None, :] + (1000 * ep + step)[:, None]
    assert (obs == want).all(), f"torn or wrong obs in rows {lo}..{n}"
    assert (store.column("action")[lo:n] == (ep + step / 100).astype(np.float32)[:, None]).all()
    assert (store.column("policy_action")[lo:n] == -store.column("action")[lo:n]).all()
    assert (store.column("intervening")[lo:n] == (step % 5 == 3)).all()
    lengths = store.episodes["length"]
    assert lengths.tolist() == [length(e) for e in range(store.n_episodes)]
    assert int(lengths.sum()) == n
    if store.images:
        f = store.column("image_wrist")[lo:n]
        assert (f[:, :, :, 0] == (ep % 256)[:, None, None]).all(), f"torn or wrong frames in rows {lo}..{n}"
        assert (f[:, :, :, 1] == (step % 256)[:, None, None]).all()
        final = store.episodes["final_image_wrist"]
        assert all((final[e] == frame(e, length(e))).all() for e in range(store.n_episodes))


def main(argv: list[str]) -> int:
    path, mode = argv[0], argv[1]
    store = ReplayStore.open(path)
    ep = store.n_episodes
    if mode == "mid":
        for _ in range(int(argv[2])):
            write_episode(store, ep)
            ep += 1
            print(f"committed {store.n_episodes}", flush=True)
        for step in range(3):
            append_step(store, ep, step)
        print("MID", flush=True)
        time.sleep(600)
    while True:
        write_episode(store, ep)
        ep += 1
        print(f"committed {store.n_episodes}", flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
