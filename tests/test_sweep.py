"""Real Tune sweeps, kept tiny: the Tune directory, the scaling/* contract, phases that add up, trials
that never overlap, and a sweep that resumes after its driver is killed without losing finished trials."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ray_processes import REPO, end_processes, own_ray_temp_dir, processes_naming, read_until, run_captured

from scaling_study.core.rows import FIELDS
from scaling_study.core.spec import parse_spec
from scaling_study.run.sweep import SweepOptions, run_sweep

pytestmark = pytest.mark.ray

SCALING_KEYS = set(FIELDS)  # the contract's one definition: rows.ScalingRow
TINY = {
    "name": "tiny",
    "env": {"id": "FrozenLake-v1"},
    "fixed": {"train_batch_size_per_learner": 400, "minibatch_size": 100, "num_epochs": 1, "fcnet_hiddens": [16]},
    "stop": {"training_iteration": 3},
    "warmup_iterations": 1,
}


def rows_of(trial_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (trial_dir / "result.json").read_text().splitlines() if line.strip()]


def trial_dirs(exp_dir: Path) -> list[Path]:
    return sorted(p for p in exp_dir.iterdir() if (p / "params.json").exists())


@pytest.fixture(scope="module")
def tiny_sweep(tmp_path_factory):
    """One real sweep shared by the contract tests: 0 and 1 env runners x 1 and 2 envs per runner."""
    storage = tmp_path_factory.mktemp("results")
    spec = parse_spec({**TINY, "search_space": {"num_env_runners": [0, 1], "num_envs_per_env_runner": [1, 2]}})
    with own_ray_temp_dir():
        yield run_sweep(spec, SweepOptions(storage_path=str(storage)), argv=["test"])


def test_sweep_writes_a_standard_tune_directory_with_provenance(tiny_sweep):
    from ray import tune

    assert tune.Tuner.can_restore(str(tiny_sweep))
    dirs = trial_dirs(tiny_sweep)
    assert len(dirs) == 4
    for trial in dirs:
        assert {"params.json", "result.json", "progress.csv"} <= {p.name for p in trial.iterdir()}
        assert not list(trial.glob("checkpoint_*")), "no checkpoints unless asked for"
        assert list(trial.glob("events.out.tfevents*")), "TensorBoard event files (their content: test_own_env.py)"
    prov = json.loads((tiny_sweep / "scaling_study" / "provenance.json").read_text())
    assert prov["spec"]["name"] == "tiny" and prov["versions"]["ray"] == "2.60.0"
    assert prov["command"] == "test"
    cores = prov["cluster"]["cores"]  # counted by the driver; every trial counts again in its own process
    assert 1 <= cores["granted"] <= cores["machine"] == os.cpu_count()
    assert {row["scaling"]["cores"] for trial in dirs for row in rows_of(trial)} == {cores["granted"]}
    calib = json.loads((tiny_sweep / "scaling_study" / "calibration.json").read_text())
    # The physical limit (a bare env stepping on one core) is above what any trial's RLlib sampling reached
    # on its one sampling CPU (FrozenLake: about 100x; a ratio of this run's own figures, no fixed speed).
    fastest = max(r["scaling"]["env_steps_per_s"] / max(1, r["scaling"]["cpus"] - 1)
                  for d in dirs for r in rows_of(d))
    assert calib["steps_per_s_per_core"] > fastest


def test_params_json_holds_the_plain_grid_point(tiny_sweep):
    points = sorted(
        (p["num_env_runners"], p["num_envs_per_env_runner"])
        for p in (json.loads((d / "params.json").read_text()) for d in trial_dirs(tiny_sweep))
    )
    assert points == [(0, 1), (0, 2), (1, 1), (1, 2)]


def test_every_row_carries_the_scaling_contract(tiny_sweep):
    for trial in trial_dirs(tiny_sweep):
        params = json.loads((trial / "params.json").read_text())
        rows = rows_of(trial)
        assert [r["training_iteration"] for r in rows] == [1, 2, 3]
        sampled_before = 0.0
        for row in rows:
            scaling = row["scaling"]
            assert set(scaling) == SCALING_KEYS
            assert scaling["warmup"] == (row["training_iteration"] == 1)
            assert scaling["cpus"] == 1 + params["num_env_runners"]
            # The iteration's steps are what RLlib's own lifetime counter grew by
            sampled = row["env_runners"]["num_env_steps_sampled_lifetime"]
            assert scaling["env_steps"] == sampled - sampled_before >= 400
            sampled_before = sampled
            assert scaling["setup_s"] > 0  # checked against the trial's own clock in test_clocks.py
        # The rate against the trial's own wall clock (time.time() between iteration ends, outside RLlib):
        # the iteration ran inside that gap, so the rate is at least the steps over the gap.
        for before, row in zip(rows[:-1], rows[1:], strict=True):
            gap = row["scaling"]["iter_ended_at"] - before["scaling"]["iter_ended_at"]
            assert row["scaling"]["env_steps_per_s"] * gap >= row["scaling"]["env_steps"] * 0.999


def test_phase_times_add_up(tiny_sweep):
    """That they are each iteration's own, not smoothed, is checked in test_clocks.py."""
    for trial in trial_dirs(tiny_sweep):
        rows = rows_of(trial)
        for row in rows:
            s = row["scaling"]
            phases = s["sample_s"] + s["learn_s"] + s["sync_s"]
            assert phases <= s["iter_s"] * 1.01
            assert phases >= s["iter_s"] * 0.9, f"phases {phases:.3f}s of an iteration of {s['iter_s']:.3f}s"


def test_trials_ran_one_at_a_time(tiny_sweep):
    windows = sorted(
        (rows[0]["scaling"]["trial_started_at"], rows[-1]["scaling"]["iter_ended_at"])
        for rows in map(rows_of, trial_dirs(tiny_sweep))
    )
    for (_, end), (start, _) in zip(windows[:-1], windows[1:], strict=True):
        assert start >= end, "two trials ran at the same time and shared cores"


@pytest.mark.timeout(560)
def test_a_sweep_killed_mid_way_resumes_without_losing_finished_trials(tmp_path, ray_tmp):
    """Also one sweep at a time (run/sweep_lock.py), with the same real sweep: while it runs, a second into
    its directory is refused naming its pid, one into another directory with --no-wait too; once it is
    SIGKILLed its locks die with it, and the same command resumes without waiting."""
    experiment = tmp_path / "resume.yaml"
    experiment.write_text(yaml.safe_dump({**TINY, "name": "resume", "search_space": {"num_env_runners": [0, 1], "num_envs_per_env_runner": [1, 2]}}))
    command = [sys.executable, "-m", "scaling_study.cli", "sweep", str(experiment),
               "--storage-path", str(tmp_path / "results"), "--no-analyze"]
    # Within the test's 560 s pytest-timeout: 60 s to see the plan, 2 x 60 s for the refused sweeps, 120 s
    # to see the second trial start, 30 s for the kill, 200 s for the resume, so a hang fails with its output.
    first = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        seen, _ = read_until(first, "Results: ", timeout_s=60)  # the plan is printed once the locks are held
        assert first.poll() is None, seen
        same = run_captured(command, timeout_s=60, cwd=REPO)
        assert same.returncode == 2, same.stdout + same.stderr
        assert len(same.stderr.strip().splitlines()) == 1 and "Traceback" not in same.stderr
        assert f"pid {first.pid}," in same.stderr
        other = run_captured([*command[:-3], "--storage-path", str(tmp_path / "other"), "--no-analyze", "--no-wait"],
                             timeout_s=60, cwd=REPO)
        assert other.returncode == 2, other.stdout + other.stderr
        assert "another sweep is running on this machine" in other.stderr and f"pid {first.pid}," in other.stderr
        assert not (tmp_path / "other").exists(), "a refused sweep wrote into its storage path"

        more, _ = read_until(first, "[2/4]", timeout_s=120)
        seen += more
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
        first.stdout.close()
    end_processes(processes_naming(ray_tmp))  # what the killed driver left behind

    exp_dir = tmp_path / "results" / "resume"
    finished = {d.name: (d / "result.json").read_text() for d in trial_dirs(exp_dir) if len(rows_of(d)) == 3}
    assert len(finished) >= 2, seen

    second = run_captured(command, timeout_s=200, cwd=REPO)
    assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-2000:]
    assert "Resuming resume" in second.stdout
    assert "Waiting for" not in second.stdout, "the killed sweep's lock outlived it"
    dirs = trial_dirs(exp_dir)
    assert len(dirs) == 4, "every trial exactly once"
    for d in dirs:
        assert [r["training_iteration"] for r in rows_of(d)] == [1, 2, 3]
    for name, text in finished.items():
        assert (exp_dir / name / "result.json").read_text() == text, "a finished trial was run again"


def test_only_a_trial_that_met_a_stop_criterion_counts_as_finished():
    from scaling_study.run.ledger import reached_stop

    stop = {"training_iteration": 3, "env_runners/episode_return_mean": 0.8}
    assert reached_stop({"training_iteration": 3}, stop)
    assert reached_stop({"training_iteration": 1, "env_runners": {"episode_return_mean": 0.9}}, stop)
    assert reached_stop({"env_runners/episode_return_mean": 0.8}, stop)  # a flattened row
    assert not reached_stop({"training_iteration": 2, "env_runners": {"episode_return_mean": 0.1}}, stop)
    assert not reached_stop({}, stop)


def test_the_config_to_copy_builds_what_the_trial_ran_and_fits_this_machine(tiny_sweep):
    """configs.json's PPOConfig chain (the report's answer shows the fastest's), executed as a user would
    paste it: it builds each point's settings, and RLlib's own request for it fits the Ray it ran on."""
    from ray.rllib.algorithms.ppo import PPO

    configs = json.loads((tiny_sweep / "scaling_study" / "configs.json").read_text())
    cluster = json.loads((tiny_sweep / "scaling_study" / "provenance.json").read_text())["cluster"]
    assert len(configs["points"]) == 4
    for trial in trial_dirs(tiny_sweep):
        params = json.loads((trial / "params.json").read_text())
        namespace: dict = {}
        exec(configs["preamble"] + "\n\n" + configs["points"][params["point"]], namespace)  # noqa: S102
        config = namespace["config"]
        assert (config.num_env_runners, config.num_envs_per_env_runner) == (
            params["num_env_runners"], params["num_envs_per_env_runner"])
        assert config.train_batch_size_per_learner == TINY["fixed"]["train_batch_size_per_learner"]
        bundles = PPO.default_resource_request(config).bundles
        assert sum(b.get("CPU", 0) for b in bundles) <= cluster["logical_cpus"]
