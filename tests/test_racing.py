"""Racing (`prune: true`): the pruning rule by hand, then a real tiny race where one point is clearly
slower (the shared sweep of race_sweep.py) and is not run again after the first round."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from race_sweep import FAST, REPEATS, SLOW, SLOW_STEP_S, interval, trials

from scaling_study.run.racing import points_to_prune


def test_one_seed_each_prunes_a_point_whose_interval_lies_below_the_best_seeds():
    # Three iterations per seed: each seed's 95% interval is [min, max] (see test_stopping): fast [99, 101],
    # slow [48, 52], close [90, 100]. slow's top (52) is below fast's bottom (99); close's (100) is not.
    pruned = points_to_prune({"fast": [[100, 101, 99]], "slow": [[50, 52, 48]], "close": [[95, 100, 90]]})
    assert set(pruned) == {"slow"}
    assert pruned["slow"]["best"] == "fast" and pruned["slow"]["high"] == 52 and pruned["slow"]["best_low"] == 99
    assert pruned["slow"]["rule"].startswith("best seed's interval over iterations")


def test_two_seeds_compare_the_points_best_seed_with_the_best_points_worst():
    # slow's best seed reaches 104 (its interval [96, 104]), above fast's worst seed's bottom (99): kept.
    assert points_to_prune({"fast": [[100, 101, 99], [110, 111, 109]], "slow": [[50, 52, 48], [100, 104, 96]]}) == {}


def test_a_seed_with_one_measured_iteration_has_no_interval_and_prunes_nothing():
    assert points_to_prune({"fast": [[100]], "slow": [[10]]}) == {}
    assert points_to_prune({"only": [[100, 101, 99]]}) == {}


def test_three_seeds_use_the_interval_over_seeds():
    # Constant seeds: every resample's median of medians lies within the seeds' medians, so the interval
    # over seeds is within [98, 102] for fast and within [48, 52] for slow: disjoint.
    fast = [[100] * 3, [102] * 3, [98] * 3]
    pruned = points_to_prune({"fast": fast, "slow": [[50] * 3, [52] * 3, [48] * 3]})
    assert set(pruned) == {"slow"} and pruned["slow"]["rule"].startswith("95% interval over seeds")
    # A point whose seeds straddle the best's: intervals overlap, so it races on.
    assert points_to_prune({"fast": fast, "near": [[97] * 3, [99] * 3, [101] * 3]}) == {}


@pytest.mark.ray
def test_a_clearly_slower_point_is_not_run_again(race_sweep, tmp_path):
    """race_sweep.py: the slow point's rate is below 20 env steps/s by construction (20 sleeps of 50 ms
    per iteration), the fast point's far above, so after round 0 the slow point is pruned."""
    pruned = json.loads((race_sweep / "scaling_study" / "pruned.json").read_text())
    assert list(pruned) == [SLOW] and pruned[SLOW]["best"] == FAST
    by_point: dict[str, list[list[float]]] = {}
    for trial in trials(race_sweep):
        by_point.setdefault(trial.point, []).append(trial.rates)
    assert len(by_point[SLOW]) == 1, "the pruned point ran one round only"
    assert len(by_point[FAST]) == REPEATS
    # The rule, recomputed from the rows of round 0 (one seed each: the slow seed's interval top below
    # the fast seed's interval bottom), and the margin the design promises.
    slow_high = interval(by_point[SLOW][0])[2]
    fast_low = interval(by_point[FAST][0])[1]
    # Every slow step sleeps SLOW_STEP_S. Over 6 runs (one beside a busy loop) the slow point's rates were
    # 18.3-18.9 env steps/s and the fast point's 395-759: a factor of at least 20.
    assert slow_high < 1 / SLOW_STEP_S < fast_low
    assert pruned[SLOW]["high"] == pytest.approx(slow_high) and pruned[SLOW]["best_low"] == pytest.approx(fast_low)

    from scaling_study.analysis.command import analyze_command

    assert analyze_command(str(race_sweep), str(tmp_path / "report")) == 0
    summary = pd.read_csv(tmp_path / "report" / "summary.csv").set_index("point")
    assert bool(summary.loc[SLOW, "pruned"]) and not bool(summary.loc[FAST, "pruned"])
    assert summary.loc[SLOW, "repeats"] == 1
    assert "Racing" in (tmp_path / "report" / "report.md").read_text()


def test_the_searcher_hands_out_rounds_and_leaves_pruned_points_out(tmp_path):
    from scaling_study.run.racing import RacingSearcher

    params = [{"point": point, "repeat": repeat} for point in ("fast", "slow") for repeat in range(3)]
    searcher = RacingSearcher(params, todo=list(range(6)), exp_dir=tmp_path)

    def result(iteration: int, rate: float) -> dict:  # flattened, as Tune hands rows to a searcher
        return {"training_iteration": iteration, "scaling/env_steps_per_s": rate, "scaling/warmup": iteration == 1}

    first = searcher.suggest("t0")
    second = searcher.suggest("t1")
    assert (first["trial_index"], second["trial_index"]) == (0, 3)  # round 0: repeat 0 of each point
    assert searcher.suggest("t2") is None  # round 1 waits for round 0 to finish
    for iteration, rate in enumerate((1000, 100, 101), start=1):
        searcher.on_trial_result("t0", result(iteration, rate))
    for iteration, rate in enumerate((1000, 50, 52), start=1):
        searcher.on_trial_result("t1", result(iteration, rate))
    # The result that stops a trial reaches the searcher with on_trial_complete only.
    searcher.on_trial_complete("t0", result(4, 99))
    assert searcher.suggest("t2") is None  # t1 still running
    searcher.on_trial_complete("t1", result(4, 48))
    assert searcher.suggest("t2")["trial_index"] == 1  # round 1: slow (48-52 below 99-101) is left out
    assert searcher.suggest("t3") is None
    searcher.on_trial_complete("t2")
    assert searcher.suggest("t4")["trial_index"] == 2
    searcher.on_trial_complete("t4")
    assert searcher.suggest("t5") == searcher.FINISHED
    assert set(json.loads((tmp_path / "scaling_study" / "pruned.json").read_text())) == {"slow"}


@pytest.mark.ray
@pytest.mark.timeout(300)
def test_trials_of_equal_resources_share_one_warm_process(race_sweep):
    # Every trial of the race asks for the same resources, one at a time: Tune's actor reuse (the default)
    # starts one process for the first and hands it to the next, which records it as warm and starts at once.
    ordered = trials(race_sweep)
    assert [t.rows[0]["warm_process"] for t in ordered] == [False] + [True] * (len(ordered) - 1)
    # A warm trial skips the interpreter's start and the imports (seconds), so each starts sooner than the
    # cold one. How much sooner depends on the machine's load, so no fixed ratio is asserted.
    cold_start = ordered[0].rows[0]["startup_s"]
    assert all(t.rows[0]["startup_s"] < cold_start for t in ordered[1:]), [t.rows[0]["startup_s"] for t in ordered]
