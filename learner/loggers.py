"""Metrics loggers for the tools researchers already watch: `none`, `tensorboard`, `wandb`.

One protocol (`MetricsLogger`): `log(metrics, step)` (numbers only; anything else is skipped),
`summary(metrics)` (final numbers) and `close()`. `make_logger(kind, run_dir, name)` builds one:
- `tensorboard`: event files in `RUN/tensorboard/<name>/`, written with TensorBoard's own event
  writer (no TensorFlow, no torch): `tensorboard --logdir RUN/tensorboard` shows one run per
  `name` (`episodes` from the recorder, `learner` from the learner, one per experiment cell).
  A summary is written as `final/<key>` scalars at the last step logged.
- `wandb`: an offline run (no network) in `RUN/wandb/offline-run-*`, group = the run folder's
  name, job type = `name`; `wandb sync RUN/wandb/offline-run-*` uploads it later.
- `none`: nothing (the default; importing this module imports neither package).
Writers write from the calling thread into a buffer the library flushes itself; `guarded()`
wraps a logger so that a failure (disk full, a dead W&B service) is reported once and logging
stops, while training goes on.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol

from learner.optional import need

KINDS = ("none", "tensorboard", "wandb")
MODULES = {"none": (), "tensorboard": ("tensorboard",), "wandb": ("wandb",)}


class MetricsLogger(Protocol):
    kind: str

    def log(self, metrics: Mapping[str, Any], step: int) -> None: ...

    def summary(self, metrics: Mapping[str, Any]) -> None: ...

    def close(self) -> None: ...


def numbers(metrics: Mapping[str, Any]) -> dict[str, float]:
    """The entries that are numbers (bools as 0/1), as floats; strings and None are skipped."""
    out = {}
    for k, v in metrics.items():
        if isinstance(v, bool):
            out[k] = float(v)
        elif not isinstance(v, (str, bytes)) and hasattr(v, "__float__"):  # int, float, numpy scalars
            try:
                out[k] = float(v)
            except (TypeError, ValueError):
                continue
    return out


class NoLogger:
    kind = "none"

    def log(self, metrics: Mapping[str, Any], step: int) -> None:
        pass

    def summary(self, metrics: Mapping[str, Any]) -> None:
        pass

    def close(self) -> None:
        pass


class TensorBoardLogger:
    kind = "tensorboard"

    def __init__(self, logdir: Path):
        need("tensorboard", "--logger tensorboard")
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        self.logdir = Path(logdir)
        self.logdir.mkdir(parents=True, exist_ok=True)
        self._writer = EventFileWriter(str(self.logdir))
        self._last_step = 0

    def _write(self, values: dict[str, float], step: int) -> None:
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.compat.proto.summary_pb2 import Summary

        summary = Summary(value=[Summary.Value(tag=k, simple_value=v) for k, v in values.items()])
        self._writer.add_event(Event(wall_time=time.time(), step=int(step), summary=summary))

    def log(self, metrics: Mapping[str, Any], step: int) -> None:
        values = numbers(metrics)
        if values:
            self._write(values, step)
        self._last_step = max(self._last_step, int(step))

    def summary(self, metrics: Mapping[str, Any]) -> None:
        values = {f"final/{k}": v for k, v in numbers(metrics).items()}
        if values:
            self._write(values, self._last_step)

    def close(self) -> None:
        self._writer.close()  # flushes


class WandbLogger:
    kind = "wandb"

    def __init__(self, run_dir: Path, name: str, project: str, config: Mapping[str, Any] | None = None):
        wandb = need("wandb", "--logger wandb")
        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        settings = wandb.Settings(mode="offline", silent=True, console="off", x_disable_stats=True,
                                  x_disable_machine_info=True)
        self.run = wandb.init(project=project, name=f"{run_dir.name}/{name}", group=run_dir.name, job_type=name,
                              dir=str(run_dir), config=dict(config or {}), settings=settings,
                              reinit="create_new")
        self._last_step = -1

    def log(self, metrics: Mapping[str, Any], step: int) -> None:
        values = numbers(metrics)  # NaN is kept: W&B shows it as a gap
        step = max(int(step), self._last_step)  # W&B refuses steps that go back
        self.run.log(values, step=step)
        self._last_step = step

    def summary(self, metrics: Mapping[str, Any]) -> None:
        self.run.summary.update(numbers(metrics))

    def close(self) -> None:
        import wandb

        self.run.finish()
        wandb.teardown()  # stop W&B's service process now, not at interpreter exit


def check(kind: str) -> None:
    """Refuse an unknown kind (ValueError, one line) or a missing package (OptionalMissing)."""
    if kind not in KINDS:
        raise ValueError(f"unknown logger {kind!r}: expected one of {', '.join(KINDS)}")
    for m in MODULES[kind]:
        need(m, f"--logger {kind}")


def make_logger(kind: str, run_dir: Path, name: str, *, project: str = "rlif-cell",
                config: Mapping[str, Any] | None = None) -> MetricsLogger:
    """A logger of `kind` for the part `name` of the run in `run_dir` (see the module doc)."""
    check(kind)
    if kind == "tensorboard":
        return TensorBoardLogger(Path(run_dir) / "tensorboard" / name)
    if kind == "wandb":
        return WandbLogger(Path(run_dir), name, project, config)
    return NoLogger()


class guarded:
    """A logger whose first failure calls `on_error(message)` and turns it off (training goes on)."""

    def __init__(self, logger: MetricsLogger, on_error: Callable[[str], None]):
        self.logger, self.on_error, self.kind = logger, on_error, logger.kind

    def _call(self, fn: str, *args: Any) -> None:
        if self.logger is None:
            return
        try:
            getattr(self.logger, fn)(*args)
        except Exception as e:  # noqa: BLE001 - a metrics sink must never stop training
            self.logger = None
            self.on_error(f"{self.kind} logger stopped: {type(e).__name__}: {e}")

    def log(self, metrics: Mapping[str, Any], step: int) -> None:
        self._call("log", metrics, step)

    def summary(self, metrics: Mapping[str, Any]) -> None:
        self._call("summary", metrics)

    def close(self) -> None:
        self._call("close")
        self.logger = None
