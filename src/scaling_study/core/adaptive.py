"""The adaptive design's rules, pure: which points a race prunes (`points_to_prune`, racing's rule)
and when `auto` stops adding env runners or envs (`series_verdict`). The Tune searchers that act on
them are run/racing.py and run/explore.py.

The seed (trial) is the unit. With 3 or more seeds a point's estimate is the median over seeds with a
95% bootstrap interval (stats.seed_median_ci); with fewer, "clearly below" needs even the point's best
seed, at the top of its own 95% interval over iterations, to lie below the other's worst seed at the
bottom of its interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from scaling_study.core import stats

GAIN = 0.05
"""A step of `auto` pays when it beats the best point so far by more than this fraction."""
PATIENCE = 2
"""Steps in a row that do not pay before `auto` stops."""


def _trial_intervals(per_seed: list[np.ndarray]) -> list[tuple[float, float, float]]:
    return [stats.median_ci(values) for values in per_seed]


def _measured(per_point: dict[str, list[Any]]) -> dict[str, list[np.ndarray]]:
    """Each point's seeds that measured something, as arrays; points without one are left out."""
    measured = {p: [np.asarray(s, dtype=float) for s in seeds if len(s)] for p, seeds in per_point.items()}
    return {p: seeds for p, seeds in measured.items() if seeds}


def points_to_prune(per_point: dict[str, list[Any]]) -> dict[str, dict[str, Any]]:
    """Points clearly below the best, each with the evidence: `per_point` maps a point to one array of
    measured env steps/s per finished seed. Points without a measured seed are never pruned."""
    measured = _measured(per_point)
    if len(measured) < 2:
        return {}
    estimates = {p: stats.seed_median_ci(seeds) for p, seeds in measured.items()}
    best = max(estimates, key=lambda p: estimates[p][0])
    pruned = {}
    for point, seeds in measured.items():
        if point == best:
            continue
        evidence = _evidence(seeds, measured[best], estimates[point], estimates[best])
        if evidence is not None:
            pruned[point] = {"best": best, "seeds": len(seeds), **evidence}
    return pruned


def _evidence(seeds, best_seeds, estimate, best_estimate) -> dict[str, Any] | None:
    """Why `seeds` lie clearly below `best_seeds`, or None when they do not (or it cannot be told)."""
    if len(seeds) >= stats.MIN_SEEDS_FOR_CI and len(best_seeds) >= stats.MIN_SEEDS_FOR_CI:
        high, best_low = estimate[2], best_estimate[1]
        rule = "95% interval over seeds below the best point's"
    else:
        highs = [ci[2] for ci in _trial_intervals(seeds)]
        lows = [ci[1] for ci in _trial_intervals(best_seeds)]
        high, best_low = max(highs), min(lows)  # NaN when a seed has one measured iteration: unknown
        rule = "best seed's interval over iterations below the best point's worst seed's"
    if not (np.isfinite(high) and np.isfinite(best_low) and high < best_low):
        return None
    return {"rule": rule, "high": float(high), "best_low": float(best_low),
            "env_steps_per_s": float(estimate[0]), "best_env_steps_per_s": float(best_estimate[0])}



def clearly_below(seeds, best_seeds) -> dict[str, Any] | None:
    """`_evidence` for two points given as arrays of measured env steps/s per seed."""
    seeds = [np.asarray(s, dtype=float) for s in seeds if len(s)]
    best_seeds = [np.asarray(s, dtype=float) for s in best_seeds if len(s)]
    if not seeds or not best_seeds:
        return None
    return _evidence(seeds, best_seeds, stats.seed_median_ci(seeds), stats.seed_median_ci(best_seeds))


@dataclass(frozen=True)
class Verdict:
    go_on: bool
    """True: measure the next candidate of the series."""
    best: Any
    """The series' fastest point so far (median over seeds)."""
    why: str
    """Why the series stopped (empty while it goes on)."""


def series_verdict(steps: list[tuple[Any, str, list]], judged_from: int, last_candidate: bool,
                   unit: str = "") -> Verdict:
    """Should `auto` measure the next candidate of a series? `steps` are the points measured so far,
    in order: (value, label, per-seed arrays of measured env steps/s). Steps before index
    `judged_from` are measured whatever they give (one env runner only moves the main process's
    sampling elsewhere: runners sample in parallel from two on). The series stops after PATIENCE
    judged steps in a row that do not beat the best so far by GAIN, or at once when a judged step is
    clearly below the best (interval wholly below), or when no candidate is left."""
    medians = [stats.seed_median_ci([np.asarray(s, dtype=float) for s in seeds if len(s)])[0]
               if any(len(s) for s in seeds) else float("nan") for _, _, seeds in steps]
    best_i, misses = None, 0
    for i, median in enumerate(medians):
        if best_i is None or not np.isfinite(medians[best_i]):
            best_i = i
            continue
        judged = i >= judged_from
        if judged:
            if clearly_below(steps[i][2], steps[best_i][2]) is not None:
                return Verdict(False, steps[best_i][0], f"stopped after {_name(steps[i][0], unit)}: its interval "
                                                        f"lies wholly below {_name(steps[best_i][0], unit)}'s (the best)")
            paid = np.isfinite(median) and median > medians[best_i] * (1 + GAIN)
            misses = 0 if paid else misses + 1
        if np.isfinite(median) and median > medians[best_i]:
            best_i = i
        if judged and misses >= PATIENCE:
            tried = " and ".join(_name(v, unit) for v, _, _ in steps[i - PATIENCE + 1:i + 1])
            return Verdict(False, steps[best_i][0], f"stopped after {_name(steps[i][0], unit)}: {tried} each gained "
                                                    f"under {GAIN:.0%} over the best before it")
    best = steps[best_i][0] if best_i is not None else None
    if last_candidate:
        return Verdict(False, best, f"tried every candidate up to {_name(steps[-1][0], unit)}")
    return Verdict(True, best, "")


def _name(value: Any, unit: str) -> str:
    return f"{value} {unit}".strip() if unit else str(value)


# ---------------------------------------------------------------- seeds where they change the ranking

@dataclass(frozen=True)
class SeedsRound:
    """One step of `repeats: {first: F, most: M}`: the points that get one more seed now, and the points
    whose seeds are settled this round, each with why (what the report says)."""

    add: list[str]
    settled: dict[str, str]


def seeds_round(per_point: dict[str, list[Any]], most: int) -> SeedsRound:
    """Seeds where they change the answer, one round: `per_point` maps each point measured so far to one
    array of measured env steps/s per finished seed. The answer is the fastest point (highest median over
    seeds) and whether it stands apart from the next, so those two alone get seeds, one each per round,
    until both have an interval over seeds (stats.MIN_SEEDS_FOR_CI) and the next's lies below the
    fastest's (`clearly_below`), or `most` seeds are spent; more seeds can reorder them, so the two are
    picked afresh each round. When no seed is added, every point is settled, with why."""
    measured = _measured(per_point)
    if not measured:
        return SeedsRound([], {})
    medians = {p: stats.seed_median_ci(seeds)[0] for p, seeds in measured.items()}
    ranked = sorted(measured, key=lambda p: -medians[p])
    best, nxt = ranked[0], (ranked[1] if len(ranked) > 1 else None)
    pair = [best] if nxt is None else [best, nxt]
    enough = all(len(measured[p]) >= stats.MIN_SEEDS_FOR_CI for p in pair)
    apart = clearly_below(measured[nxt], measured[best]) if nxt is not None else None
    if not (enough and (nxt is None or apart is not None)):
        add = [p for p in pair if len(measured[p]) < most]
        if add:
            return SeedsRound(add, {})
    settled = {best: f"the fastest, {best}, after {len(measured[best])} seeds"}
    if nxt is not None:
        seeds = len(measured[nxt])
        settled[nxt] = (f"the next, apart from {best} after {seeds} seeds ({apart['rule']})" if enough and apart
                        else f"the next; budget spent ({most} seeds): {nxt} and {best} are not apart")
    for point in ranked[2:]:
        below = clearly_below(measured[point], measured[best])
        settled[point] = (f"ranked below {nxt}, so not needed for the answer"
                          + (f"; apart from {best} already ({below['rule']})" if below else ""))
    return SeedsRound([], settled)
