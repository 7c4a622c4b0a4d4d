"""The store's schema: column specs and the counter check that writers and `store repair` share."""
import numpy as np

from learner.replay_schema import SPECS, counter_problem


def test_specs_name_every_column_with_its_shape_and_the_cameras_when_there_are_any():
    plain = SPECS(18, 6)
    assert plain["rows"]["obs"] == ("float32", (18,))
    assert plain["rows"]["action"] == ("float32", (6,))
    assert plain["episodes"]["final_obs"] == ("float32", (18,))
    assert not any(k.startswith("image_") for k in plain["rows"])
    with_camera = SPECS(18, 6, {"wrist": (64, 64, 3)})
    assert with_camera["rows"]["image_wrist"] == ("uint8", (64, 64, 3))
    assert set(with_camera["rows"]) - set(plain["rows"]) == {"image_wrist"}
    assert set(with_camera["episodes"]) - set(plain["episodes"]) == {"final_image_wrist"}


def test_counter_problem_accepts_a_contiguous_table_that_ends_at_the_row_counter():
    starts, lengths = np.array([0, 5, 12]), np.array([5, 7, 1], np.int32)
    assert counter_problem(starts, lengths, 13) is None
    assert counter_problem(np.array([], np.int64), np.array([], np.int32), 0) is None


def test_counter_problem_names_a_row_counter_below_or_above_the_data():
    starts, lengths = np.array([0, 5]), np.array([5, 7], np.int32)
    for n_rows in (11, 13):
        problem = counter_problem(starts, lengths, n_rows)
        assert problem is not None and f"n_committed_rows={n_rows}" in problem and "cover 12 rows" in problem


def test_counter_problem_names_a_gap_or_an_empty_episode():
    gap = counter_problem(np.array([0, 6]), np.array([5, 7], np.int32), 12)
    empty = counter_problem(np.array([0, 5]), np.array([5, 0], np.int32), 5)
    for problem in (gap, empty):
        assert problem is not None and "do not form a contiguous table" in problem
