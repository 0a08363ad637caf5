"""A foreign APPO sweep (tests/fixtures/appo: a plain `tune.Tuner("APPO", ...)` on the new API stack)
read by the analysis: the algorithm from Tune's directory names, env steps sampled and trained and the
learner's wait from RLlib's own keys. Expectations are computed from the fixture's result.json files, by
arithmetic the loader does not share. No Ray is started."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from scaling_study.analysis.command import analyze_command
from scaling_study.analysis.load import load_experiment

APPO = Path(__file__).parent / "fixtures" / "appo"


def expected_rows():
    """(trial, iteration) -> (trained env steps, learner wait share) straight from result.json."""
    out = {}
    for trial in sorted(APPO.glob("APPO_*")):
        previous = 0.0
        for line in (trial / "result.json").read_text().splitlines():
            row = json.loads(line)
            learner = row.get("learners", {}).get("__all_modules__", {})
            lifetime = learner.get("num_env_steps_trained_lifetime")
            if lifetime is None:
                continue
            wait, update = learner["learner_thread_in_queue_wait_timer"], learner["learner_thread_update_timer"]
            out[(trial.name, row["training_iteration"])] = (lifetime - previous, wait / (wait + update))
            previous = lifetime
    return out


def test_the_trials_are_appos_and_the_learners_work_is_read_from_rllibs_keys():
    experiment = load_experiment(APPO)
    assert set(experiment.trials["algorithm"]) == {"APPO"}
    expected = expected_rows()
    assert expected  # the fixture holds learner results
    rows = experiment.iterations.set_index(["trial", "iteration"])
    for key, (trained, wait) in expected.items():
        assert rows.at[key, "trained_env_steps"] == pytest.approx(trained)
        assert rows.at[key, "learner_wait_share"] == pytest.approx(wait)
        assert 0.0 <= wait <= 1.0


def test_the_report_of_a_foreign_appo_sweep_names_the_algorithm(tmp_path):
    assert analyze_command(str(APPO), str(tmp_path)) == 0
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert list(summary["algorithm"]) == ["APPO", "APPO"]
    assert summary["learner_wait_share"].between(0, 1).all()
    assert (summary["overlap_share"] == 1.0 - summary["learner_wait_share"]).all()  # APPO's samplers never stop
    fastest = summary.loc[summary["env_steps_per_s"].idxmax()]
    side = "sampling is the bottleneck" if fastest["learner_wait_share"] > 0.5 else "learning is the bottleneck"
    report = (tmp_path / "report.md").read_text()
    assert f"APPO at the fastest point ({fastest['point']}): the learner " in report and side in report


def test_ppo_runs_sampling_and_learning_one_after_the_other(tmp_path):
    # the foreign PPO sweep beside it (tests/fixtures/new_stack): PPO by its directory names, no overlap
    assert analyze_command(str(APPO.parent / "new_stack"), str(tmp_path)) == 0
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert set(summary["algorithm"]) == {"PPO"} and (summary["overlap_share"] == 0.0).all()
