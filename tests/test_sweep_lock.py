"""One sweep at a time (run/sweep_lock.py), with real `scaling-study sweep experiments/smoke.yaml`
subprocesses: a second sweep into the same directory is refused naming the first one's pid; a sweep into
another directory with --no-wait is refused; the first one killed with SIGKILL leaves no stale lock, and
the same command then resumes. One test, one Ray start that is killed, one resumed smoke sweep (~60 s)."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

import pytest
from ray_processes import REPO, end_processes, processes_naming

from scaling_study.run.ledger import finished_trials

pytestmark = [pytest.mark.ray, pytest.mark.timeout(300)]

SMOKE = REPO / "experiments" / "smoke.yaml"


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "scaling_study.cli", "sweep", str(SMOKE), *args, "--no-analyze"]


def test_second_sweep_refused_and_a_killed_sweep_leaves_no_stale_lock(tmp_path, ray_tmp):
    storage = tmp_path / "results"
    first = subprocess.Popen(cli("--storage-path", str(storage)), cwd=REPO, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    try:
        seen = []
        for line in first.stdout:  # readiness: the plan is printed once the sweep holds its locks
            seen.append(line)
            if line.startswith("Results: "):
                break
        assert first.poll() is None, "".join(seen)

        same = subprocess.run(cli("--storage-path", str(storage)), cwd=REPO, capture_output=True, text=True,
                              timeout=60)
        assert same.returncode == 2, same.stdout + same.stderr
        assert len(same.stderr.strip().splitlines()) == 1 and "Traceback" not in same.stderr
        assert f"pid {first.pid}," in same.stderr

        other = subprocess.run(cli("--storage-path", str(tmp_path / "other"), "--no-wait"), cwd=REPO,
                               capture_output=True, text=True, timeout=60)
        assert other.returncode == 2, other.stdout + other.stderr
        assert "another sweep is running on this machine" in other.stderr and f"pid {first.pid}," in other.stderr
        assert not (tmp_path / "other").exists(), "a refused sweep wrote into its storage path"

        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    # The killed driver's local Ray outlives it: end those processes (they name this test's RAY_TMPDIR).
    end_processes(processes_naming(ray_tmp))

    resumed = subprocess.run(cli("--storage-path", str(storage)), cwd=REPO, capture_output=True, text=True,
                             timeout=240)
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-2000:]
    assert "Waiting for" not in resumed.stdout, "the killed sweep's lock outlived it"
    assert sorted(finished_trials(storage / "smoke")) == [0, 1]


HOLD = """
import sys, time
from scaling_study.run.sweep_lock import one_sweep
with one_sweep(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.readline()
"""


@pytest.mark.timeout(60)
def test_a_sweep_into_another_directory_waits_for_the_running_one(tmp_path, capsys):
    """No Ray: a process holds the locks as a sweep does; one_sweep into another directory says it
    waits, and goes on once the holder ends; into the holder's own directory it is refused."""
    from scaling_study.core.errors import UsageError
    from scaling_study.run.sweep_lock import one_sweep

    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path / "a")], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(UsageError, match=f"pid {holder.pid},"):
            with one_sweep(tmp_path / "a"):
                pass
        with pytest.raises(UsageError, match="another sweep is running on this machine"):
            with one_sweep(tmp_path / "b", wait=False):
                pass
        entered = []

        def sweep_into_b():
            with one_sweep(tmp_path / "b", poll_s=0.1):
                entered.append(True)

        waiter = threading.Thread(target=sweep_into_b)
        waiter.start()
        time.sleep(0.5)
        assert not entered, "entered while the other sweep held the machine's lock"
        holder.stdin.write("\n")
        holder.stdin.flush()
        waiter.join(timeout=30)
        assert entered == [True]
    finally:
        holder.kill()
        holder.wait()
    assert "Waiting for the sweep already running on this machine (pid " in capsys.readouterr().out
