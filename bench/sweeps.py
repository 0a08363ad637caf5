"""One measured sweep, end to end in a subprocess: the suite's CLI or the plain Tune script, with its
wall time split into segments (bench.timeline)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from bench import runner, tune_results
from bench.timeline import SweepTimes

SUITE_FINISHED = "trials finished. Tune results"  # the suite's last stdout line before ray.shutdown()


@dataclass
class MeasuredSweep:
    run: runner.Run
    exp_dir: Path
    times: SweepTimes

    @property
    def efficiency(self) -> float:
        return self.times.efficiency


def experiment_name(spec: Path) -> str:
    return yaml.safe_load(Path(spec).read_text())["name"]


def suite_command(spec: Path, storage: Path, *extra: str) -> list[str]:
    return runner.scaling_study("sweep", str(spec), "--storage-path", str(storage), "--no-analyze", *extra)


def plain_command(spec: Path, storage: Path) -> list[str]:
    return runner.python("-m", "bench.plain_tune", str(spec), str(storage))


def suite_sweep(spec: Path, storage: Path, log: Path, *extra: str, env: dict[str, str] | None = None) -> MeasuredSweep:
    run = runner.run(suite_command(spec, storage, *extra), log, env=env)
    exp_dir = Path(storage) / experiment_name(spec)
    finished = run.line_containing(SUITE_FINISHED)
    plan = run.line_containing("Results: ")  # printed right after Ray started
    times = SweepTimes(
        launched_at=run.started_at,
        exited_at=run.ended_at,
        trials=tune_results.suite_trials(exp_dir),
        ray_init_at=_session_start(run),
        # The plan line is printed as soon as ray.init has returned (Ray logs "Started" a little earlier).
        ray_ready_at=plan[0] if plan else tune_results.ray_log_time(exp_dir, "Started a local Ray instance"),
        calibration=tune_results.calibration_window(exp_dir),
        finished_at=finished[0] if finished else None,
        actor_started_at=trial_actor_starts(run),
    )
    return MeasuredSweep(run, exp_dir, times)


def plain_sweep(spec: Path, storage: Path, log: Path) -> MeasuredSweep:
    run = runner.run(plain_command(spec, storage), log)
    events = {e["event"]: e["t"] for e in (json.loads(line.split(" ", 1)[1]) for _, line in run.lines
                                             if line.startswith("BENCH_EVENT "))}
    exp_dir = Path(storage) / "plain"
    times = SweepTimes(
        launched_at=run.started_at,
        exited_at=run.ended_at,
        trials=tune_results.plain_trials(exp_dir),
        ray_init_at=_session_start(run) or events.get("imported"),
        ray_ready_at=events.get("ray_started"),
        finished_at=events.get("fit_done"),
        actor_started_at=trial_actor_starts(run),
    )
    return MeasuredSweep(run, exp_dir, times)


def trial_actor_starts(run: runner.Run) -> list[float] | None:
    """Process start of every Tune trial actor (function trainables run in ImplicitFunc actors)."""
    starts = [w.started_at for w in run.workers if w.actor == "ImplicitFunc"]
    return starts or None


def _session_start(run: runner.Run) -> float | None:
    return runner.session_started_at(run.ray_sessions[0]) if run.ray_sessions else None
