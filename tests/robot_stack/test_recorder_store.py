"""The recorder's store follows the run's cameras: created with one image column per camera, and a
store made for other cameras is refused at start, naming both (its rows could not hold our steps)."""
import pytest

from robot_stack.nodes.recorder import open_or_create_store

pytestmark = pytest.mark.unit
CAMS = {"wrist": (16, 16, 3)}


def test_the_store_is_created_with_the_cameras_and_reopened_only_with_the_same(tmp_path):
    store = open_or_create_store(tmp_path, "6d", CAMS)
    assert store.images == CAMS
    store.close()
    store = open_or_create_store(tmp_path, "6d", CAMS)
    store.close()
    with pytest.raises(SystemExit, match=r"holds frames \{'wrist': \(16, 16, 3\)\}, this run's cameras .* give none"):
        open_or_create_store(tmp_path, "6d", {})
    with pytest.raises(SystemExit, match=r"give \{'wrist': \(32, 32, 3\)\}"):
        open_or_create_store(tmp_path, "6d", {"wrist": (32, 32, 3)})
    open_or_create_store(tmp_path, "6d", CAMS).close()  # the refusals left the store usable


def test_a_state_only_store_stays_state_only(tmp_path):
    store = open_or_create_store(tmp_path, "xyz")
    assert store.images == {}
    store.close()
    with pytest.raises(SystemExit, match="holds frames none"):
        open_or_create_store(tmp_path, "xyz", CAMS)
