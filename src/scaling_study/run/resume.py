"""Resume policy: run afresh, resume the same experiment from its ledger, or refuse to mix two.

A resumed sweep runs exactly the trials the ledger (ledger.py) does not list as finished, under the
same trial indices, and sets the directories of interrupted attempts aside.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

from scaling_study.core import layout
from scaling_study.core.errors import UsageError
from scaling_study.core.spec import ExperimentSpec
from scaling_study.run.ledger import finished_trials, set_aside_unfinished


def stored_spec(exp_dir: Path) -> dict[str, Any] | None:
    spec = (layout.read_provenance(exp_dir) or {}).get("spec")
    return spec if isinstance(spec, dict) else None


# Not what the experiment is: where the file came from, where results are also sent, and how many trials
# run at once (how it is run: overlaps are flagged by the analysis; its default moved from 1 to automatic),
# and how often a failed trial is retried (each attempt runs from scratch).
IGNORED_KEYS = {"source", "description", "tracking", "max_concurrent_trials", "retries"}


def _defaults() -> dict[str, Any]:
    """Each spec field's default, by the key to_dict writes it under."""
    found = {}
    for f in dataclasses.fields(ExperimentSpec):
        if f.default is not dataclasses.MISSING:
            found[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            found[f.name] = f.default_factory()
    return json.loads(json.dumps(found, default=str))


def _same_experiment(stored: dict[str, Any], spec: ExperimentSpec) -> bool:
    current = json.loads(json.dumps(spec.to_dict(), default=str))
    defaults = _defaults()
    # A key the stored spec lacks was added to the spec format after it was written (e.g. prune): at its
    # default it runs the experiment as before, so it does not make a different experiment.
    added_at_default = {k for k, v in current.items() if k not in stored and k in defaults and v == defaults[k]}
    return {k: v for k, v in stored.items() if k not in IGNORED_KEYS} == {
        k: v for k, v in current.items() if k not in IGNORED_KEYS | added_at_default
    }


def decide_resume(exp_dir: Path, spec: ExperimentSpec, restart: bool) -> bool:
    """True to resume the experiment in `exp_dir`; refuses to mix two different experiments."""
    if not exp_dir.exists():
        return False
    if restart:
        aside = exp_dir.with_name(f"{exp_dir.name}.replaced-{time.strftime('%Y%m%d-%H%M%S')}")
        exp_dir.rename(aside)
        print(f"--restart: the previous results were moved to {aside}")
        return False
    stored = stored_spec(exp_dir)
    if stored is None:
        if any(exp_dir.iterdir()):
            raise UsageError(
                f"{exp_dir}: exists but was not written by a scaling-study sweep; "
                f"pass --name NEW or another --storage-path"
            )
        return False
    if not _same_experiment(stored, spec):
        raise UsageError(
            f"{exp_dir}: holds results of a different version of experiment {spec.name!r}; "
            f"pass --restart to replace them or --name NEW to keep both"
        )
    return True


def trials_to_run(exp_dir: Path, total: int, resume: bool) -> list[int]:
    """Indices of the trials still to run: all of them, or those the ledger does not list."""
    if not resume:
        return list(range(total))
    finished = finished_trials(exp_dir)
    moved = set_aside_unfinished(exp_dir)
    if moved:
        print(f"Set aside {len(moved)} unfinished trial director(ies) under {exp_dir / layout.SET_ASIDE}")
    todo = [i for i in range(total) if i not in finished]
    print(f"{len(finished)} of {total} trials already finished; running the other {len(todo)}.", flush=True)
    return todo
