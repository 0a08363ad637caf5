"""Which trials of an experiment have finished, kept so that no interruption loses one.

Tune writes trial files to a staging directory and copies them to the storage path only every so
often, and records trial states just as lazily: a driver killed right after a trial finished could
lose its rows or run it again. `FinishedTrialRecorder` copies a finished trial's files to storage at
once and then appends its index (and the stop criterion it met) to `scaling_study/finished.jsonl`; a resumed sweep runs exactly the
trials not listed there, and sets the directories of interrupted attempts aside.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from ray.tune import Callback

from scaling_study.core.layout import SET_ASIDE, append_finished, read_ledger
from scaling_study.core.tune_files import PARAMS_FILE, TRIAL_FILES
from scaling_study.run.retries import retry_facts
from scaling_study.run.stopping import stop_reason


class FinishedTrialRecorder(Callback):
    """Put it after Tune's logger callbacks: they close a trial's files on completion first."""

    def __init__(self, exp_dir: Path, stop: dict[str, Any]):
        self.exp_dir = Path(exp_dir)
        self.stop = dict(stop)

    def on_trial_complete(self, iteration: int, trials: list, trial, **info: Any) -> None:
        stopped_by = stop_reason(trial.last_result or {}, self.stop)
        if stopped_by is None:
            return  # cut short (Tune marks a trial it stops on Ctrl-C as complete too): not finished
        target = self.exp_dir / Path(trial.path).name
        target.mkdir(parents=True, exist_ok=True)
        for name in TRIAL_FILES:
            source = Path(trial.local_path) / name
            if source.exists() and source.resolve() != (target / name).resolve():
                shutil.copyfile(source, target / name)
        record_finished(self.exp_dir, trial.config["trial_index"], target.name, stopped_by,
                        **retry_facts(Path(trial.local_path)))


def reached_stop(result: dict[str, Any], stop: dict[str, Any]) -> bool:
    """Whether a result meets any of the experiment's stop criteria, precision included (keys may name
    nested metrics with '/', as Tune's stop dicts do)."""
    return stop_reason(result, stop) is not None


def record_finished(exp_dir: Path, trial_index: int, trial_dir: str, stopped_by: str | None = None,
                    **retried: Any) -> None:
    """Append a finished trial, with the stop criterion it met (stopping.stop_reason) and, if it was
    retried, `retries` and `retried_after` (retries.retry_facts); a trial_index the ledger lists already
    is not written again, and said so."""
    if not append_finished(exp_dir, trial_index, trial_dir, stopped_by, **retried):
        kept = read_ledger(exp_dir).by_index[trial_index]["trial_dir"]
        print(f"Ledger: trial_index {trial_index} is listed already ({kept}); {trial_dir} is not recorded",
              flush=True)


def finished_trials(exp_dir: Path) -> dict[int, str]:
    """trial_index -> trial directory name, for every trial recorded as finished (a line cut short by a
    kill is no finished trial)."""
    return {index: entry["trial_dir"] for index, entry in read_ledger(exp_dir).by_index.items()}


def set_aside_unfinished(exp_dir: Path) -> list[str]:
    """Move trial directories not in the ledger (interrupted or errored attempts) out of the way."""
    keep = set(finished_trials(exp_dir).values())
    moved = []
    for trial_dir in sorted(Path(exp_dir).iterdir()):
        if trial_dir.is_dir() and (trial_dir / PARAMS_FILE).exists() and trial_dir.name not in keep:
            target = Path(exp_dir) / SET_ASIDE / trial_dir.name
            target.parent.mkdir(parents=True, exist_ok=True)
            trial_dir.rename(target)
            moved.append(trial_dir.name)
    return moved
