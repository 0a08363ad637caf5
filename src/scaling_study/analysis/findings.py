"""The summary table -> what a reader wants to know: fastest point, bottleneck, Amdahl ceiling, warnings."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from scaling_study.core import phases, stats
from scaling_study.core.settings import ASYNC

from .effects import setting_effects
from .load import Experiment


@dataclass
class Findings:
    fastest: pd.Series
    runner_up: pd.Series | None
    distinguishable: bool | None
    amdahl: stats.AmdahlFit
    amdahl_origin: tuple[float, float]  # (CPUs, speedup) of the fit's n=1 point, for the speedup figure
    ceiling_env_steps_per_s: float
    amdahl_sentence: str
    bottleneck: str
    self_check: str
    warnings: list[str] = field(default_factory=list)
    effects: list[str] = field(default_factory=list)  # what raising each swept setting buys
    model: list[str] = field(default_factory=list)  # the iteration model's self-check and prediction


def ranked(summary: pd.DataFrame) -> pd.DataFrame:
    return summary[summary["env_steps_per_s"].notna()].sort_values("env_steps_per_s", ascending=False)


def fastest_and_runner_up(summary: pd.DataFrame) -> tuple[pd.Series, pd.Series | None, bool | None]:
    """The fastest point, the next, and whether their intervals over seeds are apart (None: unknown)."""
    order = ranked(summary)
    fastest = order.iloc[0]
    if len(order) < 2:
        return fastest, None, None
    second = order.iloc[1]
    bounds = [fastest["env_steps_per_s_ci_low"], fastest["env_steps_per_s_ci_high"],
              second["env_steps_per_s_ci_low"], second["env_steps_per_s_ci_high"]]
    if not np.isfinite(np.asarray(bounds, dtype=float)).all():
        return fastest, second, None  # too few seeds for an interval: whether they differ is unknown
    apart = not stats.intervals_overlap(fastest["env_steps_per_s_ci_low"], fastest["env_steps_per_s_ci_high"],
                                        second["env_steps_per_s_ci_low"], second["env_steps_per_s_ci_high"])
    return fastest, second, apart


def frontier(summary: pd.DataFrame) -> pd.DataFrame:
    """The best point at each CPU count, relative to the best at the fewest CPUs (Amdahl's n=1).

    n = CPUs / those CPUs; gain = throughput / that throughput. Relative to the frontier's own start,
    not to the smallest configuration: envs per runner can multiply throughput on the same CPUs.
    """
    best = ranked(summary).drop_duplicates("cpus").sort_values("cpus")
    first = best.iloc[0]
    return best.assign(n=best["cpus"] / first["cpus"], gain=best["env_steps_per_s"] / first["env_steps_per_s"])


AMDAHL_MIN_CPU_COUNTS = 3  # two points fit any serial fraction exactly: nothing is left to check it


def amdahl_sentence(fit: stats.AmdahlFit, ceiling: float, cpu_counts: int) -> str:
    if cpu_counts < AMDAHL_MIN_CPU_COUNTS:
        return (f"Amdahl fit: not done ({cpu_counts} CPU count(s) measured; it needs at least "
                f"{AMDAHL_MIN_CPU_COUNTS}, and two would draw a ceiling from a single ratio).")
    if not np.isfinite(ceiling):
        return "Amdahl fit: no serial fraction detected over the measured range, so the fit sets no ceiling."
    return (f"Amdahl fit (best point per CPU count): serial fraction {fit.serial_fraction:.0%}; at most "
            f"{ceiling:,.0f} env steps/s however many env runners ({fit.ceiling_speedup:.1f}x the best on the "
            f"fewest CPUs).")


def amdahl_self_check(best: pd.DataFrame, base: float) -> str:
    """Fit on all but the largest CPU count, predict the largest, and show the error."""
    if best["cpus"].nunique() < 3:
        return "Amdahl self-check: needs at least three CPU counts; not done."
    small, largest = best.iloc[:-1], best.iloc[-1]
    fit = stats.fit_amdahl(small["n"], small["gain"])
    predicted = base * float(stats.amdahl_speedup(largest["n"], fit.serial_fraction))
    measured = float(largest["env_steps_per_s"])
    ceiling = base * fit.ceiling_speedup
    error = 100.0 * (predicted - measured) / measured
    limit = f"a ceiling of {ceiling:,.0f} env steps/s" if np.isfinite(ceiling) else "no ceiling"
    return (f"Amdahl self-check: fitted on {small['cpus'].min():g}-{small['cpus'].max():g} CPUs, the fit predicts "
            f"{limit} and {predicted:,.0f} env steps/s at {largest['cpus']:g} CPUs; "
            f"measured {measured:,.0f} ({error:+.0f}% error).")


def bottleneck_sentence(fastest: pd.Series, fit: stats.AmdahlFit, ceiling: float) -> str:
    """One plain sentence: what limits the fastest point, and how much more runners could give."""
    shares = {p.key: fastest.get(p.share_column, np.nan) for p in phases.PHASES}
    where = f"at the fastest point ({fastest['point']})"
    if fastest.get("algorithm", "PPO") in ASYNC:  # which side waits, from RLlib's learner timers too
        return learner_sentence(fastest, where)
    if np.isnan(shares["sample"]):
        if np.isfinite(ceiling):
            return (f"Phase times are unavailable (these results carry no scaling/* metrics); by the Amdahl fit "
                    f"{fit.serial_fraction:.0%} of the work does not spread over CPUs: at most {ceiling:,.0f} env "
                    f"steps/s however many env runners.")
        return "Phase times are unavailable (no scaling/* metrics) and the Amdahl fit gives no ceiling."
    top = max(shares, key=shares.get)
    gain = stats.max_gain_if_free(shares["sample"])
    if top == "sample":
        return (f"Sampling takes {shares['sample']:.0%} of each iteration {where}: sampling is the bottleneck; "
                f"faster sampling could give at most {gain:.1f}x (if it were free), through more envs per runner, "
                f"or more env runners where cores are to spare.")
    return (f"{phases.BY_KEY[top].words.capitalize()} takes {shares[top]:.0%} of each iteration {where}: "
            f"more env runners can give at most {gain:.1f}x more.")


LEARNER_STARVED = 0.5
"""An asynchronous learner that waits more than half its time for samples is starved: sampling limits."""


def learner_sentence(fastest: pd.Series, where: str) -> str:
    """The bottleneck of an algorithm that samples while it learns (APPO, IMPALA): which side waits."""
    wait, trained = fastest.get("learner_wait_share", np.nan), fastest.get("trained_env_steps_per_s", np.nan)
    rates = (f"it sampled {fastest['env_steps_per_s']:,.0f} env steps/s and its learner trained on "
             f"{trained:,.0f}")
    if not np.isfinite(wait):
        return f"{fastest['algorithm']} {where}: {rates}; RLlib gave no learner timers, so which side waits is unknown."
    if wait > LEARNER_STARVED:
        return (f"{fastest['algorithm']} {where}: the learner waited {wait:.0%} of its time for samples, so sampling "
                f"is the bottleneck ({rates}): more env runners or envs per runner where cores are to spare.")
    return (f"{fastest['algorithm']} {where}: the learner was busy {1 - wait:.0%} of its time and waited "
            f"{wait:.0%} for samples, so learning is the bottleneck ({rates}): more env runners will not help; "
            f"a faster or remote learner (num_learners) could.")


def trial_label(trial: pd.Series) -> str:
    return f"{trial['trial_id'] or trial['trial']} ({trial['point']}, repeat {trial['repeat']:g})"


def cpus_available(experiment: Experiment) -> float | None:
    provenance = experiment.provenance or {}
    cluster, machine = provenance.get("cluster") or {}, provenance.get("machine") or {}
    return cluster.get("logical_cpus") or machine.get("cpu_count")


def oversubscription_warnings(experiment: Experiment, analysed: pd.DataFrame) -> list[str]:
    warnings = []
    if ((experiment.provenance or {}).get("cluster") or {}).get("oversubscribed"):
        warnings.append("CPUs were oversubscribed: the cluster offered more logical CPUs than physical cores, "
                        "so trials got less than the CPUs they reserved and their timings understate the hardware.")
    available = cpus_available(experiment)
    too_big = analysed[analysed["cpus"] > available] if available else analysed.iloc[:0]
    if len(too_big):
        warnings.append(f"{len(too_big)} trial(s) reserved more CPUs ({too_big['cpus'].max():g}) than the "
                        f"{available:g} available: they shared cores, so their throughput is understated.")
    return warnings


def node_set(trial: pd.Series) -> set[str]:
    return set(str(trial["node_ids"]).split(",")) if isinstance(trial["node_ids"], str) else set()


def on_different_nodes(a: pd.Series, b: pd.Series) -> bool:
    """Both trials' nodes are known and none is shared."""
    return bool(node_set(a) and node_set(b)) and not node_set(a) & node_set(b)


def overlap_warnings(analysed: pd.DataFrame, node_exclusive: bool = False) -> list[str]:
    """Trials that ran at the same time competed for CPUs; on the same node, for the same cores.
    In a node-exclusive sweep (provenance `concurrency`) trials ran side by side by design: only pairs
    not known to have run on different nodes are warned about."""
    analysed = analysed.reset_index(drop=True)
    # Foreign windows come from whole-second timestamps: allow a second of slack there.
    tolerance = np.where(analysed["window_exact"].fillna(False).astype(bool), 0.0, 1.0)
    pairs = stats.overlapping_pairs(analysed["started_at"], analysed["ended_at"], tolerance)
    if node_exclusive:
        pairs = [(i, j) for i, j in pairs if not on_different_nodes(analysed.loc[i], analysed.loc[j])]
    if not len(pairs):
        return []
    examples = "; ".join(f"{analysed.at[i, 'trial_id'] or analysed.at[i, 'trial']} and "
                         f"{analysed.at[j, 'trial_id'] or analysed.at[j, 'trial']}" for i, j in pairs[:3])
    warnings = [f"{len(pairs)} pair(s) of trials overlapped in time (e.g. {examples}): they competed for CPUs, "
                f"so their timings are suspect (run with max_concurrent_trials=1)."]
    shared = [(i, j) for i, j in pairs if node_set(analysed.loc[i]) & node_set(analysed.loc[j])]
    if shared:
        i, j = shared[0]
        nodes = ", ".join(sorted(node_set(analysed.loc[i]) & node_set(analysed.loc[j])))
        warnings.append(f"{len(shared)} of those pair(s) shared a node while running (e.g. on {nodes}).")
    return warnings


def trial_state_warnings(trials: pd.DataFrame) -> list[str]:
    warnings = []
    for _, trial in trials[trials["errored"]].iterrows():
        reason = f": {trial['error']}" if trial["error"] else ""
        warnings.append(f"Trial {trial_label(trial)} errored{reason}")
    # An errored trial's state in experiment_state can lag (still RUNNING): its error.txt says more.
    unfinished = trials["status"].isin(["RUNNING", "PENDING", "PAUSED"]) & ~trials["errored"]
    for _, trial in trials[unfinished].iterrows():
        warnings.append(f"Trial {trial_label(trial)} was still {trial['status']} when read: "
                        f"its last iterations may be missing.")
    restarted = trials[pd.to_numeric(trials.get("env_runner_restarts"), errors="coerce").fillna(0) > 0] \
        if "env_runner_restarts" in trials else trials.iloc[:0]
    for _, trial in restarted.iterrows():
        warnings.append(f"Trial {trial_label(trial)}: {int(trial['env_runner_restarts'])} env runner restart(s) "
                        f"after runners died; iterations short of runners are left out of throughput.")
    for _, trial in trials[pd.to_numeric(trials.get("retries", 0), errors="coerce").fillna(0) > 0].iterrows() \
            if "retries" in trials else []:
        warnings.append(f"Trial {trial_label(trial)}: {retried_phrase(int(trial['retries']), trial['retried_after'])}; "
                        f"its rows are those of its last attempt, run from scratch.")
    return warnings


def retried_phrase(retries: int, after: str) -> str:
    times = {1: "once", 2: "twice"}.get(retries, f"{retries} times")
    reasons = list(dict.fromkeys(r for r in str(after or "").split("; ") if r))
    return f"retried {times}" + (f" after {' and '.join(reasons)}" if reasons else "")


def variation_warnings(summary: pd.DataFrame) -> list[str]:
    noisy = summary[summary["high_cv"]]
    warnings = [f"{row.point}: throughput varies {row.cv:.0%} across repeats (CV > {stats.HIGH_CV:.0%})."
                for row in noisy.itertuples()]
    unmeasured = summary[summary["measured_iterations"] == 0]
    warnings += [f"{point}: no measured (non-warmup) iterations." for point in unmeasured["point"]]
    return warnings


def ran_node_exclusive(experiment: Experiment) -> bool:
    return bool(((experiment.provenance or {}).get("concurrency") or {}).get("node_exclusive"))


def collect_warnings(experiment: Experiment, summary: pd.DataFrame) -> list[str]:
    trials = experiment.trials.copy()
    trials["point"] = trials["point"].fillna("unknown point")
    trials["repeat"] = pd.to_numeric(trials["repeat"], errors="coerce")
    analysed = trials[trials["skipped"].isna()]
    return (list(experiment.warnings) + oversubscription_warnings(experiment, analysed)
            + overlap_warnings(analysed, ran_node_exclusive(experiment)) + trial_state_warnings(trials) + variation_warnings(summary))


def find(experiment: Experiment, summary: pd.DataFrame) -> Findings:
    """Every headline fact of the report, computed once."""
    fastest, runner_up, apart = fastest_and_runner_up(summary)
    best = frontier(summary)
    base = float(best["env_steps_per_s"].iloc[0])
    cpu_counts = best["cpus"].nunique()
    fit = (stats.fit_amdahl(best["n"], best["gain"]) if cpu_counts >= AMDAHL_MIN_CPU_COUNTS
           else stats.AmdahlFit(np.nan, np.nan))
    ceiling = base * fit.ceiling_speedup
    origin = (float(best["cpus"].iloc[0]), float(best["speedup"].iloc[0]))
    return Findings(fastest, runner_up, apart, fit, origin, ceiling, amdahl_sentence(fit, ceiling, cpu_counts),
                    bottleneck_sentence(fastest, fit, ceiling), amdahl_self_check(best, base),
                    collect_warnings(experiment, summary), setting_effects(summary, experiment.grid))
