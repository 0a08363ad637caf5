"""Experiment files: the bench's own (bench/specs), smaller copies for --quick, and reading one the
way a plain script would.

The bare loop and the plain Tune script read the same YAML as the suite, so every arm of a comparison
trains the same configurations; they expand it themselves (a plain product of the axes) rather than
through the suite's spec module, which is part of what is being measured.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
SPECS = REPO / "bench" / "specs"
EXPERIMENTS = REPO / "experiments"
# The settings the bench's hand-built PPOConfig knows; any other key is refused, not silently dropped.
KNOWN_SETTINGS = ("num_env_runners", "num_envs_per_env_runner", "train_batch_size_per_learner", "minibatch_size",
                  "num_epochs", "fcnet_hiddens")


def relative(path: Path) -> str:
    """A path as a command to reproduce shows it: relative to the repository when inside it."""
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


@dataclass(frozen=True)
class GridFile:
    name: str
    env_id: str
    points: list[dict[str, Any]]  # settings per trial, fixed ones merged in, in file order, times repeats
    fixed: dict[str, Any]
    axes: dict[str, list[Any]] | None  # None when the file lists its points
    iterations: int
    warmup_iterations: int
    repeats: int = 1


def read_grid(path: str | Path) -> GridFile:
    raw = yaml.safe_load(Path(path).read_text())
    fixed, space = dict(raw.get("fixed") or {}), raw["search_space"]
    if isinstance(space, list):
        points = [{**fixed, **point} for point in space]
    else:
        points = [{**fixed, **dict(zip(space, combo, strict=True))} for combo in itertools.product(*space.values())]
    for point in points:
        if unknown := sorted(set(point) - set(KNOWN_SETTINGS)):
            raise ValueError(f"{path}: the bench's plain PPOConfig does not know {unknown}; known: {KNOWN_SETTINGS}")
    env, repeats = raw["env"], int(raw.get("repeats", 1))
    return GridFile(name=raw["name"], env_id=env if isinstance(env, str) else env["id"], points=points * repeats,
                    fixed=fixed, axes=None if isinstance(space, list) else dict(space),
                    iterations=int(raw["stop"]["training_iteration"]),
                    warmup_iterations=int(raw.get("warmup_iterations", 1)), repeats=repeats)
