"""One tiny real sweep shared by test_stopping.py and test_racing.py (the conftest fixture `race_sweep`
runs it once per session): precision stopping and racing at once, with outcomes certain by design.

Two points, two repeats, `prune: true`, `stop: {precision: 0.05, training_iteration: 6}`:
- `slow`: every env step sleeps 50 ms, so an iteration of 20 steps is at least 1.0 s of sleep beside
  a few tens of ms of RLlib's own work: its rate is below 20 env steps/s whatever the load, and steady
  enough to stop on precision after its first 3 measured iterations.
- `fast`: no step cost; an iteration of 20 steps is RLlib's own work alone, well under 1 s even on a
  loaded machine, so every one of its rates is far above 20: racing prunes `slow` after round 0 by a
  factor no timing noise bridges.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats as scipy_stats

PRECISION = 0.05
CAP = 6
REPEATS = 2
STEPS_PER_ITERATION = 20
SLOW_STEP_S = 0.05
SLOW = "step_cost=0.05/sleep"
FAST = "step_cost=None"

SPEC = {
    "name": "race",
    "env": {"id": "FrozenLake-v1"},
    "search_space": {"step_cost": [None, {"seconds": SLOW_STEP_S, "mode": "sleep"}]},
    "fixed": {"num_env_runners": 0, "num_envs_per_env_runner": 1,
              "train_batch_size_per_learner": STEPS_PER_ITERATION, "minibatch_size": STEPS_PER_ITERATION,
              "num_epochs": 1, "fcnet_hiddens": [8]},
    "stop": {"precision": PRECISION, "training_iteration": CAP},
    "warmup_iterations": 1,
    "repeats": REPEATS,
    "prune": True,
}


@dataclass
class Trial:
    point: str
    stopped_by: str
    rows: list[dict]  # each result row's `scaling` group, in order

    @property
    def rates(self) -> list[float]:
        return [r["env_steps_per_s"] for r in self.rows if not r["warmup"]]


def trials(exp_dir: Path) -> list[Trial]:
    """The finished trials, from the ledger and each trial's own result.json."""
    ledger = [json.loads(line) for line in (exp_dir / "scaling_study" / "finished.jsonl").read_text().splitlines()]
    found = []
    for entry in ledger:
        trial_dir = exp_dir / entry["trial_dir"]
        rows = [json.loads(line)["scaling"] for line in (trial_dir / "result.json").read_text().splitlines()]
        found.append(Trial(json.loads((trial_dir / "params.json").read_text())["point"], entry["stopped_by"], rows))
    return sorted(found, key=lambda t: t.rows[0]["trial_started_at"])


def interval(values: list[float]) -> tuple[float, float, float]:
    """Median and 95% percentile-bootstrap interval, recomputed here with scipy. The method, resample
    count and seed are those stats.median_ci documents, so a borderline interval is judged alike."""
    median = float(np.median(values))
    if len(set(values)) == 1:
        return median, median, median
    ci = scipy_stats.bootstrap((values,), np.median, confidence_level=0.95, n_resamples=9999, method="percentile",
                               vectorized=True, random_state=np.random.default_rng(0)).confidence_interval
    return median, float(ci.low), float(ci.high)


def within(values: list[float], precision: float = PRECISION) -> bool:
    """The precision rule, by hand: at least 3 measured iterations, interval within +-precision."""
    if len(values) < 3:
        return False
    median, low, high = interval(values)
    return median * (1 - precision) <= low and high <= median * (1 + precision)
