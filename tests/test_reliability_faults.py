"""Faults inside trials, for real: an env runner process SIGKILLed mid-sample, and an env step that
stalls. Either the runner is restarted (restart_failed_env_runners) or the trial is marked errored;
a stalled trial is stopped at trial_timeout_s; the sweep goes on and the analysis shows all of it."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from fault_injection import EnvRunnerKiller
from ray_processes import REPO, run_captured

from scaling_study.run.ledger import finished_trials

pytestmark = pytest.mark.ray

FIXED = {"train_batch_size_per_learner": 400, "minibatch_size": 100, "num_epochs": 1, "fcnet_hiddens": [8]}


def sweep(tmp_path: Path, spec: dict) -> tuple[subprocess.CompletedProcess, Path]:
    experiment = tmp_path / f"{spec['name']}.yaml"
    experiment.write_text(yaml.safe_dump(spec))
    # 300 s here and 60 s for the analysis stay inside the tests' 420 s pytest-timeout: a hang
    # fails with the sweep's output.
    out = run_captured(
        [sys.executable, "-m", "scaling_study.cli", "sweep", str(experiment), "--storage-path", str(tmp_path / "results"),
         "--no-analyze"], timeout_s=300, cwd=tmp_path)
    return out, tmp_path / "results" / spec["name"]


def analyse(exp_dir: Path, out: Path) -> tuple[subprocess.CompletedProcess, dict[int, dict]]:
    """The real `scaling-study analyze`; trials.csv rows by trial_index (from each trial's params.json)."""
    done = run_captured([sys.executable, "-m", "scaling_study.cli", "analyze", str(exp_dir), "--out", str(out)],
                        timeout_s=60, cwd=REPO)
    rows = {}
    for row in csv.DictReader((out / "trials.csv").open()):
        params = json.loads((exp_dir / row["trial"] / "params.json").read_text())
        rows[params["trial_index"]] = row
    return done, rows


def rows_of(trial_dir: Path) -> list[dict]:
    path = trial_dir / "result.json"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def trial_dir_of(exp_dir: Path, index: int) -> Path:
    """Directories are named by their settings (trial_names.py): find the trial by its params."""
    return next(p for p in exp_dir.glob("*/params.json")
                if json.loads(p.read_text()).get("trial_index") == index).parent


def test_a_killed_env_runner_is_restarted_or_errors_its_trial_and_the_sweep_goes_on(tmp_path, ray_tmp):
    spec = {
        "name": "runner_kill",
        # sleep per step keeps each sample call long enough (about 2 s) for the kill to land inside it
        "env": {"id": "FrozenLake-v1", "step_cost": {"seconds": 0.005, "mode": "sleep"}},
        "search_space": [
            {"num_env_runners": 1, "restart_failed_env_runners": False},
            {"num_env_runners": 1, "restart_failed_env_runners": True},
        ],
        "fixed": FIXED,
        # A restarted runner takes a few iterations to come back on 2 busy cores: room for it.
        "stop": {"training_iteration": 8},
        "retries": 0,  # the fault is handled inside the trial, or errors it: no second attempt (test_node_loss.py)
    }
    killer = EnvRunnerKiller(ray_tmp, trials=2)
    killer.start()
    try:
        out, exp_dir = sweep(tmp_path, spec)
    finally:
        killer.stop()
    # one trial errored: the sweep went on, then said so last and exited 1
    assert out.returncode == 1, out.stdout[-3000:] + out.stderr[-3000:]
    assert out.stderr.splitlines()[-1].startswith("scaling-study: 1 of 2 trials errored"), out.stderr[-3000:]
    assert len(killer.killed) == 2, f"killed {killer.killed}\n{out.stdout}"

    # restart off: the trial errored with Ray's own reason, and nothing of it counts as finished
    errored = trial_dir_of(exp_dir, 0)
    assert "The actor is dead because its worker process has died" in (errored / "error.txt").read_text()
    assert 0 not in finished_trials(exp_dir)
    # restart on: the runner came back, the trial finished all its iterations, and the iterations
    # run short of runners are flagged and left out of throughput
    restarted = rows_of(trial_dir_of(exp_dir, 1))
    assert [r["training_iteration"] for r in restarted] == list(range(1, 9))
    assert 1 in finished_trials(exp_dir)
    assert max(r["scaling"]["env_runner_restarts"] for r in restarted) >= 1
    degraded = [r for r in restarted if r["scaling"]["degraded"]]
    assert degraded and all(r["scaling"]["warmup"] for r in degraded)
    measured = [r for r in restarted if not r["scaling"]["warmup"]]
    assert measured and all(r["scaling"]["env_steps"] >= 400 for r in measured)

    done, trials = analyse(exp_dir, tmp_path / "analysis")
    assert done.returncode == 0, done.stderr
    assert trials[0]["errored"] == "True" and "actor is dead" in trials[0]["error"]
    assert trials[1]["errored"] == "False" and float(trials[1]["env_runner_restarts"]) >= 1
    assert "env runner restart(s)" in done.stderr and "errored" in done.stderr


def test_a_stalled_trial_stops_at_trial_timeout_s_and_the_sweep_goes_on(tmp_path, ray_tmp):
    spec = {
        "name": "stall",
        "env": {"id": "FrozenLake-v1"},
        "search_space": [  # the first point is the calibration's env: keep it cheap
            {"num_env_runners": 0, "step_cost": None},
            {"num_env_runners": 0, "step_cost": {"seconds": 30, "mode": "sleep"}},  # each step: 30 s
            {"num_env_runners": 0, "step_cost": {"seconds": 0, "mode": "spin"}},
        ],
        "fixed": {**FIXED, "train_batch_size_per_learner": 200},
        "stop": {"training_iteration": 2},
        "trial_timeout_s": 8,
        "retries": 0,  # a retried stall would stall again: 2 x 8 s more for the same answer
    }
    out, exp_dir = sweep(tmp_path, spec)
    assert out.returncode == 1, out.stdout[-3000:] + out.stderr[-3000:]
    assert out.stderr.splitlines()[-1].startswith("scaling-study: 1 of 3 trials errored"), out.stderr[-3000:]
    error = (trial_dir_of(exp_dir, 1) / "error.txt").read_text().strip().splitlines()[-1]
    assert "TrialTimeout: trial_timeout_s=8 reached after" in error and "iteration 1 had not returned" in error
    assert sorted(finished_trials(exp_dir)) == [0, 2], "the sweep went on after the stalled trial"
    assert len(rows_of(trial_dir_of(exp_dir, 2))) == 2
    # Waiting for the stalled step would take 200 x 30 s: the test's timeout fails that, no wall-time assert.

    done, trials = analyse(exp_dir, tmp_path / "analysis")
    assert done.returncode == 0, done.stderr
    assert trials[1]["errored"] == "True" and "TrialTimeout" in trials[1]["error"]
