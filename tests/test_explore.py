"""`auto`'s exploration: the stopping rule (core/adaptive.series_verdict) on hand-worked series, and the
searcher (run/explore.py) driven trial by trial as Tune drives it, without Ray: which candidates it hands
out, in which order, where it stops, and what it records."""

from __future__ import annotations

import json

import pytest

from scaling_study.core.adaptive import series_verdict
from scaling_study.core.spec import parse_spec, trial_params


def flat(rate, seeds=2, iterations=5):
    """Per-seed arrays of measured env steps/s: every iteration at exactly `rate` (no spread)."""
    return [[rate] * iterations for _ in range(seeds)]


def test_two_steps_under_five_percent_stop_the_series():
    # 0 and 1 runner are measured whatever they give; 2 gains 82% over the best (1: 110 > 100), then
    # 3 gains 2% over 200 and 4 1% over 204 (each under +5% over the best before it): stop after 4,
    # whose median is the highest.
    steps = [(0, "a", flat(100)), (1, "b", flat(110)), (2, "c", flat(200)), (3, "d", flat(204)), (4, "e", flat(206))]
    verdict = series_verdict(steps, judged_from=2, last_candidate=False, unit="runners")
    assert (verdict.go_on, verdict.best) == (False, 4)
    assert "3 runners and 4 runners each gained under 5% over the best before it" in verdict.why
    assert series_verdict(steps[:4], judged_from=2, last_candidate=False).go_on  # one miss only


def test_a_step_wholly_below_the_best_stops_at_once():
    spread = [[95.0, 100.0, 105.0, 100.0, 98.0, 102.0] for _ in range(2)]
    low = [[45.0, 50.0, 55.0, 50.0, 48.0, 52.0] for _ in range(2)]
    steps = [(0, "a", spread), (1, "b", spread), (2, "c", low)]
    verdict = series_verdict(steps, judged_from=2, last_candidate=False, unit="runners")
    assert (verdict.go_on, verdict.best) == (False, 0)
    assert "wholly below 0 runners" in verdict.why


def test_the_first_steps_are_measured_whatever_they_give():
    steps = [(0, "a", flat(100)), (1, "b", flat(10))]  # 1 runner far slower: still no verdict before 2
    assert series_verdict(steps, judged_from=2, last_candidate=False).go_on


def test_the_last_candidate_ends_the_series():
    verdict = series_verdict([(1, "a", flat(10)), (2, "b", flat(20))], judged_from=1, last_candidate=True)
    assert (verdict.go_on, verdict.best) == (False, 2) and "tried every candidate" in verdict.why


def spec_with_envs(envs):
    return parse_spec({"name": "t", "env": {"id": "FrozenLake-v1"}, "repeats": 1,
                       "search_space": {"num_env_runners": "auto", "num_envs_per_env_runner": envs},
                       "stop": {"training_iteration": 3}})


def drive(searcher, rate_of):
    """Run the searcher as Tune would, one trial at a time; `rate_of(params)` is each trial's env steps/s."""
    order = []
    for number in range(100):
        suggested = searcher.suggest(f"t{number}")
        if suggested == searcher.FINISHED:
            return order
        assert suggested is not None, "one trial at a time: nothing runs, so something must be suggested"
        order.append((suggested["num_env_runners"], suggested["num_envs_per_env_runner"]))
        for iteration in range(1, 4):
            searcher.on_trial_result(f"t{number}", {"training_iteration": iteration, "scaling": {
                "env_steps_per_s": rate_of(suggested), "warmup": iteration == 1}})
        searcher.on_trial_complete(f"t{number}")
    raise AssertionError("the searcher never finished")


def test_the_searcher_stops_a_series_where_the_rule_says_and_runs_the_reference_beside_its_shape(tmp_path):
    from scaling_study.run.explore import ExploreSearcher, unexplored_trials

    params = trial_params(spec_with_envs([4]), node_cpus=2, cores=2)
    # Every iteration at exactly its rate: no spread, so 3 runners' 600 lies wholly below 2's 800.
    rates = {0: 100, 1: 110, 2: 200, 3: 150, 4: 140}
    searcher = ExploreSearcher(params, list(range(len(params))), tmp_path)
    order = drive(searcher, lambda p: rates[p["num_env_runners"]] * p["num_envs_per_env_runner"])
    # 4 runners never run; RLlib's default (2 runners x 1 env) right after 2 x 4, the same placement group,
    # so that Tune hands it 2 x 4's process
    assert order == [(0, 4), (1, 4), (2, 4), (2, 1), (3, 4)]
    explored = json.loads((tmp_path / "scaling_study" / "explored.json").read_text())
    assert explored["num_envs_per_env_runner=4"]["best"] == 2
    assert explored["num_envs_per_env_runner=4"]["not_tried"] == [4]
    assert {params[i]["num_env_runners"] for i in unexplored_trials(params, tmp_path)} == {4}


def test_a_series_that_stops_early_leaves_its_later_candidates_unrun(tmp_path):
    from scaling_study.run.explore import ExploreSearcher, unexplored_trials

    params = trial_params(spec_with_envs([1, 8]), node_cpus=4, cores=4)  # candidates 0, 1, 2, 3, 4, 8
    rates = {0: 100, 1: 110, 2: 200, 3: 201, 4: 202, 8: 500}  # 3 and 4 miss: 8 is never tried
    searcher = ExploreSearcher(params, list(range(len(params))), tmp_path)
    order = drive(searcher, lambda p: rates[p["num_env_runners"]])
    # The two series side by side, each value of runners twice in a row (one placement group, one process);
    # (2, 1) is in the grid: no extra point
    assert order == [(r, e) for r in (0, 1, 2, 3, 4) for e in (1, 8)]
    explored = json.loads((tmp_path / "scaling_study" / "explored.json").read_text())
    assert explored["num_envs_per_env_runner=1"]["not_tried"] == [8]
    skipped = {(params[i]["num_env_runners"], params[i]["num_envs_per_env_runner"]) for i in unexplored_trials(params, tmp_path)}
    assert skipped == {(8, 1), (8, 8)}


def test_a_resumed_search_keeps_its_decisions_and_skips_what_finished(tmp_path):
    from scaling_study.run.explore import ExploreSearcher

    params = trial_params(spec_with_envs([1]), node_cpus=4, cores=4)
    rates = {0: 100, 1: 110, 2: 200, 3: 201, 4: 202, 8: 500}
    first = [i for i, p in enumerate(params) if p["num_env_runners"] in (0, 1, 2)]
    finished = {i: [float(rates[params[i]["num_env_runners"]])] * 2 for i in first}
    todo = [i for i in range(len(params)) if i not in first]
    searcher = ExploreSearcher(params, todo, tmp_path, finished)
    order = drive(searcher, lambda p: rates[p["num_env_runners"]])
    assert order == [(3, 1), (4, 1)]


@pytest.mark.parametrize("cores, expected", [(1, [0, 1, 2]), (2, [0, 1, 2, 3, 4])])
def test_the_grid_holds_what_the_rule_allows_on_the_cores_granted(cores, expected):
    params = trial_params(spec_with_envs([4]), node_cpus=cores, cores=cores)
    assert sorted({p["num_env_runners"] for p in params if p["auto_series"] is not None}) == expected
