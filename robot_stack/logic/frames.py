"""The cameras' frames for each observation a clock publishes, and what to do when there are none.

Pure logic: a cell node (twin or Franka bridge) owns one `FrameSource` when `vision.image_size` > 0.
`take()` gives the frames of the state now, checked against the graph's cameras, or None while
the cell cannot give them (`images()` raised ValueError: a stale real camera, a frame of the wrong
shape): the clock then starts no step (no tick: nothing is recorded without its frames). An outage
is reported once, when it begins, and its end once. `final()` gives the frames of an episode's final
state, or, where the cameras fail then, the last step's (what the store keeps when an end gives
none), so an episode's end is never held back by a camera.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from robot_stack import wire


class FrameSource:
    def __init__(self, images: Callable[[], dict], cameras: wire.Shapes):
        self.images, self.cameras = images, dict(cameras)
        self.why: str | None = None  # why the frames are unusable, during an outage
        self.failures = 0  # calls that got no frames

    def _read(self) -> dict:
        frames = self.images()
        wire.check_frames(frames, self.cameras, "cell.images()")
        return frames

    def take(self) -> tuple[dict | None, str]:
        """(the frames or None, news): news is "lost" when an outage begins (`why` says why),
        "back" when it ends, "" otherwise."""
        try:
            frames = self._read()
        except ValueError as e:
            self.failures += 1
            lost, self.why = self.why is None, str(e)
            return None, "lost" if lost else ""
        back, self.why = self.why is not None, None
        return frames, "back" if back else ""

    def final(self, last: dict | None) -> tuple[dict, str]:
        """(the frames of the final state, "" ) or, where they fail, (`last`, why); black frames
        when there is no last step (such an end has no rows: nobody stores it)."""
        try:
            return self._read(), ""
        except ValueError as e:
            self.failures += 1
            black = {cam: np.zeros(shape, np.uint8) for cam, shape in self.cameras.items()}
            return (last or black), str(e)
