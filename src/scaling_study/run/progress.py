"""What the user sees while a sweep runs: a line per iteration of the running trial (rewritten in place
on a terminal, at most one every ~10 s otherwise), and a line per finished trial with trials left and
time left."""

from __future__ import annotations

import statistics
import sys
import time
from typing import Any

from ray.tune import Callback

from scaling_study.core.rows import GROUP
from scaling_study.run.metrics import lifetime_env_steps

DONE_STATES = ("TERMINATED", "ERROR")
QUIET_INTERVAL_S = 10.0
"""Not a terminal (a log file, CI): iteration lines at most this often, so a long sweep is not a flood."""
CLEAR_LINE = "\r\x1b[K"


class ProgressPrinter(Callback):
    """Tune calls it in the driver after every reported iteration and every finished trial (Tune creates
    trials lazily, so the total is given)."""

    def __init__(self, total: int, done_before: int = 0, stop: dict[str, Any] | None = None) -> None:
        self.total = total
        self.done_before = done_before
        self.stop = dict(stop or {})
        self._throughputs: dict[str, list[float]] = {}
        self._iter_seconds: dict[str, float] = {}
        self._numbers: dict[str, int] = {}
        self._session_start = time.time()
        self._finished_here = 0
        self._quiet = Throttle(QUIET_INTERVAL_S)
        self._line_open = False  # a terminal line waiting to be rewritten

    def on_trial_start(self, iteration: int, trials: list, trial, **info: Any) -> None:
        self._numbers[trial.trial_id] = self.done_before + len(self._numbers) + 1

    def on_trial_result(self, iteration: int, trials: list, trial, result: dict, **info: Any) -> None:
        scaling = result.get(GROUP) or {}
        if not scaling:
            return
        trial_id = trial.trial_id
        if not scaling.get("warmup"):
            self._throughputs.setdefault(trial_id, []).append(scaling["env_steps_per_s"])
        self._iter_seconds[trial_id] = self._iter_seconds.get(trial_id, 0.0) + scaling["iter_s"]
        trial_left = trial_seconds_left(
            self.stop, iteration=result.get("training_iteration", 0), env_steps=lifetime_env_steps(result),
            iter_seconds=self._iter_seconds[trial_id], time_total_s=result.get("time_total_s", 0.0),
        )
        line = iteration_line(
            number=self._numbers.get(trial_id, self.done_before + 1), total=self.total, where=_where(trial),
            iteration=result.get("training_iteration", 0), last_iteration=self.stop.get("training_iteration"),
            rates=self._throughputs.get(trial_id, []), trial_left=trial_left,
            sweep_left=self._sweep_left(trial_left),
        )
        self._show_iteration(line)

    def on_trial_complete(self, iteration: int, trials: list, trial, **info: Any) -> None:
        rates = self._throughputs.get(trial.trial_id, [])
        rate = f"{statistics.median(rates):,.0f} env steps/s (median of {len(rates)} iterations)" if rates else "no measured iteration"
        self._finish(trials, trial, rate)

    def on_trial_error(self, iteration: int, trials: list, trial, **info: Any) -> None:
        self._finish(trials, trial, "ERRORED (see error.txt in its trial directory)")

    def _show_iteration(self, line: str) -> None:
        if sys.stdout.isatty():
            sys.stdout.write(f"{CLEAR_LINE}{line}")
            sys.stdout.flush()
            self._line_open = True
        elif self._quiet.ready(time.monotonic()):
            print(line, flush=True)

    def _finish(self, trials: list, trial, outcome: str) -> None:
        self._finished_here += 1
        done = self.done_before + sum(t.status in DONE_STATES or t is trial for t in trials)  # its status may lag
        total = self.total
        left = max(total - done, 0)
        if self._line_open:
            sys.stdout.write(CLEAR_LINE)
            self._line_open = False
        print(f"[{done}/{total}] {_where(trial)}: {outcome}; {left} left{self._eta(left)}", flush=True)

    def _sweep_left(self, trial_left: float | None) -> float | None:
        """This trial's time left, plus the trials not started yet at the wall time a trial has taken
        per trial so far (concurrency and Ray's overheads included), or at this trial's own length."""
        if trial_left is None:
            return None
        elapsed = time.time() - self._session_start
        not_started = max(self.total - self.done_before - len(self._numbers), 0)
        per_trial = elapsed / self._finished_here if self._finished_here else elapsed + trial_left
        return trial_left + not_started * per_trial

    def _eta(self, left: int) -> str:
        if not left:
            return ""
        per_trial = (time.time() - self._session_start) / self._finished_here
        return f", about {_duration(per_trial * left)} to go"


class Throttle:
    """True at most once per `interval_s` (the first call always)."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._last = -float("inf")

    def ready(self, now: float) -> bool:
        if now - self._last < self.interval_s:
            return False
        self._last = now
        return True


def _where(trial) -> str:
    config = trial.config
    return f"{config.get('point', trial.trial_id)} (repeat {config.get('repeat', 0)})"


def trial_seconds_left(stop: dict[str, Any], *, iteration: int, env_steps: int, iter_seconds: float,
                       time_total_s: float) -> float | None:
    """Seconds until the first stop criterion is met, at the pace of the iterations so far; None when
    no criterion can be projected (a return threshold) or nothing has been measured yet."""
    if iteration < 1 or iter_seconds <= 0:
        return None
    projections = []
    if "training_iteration" in stop:
        projections.append((stop["training_iteration"] - iteration) * iter_seconds / iteration)
    if "num_env_steps_sampled_lifetime" in stop and env_steps > 0:
        projections.append((stop["num_env_steps_sampled_lifetime"] - env_steps) * iter_seconds / env_steps)
    if "time_total_s" in stop:
        projections.append(stop["time_total_s"] - time_total_s)
    return max(min(projections), 0.0) if projections else None


def iteration_line(*, number: int, total: int, where: str, iteration: int, last_iteration: int | None,
                   rates: list[float], trial_left: float | None, sweep_left: float | None) -> str:
    of = f"/{last_iteration}" if last_iteration else ""
    rate = f"{statistics.median(rates):,.0f} env steps/s so far" if rates else "warming up"
    if trial_left is None:
        left = "time left unknown (the stop criterion cannot be projected)"
    else:
        left = f"about {_duration(trial_left)} left in this trial, {_duration(sweep_left)} in the sweep"
    return f"  trial {number}/{total} {where}: iteration {iteration}{of}, {rate}; {left}"


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def throughput_table(rows: list[dict[str, Any]]) -> str:
    """A plain-text table of median measured throughput per grid point, from per-iteration rows."""
    import pandas as pd

    if not rows:
        return "(no measured iterations)"
    frame = pd.DataFrame(rows)
    table = (
        frame.groupby("point", sort=False)
        .agg(trials=("trial_id", "nunique"), cpus=("cpus", "first"),
             env_steps_per_s=("env_steps_per_s", "median"), setup_s=("setup_s", "median"))
        .reset_index()
    )
    table["env_steps_per_s"] = table["env_steps_per_s"].map("{:,.0f}".format)
    table["setup_s"] = table["setup_s"].map("{:.1f}".format)
    return table.to_string(index=False)
