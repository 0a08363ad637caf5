"""Per-iteration wall-clock truths for every result row: fills the `ScalingRow` of `rows.py`.

RLlib's `timers/*` are exponential moving averages (coefficient 0.01), so the first iteration dominates
them for a long time. `PerIterationTimers` registers the same three phase timers as sums before RLlib
first uses them (RLlib 2.60 clears a sum each time it reports), so each iteration's result holds that
iteration's own phase times: PPO times each phase once an iteration, APPO and IMPALA once per
training_step, many times an iteration.
"""

from __future__ import annotations

import math
from typing import Any

from ray.rllib.callbacks.callbacks import RLlibCallback
from ray.rllib.core import ALL_MODULES
from ray.rllib.utils.metrics import (
    ENV_RUNNER_RESULTS,
    LEARNER_RESULTS,
    NUM_ENV_STEPS_SAMPLED,
    NUM_ENV_STEPS_SAMPLED_LIFETIME,
    NUM_ENV_STEPS_TRAINED_LIFETIME,
    TIMERS,
)

from scaling_study.core import phases as phase_table
from scaling_study.core.rows import ScalingRow


class PerIterationTimers(RLlibCallback):
    def on_algorithm_init(self, *, algorithm, metrics_logger=None, **kwargs) -> None:
        for phase in phase_table.TIMED:
            for timer in phase.timers:
                # Creates the stats entry only; RLlib's later `log_time` calls reuse its reduction.
                algorithm.metrics.log_time((TIMERS, timer), reduce="sum")


def lifetime_env_steps(result: dict[str, Any]) -> int:
    """Env steps sampled since the algorithm was built, as RLlib counts them."""
    value = result.get(NUM_ENV_STEPS_SAMPLED_LIFETIME)
    if value is None:
        value = result.get(ENV_RUNNER_RESULTS, {}).get(NUM_ENV_STEPS_SAMPLED_LIFETIME, 0)
    return int(value)


# The learner thread's own timers in APPO and IMPALA (ray.rllib.algorithms.impala.impala_learner), per update.
LEARNER_THREAD_WAIT = "learner_thread_in_queue_wait_timer"
LEARNER_THREAD_UPDATE = "learner_thread_update_timer"


def lifetime_trained_steps(result: dict[str, Any]) -> int:
    """Env steps the learner has trained on since the algorithm was built, as RLlib counts them (0 before
    its first update)."""
    learners = result.get(LEARNER_RESULTS, {}).get(ALL_MODULES, {})
    value = _seconds(learners.get(NUM_ENV_STEPS_TRAINED_LIFETIME))
    return 0 if math.isnan(value) else int(value)


def learner_wait_share(result: dict[str, Any], iter_s: float, learn_s: float) -> float:
    """The share of the learner's time spent waiting for samples (ScalingRow.learner_wait_share)."""
    learners = result.get(LEARNER_RESULTS, {}).get(ALL_MODULES, {})
    wait, update = _seconds(learners.get(LEARNER_THREAD_WAIT)), _seconds(learners.get(LEARNER_THREAD_UPDATE))
    if not (math.isnan(wait) or math.isnan(update)) and wait + update > 0:
        return wait / (wait + update)  # an asynchronous learner's thread
    if iter_s > 0 and not math.isnan(learn_s):
        return max(0.0, iter_s - learn_s) / iter_s  # PPO: learning waits out the rest of the iteration
    return math.nan


def scaling_metrics(result: dict[str, Any], *, previous_lifetime_steps: int, previous_trained_steps: int = 0,
                    **trial_facts: Any) -> dict[str, Any]:
    """The `scaling` group of one result row, as a plain dict (`ScalingRow`'s fields).

    `trial_facts` are the other `ScalingRow` fields, known to the trial rather than measured from the
    result (setup_s, cpus, warmup, ...); they are passed through unchanged, and a missing or unknown
    one fails here rather than in the analysis.
    """
    env_steps = lifetime_env_steps(result) - previous_lifetime_steps
    if env_steps <= 0:  # a result without lifetime counters: fall back to this iteration's count
        env_steps = int(result.get(ENV_RUNNER_RESULTS, {}).get(NUM_ENV_STEPS_SAMPLED, 0))
    iter_s = float(result["time_this_iter_s"])
    timers = result.get(TIMERS, {})
    phases = {phase.column: _first_number(timers, phase.timers) for phase in phase_table.TIMED}
    return ScalingRow(
        env_steps=env_steps,
        iter_s=iter_s,
        env_steps_per_s=env_steps / iter_s if iter_s > 0 else math.nan,
        **phases,
        trained_env_steps=max(0, lifetime_trained_steps(result) - previous_trained_steps),
        learner_wait_share=learner_wait_share(result, iter_s, phases[phase_table.LEARN.column]),
        **trial_facts,
    ).to_dict()


def _first_number(timers: dict[str, Any], keys: tuple[str, ...]) -> float:
    """The first of `keys` that `timers` holds a number for (an algorithm fills one of them), else NaN."""
    for key in keys:
        value = _seconds(timers.get(key))
        if not math.isnan(value):
            return value
    return math.nan


def _seconds(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan
