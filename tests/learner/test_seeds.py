"""learner/seeds.py: every episode-seed range in one place; training seeds never reach held-out ones."""
import pytest

from learner import seeds
from robot_stack import config as cfgmod

pytestmark = pytest.mark.unit


def test_training_episodes_of_every_allowed_run_seed_stay_out_of_the_evaluation_ranges():
    evaluation = [(base, base + seeds.MAX_EPISODES_PER_RANGE)
                  for base in (seeds.EVAL, seeds.CALIBRATION, seeds.HELD_OUT, seeds.SHIFTED, seeds.DEPLOY)]
    for run_seed in (0, 1, 5, 79):
        lo, hi = seeds.episode_seed(run_seed, 0), seeds.episode_seed(run_seed, seeds.TRAIN_STRIDE - 1)
        assert all(hi < a or lo >= b for a, b in evaluation), run_seed
        assert hi < seeds.episode_seed(run_seed + 1, 0) if run_seed < 79 else hi < seeds.REFERENCE_TRAIN
    with pytest.raises(ValueError):
        seeds.episode_seed(80, 0)
    with pytest.raises(ValueError):
        seeds.episode_seed(0, seeds.TRAIN_STRIDE)
    with pytest.raises(cfgmod.ConfigError, match="train.seed"):
        cfgmod.resolve("sim", ["train.seed=80"])
    assert cfgmod.resolve("sim", ["train.seed=79"]).train.seed == 79


def test_random_streams_of_a_run_are_named_and_distinct():
    assert seeds.stream_seed(3, "sampler") != seeds.stream_seed(3, "exploration")
    assert seeds.stream_seed(3, "sampler") == 3 + seeds.STREAMS["sampler"]
    with pytest.raises(ValueError, match="random stream 'noise'"):
        seeds.stream_seed(0, "noise")
