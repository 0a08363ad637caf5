"""Tests written to kill the mutants `make mutate` found alive in the pure core (RELIABILITY.md section 9):
each states an answer worked out by hand, not read from the code under test."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from analysis_helpers import NEW_STACK
from cgroup_tree import grant, write

from scaling_study.core import cores, layout, model, settings, stats
from scaling_study.core.cores import granted_cores
from scaling_study.core.tune_files import read_experiment_state

# ---------------------------------------------------------------- settings: each check by hand


@pytest.mark.parametrize("check, value, expected", [
    (settings.positive_number, 0.5, None), (settings.positive_number, 0, "a number > 0"),
    (settings.positive_number, True, "a number > 0"), (settings.positive_number, "1", "a number > 0"),
    (settings.non_negative_number, 0, None), (settings.non_negative_number, -0.1, "a number >= 0"),
    (settings.non_negative_number, False, "a number >= 0"),
    (settings.fraction, 1, None), (settings.fraction, 0.25, None), (settings.fraction, 0, "a number in (0, 1]"),
    (settings.fraction, 1.5, "a number in (0, 1]"), (settings.fraction, "x", "a number in (0, 1]"),
    (settings.positive_int_or_auto, "auto", None), (settings.positive_int_or_auto, 3, None),
    (settings.positive_int_or_auto, 0, "a whole number >= 1 or 'auto'"),
    (settings.positive_int_or_auto, "AUTO", "a whole number >= 1 or 'auto'"),
    (settings.layer_sizes, [1, 32], None), (settings.layer_sizes, [0], "a non-empty list of layer sizes, e.g. [32, 32]"),
    (settings.layer_sizes, [], "a non-empty list of layer sizes, e.g. [32, 32]"),
    (settings.layer_sizes, [1.5], "a non-empty list of layer sizes, e.g. [32, 32]"),
    (settings.step_cost, None, None), (settings.step_cost, {"seconds": 0}, None),
    (settings.step_cost, {"seconds": 0.1, "mode": "sleep"}, None),
    (settings.step_cost, {"seconds": -1}, "null or {seconds: S >= 0, mode: spin|sleep}"),
    (settings.step_cost, {"mode": "spin"}, "null or {seconds: S >= 0, mode: spin|sleep}"),
    (settings.step_cost, {"seconds": 1, "mode": "nap"}, "null or {seconds: S >= 0, mode: spin|sleep}"),
    (settings.step_cost, {"seconds": 1, "extra": 1}, "null or {seconds: S >= 0, mode: spin|sleep}"),
    (settings.step_cost, 0.1, "null or {seconds: S >= 0, mode: spin|sleep}"),
])
def test_each_setting_check_by_hand(check, value, expected):
    assert check(value) == expected


# ---------------------------------------------------------------- cores: every source in a fake tree




@pytest.mark.parametrize("mount", ["cpu", "cpu,cpuacct", "cpuacct,cpu"])
def test_a_cgroup1_quota_under_any_cpu_mount_name_and_own_path(tmp_path, mount):
    write(tmp_path, "proc/self/cgroup", "4:cpuset:/job\n2:cpu,cpuacct:/job/step\n")
    write(tmp_path, f"sys/fs/cgroup/{mount}/job/step/cpu.cfs_quota_us", "300000\n")
    write(tmp_path, f"sys/fs/cgroup/{mount}/job/step/cpu.cfs_period_us", "100000\n")
    write(tmp_path, f"sys/fs/cgroup/{mount}/cpu.cfs_quota_us", "-1\n")   # the mount's own: no limit
    write(tmp_path, f"sys/fs/cgroup/{mount}/cpu.cfs_period_us", "100000\n")
    write(tmp_path, "sys/fs/cgroup/cpuset/job/cpuset.cpus", "0-4\n")        # no effective_cpus: cpuset.cpus
    found = grant(tmp_path)
    assert found.limits == {cores.CGROUP1_QUOTA: 3, cores.CGROUP1_CPUSET: 5} and found.granted == 3
    assert found.warnings == ()


def test_a_cgroup1_quota_without_its_period_is_looked_for_further_up(tmp_path):
    write(tmp_path, "proc/self/cgroup", "2:cpu:/job\n")
    write(tmp_path, "sys/fs/cgroup/cpu/job/cpu.cfs_quota_us", "100000\n")   # period missing here
    write(tmp_path, "sys/fs/cgroup/cpu/cpu.cfs_quota_us", "200000\n")
    write(tmp_path, "sys/fs/cgroup/cpu/cpu.cfs_period_us", "100000\n")
    assert grant(tmp_path).limits == {cores.CGROUP1_QUOTA: 2}


def test_an_unreadable_cgroup1_quota_warns_and_the_cpuset_is_still_read(tmp_path):
    write(tmp_path, "proc/self/cgroup", "2:cpu:/\n3:cpuset:/\n")
    write(tmp_path, "sys/fs/cgroup/cpu/cpu.cfs_quota_us", "lots\n")
    write(tmp_path, "sys/fs/cgroup/cpu/cpu.cfs_period_us", "100000\n")
    write(tmp_path, "sys/fs/cgroup/cpuset/cpuset.effective_cpus", "0-1\n")
    found = grant(tmp_path)
    assert found.limits == {cores.CGROUP1_CPUSET: 2}
    quota_file = tmp_path / "sys/fs/cgroup/cpu/cpu.cfs_quota_us"
    assert found.warnings == (f"cannot read {quota_file} (could not convert string to float: 'lots\\n'); "
                              f"using the next source",)


def test_an_empty_cgroup1_cpuset_gives_way_to_its_parent_and_a_bad_one_warns(tmp_path):
    write(tmp_path, "proc/self/cgroup", "3:cpuset:/job\n")
    write(tmp_path, "sys/fs/cgroup/cpuset/job/cpuset.effective_cpus", "\n")
    write(tmp_path, "sys/fs/cgroup/cpuset/cpuset.effective_cpus", "0-2\n")
    assert grant(tmp_path).limits == {cores.CGROUP1_CPUSET: 3}
    write(tmp_path, "sys/fs/cgroup/cpuset/job/cpuset.effective_cpus", "3-1\n")
    found = grant(tmp_path)
    bad = tmp_path / "sys/fs/cgroup/cpuset/job/cpuset.effective_cpus"
    assert found.limits == {} and found.warnings == (
        f"cannot read {bad} (range '3-1' runs backwards); using the next source",)


def test_cgroup2_max_is_no_limit_and_a_bad_cpu_max_warns(tmp_path):
    write(tmp_path, "proc/self/cgroup", "0::/a/b\n")
    write(tmp_path, "sys/fs/cgroup/cgroup.controllers", "cpu cpuset\n")
    write(tmp_path, "sys/fs/cgroup/a/b/cpu.max", "max 100000\n")
    write(tmp_path, "sys/fs/cgroup/a/cpu.max", "two 100000\n")
    write(tmp_path, "sys/fs/cgroup/cpu.max", "500000 100000\n")
    write(tmp_path, "sys/fs/cgroup/a/b/cpuset.cpus.effective", " \n")     # empty: the parent's holds
    write(tmp_path, "sys/fs/cgroup/a/cpuset.cpus.effective", "0-5\n")
    write(tmp_path, "sys/fs/cgroup/cpuset.cpus.effective", "0\n")          # not reached: a's is nearer
    found = grant(tmp_path)
    assert found.limits == {cores.CGROUP2_QUOTA: 5, cores.CGROUP2_CPUSET: 6}
    assert found.warnings == (f"cannot read {tmp_path / 'sys/fs/cgroup/a/cpu.max'} (could not convert string to "
                              f"float: 'two': 'two 100000'); using the next source",)
    write(tmp_path, "sys/fs/cgroup/a/b/cpuset.cpus.effective", "x\n")
    assert grant(tmp_path).warnings[-1] == (f"cannot read {tmp_path / 'sys/fs/cgroup/a/b/cpuset.cpus.effective'} "
                                            f"(invalid literal for int() with base 10: 'x'); using the next source")


def test_own_cgroups_lists_every_controller_of_a_line(tmp_path):
    write(tmp_path, "proc/self/cgroup", "12:cpu,cpuacct:/a:b\n0::/c\nnonsense\n")
    assert cores._own_cgroups(tmp_path) == {"cpu": "/a:b", "cpuacct": "/a:b", "": "/c"}
    assert cores._own_cgroups(tmp_path / "none") == {}


def test_candidates_climb_to_the_mount(tmp_path):
    assert cores._candidates(tmp_path, "/x/y") == [tmp_path / "x/y", tmp_path / "x", tmp_path]
    assert cores._candidates(tmp_path, "/") == [tmp_path] == cores._candidates(tmp_path, None)


@pytest.mark.parametrize("value, limits, warned", [("4(x2)", {cores.SLURM: 4}, False), ("1", {cores.SLURM: 1}, False),
                                                    ("0", {}, True), ("many", {}, True)])
def test_slurm_by_hand(tmp_path, value, limits, warned):
    found = grant(tmp_path, environ={cores.SLURM: value})
    assert found.limits == limits
    assert found.warnings == ((f"cannot read SLURM_CPUS_ON_NODE={value!r} (expected a whole number >= 1); "
                               f"using the next source",) if warned else ())


def test_ties_go_to_the_first_source_and_the_record_is_complete(tmp_path):
    write(tmp_path, "proc/self/cgroup", "3:cpuset:/\n")
    write(tmp_path, "sys/fs/cgroup/cpuset/cpuset.effective_cpus", "0-1\n")
    found = grant(tmp_path, affinity=2, environ={cores.SLURM: "2"}, cpu_count=4)
    assert (found.granted, found.limit) == (2, cores.AFFINITY)
    assert found.to_dict() == {"machine": 4, "granted": 2, "limit": cores.AFFINITY, "warnings": [],
                               "limits": {cores.AFFINITY: 2, cores.CGROUP1_CPUSET: 2, cores.SLURM: 2}}
    unlimited = grant(tmp_path / "none", affinity=4, cpu_count=4)
    assert unlimited.to_dict() == {"machine": 4, "granted": 4, "limit": None, "limits": {cores.AFFINITY: 4},
                                   "warnings": []}


def test_the_default_affinity_and_machine_are_this_processes(tmp_path):
    import os

    assert cores._default_affinity() == len(os.sched_getaffinity(0))
    found = granted_cores(tmp_path)  # nothing faked but the tree: the real affinity, the real machine
    assert found.machine == os.cpu_count() and found.limits[cores.AFFINITY] == len(os.sched_getaffinity(0))


@pytest.mark.parametrize("text, message", [("", "invalid literal"), ("3-1", "range '3-1' runs backwards")])
def test_cpu_list_errors_say_why(text, message):
    with pytest.raises(ValueError, match=message):
        cores.parse_cpu_list(text)


@pytest.mark.parametrize("quota, period, expected", [(0, 100000, 1), (0.5, 1, 1), (100000, 0.5, 200000)])
def test_quota_edges(quota, period, expected):
    assert cores.quota_cores(quota, period) == expected


def test_a_quota_with_no_period_is_refused():
    with pytest.raises(ValueError, match="period 0 is not positive"):
        cores.quota_cores(100, 0)


# ---------------------------------------------------------------- stats


def test_relative_ci_by_hand():
    # equal values: a zero-width interval, 0; one value or a median <= 0: no interval (NaN)
    assert stats.relative_ci([5.0, 5.0, 5.0]) == 0.0
    assert math.isnan(stats.relative_ci([5.0])) and math.isnan(stats.relative_ci([0.0, 0.0, 0.0]))
    assert math.isnan(stats.relative_ci([-1.0, -2.0, -3.0]))
    # the larger side of the interval over the median: with the interval from median_ci itself
    values = [90.0, 100.0, 104.0, 130.0]
    median, low, high = stats.median_ci(values)
    assert (median, low, high) == (102.0, 90.0, 130.0)  # bootstrap medians of 4 values span min..max here
    assert stats.relative_ci(values) == pytest.approx(28 / 102)
    assert stats.relative_ci([100.0, 100.0, 50.0, 100.0, 100.0]) > 0  # a low side only still counts
    assert stats.relative_ci(values, confidence=0.5) < stats.relative_ci(values)


def test_median_ci_edges():
    assert stats.median_ci([3, 3]) == (3.0, 3.0, 3.0)  # equal whole numbers: zero width, as floats
    assert np.isnan(stats.median_ci([])).all()
    assert stats.median_ci([1.0, np.nan, 1.0]) == (1.0, 1.0, 1.0)
    # the first two equal, the third not: an interval, not zero width
    median, low, high = stats.median_ci([1.0, 1.0, 4.0, 5.0])
    assert median == 2.5 and low < high
    # the confidence level narrows the interval; the seed makes it repeatable
    wide, narrow = stats.median_ci(range(20)), stats.median_ci(range(20), confidence=0.5)
    assert narrow[2] - narrow[1] < wide[2] - wide[1]
    # few resamples of continuous data: the seed decides the interval, and the same seed repeats it
    data = np.random.default_rng(7).normal(100.0, 10.0, size=15)
    once, again = stats.median_ci(data, n_resamples=40, seed=1), stats.median_ci(data, n_resamples=40, seed=1)
    assert once == again != stats.median_ci(data, n_resamples=40, seed=2)


def test_phase_shares_of_no_time_are_nan():
    shares = stats.phase_shares([0.0], [0.0], [0.0], [0.0])
    assert all(math.isnan(v) for v in shares.values())
    half = stats.phase_shares([0.5, 0.5], [0.25, 0.25], [0.25, 0.25], [0.0, 0.0])
    assert half == pytest.approx({"sample": 0.5, "learn": 0.5, "sync": 0.0, "other": 0.0})


def test_touching_intervals_overlap_and_touching_trials_do_not():
    assert stats.intervals_overlap(1.0, 2.0, 2.0, 3.0) and stats.intervals_overlap(2.0, 3.0, 1.0, 2.0)
    assert not stats.intervals_overlap(1.0, 2.0, 2.5, 3.0)
    # trial 0 ends exactly when trial 1 starts: back to back, not overlapping; 1 s into it: overlapping
    assert stats.overlapping_pairs([0, 10], [10, 20]).tolist() == []
    assert stats.overlapping_pairs([0, 9], [10, 20]).tolist() == [[0, 1]]
    # by exactly the tolerance: not more than it, so not a pair; whole-number times work as numbers
    assert stats.overlapping_pairs([0, 9], [10, 20], tolerance_s=1).tolist() == []
    assert stats.overlapping_pairs([0, 9], [10, 20], tolerance_s=[0.5, 0]).tolist() == [[0, 1]]


# ---------------------------------------------------------------- model


def test_shared_cores_rate_without_cpu_work_is_the_wait_alone():
    assert model.shared_cores_rate(3, 2, 0.0, 0.5) == pytest.approx(6.0)  # 3 runners, one step per 0.5 s each
    # one runner: 1 / (cpu + wait); with a core each, runners do not meet
    assert model.shared_cores_rate(1, 1, 1e-3, 3e-3) == pytest.approx(250.0)
    assert model.shared_cores_rate(3, 3, 1e-3, 1e-3) == pytest.approx(1500.0)


def test_a_computing_env_adds_its_step_per_env():
    s = model.Configuration(runners=1, envs=4, env_step_s=1e-3, batch=100)
    cpu, wait = model.cpu_and_wait_s(s, model.Params(a=1e-3))
    assert (cpu, wait) == (pytest.approx(5e-3), 0.0)  # a + 4 x 1 ms, no waiting


def test_no_runners_spread_over_nodes_sample_in_the_main_process():
    p = model.Params(a=1e-3)
    local = model.Configuration(runners=0, envs=1, env_step_s=0.0, batch=100, nodes=2, cores=1)
    # one vector step per env step, 1 ms each, on one node whatever the cluster's size
    assert model.vector_step_s(local, p) == pytest.approx(1e-3)
    assert model.sample_s(local, p) == pytest.approx(0.1)
    assert model.on_machine(local, 8, 3) == model.Configuration(runners=0, envs=1, env_step_s=0.0, batch=100, cores=8,
                                                           nodes=3)


def test_free_sample_params_by_hand():
    base = model.Configuration(runners=1, envs=1, env_step_s=0.002, batch=100, sleeps=True, cores=2)
    envs = [base, model.Configuration(**{**base.__dict__, "envs": 2})]
    assert "b" in model.free_sample_params(envs)
    assert "b" not in model.free_sample_params([base])
    both = [base, model.Configuration(**{**base.__dict__, "is_async": True})]
    assert "q" in model.free_sample_params(both)
    assert "q" not in model.free_sample_params([model.Configuration(**{**base.__dict__, "is_async": True})])
    one_runner_and_local = [base, model.Configuration(**{**base.__dict__, "runners": 0})]
    assert "r" in model.free_sample_params(one_runner_and_local)


def test_fit_line_by_hand():
    # y = 1 + 2x exactly; integer inputs are fitted as numbers
    intercept, slope = model.fit_line([1, 2, 3], [3, 5, 7])
    assert (intercept, slope) == (pytest.approx(1.0), pytest.approx(2.0))
    # a falling line is clipped at a zero slope: costs never shrink with more runners
    assert model.fit_line([1, 2, 3], [0.3, 0.2, 0.1]) == (pytest.approx(0.2), pytest.approx(0.0, abs=1e-9))


def test_leave_one_out_holds_out_one_point_at_a_time():
    # Two settings whose sampling differs only in envs: each fit without its point cannot see b
    grid = [model.Configuration(runners=1, envs=e, env_step_s=0.002, batch=1000, sleeps=True, cores=2) for e in (1, 2, 4)]
    p = model.Params(a=1e-3, b=2e-4, w=5e-4, learn=1e-4, sync0=0.01, other0=0.02)
    observed = [model.TrialPhases(s, model.sample_s(s, p), model.learn_s(s, p), model.sync_s(s, p),
                                  model.other_s(s, p)) for s in grid]
    assert len(model.leave_one_out(observed)) == 3
    assert np.isnan(model.leave_one_out(observed[:1])).all()  # nothing left to fit on


# ---------------------------------------------------------------- tune_files


def test_experiment_state_facts_by_hand():
    """The fixture's experiment_state file, parsed here: each trial's status, id, failures, start time and
    error file, by its directory name."""
    (state_file,) = NEW_STACK.glob("experiment_state-*.json")
    expected = {}
    for trial_json, runtime_json in json.loads(state_file.read_text())["trial_data"]:
        trial, runtime = json.loads(trial_json), json.loads(runtime_json)
        expected[trial["relative_logdir"].rsplit("/", 1)[-1]] = {
            "status": trial["status"], "trial_id": trial["trial_id"], "num_failures": runtime["num_failures"],
            "start_time": runtime["start_time"], "error_filename": runtime["error_filename"]}
    assert len(expected) == 2
    assert read_experiment_state(NEW_STACK) == expected


@pytest.mark.parametrize("value, expected", [("ASYNC", None), ("sync", None), ("x", "one of sync, async"),
                                             (1, "one of sync, async")])
def test_one_of_by_hand(value, expected):
    check = settings.one_of(("sync", "async"))  # built here, where the check under test runs
    assert check(value) == expected


def test_a_cgroup2_quota_is_looked_for_above_a_cgroup_without_cpu_max(tmp_path):
    write(tmp_path, "proc/self/cgroup", "0::/job/step\n")
    write(tmp_path, "sys/fs/cgroup/cgroup.controllers", "cpu\n")
    (tmp_path / "sys/fs/cgroup/job/step").mkdir(parents=True)      # no cpu.max of its own
    write(tmp_path, "sys/fs/cgroup/job/cpu.max", "200000 100000\n")
    assert grant(tmp_path).limits == {cores.CGROUP2_QUOTA: 2}
    long = "1" * 50 + " 100000 extra"
    write(tmp_path, "sys/fs/cgroup/job/cpu.max", long + "\n")
    (warning,) = grant(tmp_path).warnings
    assert warning.endswith(f"{long[:40]!r}); using the next source")  # the text cut at 40 characters


def test_the_least_source_wins_not_the_first_by_name(tmp_path):
    write(tmp_path, "proc/self/cgroup", "3:cpuset:/\n")
    write(tmp_path, "sys/fs/cgroup/cpuset/cpuset.effective_cpus", "0-1\n")
    found = grant(tmp_path, affinity=3, environ={cores.SLURM: "5"}, cpu_count=8)
    assert (found.granted, found.limit) == (2, cores.CGROUP1_CPUSET)


def test_more_statistics_by_hand():
    # a median below 1 still has a relative interval: [0.5, 0.5, 0.6] -> median 0.5, up to 0.6: 20%
    assert stats.relative_ci([0.5, 0.5, 0.6]) == pytest.approx(0.2)
    # CV of [0.5, 1.5]: std 0.7071 (ddof 1) over a mean of exactly 1
    assert stats.coefficient_of_variation([0.5, 1.5]) == pytest.approx(0.70710678)
    assert math.isnan(stats.coefficient_of_variation([-1.0, 1.0]))  # a mean of 0
    # efficiency against a 2-CPU baseline: 2x on 4 CPUs is perfect
    assert stats.efficiency([2.0], [4], 2).tolist() == [1.0]
    # the seed of the two-level bootstrap repeats it, and decides it when resamples are few
    seeds = [[100.0, 110.0], [90.0, 95.0], [120.0, 80.0], [105.0, 99.0]]
    once = stats.seed_median_ci(seeds, n_resamples=30, seed=3)
    assert once == stats.seed_median_ci(seeds, n_resamples=30, seed=3) != stats.seed_median_ci(seeds, n_resamples=30,
                                                                                                 seed=4)


def test_amdahl_fit_by_hand():
    n = np.array([1.0, 2.0, 4.0, 8.0])
    exact = stats.amdahl_speedup(n, 0.1)  # 1, 1.818, 3.077, 4.706
    assert stats.fit_amdahl(n, exact).serial_fraction == pytest.approx(0.1)
    # a NaN, a zero and a negative speedup are no measurements: the fit is the same without them
    assert stats.fit_amdahl([*n, 16, 32, 64], [*exact, np.nan, 0.0, -1.0]).serial_fraction == pytest.approx(0.1)
    assert stats.fit_amdahl([*n, np.nan], [*exact, 5.0]).serial_fraction == pytest.approx(0.1)
    # super-linear speedups clip the serial fraction at 0: no ceiling
    assert stats.fit_amdahl([1, 2, 4], [1, 2.5, 6]) == stats.AmdahlFit(0.0, np.inf)
    # nothing beyond the baseline: no fit at all
    nothing = stats.fit_amdahl([1, 1], [1, 1])
    assert math.isnan(nothing.serial_fraction) and math.isnan(nothing.ceiling_speedup)


def test_experiment_state_of_a_tune_session_by_hand(tmp_path):
    """A state file written here: entries as JSON strings or as objects, a broken entry before good ones,
    the error file Tune names; a state without trial_data has no facts."""
    trial = {"relative_logdir": "run/trial_a", "status": "ERROR", "trial_id": "a1"}
    runtime = {"num_failures": 2, "start_time": 17.5, "error_filename": "error.txt"}
    other = {"relative_logdir": "trial_b", "status": "TERMINATED", "trial_id": "b1"}
    state = {"trial_data": [["{broken", "{}"], [json.dumps(trial), json.dumps(runtime)], [other, {}]]}
    (tmp_path / "experiment_state-2026-01-01_00-00-00.json").write_text(json.dumps(state))
    assert read_experiment_state(tmp_path) == {
        "trial_a": {"status": "ERROR", "trial_id": "a1", "num_failures": 2, "start_time": 17.5,
                    "error_filename": "error.txt"},
        "trial_b": {"status": "TERMINATED", "trial_id": "b1", "num_failures": None, "start_time": None,
                    "error_filename": None}}
    (tmp_path / "experiment_state-2026-01-01_00-00-00.json").write_text("{}")
    assert read_experiment_state(tmp_path) == {}


def test_one_runner_on_one_core_does_not_queue():
    # one runner alone on one core: a vector step is its CPU + wait (1 + 1 ms), no one to queue behind
    s = model.Configuration(runners=1, envs=1, env_step_s=1e-3, batch=10, sleeps=True, cores=1)
    assert model.vector_step_s(s, model.Params(a=1e-3)) == pytest.approx(2e-3)
    assert model.sample_s(s, model.Params(a=1e-3)) == pytest.approx(20e-3)


def test_result_lines_by_hand(tmp_path):
    from scaling_study.core.tune_files import read_result_lines

    trial = tmp_path / "trial_x"
    trial.mkdir()
    result = trial / "result.json"
    # a garbled line 2 between good ones, a blank line, a non-object, a byte that is not UTF-8 in a string
    result.write_bytes(b'{"a": 1}\n{"a": \n\n[1, 2]\n{"a": 3, "s": "\xff"}\n')
    rows, warnings = read_result_lines(result)
    assert rows == [{"a": 1}, {"a": 3, "s": "\ufffd"}]
    assert warnings == ["trial_x: result.json has an unreadable line(s) 2 (truncated?); kept the 2 good row(s)"]
    result.write_text('{"a": 1}\n{"a": 2\n')
    assert read_result_lines(result)[1] == ["trial_x: result.json has an unreadable last line (truncated?); "
                                            "kept the 1 good row(s)"]


def test_trial_dirs_and_files_by_hand(tmp_path):
    from scaling_study.core.layout import read_ledger, read_pruned
    from scaling_study.core.tune_files import find_trial_dirs, read_trial

    for name in ("trial_b", "trial_a", ".hidden", "checkpoint_000001", "no_files"):
        (tmp_path / name).mkdir()
    for name in ("trial_a", "trial_b", ".hidden", "checkpoint_000001"):
        (tmp_path / name / "params.json").write_text("{}")
    assert [p.name for p in find_trial_dirs(tmp_path)] == ["trial_a", "trial_b"]
    (tmp_path / "trial_a" / "error.txt").write_bytes(b"ValueError: \xff\n")
    files = read_trial(tmp_path / "trial_a")
    assert files.error_text == "ValueError: \ufffd\n" and files.params == {}
    (tmp_path / "scaling_study").mkdir()
    (tmp_path / "scaling_study" / "finished.jsonl").write_bytes(
        b'{"trial_dir": "trial_a", "trial_index": 0, "note": "\xff"}\n')
    assert read_ledger(tmp_path).by_dir() == {"trial_a": {"trial_dir": "trial_a", "trial_index": 0, "note": "\ufffd"}}
    (tmp_path / "scaling_study" / "pruned.json").write_text('{"p": {"why": "slow"}}')
    assert read_pruned(tmp_path) == {"p": {"why": "slow"}}


def test_a_ledger_listing_one_trial_twice_keeps_the_first_and_says_so():
    """By hand: line 1 trial 0 in dir a, line 2 cut short, line 3 trial 0 again in dir b, line 4 trial 0 in
    dir a once more (the same entry written twice: kept silently), line 5 trial 1 in dir c."""
    from scaling_study.core.layout import LEDGER, parse_ledger

    text = "\n".join(['{"trial_index": 0, "trial_dir": "a"}', '{"trial_index": 1, "tri',
                      '{"trial_index": 0, "trial_dir": "b"}', '{"trial_index": 0, "trial_dir": "a"}',
                      '{"trial_index": 1, "trial_dir": "c"}'])
    ledger = parse_ledger(text)
    assert {i: e["trial_dir"] for i, e in ledger.by_index.items()} == {0: "a", 1: "c"}
    assert ledger.repeated == {"b": "a"}
    assert ledger.warnings == [f"{LEDGER.name}: trial_index 0 twice: kept the first (a), not b",
                               f"{LEDGER.name}: skipped 1 damaged line(s) (line(s) 2: cut short, or without a "
                               f"trial_index or trial_dir)"]


# ================================================================ issue 25: survivors of the run at ae45e24
# Each test below names the survivors it was written against (mutmut's names, without the module prefix).

# ---------------------------------------------------------------- settings


def test_default_of_by_hand():
    # x_default_of__mutmut_1..7. RLlib's PPO default num_epochs is 30 and placement_strategy "PACK" (their
    # Setting records); lr has a record without a default (UNSET), which reads as None, as does a name
    # that is no setting of ours at all.
    assert settings.default_of("num_epochs") == 30
    assert settings.default_of("placement_strategy") == "PACK"
    assert settings.default_of("lr") is None
    assert settings.default_of("no_such_setting") is None


def test_default_of_an_algorithm_by_hand():
    # x_default_of__mutmut_6 and xǁSettingǁdefault_for__mutmut_1 (the algorithm dropped for None): RLlib
    # 2.60's APPO and IMPALA keep AlgorithmConfig's 1 epoch and last at least 10 s an iteration, where PPO
    # has 30 epochs and no minimum (None). x_default_of__mutmut_1/2 (the default "PPO" spelled
    # "XXPPOXX" / "ppo") are equivalent: PPO's values are the records' `default`, which any algorithm
    # without its own entry gets.
    assert settings.default_of("num_epochs", "APPO") == 1
    assert settings.default_of("min_time_s_per_iteration", "IMPALA") == 10
    assert settings.default_of("min_time_s_per_iteration") is None
    assert settings.SETTINGS["minibatch_size"].default_for("IMPALA") is None
    assert settings.SETTINGS["minibatch_size"].default_for("PPO") == 128


def test_short_name_by_hand():
    # x_short_name__mutmut_1..3
    assert settings.short_name("num_envs_per_env_runner") == "envs"
    assert settings.short_name("no_such_setting") == "no_such_setting"


def test_short_pairs_by_hand():
    # x_short_pairs__mutmut_2, 3, 5, 6, 10, 12: the docstring's own example, split at ", " then at "="
    assert settings.short_pairs("num_env_runners=2, num_envs_per_env_runner=4") == [("runners", "2"), ("envs", "4")]
    # no label: no pairs (not one pair named after the placeholder)
    assert settings.short_pairs("") == [] and settings.short_pairs(None) == []
    # x_short_pairs__mutmut_9: a setting's name has no "=", so the first "=" ends it; the value keeps the rest
    assert settings.short_pairs("note=a=b") == [("note", "a=b")]


def test_resolve_says_which_setting_has_no_default():
    # x_resolve__mutmut_4: the KeyError names the setting (lr has no default in its record)
    with pytest.raises(KeyError, match="lr has no default in its Setting record"):
        settings.resolve({"lr": 0.1}, ("lr",))


def test_display_value_by_hand():
    # x_display_value__mutmut_1..7: the docstring's two examples
    assert settings.display_value({"seconds": 0.002, "mode": "sleep"}) == "0.002/sleep"
    assert settings.display_value([32, 32]) == "32x32"
    assert settings.display_value((64,)) == "64"


# ---------------------------------------------------------------- tune_files and layout


def test_result_lines_name_every_unreadable_line(tmp_path):
    # x_read_result_lines__mutmut_26: lines 2 and 4 of 5 garbled (not the last): both named, comma-separated
    from scaling_study.core.tune_files import read_result_lines

    trial = tmp_path / "trial_y"
    trial.mkdir()
    (trial / "result.json").write_text('{"a": 1}\n{"a"\n{"a": 3}\n{"a": 4\n{"a": 5}\n')
    rows, warnings = read_result_lines(trial / "result.json")
    assert rows == [{"a": 1}, {"a": 3}, {"a": 5}]
    assert warnings == ["trial_y: result.json has an unreadable line(s) 2, 4 (truncated?); kept the 3 good row(s)"]


def test_read_trial_keeps_the_directory_it_read(tmp_path):
    # x_read_trial__mutmut_25
    from scaling_study.core.tune_files import read_trial

    (tmp_path / "trial_z").mkdir()
    (tmp_path / "trial_z" / "params.json").write_text('{"lr": 0.1}')
    files = read_trial(tmp_path / "trial_z")
    assert (files.name, files.path, files.params) == ("trial_z", tmp_path / "trial_z", {"lr": 0.1})


def test_suite_json_files_read_back_what_they_hold(tmp_path):
    # x_read_explored__mutmut_1, x_read_seeded__mutmut_1, x_read_configs__mutmut_1: a file holding an
    # object reads as that object; no file reads as {}
    from scaling_study.core import layout

    assert layout.read_explored(tmp_path) == layout.read_seeded(tmp_path) == layout.read_configs(tmp_path) == {}
    (tmp_path / layout.SUITE_DIR).mkdir(parents=True)
    (tmp_path / layout.EXPLORED).write_text('{"runners": {"tried": [1, 2]}}')
    (tmp_path / layout.SEEDED).write_text('{"p": {"seeds": 3, "why": "narrow"}}')
    (tmp_path / layout.CONFIGS).write_text('{"preamble": "import x", "points": {}}')
    assert layout.read_explored(tmp_path) == {"runners": {"tried": [1, 2]}}
    assert layout.read_seeded(tmp_path) == {"p": {"seeds": 3, "why": "narrow"}}
    assert layout.read_configs(tmp_path) == {"preamble": "import x", "points": {}}


def test_a_blank_line_in_the_ledger_does_not_end_it():
    # x_parse_ledger__mutmut_8: line 2 blank, line 3 trial 1: both trials kept, nothing damaged
    from scaling_study.core.layout import parse_ledger

    ledger = parse_ledger('{"trial_index": 0, "trial_dir": "a"}\n\n{"trial_index": 1, "trial_dir": "b"}\n')
    assert {i: e["trial_dir"] for i, e in ledger.by_index.items()} == {0: "a", 1: "b"}
    assert ledger.warnings == []


# ---------------------------------------------------------------- cores


def test_own_cgroups_of_a_line_with_a_controller_and_no_path(tmp_path):
    # x__own_cgroups__mutmut_24: "2:cpu:" names the cpu controller with an empty path (not cgroup v2's "")
    write(tmp_path, "proc/self/cgroup", "2:cpu,cpuacct:\n")
    assert cores._own_cgroups(tmp_path) == {"cpu": "", "cpuacct": ""}


def test_candidates_keep_the_own_paths_letters(tmp_path):
    # x__candidates__mutmut_9: only the leading "/" goes: "/Xjob/Xstep" is Xjob/Xstep under the mount
    assert cores._candidates(tmp_path, "/Xjob/Xstep") == [tmp_path / "Xjob/Xstep", tmp_path / "Xjob", tmp_path]


def test_granted_cores_reads_the_root_of_this_machine_by_default():
    # x_granted_cores__mutmut_1: the default root is "/", so the default call is the call on "/". (It tells
    # the two apart only where / holds a cgroup limit file, as the 2-core machine's cgroup v1 cpuset does.)
    assert granted_cores() == granted_cores("/")


# ---------------------------------------------------------------- stats: a missing value (None) is NaN
# pandas holds a column with a missing value as objects (None); each function reads it as NaN, as a
# float array would hold it, and so drops or propagates it like any NaN.


def test_median_and_cv_drop_a_missing_value():
    # x_median_ci__mutmut_4, 6; x_coefficient_of_variation__mutmut_3, 5
    median, low, high = stats.median_ci([5.0, None])
    assert median == 5.0 and math.isnan(low) and math.isnan(high)  # one value left: no interval
    # [0.5, 1.5]: std 0.7071 (ddof 1) over a mean of 1, as in test_more_statistics_by_hand
    assert stats.coefficient_of_variation([0.5, None, 1.5]) == pytest.approx(0.70710678)


def test_seed_median_drops_a_missing_value():
    # x_seed_median_ci__mutmut_5, 7: trials [1] and [3] once None goes: median of medians 2; two trials are
    # fewer than the 3 an interval needs
    estimate, low, high = stats.seed_median_ci([[1.0, None], [3.0, None]])
    assert estimate == 2.0 and math.isnan(low) and math.isnan(high)


def test_speedup_efficiency_and_amdahl_propagate_a_missing_value():
    # x_speedup__mutmut_3, 5; x_efficiency__mutmut_3, 5, 8, 10; x_amdahl_speedup__mutmut_3, 5
    assert np.array_equal(stats.speedup([2.0, None], 2.0), [1.0, np.nan], equal_nan=True)
    # 2x on 4 CPUs against 2: efficiency 1; a missing speedup or CPU count: NaN
    assert np.array_equal(stats.efficiency([2.0, None], [4, 4], 2), [1.0, np.nan], equal_nan=True)
    assert np.array_equal(stats.efficiency([2.0, 2.0], [4, None], 2), [1.0, np.nan], equal_nan=True)
    # serial fraction 0.5 on 2x: 1 / (0.5 + 0.5 / 2) = 4/3
    assert np.array_equal(stats.amdahl_speedup([2, None], 0.5), [4 / 3, np.nan], equal_nan=True)


def test_fit_amdahl_drops_a_missing_value():
    # x_fit_amdahl__mutmut_3, 5, 8, 10: exact Amdahl speedups with s = 0.1 (1, 1/0.55, 1/0.325, 1/0.2125);
    # a point with a missing n or speedup is no measurement
    n = [1.0, 2.0, 4.0, 8.0]
    exact = [1.0, 1 / 0.55, 1 / 0.325, 1 / 0.2125]
    assert stats.fit_amdahl([*n, None], [*exact, 5.0]).serial_fraction == pytest.approx(0.1)
    assert stats.fit_amdahl([*n, 16.0], [*exact, None]).serial_fraction == pytest.approx(0.1)


def test_phase_shares_without_sampling_times_are_nan():
    # x_phase_shares__mutmut_10, 12: no sample time known (None): no shares, not a sampling share of 0
    shares = stats.phase_shares([1.0], [None], [0.5], [0.1])
    assert all(math.isnan(v) for v in shares.values())


def test_a_window_with_a_missing_start_or_end_overlaps_nothing():
    # x_overlapping_pairs__mutmut_4, 6, 9, 11: window 0 [0, 10] overlaps window 1 [5, 20] by 5 s; with
    # either of window 1's ends unknown it is no window, so no pair
    assert stats.overlapping_pairs([0, 5], [10, 20]).tolist() == [[0, 1]]
    assert stats.overlapping_pairs([0, None], [10, 20]).tolist() == []
    assert stats.overlapping_pairs([0, 5], [10, None]).tolist() == []


# ---------------------------------------------------------------- stats: the bootstrap's arguments


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # scipy's standard error of one resample divides by 0
def test_median_ci_uses_the_resamples_it_is_given():
    # x_median_ci__mutmut_30: one resample has one median, so both ends of the interval are it; 9999
    # resamples of [0, 1] draw [0, 0] and [1, 1] a quarter of the time each, so they span 0..1
    median, low, high = stats.median_ci([0.0, 1.0], n_resamples=1)
    assert median == 0.5 and low == high
    assert stats.median_ci([0.0, 1.0]) == (0.5, 0.0, 1.0)


def test_seed_median_ci_resamples_within_each_trial():
    # x_seed_median_ci__mutmut_35, 37. Five trials of [0, 10, 10]: each trial's median is 10, so the
    # estimate is 10. A drawn trial's own resample of 3 is [0, 0, x] or [0, 0, 0] (median 0) with
    # p = 3 (1/3)^2 (2/3) + (1/3)^3 = 7/27; the median of 5 drawn trials is 0 when 3 or more are:
    # 10 (7/27)^3 (20/27)^2 + 5 (7/27)^4 (20/27) + (7/27)^5 = 0.113 > 0.025, so the interval reaches 0.
    # (One median over all of a trial's draws, a third of them 0, is 10: the interval would be 10..10.)
    assert stats.seed_median_ci([[0.0, 10.0, 10.0]] * 5) == (10.0, 0.0, 10.0)


def test_seed_median_ci_at_zero_confidence_is_one_point():
    # x_seed_median_ci__mutmut_40, 42, 45, 57: confidence 0 leaves tails of (1 - 0) / 2 = 50% on each
    # side: both ends are the 50th percentile of the resampled medians, the same number
    per_seed = np.random.default_rng(3).normal(100.0, 10.0, size=(6, 8)).round(1).tolist()
    _, low, high = stats.seed_median_ci(per_seed, confidence=0.0)
    assert low == high


# ---------------------------------------------------------------- model


def test_shared_cores_rate_of_no_runners_is_zero():
    # x_shared_cores_rate__mutmut_19, 20: no runners at the station, no vector steps a second
    assert model.shared_cores_rate(0, 2, 1e-3, 1e-3) == 0.0


def test_on_machine_is_one_node_unless_told():
    # x_on_machine__mutmut_1
    s = model.Configuration(runners=2, envs=1, env_step_s=0.0, batch=100, cores=2, nodes=4)
    assert model.on_machine(s, 8) == model.Configuration(runners=2, envs=1, env_step_s=0.0, batch=100, cores=8,
                                                         nodes=1.0)


def _sampling_only(envs: int, sample_s: float) -> model.TrialPhases:
    """A point sampling in the main process (no runners, no r), computing nothing itself (env_step_s 0),
    1000 env steps an iteration and no time outside sampling."""
    return model.TrialPhases(model.Configuration(runners=0, envs=envs, env_step_s=0.0, batch=1000),
                             sample_s, 0.0, 0.0, 0.0)


def test_a_falling_per_env_cost_is_clipped_at_zero():
    # x_fit_sampling__mutmut_31. 1 env: 1000 vector steps in 2 s, 2 ms each; 2 envs: 500 in 0.75 s, 1.5 ms
    # each. a + b = 2 ms and a + 2b = 1.5 ms would need b = -0.5 ms; b >= 0 holds it at 0, and a alone
    # then fits the log errors best at the geometric mean of 2 and 1.5 ms: sqrt(3) ms.
    fitted = model.fit_sampling([_sampling_only(1, 2.0), _sampling_only(2, 0.75)])
    assert fitted["b"] == pytest.approx(0.0, abs=1e-12)
    assert fitted["a"] == pytest.approx(math.sqrt(3) * 1e-3, rel=1e-6)


def test_leave_one_out_fits_on_every_other_point():
    # x_leave_one_out__mutmut_6. a = b = 1 ms: 1000 / e vector steps of (1 + e) ms each; throughput is
    # 1000 / sample_s: e = 1: 2 s, 500/s; e = 2: 1.5 s, 666.7/s; e = 4: 1.25 s, 800/s. Any two of the points
    # differ in envs, so a and b are fitted from them exactly; from one point alone b could not be.
    points = [_sampling_only(1, 2.0), _sampling_only(2, 1.5), _sampling_only(4, 1.25)]
    np.testing.assert_allclose(model.leave_one_out(points), [500.0, 2000 / 3, 800.0], rtol=1e-6)


def test_fit_line_of_a_yes_no_regressor():
    # x_fit_line__mutmut_3, 5: x given as booleans is 0 and 1: y = 1 + 2x exactly
    assert model.fit_line([False, True, True], [1.0, 3.0, 3.0]) == (pytest.approx(1.0), pytest.approx(2.0))


def test_no_affinity_call_means_no_affinity_limit(monkeypatch):
    # x__default_affinity__mutmut_6, 10: where os has no sched_getaffinity (macOS), there is no affinity to
    # count: None, not an AttributeError nor a call of None
    import os

    monkeypatch.delattr(os, "sched_getaffinity")
    assert cores._default_affinity() is None


def test_a_machine_that_cannot_count_its_cores_has_one(tmp_path, monkeypatch):
    # x_granted_cores__mutmut_13: os.cpu_count() is None where the count cannot be determined; the machine
    # then counts as 1 core, and an affinity of 1 does not limit it
    import os

    monkeypatch.setattr(os, "cpu_count", lambda: None)
    found = granted_cores(tmp_path, affinity=lambda: 1, environ={})
    assert (found.machine, found.granted, found.limit) == (1, 1, None)


# --- this round's writers, reached by make mutate once tests/test_suite_files.py is in its selection ---

def test_the_ledger_and_an_atomic_file_make_the_folders_they_need(tmp_path):
    # x_append_finished__mutmut_4/6/8 and x_write_text_atomic__mutmut_3/5/7 (mkdir without parents): an
    # experiment directory that does not exist yet, two levels down, gets its folders; the ledger line
    # keeps its stopped_by under that name (x_append_finished__mutmut_34/35).
    exp_dir = tmp_path / "storage" / "exp"
    assert layout.append_finished(exp_dir, 3, "trial_3", "training_iteration", retries=1) is True
    entry = layout.parse_ledger((exp_dir / layout.LEDGER).read_text()).by_index[3]
    assert entry["stopped_by"] == "training_iteration" and entry["trial_dir"] == "trial_3" and entry["retries"] == 1
    target = tmp_path / "a" / "b" / "predicted.csv"
    layout.write_text_atomic(target, "x,y\n1,2\n")
    assert target.read_text() == "x,y\n1,2\n" and not list(target.parent.glob("*.tmp"))
