"""Benchmark 11, the iteration model against textbook scaling laws, out of sample: on each sweep below,
every model is fitted to the points with the smaller half of the runner counts (the split of the suite's
extrapolation check) and predicts the points with the larger half. The suite's model is the one
`scaling-study analyze` fits (summary.csv's extrapolation_error_pct); Amdahl, USL and an Ernest-style
NNLS model (src/scaling_study/core/scaling_laws.py) are fitted to the same points' env steps/s against
the processes that work side by side, n = env runners + 1 (the main process), Ernest's "machines". (Against
the CPUs reserved, a first run gave them median errors of 38-55%: with fractional reservations, CPUs grow
far slower than throughput.) All errors are (predicted - measured) / measured of a point's median
over its seeds.

Goal, over every held-out point: median |error| <= 5%, worst <= 10%, mean signed error within +-3%.

The ranges, out of sample too (`coverage`): each sweep without its largest runner counts (it keeps the
smallest max(3, n - n // 3) of its n counts, so the suite's own extrapolation check can run on what is
left) is given to `scaling-study predict --experiment FILE`, as a user with that smaller sweep would ask
what the whole file gives. Its stated range for each dropped point is compared with that point's
measured median. Goal: 3 of 4 dropped points inside their ranges, with a median half-width of 15% or less.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import yaml

from bench.harness import runner, sweeps
from bench.harness.context import Context, KeyFigure, Outcome, verdict
from bench.harness.experiments import SPECS, relative, shrunk
from bench.harness.report import table
from scaling_study.analysis.extrapolation import MIN_RUNNER_COUNTS, counts_text, split_counts
from scaling_study.core.scaling_laws import BASELINES

TITLE = "The iteration model against Amdahl, USL and Ernest, out of sample"

SWEEPS = [SPECS / f"baselines_{name}.yaml" for name in ("frozenlake", "sleeping", "lunarlander")]
SUITE = "suite's model"
GOALS = {"median": 5.0, "worst": 10.0, "mean": 3.0}
COVERAGE_GOAL, HALF_WIDTH_GOAL = 0.75, 15.0


def held_out_errors(summary: pd.DataFrame) -> pd.DataFrame:
    """A row per held-out point: its runners, CPUs, measured env steps/s and each model's error (%)."""
    fitted, predicted = split_counts(summary["num_env_runners"])
    fit = summary[summary["num_env_runners"].isin(fitted)]
    out = summary[summary["num_env_runners"].isin(predicted)]
    errors = {SUITE: out["extrapolation_error_pct"].to_numpy()}
    for name, predict in BASELINES.items():
        guess = predict(processes(fit), fit["env_steps_per_s"], processes(out))
        errors[name] = 100.0 * (guess - out["env_steps_per_s"].to_numpy()) / out["env_steps_per_s"].to_numpy()
    return pd.DataFrame({"num_env_runners": out["num_env_runners"].to_numpy(), "cpus": out["cpus"].to_numpy(),
                         "env_steps_per_s": out["env_steps_per_s"].to_numpy(), **errors})


def coverage_text(rows: pd.DataFrame) -> tuple[str, KeyFigure]:
    """The ranges' check in words and a table of the dropped points (`coverage` rows), and its key figure."""
    inside, stated = int(rows["inside"].sum()), int(rows["predicted_low"].notna().sum())
    share = inside / len(rows)
    half = float(rows["half_width_pct"].median())
    met = share >= COVERAGE_GOAL and half <= HALF_WIDTH_GOAL
    figure = KeyFigure(f"predictions beyond a smaller sweep inside their stated ranges ({len(rows)} points)",
                       f"{inside} of {len(rows)}, median half-width {half:.1f}%",
                       f">= {COVERAGE_GOAL:.0%}, <= {HALF_WIDTH_GOAL:g}%", verdict(met))
    lines = [[r.sweep, r.kept, f"{r.num_env_runners:g}", f"{r.env_steps_per_s:,.0f}",
              f"{r.predicted_env_steps_per_s:,.0f}",
              "no range" if pd.isna(r.predicted_low) else f"{r.predicted_low:,.0f}-{r.predicted_high:,.0f}",
              "" if pd.isna(r.half_width_pct) else f"{r.half_width_pct:.1f}%", "yes" if r.inside else "no"]
             for r in rows.itertuples()]
    text = "\n\n".join([
        f"The stated ranges, out of sample: each sweep without its largest runner counts, given to `scaling-study "
        f"predict`, states a range for {stated} of the {len(rows)} points it did not measure; {inside} of "
        f"{len(rows)} measured medians lie inside (goal {COVERAGE_GOAL:.0%}), median half-width {half:.1f}% "
        f"(goal {HALF_WIDTH_GOAL:g}% or less). A point with no range counts as outside.",
        table(["sweep", "runners measured", "runners", "measured env steps/s", "predicted", "stated range",
               "half-width", "inside"], lines, align_right=(2, 3, 4, 6))])
    return text, figure


def processes(points: pd.DataFrame) -> pd.Series:
    """The baselines' n: the main process and each env runner."""
    return points["num_env_runners"] + 1.0


def scores(errors: pd.Series) -> dict[str, float]:
    return {"median": float(errors.abs().median()), "worst": float(errors.abs().max()),
            "mean": float(errors.mean())}


def kept_counts(counts) -> list[float]:
    """The smallest max(3, n - n // 3) of the n distinct runner counts: what the smaller sweep measured."""
    distinct = sorted({float(c) for c in counts})
    return distinct[:max(MIN_RUNNER_COUNTS, len(distinct) - len(distinct) // 3)]


def smaller_sweep(exp_dir: Path, kept: list[float], target: Path) -> Path:
    """A copy of the Tune directory `exp_dir` holding only the trials with `kept` runner counts."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(exp_dir, target)
    for params in target.glob("*/params.json"):
        if float(json.loads(params.read_text()).get("num_env_runners", 0)) not in kept:
            shutil.rmtree(params.parent)
    return target


def coverage(summary: pd.DataFrame, predictions: pd.DataFrame, kept: list[float]) -> pd.DataFrame:
    """A row per dropped point: its measured env steps/s, the range `predict` stated, and whether it holds it."""
    dropped = summary.loc[~summary["num_env_runners"].astype(float).isin(kept), ["num_env_runners", "env_steps_per_s"]]
    stated = predictions.assign(num_env_runners=predictions["num_env_runners"].astype(float))
    rows = dropped.assign(num_env_runners=dropped["num_env_runners"].astype(float)).merge(
        stated[["num_env_runners", "predicted_env_steps_per_s", "predicted_low", "predicted_high"]],
        on="num_env_runners", how="left")
    return rows.assign(
        inside=(rows["predicted_low"] <= rows["env_steps_per_s"]) & (rows["env_steps_per_s"] <= rows["predicted_high"]),
        half_width_pct=50.0 * (rows["predicted_high"] - rows["predicted_low"]) / rows["predicted_env_steps_per_s"])


def run(ctx: Context) -> Outcome:
    commands, per_point, held, covered = ["python -m bench --only baselines"], [], [], []
    for source in SWEEPS:
        spec = shrunk(source, ctx.work / "specs", iterations=2, repeats=1) if ctx.quick else source
        name = yaml.safe_load(spec.read_text())["name"]
        sweep = sweeps.shared_sweep(ctx, spec)  # model_check reads the sleeping-step sweep too
        out, _ = sweeps.shared_analysis(ctx, sweep)
        summary = pd.read_csv(out / "summary.csv")
        errors = held_out_errors(summary).assign(sweep=name)
        kept = kept_counts(summary["num_env_runners"])
        smaller = smaller_sweep(sweep.exp_dir, kept, ctx.work / "baselines-smaller" / name)
        stated = ctx.work / "baselines-smaller" / f"{name}-predicted.csv"
        runner.run(runner.scaling_study("predict", str(smaller), "--experiment", str(spec), "--csv", str(stated)),
                   ctx.work / f"{name}-predict.log")
        covered.append(coverage(summary, pd.read_csv(stated), kept).assign(sweep=name, kept=counts_text(kept)))
        held.append(errors)
        for _, row in errors.iterrows():
            per_point.append([name, f"{row['num_env_runners']:g}", f"{row['cpus']:g}", f"{row['env_steps_per_s']:,.0f}",
                              *(f"{row[m]:+.1f}%" for m in (SUITE, *BASELINES))])
        commands += [f"scaling-study sweep {relative(source)} --storage-path TMP --no-analyze",
                     f"scaling-study analyze TMP/{name} --out OUT",
                     f"scaling-study predict SMALLER/{name} --experiment {relative(source)} --csv OUT/predicted.csv  "
                     f"(SMALLER: TMP/{name} without the trials of its largest runner counts)"]
    every = pd.concat(held, ignore_index=True)
    models = [SUITE, *BASELINES]
    summary_rows, figures = [], []
    for m in models:
        s = scores(every[m])
        met = s["median"] <= GOALS["median"] and s["worst"] <= GOALS["worst"] and abs(s["mean"]) <= GOALS["mean"]
        summary_rows.append([m, f"{s['median']:.1f}%", f"{s['worst']:.1f}%", f"{s['mean']:+.1f}%",
                             verdict(met) if m == SUITE else ""])
        figures.append(KeyFigure(f"out-of-sample error, {m} ({len(every)} held-out points)",
                                 f"median {s['median']:.1f}%, worst {s['worst']:.1f}%, mean {s['mean']:+.1f}%",
                                 "<= 5%, <= 10%, +-3%" if m == SUITE else "", verdict(met) if m == SUITE else ""))
    ranges_text, ranges_figure = coverage_text(pd.concat(covered, ignore_index=True))
    figures.append(ranges_figure)
    body = "\n\n".join([
        "Fitted on the smaller half of each sweep's runner counts, predicting the larger half (2 cores, 2 seeds "
        "a point; a point is its median over seeds). The suite's model uses phase times; the baselines see "
        "only env steps/s against n = env runners + 1.",
        table(["model", "median |error|", "worst |error|", "mean error", "goal met"], summary_rows, align_right=(1, 2, 3)),
        table(["sweep", "runners", "CPUs", "measured env steps/s", *models], per_point, align_right=(1, 2, 3, 4, 5, 6, 7)),
        ranges_text,
    ])
    return Outcome(body, figures, commands)
