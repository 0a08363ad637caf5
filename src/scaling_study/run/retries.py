"""A failed trial run again from scratch: its node lost, or its process killed.

Tune retries a failed trial up to the experiment's `retries` (FailureConfig(max_failures=...)). These
trials save no checkpoint (sweep.py: CheckpointConfig(checkpoint_at_end=False), and run_trial never
passes one to tune.report), so a retry always starts from scratch: a new algorithm, its env runners
placed afresh on the nodes left, iteration 1 again. No trial mixes timings from two placements.

Tune appends a retried trial's rows to its first attempt's result.json and progress.csv, and leaves
the attempt's error.txt, which would count the finished trial as errored. `RetryRecorder` moves a
failed attempt's files to `attempts/N/` in the trial directory the moment Tune schedules the retry, so
the trial's own files hold its last attempt only; the ledger then records how often, and after what,
it was retried (`retry_facts`).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from ray.tune import Callback

ATTEMPTS = "attempts"
ATTEMPT_FILES = ("result.json", "progress.csv", "error.txt", "error.pkl")

# How Ray words the death of a trial's actor whose node went away (ActorDiedError, ActorUnavailableError).
NODE_LOSS_MARKERS = ("node has died", "node died", "unavailable", "socket closed", "connection reset",
                     "node was terminated", "raylet")


def reason_of(error_text: str | None) -> str:
    """What a failed attempt's error.txt says happened, in a few words."""
    text = (error_text or "").lower()
    if any(marker in text for marker in NODE_LOSS_MARKERS):
        return "node loss"
    if "worker process has died" in text or "actor is dead" in text:
        return "its process died"
    lines = [line.strip() for line in (error_text or "").splitlines() if line.strip()]
    return lines[-1][:200] if lines else "an error"


def set_aside_attempt(trial_dir: Path, attempt: int) -> None:
    """Move the failed attempt's files to trial_dir/attempts/<attempt>/ (the event files stay: TensorBoard
    shows the attempts as one run, each restarting at iteration 1)."""
    target = trial_dir / ATTEMPTS / str(attempt)
    for name in ATTEMPT_FILES:
        source = trial_dir / name
        if source.exists():
            target.mkdir(parents=True, exist_ok=True)
            shutil.move(str(source), str(target / name))


def retry_facts(trial_dir: Path) -> dict[str, Any]:
    """{"retries": N, "retried_after": [reason of each failed attempt]} from attempts/; {"retries": 0}."""
    attempts = sorted((p for p in (Path(trial_dir) / ATTEMPTS).glob("*") if p.name.isdigit()),
                      key=lambda p: int(p.name))
    if not attempts:
        return {"retries": 0}
    reasons = []
    for attempt in attempts:
        error = attempt / "error.txt"
        reasons.append(reason_of(error.read_text(errors="replace") if error.exists() else None))
    return {"retries": len(attempts), "retried_after": reasons}


class RetryRecorder(Callback):
    """Put it before the ledger's FinishedTrialRecorder; it says in one line that a trial is retried."""

    def __init__(self, exp_dir: Path, retries: int):
        self.exp_dir, self.retries = Path(exp_dir), retries

    def on_trial_recover(self, iteration: int, trials: list, trial, **info: Any) -> None:
        attempt = trial.run_metadata.num_failures
        local = Path(trial.local_path)
        error = local / "error.txt"
        reason = reason_of(error.read_text(errors="replace") if error.exists() else None)
        # The staging directory Tune writes to, and the storage copy where they differ.
        for trial_dir in {local, self.exp_dir / Path(trial.path).name}:
            if trial_dir.is_dir():
                set_aside_attempt(trial_dir, attempt)
        # Tune would otherwise still name the moved error files as this trial's (result.error).
        trial.run_metadata.error_filename = None
        trial.run_metadata.pickled_error_filename = None
        trial.run_metadata.invalidate_cache()
        print(f"Trial {trial} failed ({reason}): running it again from scratch, retry {attempt} of "
              f"{self.retries} (its first attempt's files: {ATTEMPTS}/{attempt}/).", flush=True)
