"""What sampling costs per vector step, as pure functions (no Ray): the expectation the known-answer tests
and the report's waterfall compare measurements with.

One vector step of an env runner (every env of the runner stepped once) takes

    T(S) = overhead + waits * (S + wake_up(S)),    wake_up(S) = wake_fixed + wake_fraction * S  (S > 0)

    overhead  RLlib's own time per vector step with free env steps (connectors, torch forward, episode
              bookkeeping and, for async, the pipe round-trips), measured at S = 0 for the same envs
              per runner and vectorize mode: a bare env runner's calibration gives it.
    waits     how many step costs are paid one after another: every env for `sync`, one for `async`
              (the envs wait side by side; the slowest of them sets the pace, which the penalty covers).
    wake_up   what a waiting step costs beyond S: a fixed part (the sleep's own overshoot plus RLlib's
              per-step work running slower after the process slept) and a part proportional to S.
              Fitted with scipy from bench/step_cost.py's measurements; see README "Honest timing".

A runner samples num_envs / T env steps per second; independent runners add up while there are
cores for them (a waiting env needs none).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class WakeUp:
    """Extra seconds a waiting step of S seconds costs: fixed_s + fraction * S (nothing when S = 0)."""

    fixed_s: float = 0.0
    fraction: float = 0.0

    def seconds(self, step_s: float) -> float:
        return self.fixed_s + self.fraction * step_s if step_s > 0 else 0.0


def sampler_key(num_envs: int, vectorize_mode: str | None, step_cost: dict | None = None) -> str:
    """The label a sampler ceiling is stored under in calibration.json: envs per runner x vectorize mode,
    and the step cost when there is one (a grid may sweep it)."""
    key = f"{int(num_envs)}x{vectorize_mode or 'sync'}"
    if step_cost and step_cost.get("seconds"):
        key += f"@{1000 * step_cost['seconds']:g}ms-{step_cost.get('mode', 'spin')}"
    return key


def waits_per_vector_step(num_envs: int, vectorize_mode: str) -> int:
    """How many env step costs one vector step pays in sequence."""
    return 1 if vectorize_mode == "async" else num_envs


def seconds_per_vector_step(overhead_s: float, step_s: float, num_envs: int, vectorize_mode: str,
                            wake_up: WakeUp = WakeUp()) -> float:
    """T(S) of the module docstring."""
    return overhead_s + waits_per_vector_step(num_envs, vectorize_mode) * (step_s + wake_up.seconds(step_s))


def env_steps_per_s(overhead_s: float, step_s: float, num_envs: int, vectorize_mode: str,
                    wake_up: WakeUp = WakeUp(), runners: int = 1) -> float:
    """Env steps per second of `runners` independent env runners of this configuration."""
    return runners * num_envs / seconds_per_vector_step(overhead_s, step_s, num_envs, vectorize_mode, wake_up)


def overhead_from_rate(rate_env_steps_per_s: float, step_s: float, num_envs: int, vectorize_mode: str,
                       wake_up: WakeUp = WakeUp()) -> float:
    """The overhead a measured runner rate implies (T(S) solved for overhead)."""
    return num_envs / rate_env_steps_per_s - waits_per_vector_step(num_envs, vectorize_mode) * (
        step_s + wake_up.seconds(step_s))


@dataclass(frozen=True)
class Fit:
    overhead_s: float
    wake_fixed_s: float
    wake_fraction: float
    max_relative_error: float

    @property
    def wake_up(self) -> WakeUp:
        return WakeUp(self.wake_fixed_s, self.wake_fraction)

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def fit_model(step_s: Sequence[float], seconds: Sequence[float], num_envs: int, vectorize_mode: str) -> Fit:
    """Fit overhead (the mean at S = 0) and the wake-up line (least squares on the excess per wait over
    S > 0) to measured seconds per vector step. Needs S = 0 and at least two distinct S > 0."""
    step_s, seconds = np.asarray(step_s, float), np.asarray(seconds, float)
    free = step_s == 0
    if not free.any() or len(set(step_s[~free])) < 2:
        raise ValueError("fit_model needs measurements at S = 0 and at two or more S > 0")
    overhead = float(seconds[free].mean())
    waits = waits_per_vector_step(num_envs, vectorize_mode)
    excess = (seconds[~free] - overhead) / waits - step_s[~free]
    line = stats.linregress(step_s[~free], excess)
    wake_up = WakeUp(float(line.intercept), float(line.slope))
    predicted = np.array([seconds_per_vector_step(overhead, s, num_envs, vectorize_mode, wake_up) for s in step_s])
    return Fit(overhead, wake_up.fixed_s, wake_up.fraction, float(np.max(np.abs(predicted / seconds - 1))))
