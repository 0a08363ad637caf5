"""Benchmark 2, sweep efficiency: the trials' own time over the sweep's wall time, suite against plain Tune.

Own time of a trial: build + iterations. Wall time: the whole command, end to end, in a subprocess.
Goal: the suite at least 0.9, and ahead of the plain script. The suite runs as its CLI does by default,
reusing a finished trial's process for the next of the same shape (SweepOptions.reuse_actors); in --quick
runs a third arm runs it with --cold-processes, a fresh process per trial, as it did before.
"""

from __future__ import annotations

import statistics
from pathlib import Path

from bench.harness import compare, sweeps, timeline
from bench.harness.context import Context, KeyFigure, Outcome, verdict
from bench.harness.experiments import EXPERIMENTS, SPECS, relative, shrunk
from bench.harness.report import share, table, values_text

TITLE = "Sweep efficiency: the suite against a plain Tune script"

GOAL = 0.9
ROUNDS = 1  # one run per arm: it keeps the whole bench run inside its 40 minutes
COLD = "--cold-processes"
SUITE, PLAIN, WHAT_IF = "suite", "plain Tune", f"suite, {COLD}"
Runs = dict[str, list[sweeps.MeasuredSweep]]
METHOD = (
    "Method. Each arm runs the whole command in a subprocess with a Ray temp dir of its own; wall time is "
    "launch to exit. A trial's own time is its build plus its iterations: for the suite setup_s + the sum of "
    "scaling/iter_s from its result rows; for the plain script the build_s its trainable measures around "
    "build_algo + Tune's time_total_s (the sum of the algorithm's time_this_iter_s, which the trainable "
    "reports as its own). The split of the wall time comes from the time each stdout line arrived (the "
    "suite's plan and summary lines, the plain script's BENCH_EVENT lines), the Ray session's name (its "
    "start), provenance.json and calibration.json (written just before and just after calibration), every "
    "trial's first and last result row, and Ray's worker logs (when each trial actor's process came up)."
)


def workloads(ctx: Context) -> list[tuple[str, Path, bool]]:
    """(label, experiment file, whether to add the what-if arm)."""
    if not ctx.quick:  # smoke.yaml's 2 trials left out: grid6's 6 say the same per trial, in the bench's budget
        return [("grid6", SPECS / "grid6.yaml", False)]
    grid = {"num_env_runners": [0], "num_envs_per_env_runner": [1, 2]}
    return [("smoke (quick)", shrunk(EXPERIMENTS / "smoke.yaml", ctx.work / "specs", iterations=2), False),
            ("grid6 (quick)", shrunk(SPECS / "grid6.yaml", ctx.work / "specs", iterations=2, search_space=grid), True)]


def arms(ctx: Context, label: str, spec: Path, with_what_if: bool) -> dict:
    def place(arm: str, i: int) -> tuple[Path, Path]:
        name = f"eff-{label.split()[0]}-{arm}-{i}"
        return ctx.work / name, ctx.work / f"{name}.log"

    found = {SUITE: lambda i: sweeps.suite_sweep(spec, *place("suite", i), reuse_actors=True),
             PLAIN: lambda i: sweeps.plain_sweep(spec, *place("plain", i))}
    if with_what_if:
        found[WHAT_IF] = lambda i: sweeps.suite_sweep(spec, *place("cold", i))
    return found


def median_of(runs: list[sweeps.MeasuredSweep], value) -> float:
    return statistics.median(value(r) for r in runs)


def median_segments(runs: list[sweeps.MeasuredSweep]) -> dict[str, float]:
    per_run = [timeline.segments(r.times) for r in runs]
    return {name: statistics.median(s[name] for s in per_run) for name in timeline.SEGMENTS}


def runs_table(runs: Runs) -> str:
    rows = [[arm, *(values_text([value(r) for r in rs], share) for value in (lambda r: r.times.wall_s,
             lambda r: r.times.own_s, lambda r: r.efficiency)), f"{median_of(rs, lambda r: r.efficiency):.2f}"]
            for arm, rs in runs.items()]
    return table(["arm", "wall s (each run)", "trials' own s (each run)", "efficiency (each run)",
                  "median efficiency"], rows, align_right=(4,))


def segment_table(runs: Runs) -> str:
    medians = {arm: median_segments(r) for arm, r in runs.items()}
    rows = [[name, *(f"{medians[arm][name]:.1f}" for arm in runs)] for name in timeline.SEGMENTS]
    rows.append(["wall time", *(f"{median_of(rs, lambda r: r.times.wall_s):.1f}" for rs in runs.values())])
    return table(["where the wall time goes (median s over runs)", *runs], rows, align_right=range(1, len(runs) + 1))


def where_it_goes(label: str, runs: Runs) -> str:
    """The suite's overheads of one workload in words, with the trial length 0.9 would need."""
    seg, trials = median_segments(runs[SUITE]), len(runs[SUITE][0].times.trials)
    fixed, per_trial = timeline.overheads(seg, trials)
    text = (
        f"Where the rest of the suite's time goes ({label}, medians): {fixed:.1f} s once per sweep - Python and "
        f"imports before Ray starts {seg[timeline.BEFORE_RAY]:.1f} s (RLlib and torch are imported there; the plain script "
        f"pays the same later, in its Tune set-up), Ray start {seg[timeline.RAY_START]:.1f} s, calibration "
        f"{seg[timeline.CALIBRATION]:.1f} s (the suite's own; the plain script has none), Tune set-up and the first trial's "
        f"process {seg[timeline.BEFORE_FIRST_TRIAL]:.1f} s, Ray shutdown and exit {seg[timeline.SHUTDOWN]:.1f} s - and "
        f"{per_trial:.1f} s per trial: a fresh actor importing RLlib and torch where the trial before had another "
        f"shape ({seg[timeline.ACTOR_IMPORTS] / trials:.1f} s a trial) and the gap before it ({seg[timeline.BETWEEN] / max(trials - 1, 1):.1f} s per "
        f"gap). Against {seg[timeline.OWN] / trials:.1f} s of own time per trial, that caps the efficiency; {GOAL} would need "
        f"about {timeline.own_seconds_needed(GOAL, fixed, per_trial, trials):.0f} s of own time per trial with "
        f"{trials} trials and these overheads."
    )
    if WHAT_IF not in runs:
        return text
    fixed_w, per_trial_w = timeline.overheads(median_segments(runs[WHAT_IF]), trials)
    return text + (f" With {COLD} the overhead per trial rises to {per_trial_w:.1f} s (about "
                   f"{timeline.own_seconds_needed(GOAL, fixed_w, per_trial_w, trials):.0f} s of own time per trial "
                   f"would then reach {GOAL}).")


def what_if_text(runs: Runs) -> str:
    wall, own = ({arm: median_of(runs[arm], value) for arm in (SUITE, WHAT_IF)}
                 for value in (lambda r: r.times.wall_s, lambda r: r.times.own_s))
    between = {arm: median_segments(runs[arm])[timeline.BETWEEN] for arm in (SUITE, WHAT_IF)}
    return (f"What-if, {COLD} (a fresh process per trial, instead of Tune keeping a finished trial's actor for "
            f"the next trial that asks for the same resources): wall time {wall[SUITE]:.1f} -> {wall[WHAT_IF]:.1f} s "
            f"(median), time between trials {between[SUITE]:.1f} -> {between[WHAT_IF]:.1f} s, the trials' own time "
            f"{own[SUITE]:.1f} -> {own[WHAT_IF]:.1f} s: a fresh process pays RLlib's lazy imports and torch's "
            f"first-use costs again.")


def standing(ratio: float) -> str:
    """Suite against the plain script in words; within 5% counts as level (the runs vary that much)."""
    return "level with" if abs(ratio - 1) <= 0.05 else ("ahead of" if ratio > 1 else "behind")


def verdict_text(results: list[tuple[str, compare.Comparison, Runs]]) -> str:
    suite_vs_plain = "; ".join(f"{label}: suite {c.a_median:.2f}, plain {c.b_median:.2f}, so {standing(c.ratio)} it"
                               for label, c, _ in results)
    met = all(c.a_median >= GOAL and c.a_median > c.b_median for _, c, _ in results)
    calibration = statistics.median(median_segments(runs[SUITE])[timeline.CALIBRATION] for _, _, runs in results)
    return (
        f"Verdict: the goal (>= {GOAL}, ahead of the plain script) is {'met' if met else 'not met'} "
        f"({suite_vs_plain}). With trials this short, most of a sweep's wall time is Ray's and Tune's "
        f"machinery, the same for both: starting Ray and shutting it down, and for every trial a fresh actor "
        f"process that imports RLlib and torch before the trial's own code runs. The one fixed cost the suite "
        f"adds is calibration ({calibration:.1f} s: the limit the report divides by). Ours to remove: a new "
        f"process per trial where the shape changes (the suite reuses one otherwise, with setup_s the build alone "
        f"and startup_s the process start); calibration (now cached per machine, env and versions; this arm's first run measures it). Not ours: Ray start and shutdown, Tune's actor and placement-group lifecycle, the "
        f"interpreter and its imports. What closes the gap: longer trials (see the default experiment's "
        f"efficiency in the next section), a Ray cluster that is already running (--address: no Ray start or "
        f"shutdown inside the sweep), and actor reuse."
    )


def run(ctx: Context) -> Outcome:
    sections, figures, commands, results = [METHOD], [], ["python -m bench --only sweep_efficiency"], []
    for label, spec, with_what_if in workloads(ctx):
        runs, order = compare.alternate(arms(ctx, label, spec, with_what_if), ROUNDS, ctx.log)
        c = compare.Comparison(SUITE, PLAIN, [r.efficiency for r in runs[SUITE]], [r.efficiency for r in runs[PLAIN]])
        met = c.a_median >= GOAL and c.a_median > c.b_median
        sections += [f"### {label}: {relative(spec)}, {len(runs[SUITE][0].times.trials)} trials",
                     f"Run order: {', '.join(order)}.", runs_table(runs),
                     f"**Suite efficiency {c.a_median:.2f}** (goal >= {GOAL}), plain Tune {c.b_median:.2f}; "
                     f"suite / plain = {c.ratio:.2f}: {'met' if met else 'not met'}.",
                     segment_table(runs), where_it_goes(label, runs)]
        sections += [what_if_text(runs)] if WHAT_IF in runs else []
        results.append((label, c, runs))
        figures.append(KeyFigure(f"sweep efficiency, {label}: suite (plain Tune)",
                                 f"{c.a_median:.2f} ({c.b_median:.2f})", f">= {GOAL} and ahead of plain", verdict(met)))
        shown = Path(relative(spec)), Path("TMP")
        commands += [" ".join(["scaling-study", *sweeps.suite_command(*shown, reuse_actors=True)[1:]]),
                     " ".join(["python", *sweeps.plain_command(*shown)[1:]])]
        if WHAT_IF in runs:
            commands.append(" ".join(["scaling-study", *sweeps.suite_command(*shown)[1:]]))
    sections.append(verdict_text(results))
    return Outcome("\n\n".join(sections), figures, commands)
