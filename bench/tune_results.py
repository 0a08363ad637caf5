"""Reading what a benchmark's sweep left behind: trial rows, trial times and the suite's own marks."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.timeline import TrialTimes

RAY_LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ")


def trial_dirs(exp_dir: Path) -> list[Path]:
    return sorted(p for p in Path(exp_dir).iterdir() if p.is_dir() and (p / "result.json").exists())


def result_rows(trial_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (trial_dir / "result.json").read_text().splitlines() if line.strip()]


def params(trial_dir: Path) -> dict[str, Any]:
    return json.loads((trial_dir / "params.json").read_text())


def suite_trial_times(rows: list[dict[str, Any]]) -> TrialTimes:
    """A suite trial's times from its scaling/* group (setup_s + iter_s are its own time)."""
    scaling = [r["scaling"] for r in rows]
    return TrialTimes(started_at=scaling[0]["trial_started_at"], setup_s=scaling[0]["setup_s"],
                      iter_s=[s["iter_s"] for s in scaling], last_iter_ended_at=scaling[-1]["iter_ended_at"])


def plain_trial_times(rows: list[dict[str, Any]]) -> TrialTimes:
    """A plain-script trial's times: its trainable's build_s, and Tune's time_this_iter_s per row
    (the algorithm's own, so time_total_s of the last row is their sum)."""
    return TrialTimes(started_at=rows[0]["trial_started_at"], setup_s=rows[0]["build_s"],
                      iter_s=[r["time_this_iter_s"] for r in rows], last_iter_ended_at=rows[-1]["iter_ended_at"])


def suite_trials(exp_dir: Path) -> list[TrialTimes]:
    return [suite_trial_times(result_rows(d)) for d in trial_dirs(exp_dir)]


def plain_trials(exp_dir: Path) -> list[TrialTimes]:
    return [plain_trial_times(result_rows(d)) for d in trial_dirs(exp_dir)]


def measured_rows(exp_dir: Path) -> list[dict[str, Any]]:
    """The suite's scaling/* rows of every trial, with the trial's point, leaving warmup iterations out."""
    rows = []
    for trial_dir in trial_dirs(exp_dir):
        point = params(trial_dir).get("point", trial_dir.name)
        for row in result_rows(trial_dir):
            if not row["scaling"]["warmup"]:
                rows.append({"point": point, "iteration": row["training_iteration"], **row["scaling"]})
    return rows


def calibration_window(exp_dir: Path) -> tuple[float, float] | None:
    """(start, end) of the suite's calibration: provenance.json is written just before it starts,
    calibration.json as soon as it ends."""
    suite = Path(exp_dir) / "scaling_study"
    try:
        return (suite / "provenance.json").stat().st_mtime, (suite / "calibration.json").stat().st_mtime
    except OSError:
        return None


def ray_log_time(exp_dir: Path, text: str) -> float | None:
    """When the suite's ray.log first logged a line containing `text` (local time, milliseconds)."""
    log = Path(exp_dir) / "scaling_study" / "ray.log"
    if not log.exists():
        return None
    for line in log.read_text(errors="replace").splitlines():
        match = RAY_LOG_TIME.match(line)
        if match and text in line:
            return datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
    return None
