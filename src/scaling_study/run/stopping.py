"""When a trial stops: the experiment file's caps, and `precision` (stop once throughput is known).

    stop: {precision: 0.05, training_iteration: 30}

ends a trial once the 95% interval of its median env steps/s over its measured (non-warmup) iterations
lies within +-5% of that median, after at least `MIN_MEASURED_ITERATIONS`; the other keys stay caps.
Within one trial the iterations are the samples (across trials the seed is the unit: core/stats.py).
The trial itself writes the interval into each row (`scaling/relative_ci`, `scaling/measured_iterations`),
so the rule is a pure function of one row: the Tune stopper, the ledger and a test all apply it alike.
"""

from __future__ import annotations

import math
from typing import Any

from ray.tune.stopper import Stopper

from scaling_study.core.rows import GROUP

PRECISION = "precision"
MIN_MEASURED_ITERATIONS = 3
"""A percentile interval over fewer iterations is [min, max] of one or two values: too easily narrow."""


def metric(result: dict[str, Any], key: str) -> Any:
    """A result's value for a stop key: nested with '/' as Tune's stop dicts name them, or flattened."""
    value: Any = result
    for part in key.split("/"):
        value = value.get(part) if isinstance(value, dict) else None
    return result.get(key) if value is None else value


def precision_reached(result: dict[str, Any], precision: float) -> bool:
    """Enough measured iterations, and their interval within +-precision of their median."""
    measured = metric(result, f"{GROUP}/measured_iterations")
    relative = metric(result, f"{GROUP}/relative_ci")
    if not isinstance(measured, (int, float)) or not isinstance(relative, (int, float)):
        return False
    return measured >= MIN_MEASURED_ITERATIONS and math.isfinite(relative) and relative <= precision


def stop_reason(result: dict[str, Any], stop: dict[str, Any]) -> str | None:
    """The stop criterion a result meets (precision first: it is the one that answers; then the caps in
    the file's order), or None. Caps are reached when the metric is at or above the threshold."""
    if PRECISION in stop and precision_reached(result, stop[PRECISION]):
        return PRECISION
    for key, threshold in stop.items():
        value = metric(result, key)
        if key != PRECISION and isinstance(value, (int, float)) and value >= threshold:
            return key
    return None


class ScalingStopper(Stopper):
    """Tune's stopper for an experiment's `stop:` mapping (caps and precision); never stops them all."""

    def __init__(self, stop: dict[str, Any]):
        self.stop = dict(stop)

    def __call__(self, trial_id: str, result: dict[str, Any]) -> bool:
        return stop_reason(result, self.stop) is not None

    def stop_all(self) -> bool:
        return False
