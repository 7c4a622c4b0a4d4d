"""Which OpenGL backend MuJoCo may use here: chosen before `mujoco` is imported (by `import sim`).

The physics never needs OpenGL; only camera frames do (`TwinCell.render`, the dashboard camera,
`rlif sim rollout`'s GIF). MuJoCo imports its GL backend when it is imported, and with
MUJOCO_GL=egl on a machine without libEGL that import itself fails (inside PyOpenGL). So:
- MUJOCO_GL unset on Linux: egl if libEGL loads, else osmesa if libOSMesa loads, else the
  desktop default (glfw) when a DISPLAY exists, else rendering is disabled;
- MUJOCO_GL=egl / osmesa set but its library does not load: rendering is disabled (the physics
  still runs) and `PROBLEM` says why;
- MUJOCO_GL=disable (or off/0/false): disabled on purpose.
A camera frame asked for while disabled raises `RenderUnavailable`: one line naming the fix.
"""
from __future__ import annotations

import ctypes
import importlib
import importlib.util
import os
import sys

OFF = ("disable", "disabled", "off", "false", "0")
LIBS = {"egl": ("libEGL.so.1", "libEGL.so"), "osmesa": ("libOSMesa.so.8", "libOSMesa.so.6", "libOSMesa.so")}
FIX = ("camera frames need OpenGL: apt-get install -y libegl1 (headless, MUJOCO_GL=egl) or libosmesa6 "
       "(MUJOCO_GL=osmesa); the physics runs without it")

REASON_VAR = "RLIF_NO_GL_REASON"
PROBLEM: str = ""  # why this process cannot render ("" = it may)


class RenderUnavailable(RuntimeError):
    """A camera frame was asked for where OpenGL is unavailable (message: one line with the fix)."""


def loads(backend: str) -> bool:
    """Whether the shared library of `backend` (egl / osmesa) can be loaded into this process."""
    for name in LIBS.get(backend, ()):
        try:
            ctypes.CDLL(name)
            return True
        except OSError:
            continue
    return False


def choose() -> str:
    """Set MUJOCO_GL for this process (call before importing mujoco); returns the backend."""
    global PROBLEM
    asked = os.environ.get("MUJOCO_GL", "").strip().lower()
    if asked in OFF:  # a parent process may have decided it, and said why (inherited)
        PROBLEM = os.environ.get(REASON_VAR) or f"rendering is disabled (MUJOCO_GL={asked})"
        return "disable"
    if not sys.platform.startswith("linux"):
        return asked
    if not asked:
        for backend in ("egl", "osmesa"):
            if loads(backend):
                os.environ["MUJOCO_GL"] = backend
                return backend
        if os.environ.get("DISPLAY"):
            return ""  # a desktop: MuJoCo's default (glfw)
        PROBLEM = "no OpenGL library for headless rendering (neither libEGL nor libOSMesa loads)"
    elif asked in LIBS and not loads(asked):
        PROBLEM = f"MUJOCO_GL={asked} but {LIBS[asked][0]} does not load"
    else:
        return asked
    os.environ["MUJOCO_GL"] = "disable"
    os.environ[REASON_VAR] = PROBLEM  # child processes (graph nodes) inherit the decision and the reason
    return "disable"


# Python packages that bundle their own LLVM and crash (SIGSEGV in their library's initialisers)
# when loaded into a process where Mesa's software renderer (llvmpipe, with its libLLVM) already
# made a GL context: triton, which the CUDA builds of torch from PyPI install and which
# `torch.optim` imports through torch._dynamo (seen: torch 2.13.0+cu130, triton 3.7.1, Mesa EGL).
# Loaded before the first context, both coexist.
LOAD_BEFORE_GL = ("triton",)


def load_before_context() -> None:
    """Import the installed packages of `LOAD_BEFORE_GL` (call before creating a GL context);
    nothing where they are not installed, as with the CPU builds of torch."""
    for name in LOAD_BEFORE_GL:
        if name not in sys.modules and importlib.util.find_spec(name) is not None:
            importlib.import_module(name)


def unavailable(detail: str = "") -> RenderUnavailable:
    """The one-line error for a camera frame that cannot be made."""
    why = PROBLEM or detail or "no OpenGL context"
    return RenderUnavailable(f"no camera frame: {why}; {FIX}")
