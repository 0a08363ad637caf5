"""Warm against cold processes: one point of the default experiment (bench/specs/warm_cold.yaml), its
seeds swept once with Tune's actor reuse (the suite's default: the first trial starts a process, the
next ones reuse it) and once with --cold-processes. Each trial's throughput is the median env steps/s
of its measured iterations; each arm's figure is the median over seeds with its 95% interval over seeds
(the seed is the unit). Goal: the warm arm's median inside the cold arm's interval, so reuse, which saves
each trial its process start, leaves the figures comparable."""

from __future__ import annotations

import numpy as np

from bench.harness import sweeps
from bench.harness.context import Context, KeyFigure, Outcome, verdict
from bench.harness.experiments import SPECS, relative, shrunk
from bench.harness.report import table, thousands
from scaling_study.core.stats import seed_median_ci

TITLE = "Warm against cold processes: do figures stay comparable?"

SPEC = SPECS / "warm_cold.yaml"
ARMS = (("warm (reused processes)", True), ("cold (a fresh process per trial)", False))


def per_seed(exp_dir) -> list[dict]:
    """Each trial's measured iteration rates, its start-up and its build, in trial order."""
    out = []
    for trial in sorted(sweeps.trials(exp_dir), key=lambda t: t.params.get("trial_index", 0)):
        scaling = [r["scaling"] for r in trial.rows]
        out.append({"rates": np.array([s["env_steps_per_s"] for s in scaling if not s["warmup"]]),
                    "startup_s": scaling[0].get("startup_s") or 0.0, "setup_s": scaling[0]["setup_s"],
                    "warm": bool(scaling[0].get("warm_process"))})
    return out


def run(ctx: Context) -> Outcome:
    spec = SPEC if not ctx.quick else shrunk(SPEC, ctx.work / "specs", iterations=3, repeats=3)
    rows, found = [], {}
    for label, warm in ARMS:
        sweep = sweeps.suite_sweep(spec, ctx.work / f"warm-cold-{warm}", ctx.work / f"warm-cold-{warm}.log",
                                   reuse_actors=warm)
        seeds = per_seed(sweep.exp_dir)
        median, low, high = seed_median_ci([s["rates"] for s in seeds])
        found[warm] = (median, low, high)
        rows.append([label, len(seeds), "; ".join(thousands(float(np.median(s["rates"]))) for s in seeds),
                     f"{thousands(median)} [{thousands(low)}, {thousands(high)}]",
                     f"{min(s['startup_s'] for s in seeds):.2f}-{max(s['startup_s'] for s in seeds):.2f}",
                     f"{min(s['setup_s'] for s in seeds):.2f}-{max(s['setup_s'] for s in seeds):.2f}",
                     sum(s["warm"] for s in seeds)])
    (warm_median, warm_low, warm_high), (cold_median, cold_low, cold_high) = found[True], found[False]
    inside = cold_low <= warm_median <= cold_high and warm_low <= cold_median <= warm_high
    body = "\n\n".join([
        f"{relative(spec)}, swept twice on a local Ray: with actor reuse (the default) and with "
        "`--cold-processes`. A trial's figure is the median env steps/s of its measured iterations; an arm's is "
        "the median over seeds, with its 95% interval over seeds (`stats.seed_median_ci`). startup_s is the "
        "process start a cold trial pays before its build; setup_s the build (algorithm and env runners).",
        table(["arm", "seeds", "each seed's median env steps/s", "median [95% interval over seeds]", "startup_s",
               "setup_s", "trials in a reused process"], [list(map(str, r)) for r in rows], align_right=(1, 6)),
        f"Warm / cold medians: {warm_median / cold_median:.3f}; each median "
        f"{'inside' if inside else '**outside**'} the other arm's interval.",
    ])
    commands = ["python -m bench --only warm_cold",
                f"scaling-study sweep {relative(spec)} --storage-path TMP --name warm --no-analyze",
                f"scaling-study sweep {relative(spec)} --storage-path TMP --name cold --no-analyze --cold-processes"]
    figure = KeyFigure("one point's env steps/s, warm / cold (median over seeds)",
                       f"{thousands(warm_median)} / {thousands(cold_median)} = {warm_median / cold_median:.3f}",
                       "each inside the other's seed interval", verdict(inside))
    return Outcome(body, [figure], commands)
