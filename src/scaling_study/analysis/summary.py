"""Iterations table -> one row per grid point: summary.csv (see docs/architecture.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from scaling_study.core import phases, stats
from scaling_study.core.settings import ASYNC

POINT_KEYS = ["point", "num_env_runners", "num_envs_per_env_runner"]


def throughput_with_ci(measured: pd.DataFrame) -> pd.DataFrame:
    """Env steps/s of each point with the seed (trial) as the unit: the median of per-trial medians over
    measured iterations, its two-level bootstrap interval (NaN below stats.MIN_SEEDS_FOR_CI seeds), and
    the number of seeds it rests on."""
    rows = {}
    for point, group in measured.groupby("point"):
        per_seed = [g.to_numpy() for _, g in group.groupby("trial")["env_steps_per_s"]]
        rows[point] = (*stats.seed_median_ci(per_seed), len(per_seed))
    return pd.DataFrame.from_dict(
        rows, orient="index",
        columns=["env_steps_per_s", "env_steps_per_s_ci_low", "env_steps_per_s_ci_high", "seeds"])


def repeat_variation(measured: pd.DataFrame) -> pd.Series:
    """Coefficient of variation across repeats of each point's per-repeat median throughput."""
    per_repeat = measured.groupby(["point", "repeat"])["env_steps_per_s"].median()
    return per_repeat.groupby(level="point").agg(stats.coefficient_of_variation).rename("cv")


def shares_per_point(measured: pd.DataFrame) -> pd.DataFrame:
    """Phase shares of iteration time per point (NaN where phases were not measured)."""
    rows = {point: stats.phase_shares(g["iter_s"], *(g[column] for column in phases.TIMED_COLUMNS))
            for point, g in measured.groupby("point")}
    shares = pd.DataFrame.from_dict(rows, orient="index")
    return shares.rename(columns={p.key: p.share_column for p in phases.PHASES})


def learner_per_point(measured: pd.DataFrame) -> pd.DataFrame:
    """What the learner did at each point, the seed as the unit (median over trials of each trial's
    median): env steps it trained on per second, and the share of its time it waited for samples."""
    rate = measured["trained_env_steps"] / measured["iter_s"].where(measured["iter_s"] > 0)
    frame = pd.DataFrame({"trained_env_steps_per_s": rate, "learner_wait_share": measured["learner_wait_share"],
                          "point": measured["point"], "trial": measured["trial"]})
    per_trial = frame.groupby(["point", "trial"])[["trained_env_steps_per_s", "learner_wait_share"]].median()
    return per_trial.groupby(level="point").median()


def phase_seconds(measured: pd.DataFrame) -> pd.DataFrame:
    """Median seconds per iteration of each phase per point, for the stacked bar figure."""
    seconds = phases.with_other_seconds(measured)
    return seconds.groupby("point")[["iter_s", *phases.COLUMNS]].median()


def point_settings(iterations: pd.DataFrame, trials: pd.DataFrame, grid: list[str]) -> pd.DataFrame:
    """The settings (a column each) and trial counts that identify each point."""
    analysed = trials[trials["skipped"].isna()]
    settings = analysed.groupby("point").agg(
        **{setting: (setting, "first") for setting in dict.fromkeys([*grid, "algorithm"])},
        cpus=("cpus", "max"),
        cores=("cores", "max"),
        sampling_cpus=("sampling_cpus", "first"),
        repeats=("trial", "size"),
        errored_trials=("errored", "sum"),
        setup_s=("setup_s", "median"),
        phases_measured=("phases_measured", "all"),
    )
    settings["measured_iterations"] = (~iterations["warmup"]).groupby(iterations["point"]).sum()
    return settings


def baseline_point(summary: pd.DataFrame) -> str:
    """The smallest configuration: fewest CPUs, then fewest env runners, then fewest envs per runner,
    then (between points that differ in another setting) the slower, so speedups are never below 1 by
    a tie-break."""
    usable = summary[summary["env_steps_per_s"].notna()]
    ordered = usable.sort_values(["cpus", "num_env_runners", "num_envs_per_env_runner", "env_steps_per_s"],
                                 kind="stable")
    return ordered.index[0]


def add_scaling_columns(summary: pd.DataFrame, steps_per_s_per_core: float | None) -> pd.DataFrame:
    """Speedup and efficiency vs the smallest configuration; % of the physical limit when calibrated."""
    summary["baseline"] = summary.index == baseline_point(summary)
    base = summary[summary["baseline"]].iloc[0]
    summary["speedup"] = stats.speedup(summary["env_steps_per_s"], base["env_steps_per_s"])
    summary["efficiency"] = stats.efficiency(summary["speedup"], summary["cpus"], base["cpus"])
    summary["high_cv"] = summary["cv"] > stats.HIGH_CV
    limit = summary["sampling_cpus"] * steps_per_s_per_core if steps_per_s_per_core else np.nan
    summary["limit_env_steps_per_s"] = limit
    summary["pct_of_limit"] = 100.0 * summary["env_steps_per_s"] / limit
    return summary


# After "point" and the grid's settings (a column each, see `load.Experiment.grid`).
SUMMARY_COLUMNS = [
    "cpus", "cores", "repeats", "seeds", "env_steps_per_s",
    "env_steps_per_s_ci_low", "env_steps_per_s_ci_high", "speedup", "efficiency", "sample_share",
    "learn_share", "sync_share", "other_share", "trained_env_steps_per_s", "learner_wait_share", "overlap_share", "setup_s", "cv", "pct_of_limit", "high_cv",
    "sampling_cpus", "limit_env_steps_per_s", "measured_iterations", "errored_trials", "phases_measured",
    "baseline", "pruned", "algorithm",
]


def build_summary(iterations: pd.DataFrame, trials: pd.DataFrame,
                  steps_per_s_per_core: float | None = None, *, grid: list[str],
                  pruned: dict | None = None) -> pd.DataFrame:
    """One row per grid point, ordered by env runners, envs per runner, CPUs; `pruned` names the points
    racing stopped running (they keep what they measured, on fewer seeds)."""
    measured = iterations[~iterations["warmup"]]
    summary = point_settings(iterations, trials, grid).join(
        [throughput_with_ci(measured), repeat_variation(measured), shares_per_point(measured),
         learner_per_point(measured)])
    summary = add_scaling_columns(summary, steps_per_s_per_core)
    # Sampling and learning overlap for the learner's busy share in an algorithm that samples while it
    # learns (its samplers never stop for it); PPO runs them one after the other: none.
    summary["overlap_share"] = (1.0 - summary["learner_wait_share"]).where(summary["algorithm"].isin(ASYNC), 0.0)
    summary["pruned"] = summary.index.isin(list(pruned or {}))
    summary = summary.sort_values(["num_env_runners", "num_envs_per_env_runner", "cpus"], kind="stable")
    return summary.rename_axis("point").reset_index()[["point", *grid, *(c for c in SUMMARY_COLUMNS if c not in grid)]]


# --- The waterfall: what each layer between the raw env and end-to-end training costs -------------
WATERFALL_COLUMNS = ["limit_env_steps_per_s", "sampler_ceiling_env_steps_per_s", "sampling_env_steps_per_s",
                     "env_steps_per_s"]


def sampling_rate_per_point(measured: pd.DataFrame) -> pd.Series:
    """Env steps per second while sampling (env_steps / sample_s), the median over each trial's measured
    iterations, then the median over trials: the seed is the unit. NaN where phases were not measured."""
    rate = measured["env_steps"] / measured["sample_s"].where(measured["sample_s"] > 0)
    per_trial = rate.groupby([measured["point"], measured["trial"]]).median()
    return per_trial.groupby(level="point").median().rename("sampling_env_steps_per_s")


def sampler_ceiling_per_point(trials: pd.DataFrame, ceilings: dict | None) -> pd.Series:
    """A bare env runner's rate for the point's envs per runner, vectorize mode and step cost
    (calibration.json's `sampler_ceilings`), times its runners (the main process's own runner when there
    are none). NaN for points, or directories, without that calibration."""
    configs = (ceilings or {}).get("configs") or {}
    analysed = trials[trials["skipped"].isna()].groupby("point").first()
    per_runner = analysed["sampler_key"].map(lambda key: (configs.get(key) or {}).get("env_steps_per_s_per_runner"))
    runners = analysed["num_env_runners"].clip(lower=1)
    return (pd.to_numeric(per_runner, errors="coerce") * runners).rename("sampler_ceiling_env_steps_per_s")


def add_waterfall_columns(summary: pd.DataFrame, iterations: pd.DataFrame, trials: pd.DataFrame,
                          ceilings: dict | None) -> pd.DataFrame:
    """summary.csv's waterfall columns (raw limit and end to end are already there)."""
    measured = iterations[~iterations["warmup"]]
    added = pd.concat([sampler_ceiling_per_point(trials, ceilings), sampling_rate_per_point(measured)], axis=1)
    added = added.reindex(summary["point"])
    summary = summary.copy()
    for column in added.columns:
        summary[column] = added[column].to_numpy()
    return summary
