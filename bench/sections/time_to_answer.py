"""Benchmark: time to answer. The full grid (fixed iterations, every repeat, a fresh process per trial,
calibration measured) against the same experiment with precision stopping, racing, warm processes and
the cached calibration; and sweep efficiency when Ray is already running.

The answer is the fastest point. The fast arm agrees when its fastest point is the full grid's, or lies
inside the full grid's interval for the fastest point (over seeds with 3 or more; with fewer, the range of
its seeds' medians). Goals (benchmark only): the answer in at most a third of the full grid's wall time;
sweep efficiency >= 0.9 against an already-running cluster.
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

TITLE = "Time to answer: full grid against precision stopping and racing"

PRECISION = 0.05
TIME_GOAL = 1 / 3
EFFICIENCY_GOAL = 0.9
FULL_FLAGS = ("--cold-processes", "--recalibrate")  # the suite as it answered before: every cost paid


def fast_copy(source: Path, target_dir: Path) -> Path:
    """`source` with stop: {precision: PRECISION, its own stop as caps} and prune: true, same name. A file
    with an `auto` axis keeps prune off: auto stops adding on its own (run/explore.py)."""
    raw = yaml.safe_load(Path(source).read_text())
    raw["stop"] = {"precision": PRECISION, **raw["stop"]}
    axes = raw["search_space"].values() if isinstance(raw.get("search_space"), dict) else []
    raw["prune"] = not any(not isinstance(values, list) for values in axes)
    target = Path(target_dir) / f"fast-{Path(source).name}"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(f"# precision + racing copy of {relative(source)}\n" + yaml.safe_dump(raw, sort_keys=False))
    return target


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


def workloads(ctx: Context) -> list[tuple[str, Path]]:
    files = [("default experiment", EXPERIMENTS / "frozenlake.yaml"),
             ("slow_simulator", EXPERIMENTS / "slow_simulator.yaml")]
    if not ctx.quick:
        return files
    return [(f"{label} (quick)", shrunk(path, ctx.work / "specs", iterations=4)) for label, path in files[:1]]


def race(ctx: Context, label: str, spec: Path) -> tuple[list, KeyFigure, KeyFigure]:
    slug = Path(spec).stem
    full = sweeps.suite_sweep(spec, ctx.work / f"tta-{slug}-full", ctx.work / f"tta-{slug}-full.log", "--recalibrate")
    fast_spec = fast_copy(spec, ctx.work / "specs")
    fast = sweeps.suite_sweep(fast_spec, ctx.work / f"tta-{slug}-fast", ctx.work / f"tta-{slug}-fast.log",
                              reuse_actors=True)
    full_summary, full_point, full_seeds = answer(full.exp_dir)
    fast_summary, fast_point, _ = answer(fast.exp_dir)
    same = agrees(fast_point, full_point, full_summary, full_seeds)
    ratio = fast.times.wall_s / full.times.wall_s
    pruned = int(fast_summary["pruned"].sum())
    row = [label, f"{full.times.wall_s:.1f}", f"{fast.times.wall_s:.1f}", f"{ratio:.2f}", len(full.times.trials),
           len(fast.times.trials), pruned, full_point, f"{full_summary.loc[full_point, 'env_steps_per_s']:,.0f}",
           fast_point, f"{fast_summary.loc[fast_point, 'env_steps_per_s']:,.0f}", "yes" if same else "NO"]
    figures = (KeyFigure(f"time to answer, {label}: fast / full wall time", f"{ratio:.2f}",
                         f"<= {TIME_GOAL:.2f}", verdict(ratio <= TIME_GOAL)),
               KeyFigure(f"same answer, {label}", "yes" if same else "no", "yes", verdict(same)))
    return row, *figures


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
    plain = sweeps.plain_sweep(spec, ctx.work / "tta-plain", ctx.work / "tta-plain.log")
    efficiency = joined.times.efficiency
    text = (f"Sweep efficiency of {relative(spec)} ({len(joined.times.trials)} trials) joining an already-running "
            f"Ray (one node, 2 CPUs, started by cluster/local.py before the command): **{efficiency:.2f}** "
            f"(wall {joined.times.wall_s:.1f} s, trials' own {joined.times.own_s:.1f} s); the plain Tune script, "
            f"starting its own Ray: {plain.times.efficiency:.2f} (wall {plain.times.wall_s:.1f} s).")
    return text, KeyFigure("sweep efficiency against a running Ray (grid6)", f"{efficiency:.2f}",
                           f">= {EFFICIENCY_GOAL}", verdict(efficiency >= EFFICIENCY_GOAL))


METHOD = (
    f"Method. For each experiment file, two arms run as whole commands in subprocesses: the full grid "
    f"(`{' '.join(FULL_FLAGS)}`: every iteration, every repeat, a fresh process per trial, calibration measured) "
    f"and a copy with `stop: {{precision: {PRECISION}, <the file's stop as caps>}}` and `prune: true`, run with "
    f"the defaults (warm processes, the calibration the full arm just cached). The answer is the fastest point "
    f"of each arm's summary; the fast arm agrees when it picks the same point, or one whose full-grid median "
    f"lies inside the full grid's interval for its fastest point (over seeds; with fewer than 3, the range of "
    f"the seeds' medians). One run per arm: the ratio is of single wall times."
)


def run(ctx: Context) -> Outcome:
    rows, figures = [], []
    commands = ["python -m bench --only time_to_answer"]
    for label, spec in workloads(ctx):
        ctx.log(f"  {label}: full grid, then precision + racing")
        row, ratio_figure, same_figure = race(ctx, label, spec)
        rows.append(row)
        figures += [ratio_figure, same_figure]
        commands += [" ".join(["scaling-study", *sweeps.suite_command(Path(relative(spec)), Path("TMP"),
                                                                      "--recalibrate")[1:]]),
                     f"scaling-study sweep COPY --storage-path TMP2 --no-analyze  (COPY: {relative(spec)} with "
                     f"stop.precision: {PRECISION} and prune: true)"]
    table = report.table(
        ["experiment", "full wall s", "fast wall s", "fast / full", "full trials", "fast trials", "points pruned",
         "full: fastest", "env steps/s", "fast: fastest", "env steps/s", "agree"], rows, align_right=(1, 2, 3))
    ctx.log("  sweep efficiency against a running Ray")
    joined_text, joined_figure = running_cluster_efficiency(ctx)
    figures.append(joined_figure)
    commands.append("python cluster/local.py up --workers 0 --head-cpus 2; scaling-study sweep bench/specs/grid6.yaml "
                    "--address ADDRESS --storage-path TMP --no-analyze; python cluster/local.py down")
    return Outcome("\n\n".join([METHOD, table, joined_text]), figures, commands)



