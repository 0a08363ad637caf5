"""Benchmark 5, analysis speed: `scaling-study analyze` end to end, in a subprocess, on a synthetic
experiment directory of 100 trials x 20 iterations in the exact format Tune writes (the generator is
the test suite's own, tests/analysis_helpers.write_large_experiment). Goal: under 10 s."""

from __future__ import annotations

import re
import statistics

from bench.harness import runner
from bench.harness.context import Context, KeyFigure, Outcome, verdict
from bench.harness.report import seconds, table, values_text
from tests.analysis_helpers import write_large_experiment  # the generator the analysis tests use

TITLE = "Analysis speed: 100 trials x 20 iterations"

GOAL_S = 10.0
RUNS = 3  # --quick: 1
IN_PROCESS = re.compile(r"analysed in ([\d.]+) s")


def run(ctx: Context) -> Outcome:
    runs = 1 if ctx.quick else RUNS
    sizes = {} if not ctx.quick else {"runners": (0, 1), "envs": (1, 2), "repeats": 5, "iterations": 10}
    source = write_large_experiment(ctx.work / "analysis-speed" / "big", **sizes)
    trials = sum(1 for p in source.iterdir() if p.is_dir())
    iterations = sizes.get("iterations", 20)
    walls, inside = [], []
    for i in range(runs):
        ctx.log(f"  run {i + 1}/{runs}")
        done = runner.run(runner.scaling_study("analyze", str(source), "--out", str(ctx.work / "analysis-speed" / f"out-{i}")),
                          ctx.work / f"analysis-speed-{i}.log")
        walls.append(done.wall_s)
        found = done.line_containing("analysed in ")
        inside.append(float(IN_PROCESS.search(found[1]).group(1)) if found else float("nan"))
    median = statistics.median(walls)
    met = median < GOAL_S
    body = "\n\n".join([
        f"A synthetic experiment of {trials} trials x {iterations} iterations (result rows of real size, about "
        f"17 KB each), analysed {len(walls)} time(s) into figures, tables and the report.",
        table(["", "each run", "median"], [
            ["end to end (process start to exit)", values_text(walls, seconds), seconds(median)],
            ["inside analyze_command (its own 'analysed in')", values_text(inside, seconds),
             seconds(statistics.median(inside))],
        ], align_right=(2,)),
        f"**{median:.1f} s end to end** (goal < {GOAL_S:g} s): {'met' if met else 'not met'}. The difference "
        f"between the two rows is the interpreter's start and imports (pandas, matplotlib, scipy).",
    ])
    commands = ["python -m bench --only analysis_speed",
                "scaling-study analyze DIR --out OUT   (DIR written by tests/analysis_helpers.write_large_experiment)"]
    figure = KeyFigure(f"analysis of {trials} trials x {iterations} iterations, end to end", seconds(median),
                       f"< {GOAL_S:g} s", verdict(met))
    return Outcome(body, [figure], commands)
