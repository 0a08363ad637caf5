"""The plain-language effect of each swept setting, on summaries small enough to check by hand."""

import pandas as pd

from scaling_study.analysis.effects import setting_effects


def summary(grid: list[str], rates: dict[tuple, float]) -> pd.DataFrame:
    """A summary whose points are given by their values of `grid`'s settings, a column each."""
    rows = [{**dict(zip(grid, point, strict=True)), "env_steps_per_s": rate} for point, rate in rates.items()]
    return pd.DataFrame(rows)


RUNNERS_X_ENVS = ["num_env_runners", "num_envs_per_env_runner"]
RUNNERS_X_MODE = ["num_env_runners", "gym_env_vectorize_mode"]


def test_runners_that_cost_and_envs_that_pay():
    effects = setting_effects(summary(RUNNERS_X_ENVS, {
        (0, 1): 1000.0,
        (1, 1): 800.0,   # 0.8x
        (0, 16): 6000.0,  # 6x
        (1, 16): 3000.0,  # 0.5x; 3.75x
    }), RUNNERS_X_ENVS)
    assert effects == [
        "Raising num_env_runners from 0 to 1 gives 0.65x the throughput (median of 2 comparison(s), "
        "from 0.50x to 0.80x): it does not pay here.",
        "Raising num_envs_per_env_runner from 1 to 16 gives 4.88x the throughput (median of 2 comparison(s), "
        "from 3.75x to 6.00x): it pays here.",
    ]


def test_words_and_unpaired_points():
    effects = setting_effects(summary(RUNNERS_X_MODE, {
        (2, "sync"): 1000.0,
        (2, "async"): 1050.0,
        (4, "async"): 1500.0,  # no sync partner at 4 runners
    }), RUNNERS_X_MODE)
    assert effects == [
        "Raising num_env_runners from 2 to 4 gives 1.43x the throughput (median of 1 comparison(s)): it pays here.",
        "Changing gym_env_vectorize_mode from async to sync gives 0.95x the throughput (median of 1 comparison(s)): "
        "it makes little difference here.",
    ]


def test_a_single_point_has_nothing_to_compare():
    assert setting_effects(summary(["num_env_runners"], {(0,): 10.0}), ["num_env_runners"]) == []
