"""The clock's frames (robot_stack/logic/frames.py): frames of the state now, none while the cell
cannot give them (reported once per outage), and an episode's end never held by a camera."""
import numpy as np
import pytest

from robot_stack.logic.frames import FrameSource

pytestmark = pytest.mark.unit
CAMS = {"wrist": (4, 4, 3)}


class StaleFrames(ValueError):  # what a real camera raises (robot_stack/franka/camera.py), by kind
    pass


class Cell:
    def __init__(self):
        self.n, self.stale, self.shape = 0, False, (4, 4, 3)

    def images(self):
        if self.stale:
            raise StaleFrames("camera 'wrist': no frame for 120 ms")
        self.n += 1
        return {"wrist": np.full(self.shape, self.n, np.uint8)}


def test_frames_then_one_report_per_outage_then_back():
    cell = Cell()
    src = FrameSource(cell.images, CAMS)
    frames, news = src.take()
    assert news == "" and frames["wrist"][0, 0, 0] == 1
    cell.stale = True
    assert src.take() == (None, "lost") and "no frame for 120 ms" in src.why
    assert src.take() == (None, "") and src.take() == (None, "")  # one report, however long it lasts
    assert src.failures == 3
    cell.stale = False
    frames, news = src.take()
    assert news == "back" and src.why is None and frames["wrist"][0, 0, 0] == 2
    assert src.take()[1] == ""


def test_frames_that_do_not_fit_the_cameras_are_unusable_too():
    cell = Cell()
    cell.shape = (8, 8, 3)
    src = FrameSource(cell.images, CAMS)
    assert src.take() == (None, "lost") and "expected uint8 (4, 4, 3)" in src.why


def test_final_frames_fall_back_to_the_last_steps_never_holding_the_end():
    cell = Cell()
    src = FrameSource(cell.images, CAMS)
    last, _ = src.take()
    frames, why = src.final(last)
    assert why == "" and frames["wrist"][0, 0, 0] == 2  # the final state's own
    cell.stale = True
    frames, why = src.final(last)
    assert frames is last and "no frame" in why
    frames, why = src.final(None)  # no step yet: nothing stores such an end
    assert frames["wrist"].shape == (4, 4, 3) and not frames["wrist"].any()
