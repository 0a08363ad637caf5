"""Throughput of an asynchronous learner (APPO, IMPALA), as pure functions (no Ray).

Sampling and learning run side by side, so per trained batch of `batch_env_steps` env steps

    T = max(sample_seconds, learn_seconds) + serial_seconds

    sample_seconds  time the env runners together take to sample the batch (batch / sampling rate)
    learn_seconds   time the learner takes to update on it (batch / learner rate)
    serial_seconds  costs that do not overlap (weight broadcast, result gathering)

The slower side sets the pace; the faster one waits. PPO is the case with no overlap:
T = sample_seconds + learn_seconds + serial_seconds.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OverlapPrediction:
    env_steps_per_s: float
    waiting_side: str  # "learner" (sampling is slower) or "sampling" (learner is slower)
    wait_seconds: float  # how long the faster side waits per batch


def predict_async(batch_env_steps: int, sampling_rate: float, learner_rate: float,
                  serial_seconds: float = 0.0) -> OverlapPrediction:
    """Rates are env steps/s of all env runners together and of the learner alone."""
    if batch_env_steps <= 0 or sampling_rate <= 0 or learner_rate <= 0 or serial_seconds < 0:
        raise ValueError("batch and rates must be positive, serial_seconds not negative")
    sample = batch_env_steps / sampling_rate
    learn = batch_env_steps / learner_rate
    side = "learner" if sample >= learn else "sampling"
    return OverlapPrediction(batch_env_steps / (max(sample, learn) + serial_seconds), side,
                             abs(sample - learn))


def predict_sync(batch_env_steps: int, sampling_rate: float, learner_rate: float,
                 serial_seconds: float = 0.0) -> float:
    """PPO's env steps/s: sampling and learning one after the other."""
    return batch_env_steps / (batch_env_steps / sampling_rate + batch_env_steps / learner_rate
                              + serial_seconds)
