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

import math
from dataclasses import dataclass

import numpy as np


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


# --- Fitted to measured points: what the self-checks use ------------------------------------------


@dataclass(frozen=True)
class AsyncPoint:
    """One measured point of an asynchronous algorithm: its samplers and what they and the learner did."""

    runners: float          # num_env_runners; 0 samples in the main process, which counts as one sampler
    env_steps_per_s: float  # sampled
    learner_busy_share: float  # 1 - learner_wait_share


@dataclass(frozen=True)
class AsyncFit:
    per_sampler: float   # env steps/s one sampler gives while the learner waits for it
    learner_rate: float  # env steps/s the learner could take, were it never idle


def samplers(runners: float) -> float:
    return max(float(runners), 1.0)


def fit_async(points: list[AsyncPoint]) -> AsyncFit:
    """Medians over the points: env steps/s per sampler, and the learner's rate (sampled rate over its
    busy share: a learner busy 10% of the time at 1,000 env steps/s could take 10,000)."""
    per_sampler = float(np.median([p.env_steps_per_s / samplers(p.runners) for p in points]))
    rates = [p.env_steps_per_s / p.learner_busy_share for p in points if p.learner_busy_share > 0]
    return AsyncFit(per_sampler, float(np.median(rates)) if rates else math.inf)


def predict_point(runners: float, fit: AsyncFit) -> float:
    """Sampled env steps/s at `runners`: the samplers side by side, until the learner's rate caps them.
    No term for cores: on a machine whose cores the runners fill, this predicts high."""
    return min(samplers(runners) * fit.per_sampler, fit.learner_rate)
