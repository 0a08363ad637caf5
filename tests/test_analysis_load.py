"""Loading Tune directories: numbers checked by hand against the fixture files (see tests/fixtures/README.md)."""

import json
import math

import numpy as np
import pytest
from analysis_helpers import NEW_STACK, OLD_STACK, SUITE, rllib_rate, rows_by_runners

from scaling_study.analysis.findings import find
from scaling_study.analysis.load import load_experiment, resolve_params
from scaling_study.analysis.summary import build_summary

POINT_A = "num_env_runners=0, num_envs_per_env_runner=1"
POINT_B = "num_env_runners=1, num_envs_per_env_runner=2"


@pytest.fixture(scope="module")
def suite():
    experiment = load_experiment(SUITE)
    summary = build_summary(experiment.iterations, experiment.trials, 50_000.0, grid=experiment.grid).set_index("point")
    return experiment, summary


def test_suite_iterations_use_scaling_keys(suite):
    experiment, _ = suite
    it = experiment.iterations
    assert len(it) == 12 and experiment.warnings == []
    first = it[(it["repeat"] == 0) & (it["point"] == POINT_A)].sort_values("iteration")
    # iter_s 2.0, 1.0, 0.8 at 1000 env steps each; iteration 1 is warmup
    assert first["env_steps_per_s"].tolist() == [500.0, 1000.0, 1250.0]
    assert first["warmup"].tolist() == [True, False, False]
    assert first["sample_s"].tolist() == pytest.approx([1.0, 0.5, 0.4])  # never timers/* (99.0)
    assert first["phases_measured"].all()
    # started at T0, 2 s setup, then 2.0 + 1.0 + 0.8 s of iterations
    assert first["wall_s"].tolist() == pytest.approx([4.0, 5.0, 5.8])


def test_suite_trials_table(suite):
    experiment, _ = suite
    trials = experiment.trials.set_index("trial_id")
    assert trials["status"].eq("TERMINATED").all() and not trials["errored"].any()
    assert trials.loc["abcde_00000", "iterations"] == 3
    assert trials.loc["abcde_00000", "measured_iterations"] == 2
    assert trials.loc["abcde_00000", "ended_at"] - trials.loc["abcde_00000", "started_at"] == pytest.approx(5.8)
    assert trials["nodes"].tolist() == [1, 1, 1, 1]
    assert trials["cpus"].tolist() == [1, 1, 2, 2]


def test_suite_summary_by_hand(suite):
    _, summary = suite
    a, b = summary.loc[POINT_A], summary.loc[POINT_B]
    # Seeds are the unit. A measured: r0 [1000, 1250] -> 1125, r1 [1000, 800] -> 900; median of the two
    # seeds' medians (1125 + 900) / 2 = 1012.5 (pooling the iterations would say 1000). B: all 2000.
    assert a["env_steps_per_s"] == 1012.5 and b["env_steps_per_s"] == 2000.0
    # Two seeds per point: too few for an interval over seeds, so none is given.
    assert (a["seeds"], b["seeds"]) == (2, 2)
    assert np.isnan([a["env_steps_per_s_ci_low"], a["env_steps_per_s_ci_high"],
                     b["env_steps_per_s_ci_low"], b["env_steps_per_s_ci_high"]]).all()
    assert (a["speedup"], b["speedup"]) == pytest.approx((1.0, 2000 / 1012.5))
    assert b["efficiency"] == pytest.approx(2000 / 1012.5 / 2)  # on 2x the CPUs
    # per-repeat medians A: 1125, 900 -> CV 0.1571 (flagged); B: 0
    assert a["cv"] == pytest.approx(0.157135, rel=1e-4) and a["high_cv"]
    assert b["cv"] == 0.0 and not b["high_cv"]
    assert [a[f"{p}_share"] for p in ("sample", "learn", "sync", "other")] == pytest.approx([0.5, 0.4, 0.05, 0.05])
    assert [b[f"{p}_share"] for p in ("sample", "learn", "sync", "other")] == pytest.approx([0.2, 0.7, 0.05, 0.05])
    assert (a["setup_s"], b["setup_s"]) == (2.5, 5.0)  # median of 2.0, 3.0 and of 5.0, 5.0
    # limit = 50,000 steps/s per core x 1 sampling CPU -> 1012.5 / 50,000 = 2.025% and 4%
    assert (a["pct_of_limit"], b["pct_of_limit"]) == pytest.approx((2.025, 4.0))


def test_suite_findings(suite):
    experiment, summary = suite
    findings = find(experiment, summary.reset_index())
    # Two seeds per point give no interval, so whether B really beats A is left open, not claimed.
    assert findings.fastest["point"] == POINT_B and findings.distinguishable is None
    assert findings.bottleneck.startswith("Learning takes 70% of each iteration")
    assert "at most 1.2x more" in findings.bottleneck  # 1 / (1 - 0.2) = 1.25
    assert findings.warnings == [f"{POINT_A}: throughput varies 16% across repeats (CV > 10%)."]


@pytest.mark.parametrize("fixture", [NEW_STACK, OLD_STACK])
def test_foreign_throughput_falls_back_to_rllib_keys(fixture):
    # Expected from the fixture's own rows: the sampled steps RLlib reports (env_runners/num_env_steps_sampled,
    # or num_env_steps_sampled_this_iter on the old stack: 200 each) over Tune's time_this_iter_s.
    expected = {runners: [rllib_rate(r) for r in rows] for runners, rows in rows_by_runners(fixture).items()}
    assert sorted(expected) == [0, 1] and all(len(v) == 2 for v in expected.values())
    experiment = load_experiment(fixture)
    it = experiment.iterations.sort_values(["num_env_runners", "iteration"])
    for runners, values in expected.items():
        assert it.loc[it["num_env_runners"] == runners, "env_steps_per_s"].tolist() == pytest.approx(values)
    assert not it["phases_measured"].any() and it["sample_s"].isna().all()  # unavailable, not guessed
    assert not it["warmup"].any()  # foreign trials declare no warmup
    assert experiment.warnings == [] and experiment.provenance is None and experiment.calibration is None
    assert set(experiment.trials["point"]) == {"num_env_runners=0, num_envs_per_env_runner=1",
                                               "num_env_runners=1, num_envs_per_env_runner=1"}
    assert experiment.trials["cpus"].tolist() == [1.0, 2.0]  # main process + one per env runner


def test_old_stack_episode_return_and_time():
    it = load_experiment(OLD_STACK).iterations
    first = it[it["num_env_runners"] == 0].sort_values("iteration")
    rows = rows_by_runners(OLD_STACK)[0]
    assert first["episode_return"].tolist() == pytest.approx([r["env_runners"]["episode_return_mean"] for r in rows])
    assert first["wall_s"].tolist() == pytest.approx([r["time_total_s"] for r in rows])


def test_foreign_summary_has_no_phases_and_no_limit():
    experiment = load_experiment(NEW_STACK)
    summary = build_summary(experiment.iterations, experiment.trials, grid=experiment.grid)
    assert summary[["sample_share", "pct_of_limit", "setup_s", "cv"]].isna().all(axis=None)
    # one repeat of two iterations: median of the two
    rows = rows_by_runners(NEW_STACK)[summary.loc[0, "num_env_runners"]]
    assert summary.loc[0, "env_steps_per_s"] == pytest.approx(np.median([rllib_rate(r) for r in rows]))
    findings = find(experiment, summary)
    assert findings.bottleneck.startswith("Phase times are unavailable")


@pytest.mark.parametrize("params, runners, envs", [
    ({"num_env_runners": 2, "num_envs_per_env_runner": 4}, 2, 4),
    ({"num_rollout_workers": 3, "num_envs_per_worker": 2}, 3, 2),
    ({"num_workers": 5}, 5, 1),
    ({"num_env_runners": None, "num_workers": 2}, 2, 1),
    ({}, 0, 1),
])
def test_params_under_any_alias(params, runners, envs):
    resolved = resolve_params(params)
    assert (resolved["num_env_runners"], resolved["num_envs_per_env_runner"]) == (runners, envs)


def test_missing_values_stay_nan_not_zero(suite):
    experiment, _ = suite
    assert not math.isnan(experiment.trials["setup_s"].iloc[0])
    foreign = load_experiment(NEW_STACK)
    assert foreign.trials["setup_s"].isna().all() and foreign.trials["nodes"].isna().all()


def test_foreign_points_name_other_swept_settings(tmp_path):
    from analysis_helpers import copy_fixture, trial_dirs

    experiment = copy_fixture(NEW_STACK, tmp_path)
    for lr, trial in zip((0.001, 0.01), trial_dirs(experiment), strict=True):
        params = json.loads((trial / "params.json").read_text())
        params.update(lr=lr, seed=int(lr * 1000))  # seed varies too, but is never part of a point
        (trial / "params.json").write_text(json.dumps(params))
    points = load_experiment(experiment).trials["point"].tolist()
    assert points == ["num_env_runners=0, num_envs_per_env_runner=1, lr=0.001",
                      "num_env_runners=1, num_envs_per_env_runner=1, lr=0.01"]
