"""Ctrl-C during a sweep: it stops within 30 s, says how to resume (the exact command), keeps every
trial that had finished with all its rows, and the same command then completes every trial once."""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ray_processes import end_processes, processes_naming, read_until, run_captured

from scaling_study.run.ledger import finished_trials

pytestmark = pytest.mark.ray

SPEC = {
    "name": "interrupt",
    "env": {"id": "FrozenLake-v1"},
    "search_space": {"num_envs_per_env_runner": [1, 2, 3]},
    "fixed": {"num_env_runners": 0, "train_batch_size_per_learner": 400, "minibatch_size": 100, "num_epochs": 1,
              "fcnet_hiddens": [8]},
    "stop": {"training_iteration": 3},
}


def iterations(trial_dir: Path) -> list[int]:
    lines = (trial_dir / "result.json").read_text().splitlines()
    return [json.loads(line)["training_iteration"] for line in lines if line.strip()]


def test_ctrl_c_stops_cleanly_keeps_finished_trials_and_prints_the_resume_command(tmp_path, ray_tmp):
    experiment = tmp_path / "interrupt.yaml"
    experiment.write_text(yaml.safe_dump(SPEC))
    args = ["sweep", str(experiment), "--storage-path", str(tmp_path / "results"), "--no-analyze", "--restart"]
    driver = subprocess.Popen([sys.executable, "-m", "scaling_study.cli", *args], cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Within the test's 420 s pytest-timeout: 150 s to see the first trial start, 60 s to stop, 150 s to
    # resume, so a hang fails with its output rather than losing it.
    try:
        seen, _ = read_until(driver, "[1/3]", timeout_s=150)
        driver.send_signal(signal.SIGINT)  # what Ctrl-C sends the driver
        rest, err = driver.communicate(timeout=60)  # a driver that ignores Ctrl-C fails here, not hangs
    finally:
        if driver.poll() is None:
            driver.kill()
    end_processes(processes_naming(ray_tmp))
    assert driver.returncode == 130, seen + rest + err
    last = err.strip().splitlines()[-1]
    prefix = "Interrupted. "
    assert last.startswith(prefix) and "trials finished and are kept; run the same command again to resume: " in last
    kept_count = int(last[len(prefix):].split(" of ")[0])
    command = shlex.split(last.split("to resume: ", 1)[1])
    assert command == ["scaling-study", *[a for a in args if a != "--restart"]], "the same command, less --restart"

    exp_dir = tmp_path / "results" / "interrupt"
    kept = finished_trials(exp_dir)
    assert len(kept) == kept_count >= 1
    before = {name: (exp_dir / name / "result.json").read_text() for name in kept.values()}
    for name in kept.values():
        assert iterations(exp_dir / name) == [1, 2, 3], "a finished trial lost rows"

    resumed = run_captured([sys.executable, "-m", "scaling_study.cli", *command[1:]], timeout_s=150, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-2000:]
    assert f"{kept_count} of 3 trials already finished" in resumed.stdout
    final = finished_trials(exp_dir)
    assert sorted(final) == [0, 1, 2]
    ledger = (exp_dir / "scaling_study" / "finished.jsonl").read_text().splitlines()
    assert len(ledger) == 3, "every trial complete exactly once"
    trial_dirs = sorted(p for p in exp_dir.iterdir() if (p / "params.json").exists())
    assert sorted(p.name for p in trial_dirs) == sorted(final.values())
    for trial in trial_dirs:
        assert iterations(trial) == [1, 2, 3]
    for name, text in before.items():
        assert (exp_dir / name / "result.json").read_text() == text, "a kept trial was run again"
