"""Benchmark 6, the iteration model's self-check: on each experiment below, every grid point predicted by
the model fitted without it (summary.csv's predicted_env_steps_per_s and prediction_error_pct, from
`scaling-study analyze`), and whether the point it predicts fastest is the one measured fastest.

Goal: median leave-one-out error <= 10% on each, and the fastest point named right.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from bench.harness import sweeps
from bench.harness.context import Context, KeyFigure, Outcome, verdict
from bench.harness.experiments import EXPERIMENTS, relative, shrunk
from bench.harness.experiments import SPECS as BENCH_SPECS
from bench.harness.report import table

TITLE = "The iteration model's self-check"

# The sleeping-step sweep is baselines' (1-8 runners), run once for both sections.
SPECS = [EXPERIMENTS / "frozenlake.yaml", EXPERIMENTS / "slow_simulator.yaml", BENCH_SPECS / "baselines_sleeping.yaml"]
GOAL_PCT = 10.0


def plan(ctx: Context, spec: Path) -> Path:
    if ctx.quick:
        return shrunk(spec, ctx.work / "specs", iterations=2, repeats=1, fixed={"train_batch_size_per_learner": 500})
    return spec


def check(summary: pd.DataFrame) -> dict:
    """The figures of one experiment's self-check, from its summary.csv."""
    errors = summary["prediction_error_pct"].dropna()
    measured = summary.loc[summary["env_steps_per_s"].idxmax(), "point"]
    predicted = (summary.loc[summary["predicted_env_steps_per_s"].idxmax(), "point"]
                 if summary["predicted_env_steps_per_s"].notna().any() else None)
    return {"points": len(summary), "median": errors.abs().median(), "worst": errors.abs().max(),
            "measured_fastest": measured, "predicted_fastest": predicted}


def run(ctx: Context) -> Outcome:
    rows, figures, commands = [], [], ["python -m bench --only model_check"]
    for source in SPECS:
        spec = plan(ctx, source)
        sweep = sweeps.shared_sweep(ctx, spec)  # the file's default path; distance_to_limit and time_to_answer read it too
        out, _ = sweeps.shared_analysis(ctx, sweep)
        c = check(pd.read_csv(out / "summary.csv"))
        right = c["predicted_fastest"] == c["measured_fastest"]
        rows.append([relative(source), str(c["points"]), f"{c['median']:.1f}%", f"{c['worst']:.1f}%",
                     c["measured_fastest"], "yes" if right else f"no ({c['predicted_fastest']})"])
        figures.append(KeyFigure(f"model leave-one-out median error, {source.stem}",
                                 f"{c['median']:.1f}% (fastest named right: {verdict(right)})",
                                 f"<= {GOAL_PCT:g}%", verdict(c["median"] <= GOAL_PCT and right)))
        commands += [f"scaling-study sweep {relative(source)} --storage-path TMP --no-analyze",
                     f"scaling-study analyze TMP/{yaml.safe_load(spec.read_text())['name']} --out OUT"]
    body = "\n\n".join([
        "Each grid point's env steps/s predicted by the iteration model (src/scaling_study/core/model.py) "
        "fitted to the other points' phase times, against its measured median (summary.csv: "
        "predicted_env_steps_per_s, prediction_error_pct).",
        table(["experiment", "points", "median error", "worst error", "measured fastest",
                        "predicted fastest is it"], rows, align_right=(1, 2, 3)),
    ])
    return Outcome(body, figures, commands)
