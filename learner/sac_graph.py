"""`agent.cuda_graph`: the whole SAC update as one CUDA graph replay, no host work between updates.

At batch 256 a full RLPD update (utd critic steps, actor, temperature, soft target update) is a
few hundred small kernels: launched one by one from Python a GPU idles between them. Here the
update of `learner.sac.SACAgent` -- the very same step methods, ops, order and random draws from
the agent's generator -- is reorganised so that it can be captured once and replayed:

- Input: each batch column is copied into a pinned host buffer (two, alternating, so the host
  fills one while the other's copy is in flight), sent with ONE asynchronous host->device copy,
  and split into the utd interleaved minibatches on the device, inside the graph.
  `host_batch()` hands out the next pinned buffer's column views for a sampler to fill directly.
- NaN guard on the device: a non-finite loss sets the fused Adam kernel's `found_inf`, so that
  optimizer step is skipped (parameters, moments and step count unchanged; the soft target update
  still moves the targets towards the unchanged critic) and is counted; the count is read back
  with the metrics and `TrainingDiverged` is raised then, at most `metrics_every` updates later.
- Metrics: written into a device buffer; read back to the host every `cfg.metrics_every` updates
  (one transfer); in between `update()` returns the last values read.
- CUDA: the first `WARMUP` updates run eagerly on a side stream (optimizer state, cuBLAS
  workspaces, torch.compile), the next one is captured (with the agent's generator registered,
  so replays draw fresh noise) and replayed; every later update is one `replay()`. Loading a
  checkpoint replaces the optimizer state tensors: that is detected and the graph re-captured.
  If capture fails the update keeps running eagerly on the device, with a warning.
- Without CUDA every update runs the same code eagerly (tests compare it with the default update
  bit for bit on CPU).
"""
from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import torch

from learner.errors import TrainingDiverged

if TYPE_CHECKING:
    from learner.sac import SACAgent

WARMUP = 3  # eager updates before capture (CUDA)


class GraphedUpdate:
    """Runs `agent`'s update through static buffers; captured in a CUDA graph on CUDA devices."""

    def __init__(self, agent: SACAgent):
        self.agent = agent
        self.device = agent.device
        self.every = int(agent.cfg.metrics_every)
        for name, opt in agent.optimizers().items():
            if not all(g.get("fused") for g in opt.param_groups):
                raise ValueError(f"agent.cuda_graph needs torch's fused Adam (optimizer {name!r} is not fused "
                                 "on this torch build/device); set agent.cuda_graph=false")
        self.use_graph = self.device.type == "cuda"
        self._shapes: dict[str, tuple[int, ...]] | None = None  # column shape after the row axis
        self._graph = None
        self._graph_failed = False
        self._side = None  # CUDA side stream of the eager warm-up updates
        self._state_ptrs: tuple[int, ...] = ()
        self._eager_runs = 0
        self._since_read = 0
        self._last: dict[str, float] = {}
        self._names: list[str] | None = None
        self._slot = 0
        self._views: list[dict[str, np.ndarray]] = []

    # ---- public ------------------------------------------------------------------------------
    def host_batch(self) -> dict[str, np.ndarray]:
        """Column views (rows, ...) into the pinned buffer the next `update()` sends; a sampler may
        fill them in place and pass the returned dict to `update()` (no extra host copy).
        Available after the first update (which fixes the column shapes)."""
        if self._shapes is None:
            raise RuntimeError("host_batch(): call update() once first (it fixes the column shapes)")
        self._wait_slot(self._slot)
        return self._views[self._slot]

    def update(self, batch: dict[str, np.ndarray]) -> dict[str, float]:
        a = self.agent
        if a.diverged:
            raise TrainingDiverged(f"{a.algo}: this agent diverged earlier; reload the last good checkpoint")
        staged = bool(self._views) and batch is self._views[self._slot]  # filled in place via host_batch()
        n, arrays = a._checked_columns(batch)
        if self._shapes is None:
            self._allocate(n, arrays)
        elif n != self._n or any(arr.shape[1:] != self._shapes[k] for k, arr in arrays.items()):
            got = {k: (len(v), *v.shape[1:]) for k, v in arrays.items()}
            raise ValueError(f"{a.algo}.update (cuda_graph): batch shapes {got} differ from the first batch's "
                             f"{ {k: (self._n, *s) for k, s in self._shapes.items()} }")
        self._send(arrays, staged)
        self._run()
        a.n_updates += 1
        a.n_grad_steps += a.cfg.utd
        self._since_read += 1
        if self._since_read >= self.every:
            self.read_metrics()
        return dict(self._last)

    def read_metrics(self) -> dict[str, float]:
        """Read the device metrics back now (one transfer); raise TrainingDiverged if a step since
        the last read had a non-finite loss (that step was skipped on the device)."""
        a = self.agent
        if self._names is None:
            return {}
        vals = torch.cat([self._metrics, self._nonfinite.reshape(1)]).tolist()
        skipped, self._since_read = int(vals[-1]), 0
        self._last = dict(zip(self._names, vals[:-1]))
        if skipped:
            a.diverged = True
            raise TrainingDiverged(
                f"{a.algo}: {skipped} non-finite loss(es) in the last {self.every} update(s) up to update "
                f"{a.n_updates} (those optimizer steps were skipped on the device); resume from the last "
                "good checkpoint (lower lr or check the data)")
        return dict(self._last)

    # ---- buffers -----------------------------------------------------------------------------
    def _allocate(self, n: int, arrays: dict[str, np.ndarray]) -> None:
        dev, utd = self.device, self.agent.cfg.utd
        self._n, self._m = n, n // utd
        self._shapes = {k: tuple(v.shape[1:]) for k, v in arrays.items()}
        sizes = {k: int(np.prod(s, dtype=np.int64)) * n for k, s in self._shapes.items()}
        total = sum(sizes.values())
        pin = dev.type == "cuda"
        # one flat device buffer holding every column (rows, ...) back to back: one copy per update
        self._stage = torch.empty(total, dtype=torch.float32, device=dev)
        self._hosts = [torch.empty(total, dtype=torch.float32, pin_memory=pin) for _ in range(2 if pin else 1)]
        self._events = [None] * len(self._hosts)
        self._stage_cols, self._views = {}, []
        off = 0
        for k, size in sizes.items():
            self._stage_cols[k] = self._stage[off:off + size].view(n, *self._shapes[k])
            off += size
        for h in self._hosts:
            views, off = {}, 0
            for k, size in sizes.items():
                views[k] = h[off:off + size].numpy().reshape(n, *self._shapes[k])
                off += size
            self._views.append(views)
        if not pin:  # CPU: the host buffer IS the staging buffer
            self._stage = self._hosts[0]
            self._stage_cols = {k: torch.from_numpy(v) for k, v in self._views[0].items()}
        # minibatch columns (utd, m, ...), contiguous, as Agent._split makes them
        self._cols = {k: torch.empty(utd, self._m, *s, dtype=torch.float32, device=dev)
                      for k, s in self._shapes.items()}
        self._metrics = torch.zeros(0, device=dev)
        self._nonfinite = torch.zeros((), device=dev)
        self._flags = {}

    def _wait_slot(self, slot: int) -> None:
        ev = self._events[slot]
        if ev is not None:
            ev.synchronize()  # that buffer's previous copy has left (normally long done)

    def _send(self, arrays: dict[str, np.ndarray], staged: bool) -> None:
        slot = self._slot
        if not staged:
            self._wait_slot(slot)
            for k, arr in arrays.items():
                np.copyto(self._views[slot][k], arr)
        if self.device.type == "cuda":
            self._stage.copy_(self._hosts[slot], non_blocking=True)
            ev = self._events[slot] = torch.cuda.Event()
            ev.record()
            self._slot = (slot + 1) % len(self._hosts)

    # ---- the update body (captured on CUDA) ----------------------------------------------------
    def _body(self) -> None:
        a, utd, m = self.agent, self.agent.cfg.utd, self._m
        for k, col in self._cols.items():  # minibatch j takes rows j, j+utd, ... (Agent._split)
            col.copy_(self._stage_cols[k].view(m, utd, *self._shapes[k]).transpose(0, 1))
        mbs = [{k: v[i] for k, v in self._cols.items()} for i in range(utd)]
        out: dict[str, torch.Tensor] = {}
        for mb in mbs:
            out.update(a._critic_step(mb, guard=self._device_guard))
        out.update(a._actor_step(mbs[-1]["obs"], guard=self._device_guard))
        if self._names is None:
            self._names = list(out)
            self._metrics = torch.zeros(len(self._names), device=self.device)
        self._metrics.copy_(torch.stack([out[k].detach().float().reshape(()) for k in self._names]))

    def _device_guard(self, optimizers, **losses: torch.Tensor) -> None:
        """found_inf = 1.0 if any loss is non-finite: the fused Adam step then changes nothing."""
        key = tuple(id(o) for o in optimizers)
        flag = self._flags.get(key)
        if flag is None:
            flag = self._flags[key] = torch.zeros((), device=self.device)
        vals = torch.stack([v.detach().float().reshape(()) for v in losses.values()])
        flag.copy_(torch.logical_not(torch.isfinite(vals).all()))
        self._nonfinite.add_(flag)
        for o in optimizers:
            o.found_inf = flag

    # ---- eager or graph ------------------------------------------------------------------------
    def _run(self) -> None:
        if not self.use_graph or self._graph_failed:
            self._body()
            return
        ptrs = self._state_pointers()
        if self._graph is not None and ptrs != self._state_ptrs:
            self._graph = None  # a checkpoint load replaced the optimizer state: capture again
            self._eager_runs = 0
        if self._graph is not None:
            self._graph.replay()
            return
        if self._eager_runs < WARMUP:
            self._eager_on_side_stream()
            self._eager_runs += 1
            return
        self._capture()

    def _state_pointers(self) -> tuple[int, ...]:
        ptrs = []
        for opt in self.agent.optimizers().values():
            for st in opt.state.values():
                ptrs.extend(v.data_ptr() for v in st.values() if torch.is_tensor(v))
        return tuple(ptrs)

    def _eager_on_side_stream(self) -> None:
        if self._side is None:
            self._side = torch.cuda.Stream(device=self.device)
        side = self._side
        side.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(side):
            self._body()
        torch.cuda.current_stream(self.device).wait_stream(side)

    def _capture(self) -> None:
        a = self.agent
        for opt in a.optimizers().values():
            for g in opt.param_groups:
                g["capturable"] = True  # step counts stay on the device
        graph = torch.cuda.CUDAGraph()
        try:
            graph.register_generator_state(a.gen)  # replays draw fresh noise from the agent's generator
            # thread_local: other threads (e.g. a node exporting the actor) may use CUDA meanwhile
            with torch.cuda.graph(graph, capture_error_mode="thread_local"):
                self._body()
        except Exception as e:  # noqa: BLE001 - any capture failure: keep training eagerly
            self._graph_failed = True
            warnings.warn(f"CUDA graph capture of the SAC update failed ({type(e).__name__}: {str(e)[:200]}); "
                          "running it uncaptured", RuntimeWarning, stacklevel=3)
            torch.cuda.synchronize(self.device)
            self._body()
            return
        self._graph = graph
        self._state_ptrs = self._state_pointers()
        graph.replay()  # capture only recorded: this replay is the update itself
