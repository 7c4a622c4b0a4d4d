"""Small helpers shared by tests (import as `from tests.helpers import wait_for`)."""
from __future__ import annotations

import time

import pytest


def wait_for(pred, timeout: float = 10.0, interval: float = 0.02, what: str = "condition", fail: bool = True):
    """Poll `pred()` until truthy; returns its value or fails the test naming `what`
    (with `fail=False`, returns the last falsy value instead)."""
    deadline = time.monotonic() + timeout
    v = None
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    if not fail:
        return v
    pytest.fail(f"timed out after {timeout:.1f} s waiting for {what}")
