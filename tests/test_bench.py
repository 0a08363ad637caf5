"""The bench's pure parts (A/B alternation, medians and ratios, tables, the timeline split, reading
experiment files, the report), the bare loop's config against the suite's own, and the bare loop on a
tiny budget. The benchmarks themselves are not tests: `python -m bench --quick` checks them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from bench.harness import compare, report, timeline
from bench.harness.context import KeyFigure, Outcome
from bench.harness.experiments import SPECS, read_grid, shrunk
from bench.harness.runner import session_started_at

REPO = Path(__file__).resolve().parents[1]


def test_arms_alternate_and_flip_order_every_round():
    calls = []
    arms = {"A": lambda i: calls.append(("A", i)) or 10 + i, "B": lambda i: calls.append(("B", i)) or 20 + i}
    outcomes, order = compare.alternate(arms, rounds=3, log=lambda _: None)
    assert order == ["A", "B", "B", "A", "A", "B"]
    assert calls == [("A", 0), ("B", 0), ("B", 1), ("A", 1), ("A", 2), ("B", 2)]
    assert outcomes == {"A": [10, 11, 12], "B": [20, 21, 22]}


def test_three_arms_reverse_every_other_round():
    arms = {name: (lambda i, name=name: name + str(i)) for name in "ABC"}
    outcomes, order = compare.alternate(arms, rounds=2, log=lambda _: None)
    assert order == ["A", "B", "C", "C", "B", "A"]
    assert outcomes["C"] == ["C0", "C1"]


def test_comparison_reports_medians_and_their_ratio():
    c = compare.Comparison("suite", "bare loop", a=[1900.0, 2000.0, 2300.0], b=[2100.0, 1000.0, 2000.0])
    assert c.a_median == 2000.0 and c.b_median == 2000.0 and c.ratio == 1.0
    rows = compare.comparison_rows(c)
    assert rows[0] == ["suite", "1,900; 2,000; 2,300", "2,000"]
    assert rows[1] == ["bare loop", "2,100; 1,000; 2,000", "2,000"]
    assert rows[2] == ["ratio suite / bare loop", "", "1.000"]


def test_ratio_interval_brackets_the_ratio_and_narrows_with_agreement():
    a, b = [2.0, 2.1, 1.9, 2.0, 2.05], [1.0, 1.1, 0.9, 1.0, 0.95]
    low, high = compare.ratio_of_medians_ci(a, b)
    assert low <= 2.0 <= high and 1.7 < low and high < 2.4
    assert compare.ratio_of_medians_ci([1.0] * 5, [1.0] * 5) == (1.0, 1.0)


def test_suite_standing_against_the_plain_script():
    from bench.sections.sweep_efficiency import standing

    assert [standing(r) for r in (0.97, 1.04, 1.2, 0.8)] == ["level with", "level with", "ahead of", "behind"]


def test_markdown_table_escapes_pipes_and_aligns_numbers():
    text = report.table(["name", "value"], [["a|b", 1.5]], align_right=(1,))
    assert text.splitlines() == ["| name | value |", "| --- | ---: |", "| a\\|b | 1.5 |"]


def test_duration_and_load_text():
    assert report.duration(9.94) == "9.9 s"
    assert report.duration(125) == "2m05s"
    assert report.load_text((0.5, 1.25, 2.0)) == "0.50 / 1.25 / 2.00"


def test_timeline_segments_add_up_to_the_wall_time():
    trials = [timeline.TrialTimes(started_at=110.0, setup_s=2.0, iter_s=[1.0, 1.0], last_iter_ended_at=114.5),
              timeline.TrialTimes(started_at=118.5, setup_s=5.0, iter_s=[1.0], last_iter_ended_at=124.6)]
    times = timeline.SweepTimes(launched_at=100.0, exited_at=130.0, trials=trials, ray_init_at=103.0,
                                ray_ready_at=106.0, calibration=(106.5, 108.0), finished_at=125.0)
    s = timeline.segments(times)
    assert s[timeline.BEFORE_RAY] == 3.0 and s[timeline.RAY_START] == 3.0
    assert s[timeline.BEFORE_CALIBRATION] == 0.5 and s[timeline.CALIBRATION] == 1.5
    assert s[timeline.BEFORE_FIRST_TRIAL] == 2.0
    assert s[timeline.OWN] == 10.0
    assert s[timeline.INSIDE] == pytest.approx(0.5 + 0.1)
    assert s[timeline.BETWEEN] == 4.0
    assert s[timeline.AFTER_LAST] == pytest.approx(0.4) and s[timeline.SHUTDOWN] == 5.0
    assert sum(s.values()) == pytest.approx(times.wall_s)
    assert times.efficiency == pytest.approx(10.0 / 30.0)


def test_timeline_splits_actor_imports_and_knows_reused_actors():
    trials = [timeline.TrialTimes(started_at=110.0, setup_s=2.0, iter_s=[1.0], last_iter_ended_at=113.0),
              timeline.TrialTimes(started_at=113.5, setup_s=0.5, iter_s=[1.0], last_iter_ended_at=115.0),
              timeline.TrialTimes(started_at=121.0, setup_s=4.0, iter_s=[1.0], last_iter_ended_at=126.0)]
    times = timeline.SweepTimes(launched_at=100.0, exited_at=128.0, trials=trials, ray_ready_at=105.0,
                                actor_started_at=[107.0, 118.0])  # the second trial reused the first actor
    assert timeline.fresh_actor_starts(trials, [107.0, 118.0]) == [107.0, None, 118.0]
    s = timeline.segments(times)
    assert s[timeline.BEFORE_FIRST_TRIAL] == 2.0
    assert s[timeline.ACTOR_IMPORTS] == 3.0 + 3.0
    assert s[timeline.BETWEEN] == 0.5 + 3.0
    assert sum(s.values()) == pytest.approx(28.0)


def test_overheads_and_the_trial_length_an_efficiency_needs():
    seconds = dict.fromkeys(timeline.SEGMENTS, 0.0)
    seconds.update({timeline.RAY_START: 6.0, timeline.SHUTDOWN: 4.0, timeline.OWN: 20.0,
                    timeline.ACTOR_IMPORTS: 8.0, timeline.BETWEEN: 3.0, timeline.INSIDE: 1.0})
    fixed, per_trial = timeline.overheads(seconds, trials=4)
    assert (fixed, per_trial) == (10.0, 3.0)
    needed = timeline.own_seconds_needed(0.9, fixed, per_trial, trials=4)
    assert needed == pytest.approx(9 * 5.5)
    assert needed / (needed + per_trial + fixed / 4) == pytest.approx(0.9)


def test_timeline_folds_unknown_marks_into_the_next_segment():
    trials = [timeline.TrialTimes(started_at=110.0, setup_s=1.0, iter_s=[1.0], last_iter_ended_at=112.0)]
    s = timeline.segments(timeline.SweepTimes(launched_at=100.0, exited_at=115.0, trials=trials, ray_ready_at=105.0))
    assert s[timeline.BEFORE_RAY] == 0.0 and s[timeline.RAY_START] == 5.0
    assert s[timeline.CALIBRATION] == 0.0 and s[timeline.BEFORE_FIRST_TRIAL] == 5.0
    assert s[timeline.AFTER_LAST] == 3.0 and s[timeline.SHUTDOWN] == 0.0
    assert sum(s.values()) == pytest.approx(15.0)


def test_experiment_files_expand_as_the_suite_expands_them():
    from scaling_study.core.spec import load_spec, trial_params

    for name in ("grid6.yaml", "harness_tax.yaml"):
        grid = read_grid(SPECS / name)
        suite = trial_params(load_spec(SPECS / name), node_cpus=2)
        keys = ("num_env_runners", "num_envs_per_env_runner")
        assert [tuple(p[k] for k in keys) for p in grid.points] == [tuple(p[k] for k in keys) for p in suite]
    assert read_grid(SPECS / "grid6.yaml").axes == {"num_env_runners": [0, 1], "num_envs_per_env_runner": [1, 2, 4]}
    assert read_grid(REPO / "experiments" / "smoke.yaml").repeats == 1


def test_quick_copies_are_valid_experiment_files(tmp_path):
    from scaling_study.core.spec import load_spec

    copy = shrunk(REPO / "experiments" / "course.yaml", tmp_path, iterations=1, repeats=1,
                  fixed={"train_batch_size_per_learner": 1000})
    spec = load_spec(copy)
    assert spec.name == "course" and spec.stop == {"training_iteration": 1} and spec.warmup_iterations == 0
    assert spec.fixed["train_batch_size_per_learner"] == 1000 and spec.repeats == 1


def test_bare_config_matches_the_suites_config():
    """The harness-tax arms must train the same PPO: every setting that shapes the work is equal."""
    from bench.arms.bare_loop import build_config
    from scaling_study.core.spec import load_spec, trial_params
    from scaling_study.run import algorithm_config

    spec = SPECS / "harness_tax.yaml"
    bare = build_config(read_grid(spec).points[0])
    suite = algorithm_config.build_config(trial_params(load_spec(spec), node_cpus=2)[0])
    for key in ("num_env_runners", "num_envs_per_env_runner", "train_batch_size_per_learner", "minibatch_size",
                "num_epochs", "num_learners", "num_cpus_per_env_runner", "seed", "framework_str", "lr", "gamma",
                "rollout_fragment_length", "gym_env_vectorize_mode"):
        assert getattr(bare, key) == getattr(suite, key), key
    assert bare.model_config["fcnet_hiddens"] == suite.model_config["fcnet_hiddens"] == [32, 32]
    # Both one-hot FrozenLake's Discrete observations with RLlib's FlattenObservations connector.
    connectors = [type(c._env_to_module_connector(None, None, None)).__name__ for c in (bare, suite)]
    assert connectors == ["FlattenObservations", "FlattenObservations"]


def test_bare_loop_throughput_leaves_warmup_out():
    from bench.arms.bare_loop import iteration_row, median_throughput

    results = [{"env_runners": {"num_env_steps_sampled": 1000}, "time_this_iter_s": s} for s in (4.0, 1.0, 0.5, 2.0)]
    rows = [iteration_row(i, r) for i, r in enumerate(results, 1)]
    assert rows[0] == {"iteration": 1, "env_steps": 1000, "time_this_iter_s": 4.0, "env_steps_per_s": 250.0}
    assert median_throughput(rows, warmup_iterations=1) == 1000.0


def test_session_names_carry_their_start_time():
    from datetime import datetime

    expected = datetime(2026, 11, 25, 3, 6, 23, 31433).timestamp()
    assert session_started_at("session_2026-11-25_03-06-23_031433_10843") == expected


def test_report_lists_key_figures_load_and_commands(tmp_path):
    outcome = Outcome("body text", [KeyFigure("ratio", "0.99", ">= 0.97", "yes")], ["python -m bench --only x"])
    sections = [report.SectionResult("x", "Harness tax", outcome, (1.0, 2.0, 3.0), (0.5, 1.0, 1.5), 61.0),
                report.SectionResult("y", "Broken", None, (0, 0, 0), (0, 0, 0), 1.0, error="RunFailed: boom\nmore")]
    path = tmp_path / "BENCHMARKS.md"
    report.write(path, "# Benchmarks", sections)
    text = path.read_text()
    assert "| Harness tax | ratio | 0.99 | >= 0.97 | yes |" in text
    assert "| Broken | failed | RunFailed: boom |  |  |" in text
    assert "Load average before 1.00 / 2.00 / 3.00, after 0.50 / 1.00 / 1.50; took 1m01s." in text
    assert "    python -m bench --only x" in text


@pytest.mark.ray
def test_bare_loop_runs_on_a_tiny_budget(tmp_path):
    """The real script, in a subprocess with its own RAY_TMPDIR (ended afterwards): 0 env runners, 2 tiny
    iterations."""
    from bench.harness import runner

    spec = tmp_path / "tiny.yaml"
    spec.write_text(yaml.safe_dump({
        "name": "tiny", "env": {"id": "FrozenLake-v1"}, "search_space": [{"num_env_runners": 0}],
        "fixed": {"train_batch_size_per_learner": 64, "minibatch_size": 32, "num_epochs": 1, "fcnet_hiddens": [8]},
        "stop": {"training_iteration": 2}, "warmup_iterations": 1,
    }))
    done = runner.run(runner.python("-m", "bench.arms.bare_loop", str(spec)), tmp_path / "bare.log", timeout_s=300)
    result = json.loads(done.first_line("BENCH_RESULT ")[1].split(" ", 1)[1])
    assert [r["iteration"] for r in result["iterations"]] == [1, 2]
    assert all(r["env_steps"] >= 64 for r in result["iterations"])
    assert result["torch_threads"] == 1 and result["env_steps_per_s"] > 0 and done.ray_sessions


def test_time_to_answer_builds_the_complete_design_and_the_two_seed_grid_of_the_default_study(tmp_path):
    from bench.sections.time_to_answer import complete_copy, two_seed_copy
    from scaling_study.core.spec import load_spec, trial_params

    source = REPO / "experiments" / "frozenlake.yaml"
    visited = [{"num_env_runners": 0, "num_envs_per_env_runner": 16}, {"num_env_runners": 2, "num_envs_per_env_runner": 1}]
    complete = load_spec(complete_copy(source, visited, tmp_path))
    assert complete.name == "frozenlake" and complete.first_seeds is None and complete.repeats == 3
    assert complete.stop == {"training_iteration": 6}  # the file's iterations, no precision stopping
    assert [(p["num_env_runners"], p["num_envs_per_env_runner"]) for p in trial_params(complete, node_cpus=2)] == [
        (0, 16)] * 3 + [(2, 1)] * 3
    two = load_spec(two_seed_copy(source, tmp_path))
    assert (two.repeats, two.first_seeds, two.stop) == (2, None, {"training_iteration": 6})


def test_time_to_answer_agrees_on_the_same_point_or_one_inside_the_fastest_points_range():
    import pandas as pd

    from bench.sections.time_to_answer import agrees

    # Two seeds per point (no interval over seeds): the fastest point's range is its seeds' medians.
    summary = pd.DataFrame({"env_steps_per_s": [100.0, 97.0, 80.0], "env_steps_per_s_ci_low": [float("nan")] * 3,
                            "env_steps_per_s_ci_high": [float("nan")] * 3}, index=["a", "b", "c"])
    per_seed = pd.Series([95.0, 105.0, 96.0, 98.0, 79.0, 81.0],
                         index=pd.MultiIndex.from_tuples([("a", 1), ("a", 2), ("b", 3), ("b", 4), ("c", 5), ("c", 6)]))
    assert agrees("a", "a", summary, per_seed)
    assert agrees("b", "a", summary, per_seed)  # 97 lies within a's seeds, 95-105
    assert not agrees("c", "a", summary, per_seed)  # 80 does not
    with_ci = summary.assign(env_steps_per_s_ci_low=[98.0, 90.0, 70.0], env_steps_per_s_ci_high=[102.0] * 3)
    assert not agrees("b", "a", with_ci, per_seed)  # 97 is below a's interval over seeds, 98-102


def test_model_check_reads_the_median_error_and_whether_the_fastest_is_named_right():
    import pandas as pd

    from bench.sections.model_check import check

    summary = pd.DataFrame({"point": ["a", "b", "c"], "env_steps_per_s": [100.0, 300.0, 200.0],
                            "predicted_env_steps_per_s": [110.0, 240.0, 250.0],
                            "prediction_error_pct": [10.0, -20.0, 25.0]})
    assert check(summary) == {"points": 3, "median": 20.0, "worst": 25.0, "measured_fastest": "b",
                              "predicted_fastest": "c"}


def test_baselines_keep_enough_runner_counts_for_the_suites_own_extrapolation_check():
    from bench.sections.baselines import kept_counts

    assert kept_counts([0, 1, 2, 3, 3, 0]) == [0.0, 1.0, 2.0]  # 4 counts: 3 kept, the check's minimum
    assert kept_counts([1, 2, 3, 4, 6, 8]) == [1.0, 2.0, 3.0, 4.0]  # 6 counts: 6 - 2
    assert kept_counts([1, 2, 4, 8, 16, 32, 64, 128, 256]) == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0]  # 9 - 3


def test_baselines_coverage_counts_a_point_inside_its_range_and_one_with_no_range_as_outside():
    import pandas as pd

    from bench.sections.baselines import coverage

    # summary.csv's own leave-one-out column has the CSV's column's name: the CSV's is the one compared
    summary = pd.DataFrame({"num_env_runners": [0, 1, 2, 3, 4], "env_steps_per_s": [10.0, 20.0, 30.0, 35.0, 40.0],
                            "predicted_env_steps_per_s": [0.0] * 5})
    stated = pd.DataFrame({"num_env_runners": [0, 1, 2, 3, 4], "predicted_env_steps_per_s": [10.0, 20.0, 30.0, 40.0, 44.0],
                           "predicted_low": [9.0, 18.0, 27.0, 36.0, float("nan")],
                           "predicted_high": [11.0, 22.0, 33.0, 44.0, float("nan")]})
    rows = coverage(summary, stated, kept=[0.0, 1.0, 2.0]).set_index("num_env_runners")
    assert list(rows.index) == [3.0, 4.0]  # only the points the smaller sweep did not measure
    assert not rows.loc[3.0, "inside"]  # 35 lies below 36-44
    assert not rows.loc[4.0, "inside"]  # no range stated
    assert rows.loc[3.0, "half_width_pct"] == pytest.approx(10.0)  # (44 - 36) / 2 / 40
