"""`repeats: {first: F, most: M}`: seeds go where they change the ranking (core/adaptive.seeds_round),
checked against rounds worked out by hand. Each seed's iterations are tight (a spread of 2 around its
median), so which intervals overlap is plain from the numbers."""

from __future__ import annotations

import pytest

from scaling_study.core.adaptive import seeds_round


def seed(median: float) -> list[float]:
    return [median - 1, median, median + 1, median]


def test_the_fastest_and_the_next_get_seeds_the_rest_wait():
    # A 100 and C 99.5 (the next) overlap on one seed each; B at 50 gets nothing more.
    found = seeds_round({"A": [seed(100)], "B": [seed(50)], "C": [seed(99.5)]}, most=5)
    assert found.add == ["A", "C"] and found.settled == {}


def test_the_next_gets_three_seeds_for_its_interval_even_when_far_below():
    found = seeds_round({"A": [seed(100)], "B": [seed(50), seed(51)]}, most=5)
    assert found.add == ["A", "B"] and found.settled == {}


def test_three_seeds_apart_settle_every_point_and_end_the_race():
    found = seeds_round({"A": [seed(100), seed(101), seed(99)], "C": [seed(80), seed(81), seed(79)],
                         "B": [seed(10)]}, most=5)
    assert found.add == []
    assert found.settled["A"] == "the fastest, A, after 3 seeds"
    assert found.settled["C"].startswith("the next, apart from A after 3 seeds (95% interval over seeds")
    assert found.settled["B"].startswith("ranked below C, so not needed for the answer; apart from A already")


def test_overlapping_intervals_at_three_seeds_get_more():
    found = seeds_round({"A": [seed(m) for m in (98, 100, 102)], "C": [seed(m) for m in (97, 99, 101)]}, most=5)
    assert found.add == ["A", "C"]


def test_budget_spent_when_the_two_never_come_apart():
    found = seeds_round({"A": [seed(m) for m in (98, 100, 102, 99, 101)],
                         "C": [seed(m) for m in (97, 100, 101, 99, 102)]}, most=5)
    assert found.add == []
    assert found.settled["C"] == "the next; budget spent (5 seeds): C and A are not apart"


def test_more_seeds_can_reorder_the_two():
    # C has overtaken A: C is now the fastest, A the next.
    found = seeds_round({"A": [seed(100), seed(90)], "C": [seed(99), seed(99)]}, most=5)
    assert found.add == ["C", "A"]


def test_nothing_measured_adds_nothing():
    assert seeds_round({"A": [[]]}, most=5).add == []


def test_the_searcher_runs_first_seeds_then_adds_seeds_to_the_contenders_and_records_why(tmp_path):
    """Driven trial by trial as Tune drives it (test_explore.drive), without Ray. Every iteration at exactly
    its point's rate: 1 env 100, 2 envs 200, 4 envs 210 env steps/s. By hand: round 0 runs each point's
    first seed; 4 envs is the fastest and 2 envs the next, so they alone get seeds until both have 3 (an
    interval each); then 2 envs' interval (zero wide) lies below 4 envs': every point is settled, 1 env
    after its first seed. 7 trials of 12."""
    from test_explore import drive

    from scaling_study.core import layout
    from scaling_study.core.spec import parse_spec, trial_params
    from scaling_study.run.explore import ExploreSearcher

    spec = parse_spec({"name": "t", "env": {"id": "FrozenLake-v1"}, "repeats": {"first": 1, "most": 4},
                       "search_space": {"num_envs_per_env_runner": [1, 2, 4]}, "fixed": {"num_env_runners": 0},
                       "stop": {"training_iteration": 3}})
    params = trial_params(spec, node_cpus=2, cores=2)
    assert len(params) == 12
    rate = {1: 100, 2: 200, 4: 210}
    searcher = ExploreSearcher(params, list(range(len(params))), tmp_path, first_seeds=spec.first_seeds)
    order = drive(searcher, lambda p: rate[p["num_envs_per_env_runner"]])
    assert [envs for _, envs in order] == [1, 2, 4, 4, 2, 4, 2]
    seeded = layout.read_seeded(tmp_path)
    label = {envs: next(p["point"] for p in params if p["num_envs_per_env_runner"] == envs) for envs in rate}
    assert {envs: seeded[label[envs]]["seeds"] for envs in rate} == {1: 1, 2: 3, 4: 3}
    assert seeded[label[1]]["why"].startswith(f"ranked below {label[2]}, so not needed for the answer; apart from")
    assert seeded[label[2]]["why"].startswith(f"the next, apart from {label[4]} after 3 seeds")
    assert seeded[label[4]]["why"] == f"the fastest, {label[4]}, after 3 seeds"


def test_each_round_of_seeds_starts_with_the_shape_the_last_trial_had(tmp_path):
    """Points of different placement groups (0, 1, 2 env runners): Tune reuses a process only between
    trials of one shape, so a round starts with the point of the last trial's shape. By hand (1 runner 200,
    2 runners 210, 0 runners 100 env steps/s): round 0 runs 0, 1, 2 in file order; then 2 (the fastest) and 1
    (the next) get a seed a round until both have 3: 2 first (the last trial had 2 runners), then 1; the
    next round 1 first, then 2. Fresh processes at 0, 1, 2, 1, 2: 5 of 7 trials, against 6 in file order."""
    from test_explore import drive

    from scaling_study.core.spec import parse_spec, trial_params
    from scaling_study.run.explore import ExploreSearcher

    spec = parse_spec({"name": "t", "env": {"id": "FrozenLake-v1"}, "repeats": {"first": 1, "most": 3},
                       "search_space": {"num_env_runners": [0, 1, 2]}, "fixed": {"num_envs_per_env_runner": 1},
                       "stop": {"training_iteration": 3}})
    params = trial_params(spec, node_cpus=2, cores=2)
    rate = {0: 100, 1: 200, 2: 210}
    searcher = ExploreSearcher(params, list(range(len(params))), tmp_path, first_seeds=spec.first_seeds)
    order = drive(searcher, lambda p: rate[p["num_env_runners"]])
    assert [runners for runners, _ in order] == [0, 1, 2, 2, 1, 1, 2]


def test_the_report_says_where_the_seeds_went():
    from scaling_study.analysis.report import seeded_items

    assert seeded_items({"a": {"seeds": 3, "why": "the fastest, a, after 3 seeds"}}) == [
        "a: 3 seed(s); the fastest, a, after 3 seeds."]


def test_a_settled_points_trials_are_not_cut_short_but_the_rest_are(tmp_path):
    from scaling_study.core import layout
    from scaling_study.run.explore import unseeded_trials

    params = [{"point": "a"}, {"point": "a"}, {"point": "b"}]
    layout.write_seeded(tmp_path, {"a": {"seeds": 1, "why": "x"}})
    assert unseeded_trials(params, tmp_path) == {0, 1}
    (tmp_path / layout.SEEDED).write_text("{not json")  # damaged: read as absent, like the other JSON files
    assert unseeded_trials(params, tmp_path) == set()


@pytest.mark.ray
@pytest.mark.timeout(300)
def test_a_real_sweep_puts_its_seeds_on_the_fastest_and_the_next_and_ends_cleanly(tmp_path):
    """One tiny real sweep: 1 and 8 envs per runner, up to 3 seeds. Whatever the machine's speed, the two
    points are the fastest and the next, so both end with 3 seeds (an interval each), seeded.json says so,
    and the trials never run are not taken for an interrupted sweep (run_sweep returns)."""
    import json

    from ray_processes import own_ray_temp_dir

    from scaling_study.core import layout
    from scaling_study.core.spec import parse_spec
    from scaling_study.run.sweep import SweepOptions, run_sweep

    spec = parse_spec({"name": "seeds", "env": {"id": "FrozenLake-v1"}, "repeats": {"first": 1, "most": 3},
                       "search_space": {"num_envs_per_env_runner": [1, 8]},
                       "fixed": {"num_env_runners": 0, "train_batch_size_per_learner": 200, "minibatch_size": 100,
                                 "num_epochs": 1, "fcnet_hiddens": [8]},
                       "stop": {"training_iteration": 3}, "warmup_iterations": 1})
    with own_ray_temp_dir():
        exp_dir = run_sweep(spec, SweepOptions(storage_path=str(tmp_path)), argv=["test"])
    seeded = layout.read_seeded(exp_dir)
    assert sorted(seeded) == ["num_envs_per_env_runner=1", "num_envs_per_env_runner=8"]
    assert {d["seeds"] for d in seeded.values()} == {3}
    ran = [json.loads(p.read_text())["point"] for p in exp_dir.glob("*/params.json")]
    assert sorted(ran) == ["num_envs_per_env_runner=1"] * 3 + ["num_envs_per_env_runner=8"] * 3
