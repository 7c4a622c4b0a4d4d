"""learner/experiment_targets.py: each target line says met / NOT met / not measured from the numbers."""
import math

import pytest

from learner.experiment_targets import check_targets

pytestmark = pytest.mark.unit


def rlif_row(first: float, last: float) -> dict:
    return {"method": "rlif", "expert": "mid", "held_out": 0.5, "held_out_lo": 0.4, "held_out_hi": 0.6,
            "deploy_human_rate": 0.1, "intervention_rate_first": first, "intervention_rate_last": last}


def fall_line(first: float, last: float) -> str:
    lines = check_targets([rlif_row(first, last)], {"mid": {"held_out": 0.45}})
    return next(x for x in lines if "training intervention rate falls" in x)


@pytest.mark.parametrize("first, last, verdict", [(0.9627, 0.958, "NOT met"), (0.42, 0.17, "met"),
                                                  (0.5, 0.6, "NOT met"), (math.nan, 0.2, "not measured")])
def test_the_training_rate_must_fall_by_more_than_noise(first, last, verdict):
    assert fall_line(first, last).endswith(": " + verdict)


def test_the_expert_and_hg_dagger_comparisons_use_the_lower_ci_bound():
    rows = [rlif_row(0.5, 0.1), {"method": "hg-dagger", "expert": "mid", "held_out": 0.35}]
    lines = check_targets(rows, {"mid": {"held_out": 0.45}})
    assert any("above the expert alone (45.0%): NOT met" in x for x in lines)  # 40 % lower bound < 45 %
    assert any("above HG-DAgger (35.0%): met" in x for x in lines)
