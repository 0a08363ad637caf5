"""A trial's wall-clock limit (`trial_timeout_s`), enforced even when an iteration stalls.

A stalled iteration reports no result, so no Tune stopper ever sees it. Instead each long call of a
trial (building the algorithm, each `train()`) runs in a helper thread that the trial waits for, at
most until the trial's deadline; past it, the trial raises `TrialTimeout`, Tune marks it errored
(error.txt ends with this message) and ends its actor, stalled thread and env runners with it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


class TrialTimeout(RuntimeError):
    """The trial ran past `trial_timeout_s`; the message says where it was stuck."""


class Deadline:
    def __init__(self, seconds: float | None):
        self.seconds = seconds
        self._started = time.monotonic()

    def run(self, what: str, call: Callable[[], Any]) -> Any:
        """`call()`, or TrialTimeout if the deadline passes first. With no limit, just `call()`."""
        if self.seconds is None:
            return call()
        outcome: dict[str, Any] = {}

        def target() -> None:
            try:
                outcome["value"] = call()
            except BaseException as error:  # handed to the trial's own thread below
                outcome["error"] = error

        # A daemon thread: a stalled call must not keep the trial's process alive once Tune ends it.
        worker = threading.Thread(target=target, name="scaling-study-trial-call", daemon=True)
        worker.start()
        worker.join(timeout=max(self._started + self.seconds - time.monotonic(), 0))
        if worker.is_alive():
            elapsed = time.monotonic() - self._started
            raise TrialTimeout(
                f"trial_timeout_s={self.seconds:g} reached after {elapsed:.1f} s: {what} had not returned; "
                f"the trial was stopped (a stalled env or env runner?)"
            )
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]
