"""Statistics as pure functions on arrays, with a fixed random state (rliable's habit).

Nothing here knows about Tune, files or DataFrames; summary.py applies these per grid point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

SEED = 0
CONFIDENCE = 0.95
HIGH_CV = 0.10
# Fewer seeds than this get no interval: a bootstrap over two trials can only return their two values.
MIN_SEEDS_FOR_CI = 3


def median_ci(values, confidence: float = CONFIDENCE, n_resamples: int = 9999,
              seed: int = SEED) -> tuple[float, float, float]:
    """Median and its bootstrap confidence interval (percentile method, fixed seed).

    The percentile method, not BCa: medians of a few repeated timings have tied, discrete bootstrap
    distributions for which BCa is degenerate. One value: no interval (NaN); equal values: zero width.
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return np.nan, np.nan, np.nan
    median = float(np.median(x))
    if x.size == 1:
        return median, np.nan, np.nan
    if np.all(x == x[0]):
        return median, median, median
    result = stats.bootstrap((x,), np.median, confidence_level=confidence, n_resamples=n_resamples,
                             method="percentile", vectorized=True, random_state=np.random.default_rng(seed))
    return median, float(result.confidence_interval.low), float(result.confidence_interval.high)


def relative_ci(values, confidence: float = CONFIDENCE) -> float:
    """How far the interval of `median_ci` reaches from the median, as a fraction of the median (the
    larger side): 0.05 means the interval lies within +-5% of the median. NaN for fewer than 2 values."""
    median, low, high = median_ci(values, confidence)
    if not np.isfinite([median, low, high]).all() or median <= 0:
        return np.nan
    return float(max(high - median, median - low) / median)


def seed_median_ci(per_seed_values, confidence: float = CONFIDENCE, n_resamples: int = 4999,
                   seed: int = SEED, min_seeds: int = MIN_SEEDS_FOR_CI) -> tuple[float, float, float]:
    """A grid point's throughput with the seed (trial) as the unit, and its two-level bootstrap interval.

    `per_seed_values` holds one array per trial (its measured iterations). The point estimate is the
    median of the per-trial medians, so every seed counts once however many iterations it ran. The
    interval resamples trials with replacement, then iterations within each drawn trial, and takes the
    percentile interval of the resulting medians of medians: it is as wide as the seeds disagree, plus
    what each seed's own iterations leave uncertain. Iterations of one trial share a process, a
    placement and a seed, so pooling them would count as independent what is not.

    Fewer than `min_seeds` trials: the estimate, and NaN for the interval (too few seeds to give one).
    """
    trials = [x[np.isfinite(x)] for x in (np.asarray(v, dtype=float) for v in per_seed_values)]
    trials = [t for t in trials if t.size]
    if not trials:
        return np.nan, np.nan, np.nan
    estimate = float(np.median([np.median(t) for t in trials]))
    if len(trials) < min_seeds:
        return estimate, np.nan, np.nan
    rng = np.random.default_rng(seed)
    picks = rng.integers(len(trials), size=(n_resamples, len(trials)))
    medians = np.empty(picks.shape)
    for index, values in enumerate(trials):
        drawn = picks == index  # every (resample, slot) that drew this trial gets its own inner resample
        inner = values[rng.integers(values.size, size=(int(drawn.sum()), values.size))]
        medians[drawn] = np.median(inner, axis=1)
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(np.median(medians, axis=1), [tail, 100 - tail])
    return estimate, float(low), float(high)


def coefficient_of_variation(values) -> float:
    """Sample standard deviation / mean (ddof=1); NaN for fewer than two values."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size < 2 or x.mean() == 0:
        return np.nan
    return float(x.std(ddof=1) / x.mean())


def speedup(throughput, baseline: float) -> np.ndarray:
    """Throughput relative to the baseline configuration's."""
    return np.asarray(throughput, dtype=float) / baseline


def efficiency(speedups, cpus, baseline_cpus: float) -> np.ndarray:
    """Parallel efficiency per CPU: speedup / (CPUs / baseline CPUs); 1.0 is perfect scaling."""
    return np.asarray(speedups, dtype=float) / (np.asarray(cpus, dtype=float) / baseline_cpus)


def phase_shares(iter_s, sample_s, learn_s, sync_s) -> dict[str, float]:
    """Share of iteration time in each phase, as ratios of sums; other = iteration - the three phases."""
    total = float(np.nansum(iter_s))
    if total <= 0 or np.all(np.isnan(np.asarray(sample_s, dtype=float))):
        return {"sample": np.nan, "learn": np.nan, "sync": np.nan, "other": np.nan}
    shares = {name: float(np.nansum(v)) / total
              for name, v in (("sample", sample_s), ("learn", learn_s), ("sync", sync_s))}
    shares["other"] = 1.0 - sum(shares.values())
    return shares


def amdahl_speedup(n, serial_fraction: float) -> np.ndarray:
    """Amdahl's law: speedup on n times the resources when serial_fraction of the work cannot spread."""
    n = np.asarray(n, dtype=float)
    return 1.0 / (serial_fraction + (1.0 - serial_fraction) / n)


@dataclass(frozen=True)
class AmdahlFit:
    serial_fraction: float
    ceiling_speedup: float  # the limit as n -> infinity: 1 / serial_fraction


def fit_amdahl(n, speedups) -> AmdahlFit:
    """Least-squares serial fraction from speedups measured at n-fold resources (n=1 is the baseline).

    Amdahl's law is linear in the serial fraction s once inverted: 1/S - 1/n = s * (1 - 1/n) (the
    Karp-Flatt form), so s has a closed-form least-squares solution, clipped to [0, 1].
    """
    n = np.asarray(n, dtype=float)
    s = np.asarray(speedups, dtype=float)
    keep = np.isfinite(n) & np.isfinite(s) & (s > 0)
    x = 1.0 - 1.0 / n[keep]
    y = 1.0 / s[keep] - 1.0 / n[keep]
    if np.count_nonzero(x) == 0:
        return AmdahlFit(np.nan, np.nan)
    serial = float(np.clip(np.dot(x, y) / np.dot(x, x), 0.0, 1.0))
    return AmdahlFit(serial, 1.0 / serial if serial > 0 else np.inf)


def max_gain_if_free(share: float) -> float:
    """How much faster an iteration could get if a phase taking this share cost nothing."""
    return 1.0 / (1.0 - share) if share < 1 else np.inf


def intervals_overlap(low_a: float, high_a: float, low_b: float, high_b: float) -> bool:
    """Whether two confidence intervals overlap (NaN bounds count as overlapping: unknown)."""
    if np.isnan([low_a, high_a, low_b, high_b]).any():
        return True
    return bool(low_a <= high_b and low_b <= high_a)


def overlapping_pairs(starts, ends, tolerance_s=0.0) -> np.ndarray:
    """Index pairs (i < j) of time windows that overlap by more than tolerance_s seconds.

    tolerance_s may be one number or one per window (a pair uses the larger of its two).
    """
    starts = np.asarray(starts, dtype=float)
    ends = np.asarray(ends, dtype=float)
    tolerance = np.broadcast_to(np.asarray(tolerance_s, dtype=float), starts.shape)
    overlap = np.minimum(ends[:, None], ends[None, :]) - np.maximum(starts[:, None], starts[None, :])
    allowed = np.maximum(tolerance[:, None], tolerance[None, :])
    i, j = np.nonzero(np.triu(overlap > allowed, k=1))
    return np.column_stack([i, j])
