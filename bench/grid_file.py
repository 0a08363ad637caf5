"""An experiment file read the way a plain script would: its points, iterations and warmup.

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

# The settings the bench's hand-built PPOConfig knows; any other key is refused, not silently dropped.
KNOWN_SETTINGS = (
    "num_env_runners", "num_envs_per_env_runner", "train_batch_size_per_learner", "minibatch_size",
    "num_epochs", "fcnet_hiddens",
)


@dataclass(frozen=True)
class GridFile:
    name: str
    env_id: str
    points: list[dict[str, Any]]
    """One dict of settings per grid point, fixed settings merged in, in the file's order."""
    fixed: dict[str, Any]
    axes: dict[str, list[Any]] | None
    """The grid's axes, or None when the file lists its points."""
    iterations: int
    warmup_iterations: int
    repeats: int = 1


def read_grid(path: str | Path) -> GridFile:
    raw = yaml.safe_load(Path(path).read_text())
    fixed = dict(raw.get("fixed") or {})
    space = raw["search_space"]
    if isinstance(space, list):
        points = [{**fixed, **point} for point in space]
    else:
        axes = list(space)
        points = [{**fixed, **dict(zip(axes, combo, strict=True))} for combo in itertools.product(*space.values())]
    for point in points:
        unknown = sorted(set(point) - set(KNOWN_SETTINGS))
        if unknown:
            raise ValueError(f"{path}: the bench's plain PPOConfig does not know {unknown}; known: {KNOWN_SETTINGS}")
    env = raw["env"]
    return GridFile(
        name=raw["name"],
        env_id=env if isinstance(env, str) else env["id"],
        points=points * int(raw.get("repeats", 1)),
        fixed=fixed,
        axes=None if isinstance(space, list) else dict(space),
        iterations=int(raw["stop"]["training_iteration"]),
        warmup_iterations=int(raw.get("warmup_iterations", 1)),
        repeats=int(raw.get("repeats", 1)),
    )
