"""What every benchmark is given (its budget, a work directory, a logger) and what it hands back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Budget:
    """How much each benchmark runs: `FULL` for BENCHMARKS.md, `QUICK` to check the harness."""

    quick: bool
    harness_rounds: int  # rounds of the harness-tax A/B (each round runs every arm once)
    efficiency_rounds: int  # rounds of each sweep-efficiency A/B
    analysis_runs: int


FULL = Budget(quick=False, harness_rounds=5, efficiency_rounds=3, analysis_runs=3)
QUICK = Budget(quick=True, harness_rounds=1, efficiency_rounds=1, analysis_runs=1)


@dataclass
class Context:
    budget: Budget
    work: Path  # the bench run's scratch directory (Tune storage, logs, --quick experiment files)
    log: Callable[[str], None] = print


@dataclass
class KeyFigure:
    figure: str
    value: str
    goal: str = ""
    met: str = ""  # "yes", "no", or "" where there is no goal


@dataclass
class Outcome:
    """A benchmark's section of BENCHMARKS.md, with the commands (from the repository root) behind it."""

    body: str
    key_figures: list[KeyFigure] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)


def verdict(met: bool) -> str:
    return "yes" if met else "no"
