"""What-if arms: the suite with one proposed change, run from a patched copy of its source.

The copy lives in the bench's scratch directory and goes first on PYTHONPATH (of the sweep and, through
the environment, of every Ray worker it starts), so the checkout itself is never edited.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from bench.test_support import REPO

SOURCE = REPO / "src" / "scaling_study"


@dataclass(frozen=True)
class Change:
    name: str
    module: str
    """File inside src/scaling_study, e.g. sweep.py."""
    old: str
    new: str
    why: str


REUSE_ACTORS = Change(
    name="reuse_actors=True",
    module="sweep.py",
    old="reuse_actors=False,",
    new="reuse_actors=True,",
    why="Tune keeps a finished trial's actor for the next trial that asks for the same resources, instead "
        "of ending it and starting (and importing RLlib and torch in) a new process",
)


def patched_copy(change: Change, work: Path) -> Path | None:
    """A directory to put first on PYTHONPATH, holding scaling_study with `change` applied; None when
    the source no longer contains the line to change (the what-if is then skipped)."""
    text = (SOURCE / change.module).read_text()
    if text.count(change.old) != 1:
        return None
    root = Path(work) / f"what-if-{change.module.removesuffix('.py')}"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(SOURCE, root / "scaling_study", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "scaling_study" / change.module).write_text(text.replace(change.old, change.new))
    return root
