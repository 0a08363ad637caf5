"""One sweep at a time (run/sweep_lock.py), without Ray: a process holds the locks as a sweep does. The same
rules with real sweeps (refused with the first one's pid, --no-wait refused, no stale lock after SIGKILL)
ride on tests/test_sweep.py's killed-and-resumed sweep, so they cost no Ray start of their own."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

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
