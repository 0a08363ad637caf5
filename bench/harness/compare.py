"""A/B comparisons on a noisy machine: the two arms alternate, several rounds, medians and their ratio.

The order flips every round (A B, B A, A B, ...; with three arms A B C, C B A, ...), so a slow drift
of the machine's load favours no arm.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.harness.report import thousands, values_text


@dataclass
class Comparison:
    a_name: str
    b_name: str
    a: list[float] = field(default_factory=list)
    b: list[float] = field(default_factory=list)

    @property
    def a_median(self) -> float:
        return statistics.median(self.a)

    @property
    def b_median(self) -> float:
        return statistics.median(self.b)

    @property
    def ratio(self) -> float:
        """Median of A over median of B."""
        return self.a_median / self.b_median


def round_order(names: list[str], round_index: int) -> list[str]:
    """The arms in file order on even rounds, reversed on odd ones."""
    return list(names) if round_index % 2 == 0 else list(reversed(names))


def alternate(arms: dict[str, Callable[[int], Any]], rounds: int,
              log: Callable[[str], None] = print) -> tuple[dict[str, list[Any]], list[str]]:
    """Run every arm `rounds` times, alternating; returns (outcomes per arm, the order they ran in)."""
    outcomes: dict[str, list[Any]] = {name: [] for name in arms}
    order = []
    for round_index in range(rounds):
        for name in round_order(list(arms), round_index):
            log(f"  round {round_index + 1}/{rounds}: {name}")
            outcomes[name].append(arms[name](round_index))
            order.append(name)
    return outcomes, order


def ratio_of_medians_ci(a: list[float], b: list[float], confidence: float = 0.95) -> tuple[float, float]:
    """Bootstrap interval of median(a) / median(b), resampling each sample on its own (scipy, fixed seed)."""
    import numpy as np
    from scipy import stats

    result = stats.bootstrap((np.asarray(a, float), np.asarray(b, float)),
                             lambda x, y, axis=-1: np.median(x, axis=axis) / np.median(y, axis=axis),
                             confidence_level=confidence, n_resamples=4000, method="percentile",
                             random_state=np.random.default_rng(0))
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def comparison_rows(comparison: Comparison, fmt: Callable[[float], str] = thousands) -> list[list[str]]:
    """Table rows: arm, every run, median; then the ratio of the medians."""
    return [
        [comparison.a_name, values_text(comparison.a, fmt), fmt(comparison.a_median)],
        [comparison.b_name, values_text(comparison.b, fmt), fmt(comparison.b_median)],
        [f"ratio {comparison.a_name} / {comparison.b_name}", "", f"{comparison.ratio:.3f}"],
    ]
