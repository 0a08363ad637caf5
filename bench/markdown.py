"""Markdown pieces for BENCHMARKS.md (no tabulate dependency for one small job)."""

from __future__ import annotations

from collections.abc import Sequence


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], align_right: Sequence[int] = ()) -> str:
    """A GitHub-flavoured table; columns listed in `align_right` are right-aligned (numbers)."""
    def cell(value: object) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    rule = ["---:" if i in align_right else "---" for i in range(len(headers))]
    lines = ["| " + " | ".join(cell(h) for h in headers) + " |", "| " + " | ".join(rule) + " |"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def code(command: str) -> str:
    return f"`{command}`"


def load_text(load: Sequence[float]) -> str:
    return " / ".join(f"{v:.2f}" for v in load)


def duration(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{seconds:.1f} s"
