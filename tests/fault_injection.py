"""Real faults for reliability tests: an env runner process killed mid-sample, as an OOM kill would.

No mocks: the killer watches /proc for the processes of one Ray instance (those whose environment names
the test's RAY_TMPDIR) and SIGKILLs a `ray::SingleAgentEnvRunner` that has been busy in one remote call
(`apply`, which is how RLlib runs `sample`) for a while. Short calls made while the algorithm is being
built are left alone, so the fault lands inside a training iteration. One kill per trial: a trial is
a `ray::ImplicitFunc` actor process, and a restarted runner of an already-hit trial is spared.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

from ray_processes import processes_naming

TRIAL_TITLE = "ray::ImplicitFunc"
RUNNER_BUSY_TITLE = "ray::SingleAgentEnvRunner.apply"


def _title(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
    except OSError:
        return ""


class EnvRunnerKiller(threading.Thread):
    """Kills one busy env runner in each of the first `trials` trials of the Ray instance at `ray_tmp`."""

    def __init__(self, ray_tmp: str, trials: int, busy_for_s: float = 0.5, poll_s: float = 0.05):
        super().__init__(daemon=True, name="env-runner-killer")
        self.ray_tmp, self.trials, self.busy_for_s, self.poll_s = ray_tmp, trials, busy_for_s, poll_s
        self.killed: list[int] = []
        self.hit_trials: list[int] = []
        self._halt = threading.Event()

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=10)

    def run(self) -> None:
        busy_since: dict[int, float] = {}
        while not self._halt.is_set() and len(self.hit_trials) < self.trials:
            titles = {pid: _title(pid) for pid in processes_naming(self.ray_tmp)}
            trial_pids = sorted(p for p, t in titles.items() if t.startswith(TRIAL_TITLE))
            unhit = [p for p in trial_pids if p not in self.hit_trials]
            now = time.monotonic()
            for pid, title in titles.items():
                if not title.startswith(RUNNER_BUSY_TITLE):
                    busy_since.pop(pid, None)
                    continue
                since = busy_since.setdefault(pid, now)
                if unhit and now - since >= self.busy_for_s and pid not in self.killed:
                    os.kill(pid, signal.SIGKILL)
                    self.killed.append(pid)
                    self.hit_trials.append(unhit[-1])  # the newest trial: trials run one at a time
                    break
            time.sleep(self.poll_s)
