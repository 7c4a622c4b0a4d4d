"""Optional packages: imported only by the feature that needs them, with a one-line fix if absent.

TensorBoard, W&B, MCAP, mp4 encoding and parquet are not needed to train. Each is pinned in
requirements.txt (so `scripts/bootstrap.sh` installs it); a machine set up without them still
runs everything else, and the feature that needs one says in one line how to install it.
`PINS` repeats those pins (a test checks they match requirements.txt).
"""
from __future__ import annotations

import importlib
from types import ModuleType

PINS = {
    "tensorboard": "tensorboard==2.21.0",
    "wandb": "wandb==0.31.0",
    "mcap": "mcap==1.6.0",
    "mcap_ros2": "mcap-ros2-support==0.6.0",
    "imageio_ffmpeg": "imageio-ffmpeg==0.8.1",
    "pyarrow": "pyarrow==26.0.1",
}


class OptionalMissing(RuntimeError):
    """An optional package a feature needs is not installed; the message is the one-line fix."""


def install_line(*modules: str) -> str:
    return ".venv/bin/python -m pip install " + " ".join(PINS[m] for m in modules)


def need(module: str, what: str) -> ModuleType:
    """Import `module` (a key of PINS), or raise OptionalMissing naming `what` and the install line."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        if (getattr(e, "name", None) or module).split(".")[0] != module.split(".")[0]:
            raise  # the package is there but broken inside: not a missing install
        raise OptionalMissing(f"{what} needs the {module} package, which is not installed: "
                              f"{install_line(module)} (pinned in requirements.txt)") from None


def check(modules: tuple[str, ...], what: str) -> None:
    """Fail early (before a run folder is written) when one of `modules` is missing."""
    for m in modules:
        need(m, what)
