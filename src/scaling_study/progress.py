"""What the user sees while a sweep runs: a line per finished trial, trials left and time left."""

from __future__ import annotations

import statistics
import time
from typing import Any

from ray.tune import Callback

DONE_STATES = ("TERMINATED", "ERROR")


class ProgressPrinter(Callback):
    """One readable line per finished trial (Tune creates trials lazily, so the total is given)."""

    def __init__(self, total: int, done_before: int = 0) -> None:
        self.total = total
        self.done_before = done_before
        self._throughputs: dict[str, list[float]] = {}
        self._session_start = time.time()
        self._finished_here = 0

    def on_trial_result(self, iteration: int, trials: list, trial, result: dict, **info: Any) -> None:
        scaling = result.get("scaling") or {}
        if scaling and not scaling.get("warmup"):
            self._throughputs.setdefault(trial.trial_id, []).append(scaling["env_steps_per_s"])

    def on_trial_complete(self, iteration: int, trials: list, trial, **info: Any) -> None:
        rates = self._throughputs.get(trial.trial_id, [])
        rate = f"{statistics.median(rates):,.0f} env steps/s (median of {len(rates)} iterations)" if rates else "no measured iteration"
        self._finish(trials, trial, rate)

    def on_trial_error(self, iteration: int, trials: list, trial, **info: Any) -> None:
        self._finish(trials, trial, "ERRORED (see error.txt in its trial directory)")

    def _finish(self, trials: list, trial, outcome: str) -> None:
        self._finished_here += 1
        done = self.done_before + sum(t.status in DONE_STATES or t is trial for t in trials)  # its status may lag
        total = self.total
        left = max(total - done, 0)
        config = trial.config
        where = f"{config.get('point', trial.trial_id)} (repeat {config.get('repeat', 0)})"
        print(f"[{done}/{total}] {where}: {outcome}; {left} left{self._eta(left)}", flush=True)

    def _eta(self, left: int) -> str:
        if not left:
            return ""
        per_trial = (time.time() - self._session_start) / self._finished_here
        return f", about {_duration(per_trial * left)} to go"


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
