"""One measured sweep, end to end in a subprocess: the suite (its CLI, or bench.arms.suite_point for a
what-if option) or the plain Tune script, with its wall time split into segments (bench.timeline).
Trial files are read with the analysis' own reader (scaling_study.core.tune_files)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from bench.harness import runner
from bench.harness.timeline import SweepTimes, TrialTimes
from scaling_study.core.layout import CALIBRATION, PROVENANCE
from scaling_study.core.tune_files import TrialFiles, find_trial_dirs, read_trial

SUITE_FINISHED = "trials finished. Tune results"  # the suite's last stdout line before ray.shutdown()


@dataclass
class MeasuredSweep:
    run: runner.Run
    exp_dir: Path
    times: SweepTimes

    @property
    def efficiency(self) -> float:
        return self.times.efficiency


def trials(exp_dir: Path) -> list[TrialFiles]:
    """The trials that reported at least one result row."""
    return [t for t in map(read_trial, find_trial_dirs(Path(exp_dir))) if t.rows]


def suite_command(spec: Path, storage: Path, *extra: str, reuse_actors: bool = False) -> list[str]:
    """The suite's CLI; cold processes (a fresh one per trial) unless `reuse_actors`, the CLI's default."""
    cold = () if reuse_actors else ("--cold-processes",)
    return runner.scaling_study("sweep", str(spec), "--storage-path", str(storage), "--no-analyze", *cold, *extra)


def plain_command(spec: Path, storage: Path) -> list[str]:
    return runner.python("-m", "bench.arms.plain_tune", str(spec), str(storage))


def suite_sweep(spec: Path, storage: Path, log: Path, *extra: str, reuse_actors: bool = False,
                env: dict[str, str] | None = None) -> MeasuredSweep:
    run = runner.run(suite_command(spec, storage, *extra, reuse_actors=reuse_actors), log, env=env)
    exp_dir = Path(storage) / yaml.safe_load(Path(spec).read_text())["name"]
    # The plan line ("... Results: DIR") is printed as soon as ray.init has returned.
    finished, plan = run.line_containing(SUITE_FINISHED), run.line_containing("Results: ")
    times = SweepTimes(
        launched_at=run.started_at,
        exited_at=run.ended_at,
        trials=[suite_trial_times(t.rows) for t in trials(exp_dir)],
        ray_init_at=_session_start(run),
        ray_ready_at=plan[0] if plan else None,
        calibration=calibration_window(exp_dir),
        finished_at=finished[0] if finished else None,
        actor_started_at=trial_actor_starts(run),
    )
    return MeasuredSweep(run, exp_dir, times)


def shared_sweep(ctx, spec: Path) -> MeasuredSweep:
    """`scaling-study sweep SPEC` as a user runs it (warm processes, the cached calibration), run once per
    bench run: the sections that read the same file's default path share one measured run of it."""
    key = Path(spec).read_text()  # the file's text: --quick writes shrunk copies under one name
    if key not in ctx.shared:
        slug = f"shared-{Path(spec).stem}-{len(ctx.shared)}"
        ctx.log(f"  sweeping {Path(spec).name} (shared with the sections that read it)")
        ctx.shared[key] = suite_sweep(spec, ctx.work / slug, ctx.work / f"{slug}.log", reuse_actors=True)
    return ctx.shared[key]


def shared_analysis(ctx, sweep: MeasuredSweep) -> tuple[Path, runner.Run]:
    """`scaling-study analyze` of a shared sweep, run once per bench run: (its --out directory, the run)."""
    key = ("analysis", str(sweep.exp_dir))
    if key not in ctx.shared:
        out = ctx.work / "analysis" / sweep.exp_dir.parent.name
        done = runner.run(runner.scaling_study("analyze", str(sweep.exp_dir), "--out", str(out)),
                          ctx.work / f"{sweep.exp_dir.parent.name}-analyze.log")
        ctx.shared[key] = out, done
    return ctx.shared[key]


def plain_sweep(spec: Path, storage: Path, log: Path) -> MeasuredSweep:
    run = runner.run(plain_command(spec, storage), log)
    events = {e["event"]: e["t"] for e in (json.loads(line.split(" ", 1)[1]) for _, line in run.lines
                                             if line.startswith("BENCH_EVENT "))}
    exp_dir = Path(storage) / "plain"
    times = SweepTimes(
        launched_at=run.started_at,
        exited_at=run.ended_at,
        trials=[plain_trial_times(t.rows) for t in trials(exp_dir)],
        ray_init_at=_session_start(run) or events.get("imported"),
        ray_ready_at=events.get("ray_started"),
        finished_at=events.get("fit_done"),
        actor_started_at=trial_actor_starts(run),
    )
    return MeasuredSweep(run, exp_dir, times)


def suite_trial_times(rows: list[dict]) -> TrialTimes:
    """A suite trial's times from its scaling/* group (setup_s + iter_s are its own time)."""
    scaling = [r["scaling"] for r in rows]
    return TrialTimes(started_at=scaling[0]["trial_started_at"], setup_s=scaling[0]["setup_s"],
                      iter_s=[s["iter_s"] for s in scaling], last_iter_ended_at=scaling[-1]["iter_ended_at"])


def plain_trial_times(rows: list[dict]) -> TrialTimes:
    """A plain-script trial's times: its trainable's build_s, and the algorithm's time_this_iter_s per row."""
    return TrialTimes(started_at=rows[0]["trial_started_at"], setup_s=rows[0]["build_s"],
                      iter_s=[r["time_this_iter_s"] for r in rows], last_iter_ended_at=rows[-1]["iter_ended_at"])


def trial_actor_starts(run: runner.Run) -> list[float] | None:
    """Process start of every Tune trial actor (function trainables run in ImplicitFunc actors)."""
    return [w.started_at for w in run.workers if w.actor == "ImplicitFunc"] or None


def _session_start(run: runner.Run) -> float | None:
    return runner.session_started_at(run.ray_sessions[0]) if run.ray_sessions else None


def calibration_window(exp_dir: Path) -> tuple[float, float] | None:
    """(start, end) of the suite's calibration: provenance.json is written just before it starts,
    calibration.json as soon as it ends."""
    try:
        return (Path(exp_dir) / PROVENANCE).stat().st_mtime, (Path(exp_dir) / CALIBRATION).stat().st_mtime
    except OSError:
        return None

