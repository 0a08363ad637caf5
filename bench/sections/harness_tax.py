"""Benchmark 1, harness tax: one configuration through the suite and through a bare `algo.train()` loop.

A: `python -m bench.arms.suite_point` - a real run_sweep of bench/specs/harness_tax.yaml; throughput is the
   median scaling/env_steps_per_s over the non-warmup iterations.
B: `python -m bench.arms.bare_loop` - the same PPOConfig built by hand and trained in the driver; throughput
   is the median of env_runners/num_env_steps_sampled / time_this_iter_s over the same iterations.
Goal: A / B >= 0.97.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass

from bench.harness import compare, runner, sweeps
from bench.harness.context import Context, KeyFigure, Outcome, verdict
from bench.harness.experiments import SPECS, read_grid, relative, shrunk
from bench.harness.report import seconds, share, table, values_text

TITLE = "Harness tax: the suite against a bare RLlib loop"

GOAL = 0.97
SPEC = SPECS / "harness_tax.yaml"
ROUNDS = 2  # --quick: 1 (2 keeps the whole bench run inside its 40 minutes)
LAYOUT = (
    "Process layout. Both start Ray the same way (2 CPUs, no dashboard) and sample in one env runner "
    "actor. In the suite the Algorithm and its local learner live in a Tune trial actor (a placement "
    "group of 1 CPU for it plus 1 for the runner), while Tune's controller runs in the driver and "
    "writes result rows as they come; in the bare loop the Algorithm lives in the driver itself. "
    "Ray gives the trial actor OMP_NUM_THREADS=1, so torch runs one thread there; the bare loop pins "
    "torch to one thread too (`--torch-threads`), so both learners compute alike. What the suite adds "
    "per iteration is its metrics callback (phase timers with a window of one), its scaling/* "
    "bookkeeping and `tune.report`, and Tune's controller sharing the two cores."
)


@dataclass
class ArmRun:
    env_steps_per_s: float
    per_iteration: list[float]  # env steps/s of every measured (non-warmup) iteration
    build_s: float
    wall_s: float


def run_suite(ctx: Context, spec, index: int) -> ArmRun:
    storage = ctx.work / f"harness-suite-{index}"
    run = runner.run(runner.python("-m", "bench.arms.suite_point", str(spec), str(storage)), ctx.work / f"{storage.name}.log")
    (trial,) = sweeps.trials(storage / read_grid(spec).name)
    measured = [row["scaling"] for row in trial.rows if not row["scaling"]["warmup"]]
    rates = [s["env_steps_per_s"] for s in measured]
    return ArmRun(statistics.median(rates), rates, measured[0]["setup_s"], run.wall_s)


def run_bare(ctx: Context, spec, index: int) -> ArmRun:
    run = runner.run(runner.python("-m", "bench.arms.bare_loop", str(spec)), ctx.work / f"harness-bare-{index}.log")
    if (found := run.first_line("BENCH_RESULT ")) is None:
        raise runner.RunFailed(f"bench.arms.bare_loop printed no BENCH_RESULT line (log: {run.log})")
    result = json.loads(found[1].split(" ", 1)[1])
    warmup = read_grid(spec).warmup_iterations
    rates = [r["env_steps_per_s"] for r in result["iterations"] if r["iteration"] > warmup]
    return ArmRun(result["env_steps_per_s"], rates, result["build_s"], run.wall_s)


def run(ctx: Context) -> Outcome:
    rounds = 1 if ctx.quick else ROUNDS
    spec = SPEC if not ctx.quick else shrunk(SPEC, ctx.work / "specs", iterations=3,
                                                    fixed={"train_batch_size_per_learner": 500, "minibatch_size": 250})
    outcomes, order = compare.alternate({"suite": lambda i: run_suite(ctx, spec, i),
                                         "bare loop": lambda i: run_bare(ctx, spec, i)}, rounds, ctx.log)
    suite_runs, bare_runs = outcomes["suite"], outcomes["bare loop"]
    c = compare.Comparison("suite", "bare loop", [r.env_steps_per_s for r in suite_runs],
                           [r.env_steps_per_s for r in bare_runs])
    met = c.ratio >= GOAL
    # Pooled: every measured iteration of every run of an arm together.
    suite_all, bare_all = ([rate for r in runs for rate in r.per_iteration] for runs in (suite_runs, bare_runs))
    pooled_suite, pooled_bare = statistics.median(suite_all), statistics.median(bare_all)
    low, high = compare.ratio_of_medians_ci(suite_all, bare_all)
    spread = statistics.median([abs(x / statistics.median(arm) - 1) for arm in (suite_all, bare_all) for x in arm])
    grid = read_grid(spec)
    point = grid.points[0]
    body = "\n\n".join([
        f"Configuration ({relative(spec)}): {point['num_env_runners']} env runner x "
        f"{point['num_envs_per_env_runner']} envs, train batch {point['train_batch_size_per_learner']}, minibatch "
        f"{point['minibatch_size']}, {point['num_epochs']} epoch, fcnet {point['fcnet_hiddens']}, "
        f"{grid.iterations} iterations, the first {grid.warmup_iterations} left out. "
        f"{rounds} rounds, arms alternating (run order: {', '.join(order)}).",
        table(["arm", "median env steps/s of each run", "median"], compare.comparison_rows(c), align_right=(2,)),
        f"**Suite / bare loop = {c.ratio:.3f}** (goal >= {GOAL}): {'met' if met else 'not met'}. Pooling every "
        f"measured iteration of every run instead: {pooled_suite:,.0f} / {pooled_bare:,.0f} = "
        f"{pooled_suite / pooled_bare:.3f}, 95% bootstrap interval {low:.2f} to {high:.2f} (iterations vary by "
        f"{spread:.0%} around their median here, so a few percent between the arms "
        f"{'is' if low < 1 < high else 'is not'} within the noise).",
        table(["arm", "build s (each run)", "wall s of the whole process (each run)",
               "env steps/s of each measured iteration, run 1"],
              [[name, values_text([r.build_s for r in runs], share), values_text([r.wall_s for r in runs], seconds),
                values_text(runs[0].per_iteration)] for name, runs in outcomes.items()]),
        LAYOUT,
    ])
    commands = ["python -m bench --only harness_tax", f"python -m bench.arms.suite_point {relative(spec)} STORAGE_DIR",
                f"python -m bench.arms.bare_loop {relative(spec)}"]
    return Outcome(body, [KeyFigure("harness tax: suite env steps/s / bare loop",
                                    f"{c.ratio:.3f} ({c.a_median:,.0f} / {c.b_median:,.0f})", f">= {GOAL}",
                                    verdict(met))], commands)
