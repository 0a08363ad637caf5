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
              Fitted with scipy from bench/arms/step_cost.py's measurements; see README "Honest timing".

A runner samples num_envs / T env steps per second; independent runners add up while there are
cores for them (a waiting env needs none).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import linalg


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


def waits_per_vector_step(num_envs: float, vectorize_mode: str | None, reset_share: float = 0.0) -> float:
    """How many step costs one vector step (num_envs env steps counted by RLlib) pays in sequence: the
    suite's one home for "sync vector envs wait per env, async once" (the iteration model, the calibration's
    budgets and the analysis's physical limit all ask it). A missing mode is RLlib's default, sync.

    sync: every env, one after another. async: one per turn of the runner's loop, but RLlib resets an ended
    env on its next turn without stepping it (a free turn that counts no step), so counted steps take
    more turns than num_envs per turn: a turn waits when any env steps, 1 - q**n of turns, and yields
    n * (1 - q) steps on average, with q = `reset_share` = 1 / (mean episode length + 1).
    """
    if not is_async(vectorize_mode):
        return float(num_envs)
    return (1 - reset_share**num_envs) / (1 - reset_share)


def is_async(vectorize_mode: str | None) -> bool:
    """Whether gym_env_vectorize_mode steps each env in its own process (RLlib's default is sync)."""
    return str(vectorize_mode or "sync").lower() == "async"


def envs_waiting_at_once(num_envs: float, vectorize_mode: str | None) -> float:
    """How many of a runner's envs wait side by side during a vector step: one for sync, all for async."""
    return num_envs / waits_per_vector_step(num_envs, vectorize_mode)


def seconds_per_vector_step(overhead_s: float, step_s: float, num_envs: int, vectorize_mode: str,
                            wake_up: WakeUp = WakeUp(), reset_share: float = 0.0) -> float:
    """T(S) of the module docstring."""
    waits = waits_per_vector_step(num_envs, vectorize_mode, reset_share)
    return overhead_s + waits * (step_s + wake_up.seconds(step_s))


def sampler_env_steps_per_s(overhead_s: float, step_s: float, num_envs: int, vectorize_mode: str,
                    wake_up: WakeUp = WakeUp(), reset_share: float = 0.0, runners: int = 1) -> float:
    """Env steps per second of `runners` independent env runners of this configuration."""
    return runners * num_envs / seconds_per_vector_step(overhead_s, step_s, num_envs, vectorize_mode, wake_up,
                                                        reset_share)


def reset_share_from_episode_length(mean_episode_length: float) -> float:
    """q: one reset turn per episode of L stepped turns."""
    return 1.0 / (mean_episode_length + 1.0)


@dataclass(frozen=True)
class Observation:
    """One measured configuration: seconds per vector step at step cost S, and at S = 0 (overhead)."""

    step_s: float
    seconds: float
    overhead_s: float
    num_envs: int
    vectorize_mode: str
    reset_share: float = 0.0


def fit_wake_up(observations: Sequence[Observation]) -> WakeUp:
    """Least squares (scipy) for the wake-up line over S > 0: each observation's time beyond overhead and
    its waits * S, divided by its waits, is fixed + fraction * S. Each is weighted by 1 / its time, so the
    fit minimises relative errors (a 50 ms step would otherwise outweigh a 2 ms one)."""
    costly = [o for o in observations if o.step_s > 0]
    if len({o.step_s for o in costly}) < 2:
        raise ValueError("fit_wake_up needs measurements at two or more step costs S > 0")
    waits = np.array([waits_per_vector_step(o.num_envs, o.vectorize_mode, o.reset_share) for o in costly])
    step = np.array([o.step_s for o in costly])
    excess = np.array([o.seconds - o.overhead_s for o in costly]) - waits * step
    weight = 1 / np.array([o.seconds for o in costly])
    design = np.column_stack([waits, waits * step]) * weight[:, None]
    (fixed, fraction), *_ = linalg.lstsq(design, excess * weight)
    return WakeUp(float(fixed), float(fraction))


def relative_errors(observations: Sequence[Observation], wake_up: WakeUp) -> np.ndarray:
    """Model / measured - 1 for each observation."""
    return np.array([seconds_per_vector_step(o.overhead_s, o.step_s, o.num_envs, o.vectorize_mode, wake_up,
                                             o.reset_share) / o.seconds - 1 for o in observations])
