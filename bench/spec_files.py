"""The experiment files the benchmarks run, and smaller copies of them for `--quick`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bench.test_support import REPO

SPECS = Path(__file__).resolve().parent / "specs"
EXPERIMENTS = REPO / "experiments"


def relative(path: Path) -> str:
    """A path as the command to reproduce shows it: relative to the repository when inside it."""
    try:
        return str(Path(path).resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def shrunk(source: Path, target_dir: Path, iterations: int | None = None, fixed: dict[str, Any] | None = None,
           search_space: Any = None, repeats: int | None = None) -> Path:
    """A copy of `source` with a smaller budget, under the same name, written to `target_dir`."""
    raw = yaml.safe_load(Path(source).read_text())
    if iterations is not None:
        raw["stop"] = {"training_iteration": iterations}
        raw["warmup_iterations"] = min(raw.get("warmup_iterations", 1), iterations - 1)
    if fixed:
        raw["fixed"] = {**(raw.get("fixed") or {}), **fixed}
    if search_space is not None:
        raw["search_space"] = search_space
    if repeats is not None:
        raw["repeats"] = repeats
    target = Path(target_dir) / f"quick-{Path(source).name}"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("# --quick copy of " + relative(source) + "\n" + yaml.safe_dump(raw, sort_keys=False))
    return target
