"""What a user sees while a sweep runs. Pure parts (time left, the quiet-output throttle) against
hand-worked answers; then a real tiny sweep through the CLI on a terminal (a pty): every iteration
rewrites one line. Piped, iteration lines are rationed and each finished trial keeps its own line: that is
checked on tests/test_own_env.py's corridor sweep, a piped CLI sweep already (`assert_piped_progress`)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

from scaling_study.run.progress import CLEAR_LINE, Throttle, iteration_line, trial_seconds_left

TINY = {
    "name": "progress",
    "env": {"id": "FrozenLake-v1"},
    "search_space": {"num_env_runners": [0]},
    "fixed": {"train_batch_size_per_learner": 200, "minibatch_size": 100, "num_epochs": 1, "fcnet_hiddens": [8]},
    "repeats": 2,
    "stop": {"training_iteration": 4},
    "warmup_iterations": 1,
}
ITERATION_LINE = re.compile(r"^  trial (\d+)/(\d+) .*: iteration (\d+)/(\d+), ")


def test_time_left_follows_the_pace_of_the_iterations_so_far():
    # 2 of 6 iterations in 10 s: 4 more at 5 s each
    assert trial_seconds_left({"training_iteration": 6}, iteration=2, env_steps=400, iter_seconds=10.0,
                              time_total_s=12.0) == pytest.approx(20.0)
    # 400 of 1000 steps in 10 s: 600 more at 40 steps/s
    assert trial_seconds_left({"num_env_steps_sampled_lifetime": 1000}, iteration=2, env_steps=400,
                              iter_seconds=10.0, time_total_s=12.0) == pytest.approx(15.0)
    # Tune stops at the first criterion met: the nearest one
    assert trial_seconds_left({"training_iteration": 6, "time_total_s": 20}, iteration=2, env_steps=400,
                              iter_seconds=10.0, time_total_s=12.0) == pytest.approx(8.0)
    # a return threshold cannot be projected; nor can anything before the first iteration
    assert trial_seconds_left({"env_runners/episode_return_mean": 0.5}, iteration=2, env_steps=400,
                              iter_seconds=10.0, time_total_s=12.0) is None
    assert trial_seconds_left({"training_iteration": 6}, iteration=0, env_steps=0, iter_seconds=0.0,
                              time_total_s=0.0) is None


def test_iteration_line_says_where_the_trial_is_and_what_is_left():
    line = iteration_line(number=3, total=12, where="num_env_runners=1 (repeat 0)", iteration=2, last_iteration=6,
                          rates=[900.0, 1100.0, 1000.0], trial_left=20.0, sweep_left=130.0)
    assert line == ("  trial 3/12 num_env_runners=1 (repeat 0): iteration 2/6, 1,000 env steps/s so far; "
                    "about 20s left in this trial, 2m10s in the sweep")
    assert "warming up" in iteration_line(number=1, total=1, where="x", iteration=1, last_iteration=None, rates=[],
                                          trial_left=None, sweep_left=None)


def test_throttle_lets_through_at_most_one_call_per_interval():
    throttle = Throttle(10.0)
    assert [throttle.ready(t) for t in (0.0, 3.0, 9.9, 10.0, 19.0, 20.5)] == [True, False, False, True, False, True]


# --- real sweeps ---------------------------------------------------------------------------------------


def run_sweep_on_terminal(tmp_path: Path) -> tuple[int, str, Path]:
    """`scaling-study sweep` in a subprocess whose stdout is a pseudo-terminal."""
    experiment = tmp_path / "progress.yaml"
    experiment.write_text(yaml.safe_dump(TINY))
    argv = [sys.executable, "-m", "scaling_study", "sweep", str(experiment), "--storage-path",
            str(tmp_path / "results"), "--no-analyze"]
    parent, child = os.openpty()
    process = subprocess.Popen(argv, cwd=tmp_path, stdout=child, stderr=subprocess.PIPE)
    os.close(child)
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                chunk = os.read(parent, 4096)
            except OSError:  # the terminal closed: the sweep has exited
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        returncode = process.wait(timeout=300)
    finally:
        process.kill()
        reader.join(timeout=10)
        os.close(parent)
    # the terminal turns each "\n" into "\r\n"; undo that so a lone "\r" is the program's own
    return returncode, b"".join(chunks).decode().replace("\r\n", "\n"), tmp_path / "results" / "progress"


def iterations_run(exp_dir: Path) -> int:
    return sum(
        len((trial / "result.json").read_text().splitlines())
        for trial in exp_dir.iterdir() if (trial / "result.json").exists()
    )


@pytest.mark.ray
def test_on_a_terminal_every_iteration_rewrites_one_line(tmp_path, ray_tmp):
    returncode, out, exp_dir = run_sweep_on_terminal(tmp_path)
    assert returncode == 0, out[-3000:]
    assert iterations_run(exp_dir) == 8
    rewrites = out.split(CLEAR_LINE)[1:]
    iterations = [text for text in rewrites if ITERATION_LINE.match(text)]
    # one rewrite per iteration of each trial, none ending a line: the per-trial lines are what stays
    assert len(iterations) == 8, out
    assert all("\n" not in text for text in iterations), out
    assert [ITERATION_LINE.match(t).group(1, 3) for t in iterations] == [
        (trial, str(i)) for trial in ("1", "2") for i in range(1, 5)
    ]
    # each finished trial clears the iteration line and prints its own, which stays
    assert re.findall(r"\r\x1b\[K(\[\d/2\]) [^\r\n]*\n", out) == ["[1/2]", "[2/2]"], out


def assert_piped_progress(out: str, trials: int, iterations_each: int) -> None:
    """What a piped fresh sweep of `trials` trials of `iterations_each` iterations prints: no line rewrites, the
    first iteration's line, then a rationed few (never one twice, never more than were run), and one line
    per finished trial. tests/test_own_env.py holds its corridor sweep to it: that sweep is piped, so this
    costs no sweep of its own."""
    assert CLEAR_LINE not in out
    lines = out.splitlines()
    iterations = [ITERATION_LINE.match(line).group(1, 3) for line in lines if ITERATION_LINE.match(line)]
    assert iterations and iterations[0] == ("1", "1"), "the first iteration always shows"
    assert len(set(iterations)) == len(iterations) <= trials * iterations_each
    assert [line.split("]")[0] for line in lines if re.match(rf"^\[\d/{trials}\] ", line)] == [
        f"[{i}/{trials}" for i in range(1, trials + 1)]
