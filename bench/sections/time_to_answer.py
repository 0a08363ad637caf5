"""Benchmark: time to answer. Each experiment file's default path (as the file says: for the default study,
`repeats: {first, most}` seeds where they change the answer, precision stopping, warm processes, the
cached calibration) against the naive complete design: every point the default path visited, 3 seeds
each, the file's full iterations, a fresh process per trial and calibration measured; for the default
study also the 2-seed full grid it replaced (`repeats: 2`, no precision stopping). And sweep efficiency
when Ray is already running (the sweep-efficiency section has the same file starting its own Ray).

The answer is the fastest point. The default path agrees when its fastest point is the complete design's,
or lies inside the complete design's interval for its fastest point (over seeds). Goals (benchmark only):
the answer in at most a third of the complete design's wall time; no more wall time than the 2-seed full
grid; sweep efficiency >= 0.9 against an already-running cluster.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml

from bench.harness import report, sweeps
from bench.harness.context import Context, KeyFigure, Outcome, verdict
from bench.harness.experiments import EXPERIMENTS, REPO, SPECS, relative, shrunk

TITLE = "Time to answer: the default path against the naive complete design"

COMPLETE_SEEDS = 3
TIME_GOAL = 1 / 3
EFFICIENCY_GOAL = 0.9
FULL_FLAGS = ("--cold-processes", "--recalibrate")  # the suite as it answered before: every cost paid


def complete_copy(source: Path, visited: list[dict], target_dir: Path) -> Path:
    """The naive complete design of `source`: the `visited` points (their swept settings) as a list, 3 seeds
    each, the file's stop without precision, no adaptive seeds."""
    raw = yaml.safe_load(Path(source).read_text())
    raw["search_space"] = visited
    raw["repeats"] = COMPLETE_SEEDS
    raw["stop"] = {k: v for k, v in raw["stop"].items() if k != "precision"}
    raw.pop("prune", None)
    target = Path(target_dir) / f"complete-{Path(source).name}"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(f"# naive complete design of {relative(source)}\n" + yaml.safe_dump(raw, sort_keys=False))
    return target


def two_seed_copy(source: Path, target_dir: Path) -> Path:
    """`source` as the default study was before seeds went where they change the answer: 2 seeds every
    point, no precision stopping."""
    raw = yaml.safe_load(Path(source).read_text())
    raw["repeats"] = 2
    raw["stop"] = {k: v for k, v in raw["stop"].items() if k != "precision"}
    target = Path(target_dir) / f"two-seed-{Path(source).name}"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(f"# 2-seed full grid of {relative(source)}\n" + yaml.safe_dump(raw, sort_keys=False))
    return target


def visited_points(exp_dir: Path, source: Path) -> list[dict]:
    """The swept settings of every point the sweep at `exp_dir` ran, once each, in trial order."""
    raw = yaml.safe_load(Path(source).read_text())
    space, fixed = raw["search_space"], raw.get("fixed") or {}
    keys = list(space) if isinstance(space, dict) else sorted({k for point in space for k in point})
    if isinstance(space, dict) and any(not isinstance(v, list) for v in space.values()):
        keys = list(dict.fromkeys([*keys, "num_env_runners", "num_envs_per_env_runner"]))  # auto's reference
    keys = [k for k in keys if k not in fixed]
    points: list[dict] = []
    for trial in sorted(sweeps.trials(exp_dir), key=lambda t: t.params.get("trial_index", 0)):
        point = {k: trial.params[k] for k in keys if k in trial.params}
        if point not in points:
            points.append(point)
    return points


def answer(exp_dir: Path):
    """The experiment's summary (a row per point) and its fastest point's label, as the report says."""
    from scaling_study.analysis.load import load_experiment
    from scaling_study.analysis.summary import build_summary

    experiment = load_experiment(exp_dir)
    summary = build_summary(experiment.iterations, experiment.trials, grid=experiment.grid,
                            pruned=experiment.pruned).set_index("point")
    per_seed = experiment.iterations[~experiment.iterations["warmup"]].groupby(["point", "trial"])[
        "env_steps_per_s"].median()
    return summary, str(summary["env_steps_per_s"].idxmax()), per_seed


def agrees(fast_point: str, full_point: str, full_summary, full_per_seed) -> bool:
    """Same point, or the fast pick's full-grid median inside the full grid's interval for its fastest."""
    if fast_point == full_point:
        return True
    row = full_summary.loc[full_point]
    low, high = row["env_steps_per_s_ci_low"], row["env_steps_per_s_ci_high"]
    if not np.isfinite([low, high]).all():  # too few seeds for an interval: the range of their medians
        seeds = full_per_seed.loc[full_point]
        low, high = seeds.min(), seeds.max()
    return bool(low <= full_summary.loc[fast_point, "env_steps_per_s"] <= high)


def workloads(ctx: Context) -> list[tuple[str, Path, bool]]:
    """(label, file, whether to run the 2-seed full grid beside it)."""
    files = [("default experiment", EXPERIMENTS / "frozenlake.yaml", True),
             ("slow_simulator", EXPERIMENTS / "slow_simulator.yaml", False)]
    if not ctx.quick:
        return files
    return [(f"{label} (quick)", shrunk(path, ctx.work / "specs", iterations=4), two) for label, path, two in files[:1]]


def race(ctx: Context, label: str, spec: Path, with_two_seed: bool) -> tuple[list, list[KeyFigure]]:
    slug = Path(spec).stem
    default = sweeps.shared_sweep(ctx, spec)  # the one run distance_to_limit and model_check read
    complete_spec = complete_copy(spec, visited_points(default.exp_dir, spec), ctx.work / "specs")
    complete = sweeps.suite_sweep(complete_spec, ctx.work / f"tta-{slug}-complete",
                                  ctx.work / f"tta-{slug}-complete.log", *FULL_FLAGS)
    two = (sweeps.suite_sweep(two_seed_copy(spec, ctx.work / "specs"), ctx.work / f"tta-{slug}-two",
                              ctx.work / f"tta-{slug}-two.log", reuse_actors=True) if with_two_seed else None)
    complete_summary, complete_point, complete_seeds = answer(complete.exp_dir)
    default_summary, default_point, _ = answer(default.exp_dir)
    same = agrees(default_point, complete_point, complete_summary, complete_seeds)
    ratio = default.times.wall_s / complete.times.wall_s
    row = [label, f"{complete.times.wall_s:.1f}", f"{default.times.wall_s:.1f}", f"{ratio:.2f}",
           f"{two.times.wall_s:.1f}" if two else "-", len(complete.times.trials), len(default.times.trials),
           complete_point, f"{complete_summary.loc[complete_point, 'env_steps_per_s']:,.0f}",
           default_point, f"{default_summary.loc[default_point, 'env_steps_per_s']:,.0f}", "yes" if same else "NO"]
    figures = [KeyFigure(f"time to answer, {label}: default path / complete design wall time", f"{ratio:.2f}",
                         f"<= {TIME_GOAL:.2f}", verdict(ratio <= TIME_GOAL)),
               KeyFigure(f"same answer, {label}", "yes" if same else "no", "yes", verdict(same))]
    if two:
        figures.append(KeyFigure(f"{label}: default path / 2-seed full grid wall time",
                                 f"{default.times.wall_s / two.times.wall_s:.2f}", "<= 1",
                                 verdict(default.times.wall_s <= two.times.wall_s)))
    return row, figures


def running_cluster_efficiency(ctx: Context) -> tuple[str, KeyFigure]:
    """The grid6 sweep joining a Ray that is already up (one node with 2 CPUs, cluster/local.py)."""
    spec = SPECS / "grid6.yaml" if not ctx.quick else shrunk(
        SPECS / "grid6.yaml", ctx.work / "specs", iterations=2,
        search_space={"num_env_runners": [0], "num_envs_per_env_runner": [1, 2]})
    state = ctx.work / "cluster.json"
    local = [sys.executable, str(REPO / "cluster" / "local.py")]
    up = subprocess.run([*local, "up", "--workers", "0", "--head-cpus", "2", "--state", str(state)],
                        cwd=REPO, capture_output=True, text=True, timeout=180)
    if up.returncode != 0:
        raise RuntimeError(f"cluster/local.py up failed: {up.stderr.strip()[-300:]}")
    address = yaml.safe_load(state.read_text())["address"]
    try:
        joined = sweeps.suite_sweep(spec, ctx.work / "tta-joined", ctx.work / "tta-joined.log", "--address", address,
                                    reuse_actors=True)
    finally:
        subprocess.run([*local, "down", "--state", str(state)], cwd=REPO, capture_output=True, timeout=120)
    efficiency = joined.times.efficiency
    text = (f"Sweep efficiency of {relative(spec)} ({len(joined.times.trials)} trials) joining an already-running "
            f"Ray (one node, 2 CPUs, started by cluster/local.py before the command): **{efficiency:.2f}** "
            f"(wall {joined.times.wall_s:.1f} s, trials' own {joined.times.own_s:.1f} s); the same file starting "
            f"its own Ray, and the plain Tune script, are the sweep-efficiency section's.")
    return text, KeyFigure("sweep efficiency against a running Ray (grid6)", f"{efficiency:.2f}",
                           f">= {EFFICIENCY_GOAL}", verdict(efficiency >= EFFICIENCY_GOAL))


METHOD = (
    f"Method. For each experiment file, whole commands in subprocesses, one after another: the file as it is "
    f"(its default path, warm processes: in a full bench run, the one run of it that the distance-to-limit "
    f"and model sections read too), then the naive complete design of it (every point the first run "
    f"visited, {COMPLETE_SEEDS} seeds each, the file's iterations without precision stopping, "
    f"`{' '.join(FULL_FLAGS)}`: a fresh process per trial, calibration measured), and for the default study "
    f"the 2-seed full grid it replaced. The answer is the fastest point of each run's summary; the default path "
    f"agrees when it picks the complete design's fastest, or a point whose complete-design median lies inside "
    f"the complete design's interval for its fastest (over seeds). One run per arm: the ratios are of single "
    f"wall times."
)


def run(ctx: Context) -> Outcome:
    rows, figures = [], []
    commands = ["python -m bench --only time_to_answer"]
    for label, spec, with_two_seed in workloads(ctx):
        ctx.log(f"  {label}: the default path, then the complete design")
        row, found = race(ctx, label, spec, with_two_seed)
        rows.append(row)
        figures += found
        commands += [f"scaling-study sweep {relative(spec)} --storage-path TMP --no-analyze",
                     f"scaling-study sweep COPY --storage-path TMP2 --no-analyze {' '.join(FULL_FLAGS)}  (COPY: "
                     f"the points the first run visited as a list, repeats: {COMPLETE_SEEDS}, no stop.precision)"]
    table = report.table(
        ["experiment", "complete wall s", "default wall s", "default / complete", "2-seed grid wall s",
         "complete trials", "default trials", "complete: fastest", "env steps/s", "default: fastest", "env steps/s",
         "agree"], rows, align_right=(1, 2, 3, 4))
    ctx.log("  sweep efficiency against a running Ray")
    joined_text, joined_figure = running_cluster_efficiency(ctx)
    figures.append(joined_figure)
    commands.append("python cluster/local.py up --workers 0 --head-cpus 2; scaling-study sweep bench/specs/grid6.yaml "
                    "--address ADDRESS --storage-path TMP --no-analyze; python cluster/local.py down")
    return Outcome("\n\n".join([METHOD, table, joined_text]), figures, commands)



