"""Benchmark best_setting: the machine's best setting against the best that fits Ray's old reservation
and RLlib's own default, for three envs, in one run.

Each env is one sweep another section runs too, read once per bench run (bench.harness.sweeps.shared_sweep):
FrozenLake's is the default study (`num_env_runners: auto` with RLlib's default 2 runners x 1 env as its
reference point), the one distance_to_limit reads; the 2 ms sleeping step is experiments/slow_simulator.yaml
(1, 2 and 4 runners of a quarter CPU, sync and async), the one time_to_answer races; LunarLander's is the
baselines section's (0-3 runners of a quarter CPU). From each summary:
- the suite's answer: the fastest measured point;
- the best that fits the old reservation: the fastest point RLlib's default reservation (1 CPU for the
  main process + 1 per env runner) fits on the cores granted, i.e. what `auto` tried before;
- RLlib's default: the reference point, where the sweep has it.
All three come from the same sweep, trials one at a time, the seed (trial) as the unit.
"""

from __future__ import annotations

import pandas as pd
import yaml

from bench.harness import sweeps
from bench.harness.context import Context, KeyFigure, Outcome
from bench.harness.experiments import EXPERIMENTS, SPECS, relative, shrunk
from bench.harness.report import table
from scaling_study.core.cores import granted_cores

TITLE = "The machine's best setting, against the old reservation's and RLlib's default"

SWEEPS = [EXPERIMENTS / "frozenlake.yaml", EXPERIMENTS / "slow_simulator.yaml", SPECS / "baselines_lunarlander.yaml"]


def old_reservation_fits(row: pd.Series, cores: int) -> bool:
    """RLlib's default reservation: 1 CPU for the main process and 1 per env runner."""
    return 1 + row["num_env_runners"] <= cores


def rate(row: pd.Series | None) -> str:
    if row is None:
        return "not measured"
    interval = ("" if pd.isna(row["env_steps_per_s_ci_low"]) else
                f" [{row['env_steps_per_s_ci_low']:,.0f}-{row['env_steps_per_s_ci_high']:,.0f}]")
    return f"{row['point'].replace('num_env_runners=', 'runners=').replace('num_envs_per_env_runner=', 'envs=')}: " \
           f"{row['env_steps_per_s']:,.0f}{interval}"


def run(ctx: Context) -> Outcome:
    cores = granted_cores().granted
    rows, figures, commands = [], [], ["python -m bench --only best_setting"]
    for spec in SWEEPS:
        if ctx.quick:
            spec = shrunk(spec, ctx.work / "specs", iterations=2, repeats=1, fixed={"train_batch_size_per_learner": 500,
                                                                                    "minibatch_size": 250})
        sweep = sweeps.shared_sweep(ctx, spec)
        out, _ = sweeps.shared_analysis(ctx, sweep)
        summary = pd.read_csv(out / "summary.csv")
        measured = summary[summary["env_steps_per_s"].notna()]
        best = measured.loc[measured["env_steps_per_s"].idxmax()]
        fitting = measured[measured.apply(old_reservation_fits, axis=1, cores=cores)]
        old = fitting.loc[fitting["env_steps_per_s"].idxmax()] if len(fitting) else None
        reference = measured[(measured["num_env_runners"] == 2) & (measured["num_envs_per_env_runner"] == 1)]
        reference = reference.iloc[0] if len(reference) else None
        gain_old = best["env_steps_per_s"] / old["env_steps_per_s"] if old is not None else float("nan")
        gain_ref = best["env_steps_per_s"] / reference["env_steps_per_s"] if reference is not None else float("nan")
        env = yaml.safe_load(spec.read_text())["env"]["id"] + (" (2 ms sleeping step)" if "slow_simulator" in spec.stem else "")
        rows.append([env, rate(best), rate(old), f"{gain_old:.2f}x", rate(reference),
                     "-" if pd.isna(gain_ref) else f"{gain_ref:.2f}x",
                     f"{sweep.times.wall_s:.0f} s"])
        figures.append(KeyFigure(f"best setting, {env}: the suite's answer over the best fitting the old reservation",
                                 f"{gain_old:.2f}x ({rate(best)})"))
        commands.append(f"scaling-study sweep {relative(spec)} --storage-path TMP --no-analyze; "
                        f"scaling-study analyze TMP/{spec.stem} --out OUT")
    body = "\n\n".join([
        f"On {granted_cores().describe()}. One sweep per env, each read by another section too: FrozenLake's is "
        f"the default study (`num_env_runners: auto`, 0-4 runners on 2 cores in order until adding stops paying, "
        f"4 and 16 envs per runner, a CPU reservation fitted to the machine: the main process 1 CPU, the runners "
        f"share the rest; one seed per point, then seeds to the fastest and the next, `repeats: {{first: 1, "
        f"most: 5}}`); the sleeping step's is experiments/slow_simulator.yaml (1, 2 and 4 runners of a quarter "
        f"CPU, sync and async, `repeats: {{first: 1, most: 4}}`); LunarLander's is "
        f"bench/specs/baselines_lunarlander.yaml (0-3 runners of a quarter CPU, 2 seeds). Env steps/s are "
        f"medians over seeds of each seed's median measured iteration; [low-high] is the 95% interval over seeds "
        f"where a point has 3 or more. Gains are ratios of medians.",
        table(["env", "the suite's answer", "best fitting the old reservation (1 + 1 per runner)", "gain",
               "RLlib's default (2 runners x 1 env)", "gain", "sweep"], rows, align_right=(3, 5, 6)),
        "The old reservation fits at most cores - 1 runners (1 on 2 cores): the answer it gave is the third "
        "column. The suite now runs more runners than it reserves whole CPUs for, since a PPO trial's main "
        "process is idle while its runners sample.",
    ])
    return Outcome(body, figures, commands)
