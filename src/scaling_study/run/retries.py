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

from scaling_study.core.errors import TrialsNoLongerFit

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


NO_FIT_GRACE_ENV = "SCALING_STUDY_NO_FIT_GRACE_S"


def fits(bundles: list[dict[str, float]], strategy: str, nodes: list[dict[str, float]]) -> bool:
    """Whether a placement group's bundles can be placed on nodes of these total resources (STRICT_PACK:
    all on one node; STRICT_SPREAD: one node each; otherwise first fit, largest bundle first)."""
    def holds(node: dict[str, float], need: dict[str, float]) -> bool:
        return all(node.get(key, 0.0) >= amount for key, amount in need.items() if amount)

    if strategy == "STRICT_PACK":
        total: dict[str, float] = {}
        for bundle in bundles:
            for key, amount in bundle.items():
                total[key] = total.get(key, 0.0) + amount
        return any(holds(node, total) for node in nodes)
    free = [dict(node) for node in nodes]
    for bundle in sorted(bundles, key=lambda b: -b.get("CPU", 0.0)):
        node = next((n for n in free if holds(n, bundle)), None)
        if node is None:
            return False
        if strategy == "STRICT_SPREAD":
            free.remove(node)
        else:
            for key, amount in bundle.items():
                node[key] = node.get(key, 0.0) - amount
    return True


def _alive_nodes() -> list[dict[str, float]]:
    import ray

    return [dict(node.get("Resources") or {}) for node in ray.nodes() if node.get("Alive")]


class NoLongerFitsWatch(Callback):
    """Once a node of the cluster is lost, a trial waiting to be run again may need more than the nodes
    left can hold (a trial holding a whole node of 2 CPUs, and only 1-CPU nodes left). When no trial is
    running and no pending one fits for `grace_s` (a lost node may come back, or be replaced), the sweep
    ends with a line that says so (exit 1); its finished trials are kept, and the same command resumes."""

    def __init__(self, grace_s: float | None = None, check_every_s: float = 2.0):
        import os

        self.grace_s = float(os.environ.get(NO_FIT_GRACE_ENV, 60)) if grace_s is None else grace_s
        self.check_every_s = check_every_s
        self.nodes_at_start: int | None = None
        self.stuck_since: float | None = None
        self.checked_at = 0.0

    def on_step_end(self, iteration: int, trials: list, **info: Any) -> None:
        import time

        now = time.monotonic()
        if now - self.checked_at < self.check_every_s:
            return
        self.checked_at = now
        pending = [t for t in trials if t.status == "PENDING"]
        if not pending or any(t.status == "RUNNING" for t in trials):
            self.stuck_since = None
            return
        nodes = _alive_nodes()
        if self.nodes_at_start is None or len(nodes) > self.nodes_at_start:
            self.nodes_at_start = len(nodes)
        placeable = [t for t in pending if fits(t.placement_group_factory.bundles,
                                                t.placement_group_factory.strategy, nodes)]
        if placeable or len(nodes) >= self.nodes_at_start:
            self.stuck_since = None  # it will run, or nothing was lost (an autoscaler may still add nodes)
            return
        if self.stuck_since is None:
            self.stuck_since = now
            return
        if now - self.stuck_since >= self.grace_s:
            trial = pending[0]
            need = trial.placement_group_factory.required_resources.get("CPU", 0)
            most = max((n.get("CPU", 0) for n in nodes), default=0)
            raise TrialsNoLongerFit(
                f"{len(pending)} trial(s) no longer fit on the nodes left after a node loss (trial {trial} needs "
                f"{need:g} CPUs as {trial.placement_group_factory.strategy}; {len(nodes)} node(s) left, the "
                f"largest with {most:g} CPUs; waited {self.grace_s:g} s); finished trials are kept: run the same "
                f"command again once the cluster has its nodes back")
