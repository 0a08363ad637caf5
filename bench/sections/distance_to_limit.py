"""Benchmark 3, distance to the limit: the default experiment's throughput per point as a share of the
calibrated raw env rate (summary.csv's pct_of_limit from `scaling-study analyze`).

The sweep is the default path as `make sweep` runs it (warm processes, the cached calibration), the one
run model_check, time_to_answer and best_setting read too (bench.harness.sweeps.shared_sweep); its
results and report stay in the scratch directory with --keep-work. --quick runs a small copy instead.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bench.harness import sweeps, timeline
from bench.harness.context import Context, KeyFigure, Outcome
from bench.harness.experiments import EXPERIMENTS, relative, shrunk
from bench.harness.report import table
from scaling_study.core.layout import read_calibration

TITLE = "Distance to the limit: the default experiment"

SPEC = EXPERIMENTS / "frozenlake.yaml"


def plan(ctx: Context) -> Path:
    if ctx.quick:
        return shrunk(SPEC, ctx.work / "specs", iterations=2, repeats=1, fixed={"train_batch_size_per_learner": 500},
                      search_space={"num_env_runners": "auto", "num_envs_per_env_runner": [4]})
    return SPEC


def run(ctx: Context) -> Outcome:
    spec = plan(ctx)
    sweep = sweeps.shared_sweep(ctx, spec)
    out, analysis = sweeps.shared_analysis(ctx, sweep)
    summary = pd.read_csv(out / "summary.csv")
    calibration = read_calibration(sweep.exp_dir)
    fastest = summary.loc[summary["env_steps_per_s"].idxmax()]
    rows = [[r.point, f"{r.cpus:g}", f"{r.sampling_cpus:g}", f"{r.env_steps_per_s:,.0f}", f"{r.limit_env_steps_per_s:,.0f}",
             f"{r.pct_of_limit:.1f}%", f"{r.sample_share:.2f}", f"{r.learn_share:.2f}"] for r in summary.itertuples()]
    segments = timeline.segments(sweep.times)
    trials = len(sweep.times.trials)
    fixed, per_trial = timeline.overheads(segments, trials)
    sampling_rate = fastest["env_steps_per_s"] / fastest["sample_share"]
    body = "\n\n".join([
        f"{relative(spec)}: {len(sweep.times.trials)} trials; calibrated raw env rate "
        f"{calibration['steps_per_s_per_core']:,.0f} env steps/s on one core (random actions, no RLlib). "
        f"A point's limit is that rate times the CPUs it samples with.",
        table(["point", "CPUs", "sampling CPUs", "env steps/s", "limit", "share of limit", "sample share",
                        "learn share"], rows, align_right=(1, 2, 3, 4, 5, 6, 7)),
        f"**Fastest configuration: {fastest['point']}, {fastest['env_steps_per_s']:,.0f} env steps/s = "
        f"{fastest['pct_of_limit']:.1f}% of its limit.** There sampling takes {fastest['sample_share']:.0%} of each "
        f"iteration and learning {fastest['learn_share']:.0%}; counting the sampling phase alone it collects "
        f"{sampling_rate:,.0f} env steps/s, {100 * sampling_rate / fastest['limit_env_steps_per_s']:.1f}% of the "
        f"limit. So the gap is RLlib's own work per env step in the sampler (env-to-module connectors, the "
        f"policy's forward pass, episode bookkeeping), not the env and not mainly the learner: FrozenLake "
        f"steps in microseconds, far less than that per-step work.",
        f"The same sweep, end to end: {sweep.times.wall_s:.0f} s of wall time for {sweep.times.own_s:.0f} s of "
        f"the trials' own time (efficiency {sweep.efficiency:.2f}): {fixed:.1f} s once per sweep (Ray start "
        f"{segments[timeline.RAY_START]:.1f} s, calibration {segments[timeline.CALIBRATION]:.1f} s, shutdown "
        f"{segments[timeline.SHUTDOWN]:.1f} s, imports) and {per_trial:.1f} s per trial besides its own time "
        f"(its actor's start and imports). Analysis: {analysis.wall_s:.1f} s end to end. "
        "(`python -m bench --keep-work` keeps the sweep and its report in the scratch directory.)",
    ])
    commands = ["python -m bench --only distance_to_limit",
                f"scaling-study sweep {relative(spec)} --storage-path TMP --no-analyze",
                f"scaling-study analyze TMP/{sweep.exp_dir.name} --out OUT"]
    figures = [KeyFigure("distance to limit: fastest point's share of the calibrated limit",
                         f"{fastest['pct_of_limit']:.1f}% ({fastest['point']}, {fastest['env_steps_per_s']:,.0f} env steps/s)"),
               KeyFigure("sweep efficiency of the default experiment (one run)", f"{sweep.efficiency:.2f}")]
    return Outcome(body, figures, commands)
