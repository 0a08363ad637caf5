"""Read the files of a Tune experiment directory, tolerating partial and damaged ones.

Tune's own reader (`tune.ExperimentAnalysis`) needs the pickled experiment state and imports Ray; this
module reads the plain-text files instead, so it works on stripped, partial and foreign directories.
Readers return plain Python values and a list of warnings; they never raise for damaged content.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from scaling_study.core import layout

RESULT_FILE = "result.json"
PROGRESS_FILE = "progress.csv"
PARAMS_FILE = "params.json"
TRIAL_FILES = (PARAMS_FILE, RESULT_FILE, PROGRESS_FILE)


@dataclass
class TrialFiles:
    """What one trial directory holds, as read from disk."""

    name: str
    path: Path
    params: dict | None
    rows: list[dict]
    warnings: list[str] = field(default_factory=list)
    error_text: str | None = None


def find_trial_dirs(experiment: Path) -> list[Path]:
    """Sub-directories that look like Tune trials (hold any of params.json, result.json, progress.csv)."""
    return sorted(
        child for child in experiment.iterdir()
        if child.is_dir() and not child.name.startswith((".", "checkpoint_"))
        and any((child / name).exists() for name in TRIAL_FILES)
    )


def read_json_file(path: Path) -> dict | None:
    """A JSON object from a file, or None when the file is missing or not a JSON object."""
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def read_result_lines(path: Path) -> tuple[list[dict], list[str]]:
    """Parse result.json line by line: a truncated or garbled line is dropped with a warning.

    pandas' read_json would reject the whole file for one bad line, and would build hundreds of
    unused columns from RLlib's nested result dicts; we keep every good row and pick keys later.
    """
    rows, bad = [], []
    lines = path.read_text(errors="replace").splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            bad.append(number)
            continue
        if isinstance(row, dict):
            rows.append(row)
    warnings = []
    if bad:
        where = "last line" if bad == [len(lines)] else f"line(s) {', '.join(map(str, bad))}"
        warnings.append(f"{path.parent.name}: {RESULT_FILE} has an unreadable {where} (truncated?); "
                        f"kept the {len(rows)} good row(s)")
    return rows, warnings


def read_progress_csv(path: Path) -> list[dict]:
    """Rows of progress.csv (flat 'group/key' columns), for trials whose result.json is unusable."""
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError, pd.errors.ParserError):
        return []
    return frame.to_dict("records")


def read_trial(path: Path) -> TrialFiles:
    """Read one trial directory: params, result rows (result.json, else progress.csv), error text."""
    params = read_json_file(path / PARAMS_FILE)
    rows, warnings = [], []
    if (path / RESULT_FILE).exists():
        rows, warnings = read_result_lines(path / RESULT_FILE)
    if not rows and (path / PROGRESS_FILE).exists():
        rows = read_progress_csv(path / PROGRESS_FILE)
        if rows:
            warnings.append(f"{path.name}: {RESULT_FILE} is empty or missing; read {PROGRESS_FILE} instead")
    error_file = path / "error.txt"
    error_text = error_file.read_text(errors="replace") if error_file.exists() else None
    return TrialFiles(path.name, path, params, rows, warnings, error_text)


def read_experiment_state(experiment: Path) -> dict[str, dict]:
    """Per-trial facts from every experiment_state-*.json, keyed by trial directory name; the newest
    file that lists a trial wins. (Each session of a resumed sweep writes its own file, listing only
    the trials it ran, so the newest file alone would lose the trials of the sessions before.)

    Each entry has status, trial_id, num_failures, start_time, error_filename when Tune recorded them.
    Only the JSON fields are read; the cloudpickled payloads in the same file are ignored.
    """
    facts: dict[str, dict] = {}
    # The names carry the session's start time (experiment_state-2026-11-25_02-27-07.json): oldest first.
    for path in sorted(experiment.glob("experiment_state-*.json")):
        facts.update(_trial_facts(read_json_file(path)))
    return facts


def _trial_facts(state: dict | None) -> dict[str, dict]:
    facts = {}
    for entry in (state or {}).get("trial_data", []):
        try:
            trial, runtime = (json.loads(part) if isinstance(part, str) else part for part in entry)
        except (ValueError, TypeError):
            continue
        logdir = trial.get("relative_logdir")
        if logdir:
            facts[Path(logdir).name] = {
                "status": trial.get("status"),
                "trial_id": trial.get("trial_id"),
                "num_failures": runtime.get("num_failures"),
                "start_time": runtime.get("start_time"),
                "error_filename": runtime.get("error_filename"),
            }
    return facts


def read_finished_ledger(experiment: Path) -> set[str]:
    """Trial directories the suite recorded as finished (scaling_study.run.ledger writes the file the moment
    a trial meets its stop criterion, where Tune saves its experiment state only every so often)."""
    try:
        lines = (experiment / layout.LEDGER).read_text().splitlines()
    except OSError:
        return set()
    finished = set()
    for line in lines:
        try:
            finished.add(json.loads(line)["trial_dir"])
        except (ValueError, KeyError, TypeError):
            continue  # a line cut short by a kill: that trial did not finish
    return finished


def read_suite_files(experiment: Path) -> tuple[dict | None, dict | None]:
    """This suite's provenance.json and calibration.json, when present (foreign dirs have neither)."""
    return read_json_file(experiment / layout.PROVENANCE), read_json_file(experiment / layout.CALIBRATION)


def unreadable_suite_files(experiment: Path) -> list[str]:
    """A warning for each of provenance.json and calibration.json that is there but is not a JSON object
    (read_suite_files gives None for it, as for a missing file: the analysis says so instead of staying silent)."""
    return [f"{name}: unreadable (not a JSON object); ignored" for name in (layout.PROVENANCE, layout.CALIBRATION)
            if (experiment / name).exists() and read_json_file(experiment / name) is None]


def read_ledger(experiment: Path) -> dict[str, dict]:
    """This suite's ledger of finished trials (scaling_study/finished.jsonl), keyed by trial directory
    name: each entry's trial_index and the stop criterion the trial met (`stopped_by`). A line cut short
    by a kill is skipped; foreign directories have no ledger."""
    path = experiment / layout.LEDGER
    entries = {}
    for line in (path.read_text(errors="replace").splitlines() if path.exists() else []):
        try:
            entry = json.loads(line)
            entries[entry["trial_dir"]] = entry
        except (ValueError, KeyError, TypeError):
            continue
    return entries


def read_pruned_points(experiment: Path) -> dict[str, dict]:
    """Grid points racing stopped running (scaling_study/pruned.json), by point label, with the evidence."""
    return read_json_file(experiment / layout.PRUNED) or {}
