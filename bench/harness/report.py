"""BENCHMARKS.md: the machine, the key figures, then a section per benchmark with its load averages and
the commands that reproduce it. Tables go through the analysis report's own Markdown writer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from bench.harness.context import Outcome
from scaling_study.analysis.report import markdown_table


@dataclass
class SectionResult:
    name: str
    title: str
    outcome: Outcome | None
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    duration_s: float
    error: str | None = None


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], align_right: Sequence[int] = ()) -> str:
    """The report's Markdown table, with the columns in `align_right` (numbers) right-aligned."""
    lines = markdown_table(pd.DataFrame([list(r) for r in rows], columns=list(headers))).splitlines()
    lines[1] = "| " + " | ".join("---:" if i in align_right else "---" for i in range(len(headers))) + " |"
    return "\n".join(lines)


def load_text(load: Sequence[float]) -> str:
    return " / ".join(f"{v:.2f}" for v in load)


def duration(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{seconds:.1f} s"


def thousands(value: float) -> str:
    return f"{value:,.0f}"


def seconds(value: float) -> str:
    return f"{value:.1f} s"


def share(value: float) -> str:
    return f"{value:.2f}"


def values_text(values: list[float], fmt: Callable[[float], str] = thousands) -> str:
    """Every run's value in run order, e.g. '1,204; 1,230; 1,198'."""
    return "; ".join(fmt(v) for v in values)


def header(machine: dict, command: str, quiet, total_s: float, quick: bool) -> str:
    """`machine` from bench.__main__.machine_facts; `quiet` a QuietWait, or None."""
    v = machine["versions"]
    lines = [
        "# Benchmarks",
        "",
        f"Written by `{command}` on {machine['date']}, in {duration(total_s)}"
        + (" (**--quick: tiny budgets, for checking the harness; not the figures to quote**)" if quick else "") + ".",
        "Every figure below comes from that run. Reproduce all of it with `make bench` (`python -m bench`), one "
        "benchmark with `python -m bench --only NAME`; each section lists its own commands too.",
        "",
        f"- Machine: {machine['cpu_model']}, {machine['cores']} cores, {machine['memory_gib']:.0f} GiB, no GPU; "
        f"{machine['platform']}",
        f"- Versions: Python {v['python']}, ray {v['ray']}, torch {v['torch']}, gymnasium {v['gymnasium']}, "
        f"pandas {v['pandas']}, scaling-study {v['scaling-study']}; git {machine['git_commit']}",
    ]
    if quiet is not None:
        state = "quiet" if quiet.load_at_end[0] < quiet.threshold else f"**not quiet: still {quiet.load_at_end[0]:.2f} when the wait ran out**"
        lines.append(
            f"- Load average (1, 5, 15 min) before the run: {load_text(quiet.load_at_end)} ({state}; waited "
            f"{duration(quiet.waited_s)} for the 1-minute load to fall below {quiet.threshold}, from "
            f"{load_text(quiet.load_at_start)})")
    lines.append("- Noise: these are 2-core machines shared with other work; comparisons alternate their arms "
                 "(A B, then B A, ...) and report medians and their ratio. Each section gives the load average "
                 "before and after it (our own runs raise it too).")
    return "\n".join(lines)


def key_table(sections: list[SectionResult]) -> str:
    rows = []
    for s in sections:
        if s.outcome is None:
            rows.append([s.title, "failed", s.error.splitlines()[0] if s.error else "", "", ""])
        else:
            rows += [[s.title, f.figure, f.value, f.goal, f.met] for f in s.outcome.key_figures]
    return "## Key figures\n\n" + table(["benchmark", "figure", "value", "goal", "met"], rows)


def section_text(number: int, s: SectionResult) -> str:
    parts = [f"## {number}. {s.title}", f"Load average before {load_text(s.load_before)}, after "
             f"{load_text(s.load_after)}; took {duration(s.duration_s)}."]
    if s.outcome is None:
        return "\n\n".join([*parts, f"**Failed:**\n\n```\n{s.error}\n```"])
    commands = "\n".join(f"    {c}" for c in s.outcome.commands)
    return "\n\n".join([*parts, s.outcome.body, "Reproduce:\n\n" + commands])


def write(path: Path, head: str, sections: list[SectionResult]) -> None:
    blocks = [head, key_table(sections), *(section_text(i, s) for i, s in enumerate(sections, 1))]
    path.write_text("\n\n".join(blocks) + "\n")
