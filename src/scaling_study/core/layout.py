"""The suite's own files inside a Tune experiment directory (beside Tune's trial dirs): where each one
is, and how each is read and written. The one module that parses them, so every reader tolerates the
same damage in the same way:

- a JSON file (provenance, calibration, pruned points, explored series, configs) that is missing or cannot be read counts as
  absent (None, or {} for the pruned points); JSON files are written atomically, so only a foreign hand
  damages one;
- a line file (the ledger) keeps every good line: a damaged line (cut short by a kill, not an object,
  without a trial_index or trial_dir) is skipped, with one warning for the file.

The ledger never holds a trial_index twice: `append_finished` checks under a lock on the file, and
`read_ledger`, given a ledger written otherwise, keeps the first entry and says so.
Pure: no Ray.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SUITE_DIR = Path("scaling_study")
PROVENANCE = SUITE_DIR / "provenance.json"
"""The resolved experiment file, the cluster and the software versions (provenance.py)."""
CALIBRATION = SUITE_DIR / "calibration.json"
"""Raw env steps/s on one core of each node: the physical limit (calibrate.py)."""
RAY_LOG = SUITE_DIR / "ray.log"
"""Ray's and Tune's driver-side log, unless --verbose shows it (ray_logs.py)."""
LEDGER = SUITE_DIR / "finished.jsonl"
"""A line per trial that met a stop criterion (ledger.py): trial_index, trial_dir, stopped_by."""
SET_ASIDE = SUITE_DIR / "interrupted"
"""Directories of interrupted attempts, moved out of the way when a sweep resumes (ledger.py)."""
CONFIGS = SUITE_DIR / "configs.json"
"""Each grid point's PPOConfig as copyable Python (config_calls.py), for the report's answer."""
EXPLORED = SUITE_DIR / "explored.json"
"""What `auto` tried in each series, what it did not, and why it stopped (explore.py)."""
SEEDED = SUITE_DIR / "seeded.json"
"""`repeats: {first, most}`: the seeds each point got, and why no more (explore.py, core/adaptive.seeds_round)."""
PRUNED = SUITE_DIR / "pruned.json"
"""Grid points racing stopped running (`prune: true`), with the evidence (racing.py)."""


# --- JSON files ------------------------------------------------------------------------------------
def read_json_file(path: Path) -> dict | None:
    """A JSON object from a file, or None when the file is missing or not a JSON object."""
    try:
        value = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def write_text_atomic(path: Path, text: str) -> None:
    """Write a temporary file beside `path`, then rename it over `path`: an interruption never leaves
    half a file (the old one, or none, stays)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    try:
        tmp.write_text(text)
        tmp.replace(path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write atomically, so an interruption never leaves half a file."""
    write_text_atomic(path, json.dumps(data, indent=2, default=str) + "\n")


def read_provenance(exp_dir: Path) -> dict | None:
    return read_json_file(Path(exp_dir) / PROVENANCE)


def read_calibration(exp_dir: Path) -> dict | None:
    return read_json_file(Path(exp_dir) / CALIBRATION)


def read_pruned(exp_dir: Path) -> dict[str, dict[str, Any]]:
    """Grid points racing stopped running, by point label, with the evidence ({} when none)."""
    return read_json_file(Path(exp_dir) / PRUNED) or {}


def write_pruned(exp_dir: Path, pruned: dict[str, dict[str, Any]]) -> None:
    write_json(Path(exp_dir) / PRUNED, pruned)


def unreadable_suite_files(exp_dir: Path) -> list[str]:
    """A warning for each of provenance.json and calibration.json that is there but is not a JSON object
    (read as absent, like a missing file: the analysis says so instead of staying silent)."""
    return [f"{name}: unreadable (not a JSON object); ignored" for name in (PROVENANCE, CALIBRATION)
            if (Path(exp_dir) / name).exists() and read_json_file(Path(exp_dir) / name) is None]


def read_explored(exp_dir: Path) -> dict[str, dict[str, Any]]:
    """What `auto` decided per series, by series label ({} when nothing was explored)."""
    return read_json_file(Path(exp_dir) / EXPLORED) or {}


def write_explored(exp_dir: Path, explored: dict[str, dict[str, Any]]) -> None:
    write_json(Path(exp_dir) / EXPLORED, explored)


def read_seeded(exp_dir: Path) -> dict[str, dict[str, Any]]:
    """By point: {"seeds": the seeds it got, "why": why no more} ({} when seeds were not adaptive)."""
    return read_json_file(Path(exp_dir) / SEEDED) or {}


def write_seeded(exp_dir: Path, seeded: dict[str, dict[str, Any]]) -> None:
    write_json(Path(exp_dir) / SEEDED, seeded)


def read_configs(exp_dir: Path) -> dict[str, Any]:
    """{"preamble": imports, "points": {point label: PPOConfig chain}}, or {} (foreign or older results)."""
    return read_json_file(Path(exp_dir) / CONFIGS) or {}


# --- The ledger of finished trials -------------------------------------------------------------------
@dataclass
class Ledger:
    """finished.jsonl as read: the first entry of each trial_index, and what was left out."""

    by_index: dict[int, dict] = field(default_factory=dict)
    """trial_index -> its entry (trial_index, trial_dir, stopped_by), the first line that names it."""
    repeated: dict[str, str] = field(default_factory=dict)
    """The trial_dir of a later line whose trial_index was already listed -> the kept entry's trial_dir."""
    warnings: list[str] = field(default_factory=list)

    def by_dir(self) -> dict[str, dict]:
        return {entry["trial_dir"]: entry for entry in self.by_index.values()}


def _ledger_entry(line: str) -> dict | None:
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    if not isinstance(entry, dict) or not isinstance(entry.get("trial_dir"), str):
        return None
    index = entry.get("trial_index")
    if isinstance(index, bool) or not isinstance(index, int):
        return None
    return entry


def parse_ledger(text: str) -> Ledger:
    ledger, damaged = Ledger(), []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        entry = _ledger_entry(line)
        if entry is None:
            damaged.append(number)
            continue
        kept = ledger.by_index.get(entry["trial_index"])
        if kept is None:
            ledger.by_index[entry["trial_index"]] = entry
        elif kept["trial_dir"] != entry["trial_dir"]:
            ledger.repeated[entry["trial_dir"]] = kept["trial_dir"]
            ledger.warnings.append(f"{LEDGER.name}: trial_index {entry['trial_index']} twice: kept the first "
                                   f"({kept['trial_dir']}), not {entry['trial_dir']}")
    if damaged:
        ledger.warnings.append(f"{LEDGER.name}: skipped {len(damaged)} damaged line(s) (line(s) "
                               f"{', '.join(map(str, damaged))}: cut short, or without a trial_index or trial_dir)")
    return ledger


def read_ledger(exp_dir: Path) -> Ledger:
    """The ledger of an experiment directory; empty for a directory without one (a foreign sweep)."""
    try:
        text = (Path(exp_dir) / LEDGER).read_text(errors="replace")
    except OSError:
        return Ledger()
    return parse_ledger(text)


def append_finished(exp_dir: Path, trial_index: int, trial_dir: str, stopped_by: str | None = None,
                    **facts: Any) -> bool:
    """Append a finished trial, durably, with any further `facts` (e.g. its retries); False (and nothing
    written) when its trial_index is listed already. The check and the append hold an exclusive lock on the file, so two writers cannot both
    add the same index."""
    path = Path(exp_dir) / LEDGER
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as ledger:
        fcntl.flock(ledger.fileno(), fcntl.LOCK_EX)
        try:
            ledger.seek(0)
            if trial_index in parse_ledger(ledger.read()).by_index:
                return False
            ledger.seek(0, os.SEEK_END)
            ledger.write(json.dumps({"trial_index": trial_index, "trial_dir": trial_dir,
                                     "stopped_by": stopped_by, **facts}) + "\n")
            ledger.flush()
            os.fsync(ledger.fileno())
        finally:
            fcntl.flock(ledger.fileno(), fcntl.LOCK_UN)
    return True
