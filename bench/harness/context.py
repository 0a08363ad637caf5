"""What every benchmark is given (full or quick budget, a work directory, a logger) and what it hands back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Context:
    quick: bool  # tiny budgets (one round, small experiment copies), to check the harness
    work: Path  # the bench run's scratch directory (Tune storage, logs, --quick experiment files)
    log: Callable[[str], None] = print
    # Sweeps several sections read, run once per bench run (bench.harness.sweeps.shared_sweep).
    shared: dict = field(default_factory=dict)


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
