"""BENCHMARKS.md: the machine, the key figures, then a section per benchmark with its load averages
and the commands that reproduce it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench import markdown
from bench.context import Outcome
from bench.machine import QuietWait


@dataclass
class SectionResult:
    name: str
    title: str
    outcome: Outcome | None
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    duration_s: float
    error: str | None = None


def header(machine: dict, command: str, quiet: QuietWait | None, total_s: float, quick: bool) -> str:
    v = machine["versions"]
    memory = f", {machine['memory_gib']:.0f} GiB" if machine.get("memory_gib") else ""
    lines = [
        "# Benchmarks",
        "",
        f"Written by `{command}` on {machine['date']}, in {markdown.duration(total_s)}"
        + (" (**--quick: tiny budgets, for checking the harness; not the figures to quote**)" if quick else "") + ".",
        "Every figure below comes from that run. Reproduce all of it with `make bench` (`python -m bench`), one "
        "benchmark with `python -m bench --only NAME`; each section lists its own commands too.",
        "",
        f"- Machine: {machine['cpu_model']}, {machine['cores']} cores{memory}, no GPU; {machine['platform']}",
        f"- Versions: Python {v['python']}, ray {v['ray']}, torch {v['torch']}, gymnasium {v['gymnasium']}, "
        f"pandas {v['pandas']}, scaling-study {v['scaling-study']}; git {machine['git_commit']}",
    ]
    if quiet is not None:
        state = "quiet" if quiet.quiet else f"**not quiet: still {quiet.load_at_end[0]:.2f} when the wait ran out**"
        lines.append(
            f"- Load average (1, 5, 15 min) before the run: {markdown.load_text(quiet.load_at_end)} ({state}; "
            f"waited {markdown.duration(quiet.waited_s)} for the 1-minute load to fall below {quiet.threshold}, "
            f"from {markdown.load_text(quiet.load_at_start)})")
    lines.append("- Noise: these are 2-core machines shared with other work; comparisons alternate their arms "
                 "(A B, then B A, ...) and report medians and their ratio. Each section gives the load average "
                 "before and after it (our own runs raise it too).")
    return "\n".join(lines)


def key_table(sections: list[SectionResult]) -> str:
    rows = []
    for s in sections:
        if s.outcome is None:
            rows.append([s.title, "failed", s.error.splitlines()[0] if s.error else "", "", ""])
            continue
        for f in s.outcome.key_figures:
            rows.append([s.title, f.figure, f.value, f.goal, f.met])
    return "## Key figures\n\n" + markdown.table(["benchmark", "figure", "value", "goal", "met"], rows)


def section_text(number: int, s: SectionResult) -> str:
    parts = [f"## {number}. {s.title}",
             f"Load average before {markdown.load_text(s.load_before)}, after {markdown.load_text(s.load_after)}; "
             f"took {markdown.duration(s.duration_s)}."]
    if s.outcome is None:
        parts.append(f"**Failed:**\n\n```\n{s.error}\n```")
        return "\n\n".join(parts)
    parts.append(s.outcome.body)
    parts.append("Reproduce:\n\n" + "\n".join(f"    {c}" for c in s.outcome.commands))
    return "\n\n".join(parts)


def write(path: Path, head: str, sections: list[SectionResult], notes: str = "") -> None:
    blocks = [head, key_table(sections), *(section_text(i, s) for i, s in enumerate(sections, 1))]
    if notes:
        blocks.append(notes)
    path.write_text("\n\n".join(blocks) + "\n")
