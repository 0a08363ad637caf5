"""The result-row contract: the `scaling` group every result row of this suite carries.

RLlib's own keys are smoothed or cumulative (its `timers/*` are moving averages); these are the
iteration's own wall-clock truths. `trial.py` and `metrics.py` fill a `ScalingRow` for every
iteration, Tune writes it to result.json and progress.csv (flattened as `scaling/<field>`), and the
analysis reads the same fields back (`analysis/load.py`). Pure: importing it never imports Ray.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

GROUP = "scaling"
"""The key of the group in a result row."""


@dataclass(frozen=True)
class ScalingRow:
    """One iteration's `scaling` group. The fields after `sync_s` are facts of the trial, repeated on
    every row so that each row stands alone."""

    env_steps: int
    """Env steps sampled in this iteration: RLlib's lifetime counter, differenced between iterations."""
    iter_s: float
    """Wall seconds of this iteration (`time_this_iter_s` of the algorithm itself, build excluded)."""
    env_steps_per_s: float
    """Throughput, the study's measure: env_steps / iter_s (NaN if iter_s is 0)."""
    sample_s: float
    """Seconds the main process spent getting samples this iteration (RLlib's sampling timer, summed over
    the iteration): PPO's whole sampling phase; APPO's and IMPALA's collection of what runners sent."""
    learn_s: float
    """Seconds this iteration spent in the learner update (summed; APPO and IMPALA hand each batch to a
    learner thread here, so theirs is the hand-over, not the learning: see learner_wait_share)."""
    sync_s: float
    """Seconds this iteration spent sending weights to the env runners."""
    trained_env_steps: int
    """Env steps the learner trained on in this iteration (RLlib's lifetime counter, differenced). RLlib
    counts an env step in every minibatch update that uses it (epochs, minibatches, APPO's buffer reuse),
    so this exceeds env_steps: 5.2x in experiments/algorithms.yaml, for PPO and APPO alike."""
    learner_wait_share: float
    """Share of the learner's time spent waiting for samples: PPO's learner waits out sampling and weight
    sync, (iter_s - learn_s) / iter_s; APPO's and IMPALA's learner thread reports its own waits and
    updates (RLlib's learner_thread_in_queue_wait_timer and learner_thread_update_timer: wait / (wait +
    update)). Near 1: sampling is the bottleneck; near 0: learning is. NaN where RLlib gave no timers."""
    setup_s: float
    """Seconds building the algorithm (actors started, envs made) before the first iteration; RLlib
    and torch are imported before it starts (`startup_s`), so warm and cold trials compare."""
    startup_s: float
    """Seconds from the start of the trial's process until RLlib and torch are imported (Ray's worker,
    Tune, this suite's modules); in a warm process, from the trial's start (near 0)."""
    warm_process: bool
    """The trial ran in a process an earlier trial had already used (Tune's actor reuse)."""
    cpus: float
    """CPUs the trial reserves (`resources.cpus_needed`)."""
    cores: int
    """Cores the trial's node grants (core/cores.py, counted in the trial's own process): what the trial
    held, since trials run one per node at a time."""
    warmup: bool
    """Left out of throughput statistics: an early iteration, or one short of healthy env runners."""
    trial_started_at: float
    """Unix time the trial was ready to build its algorithm (its process started and RLlib and torch
    imported: `startup_s` before it); its setup_s and iterations follow."""
    iter_ended_at: float
    """Unix time this iteration ended."""
    nodes: int
    """Distinct Ray nodes the trial's main process, env runners and learners run on."""
    node_ids: list[str]
    """Ray node ids: the main process's, then each remote env runner's, then each remote learner's."""
    env_runner_restarts: int
    """Env runners RLlib restarted after they died, so far in the trial."""
    degraded: bool
    """Fewer env runners than asked for were healthy this iteration."""
    measured_iterations: int
    """Iterations of this trial so far that count in throughput statistics (not warmup)."""
    relative_ci: float
    """How far the 95% interval of this trial's median env steps/s so far (measured iterations, percentile
    bootstrap) reaches from that median, as a fraction of it (the larger side): what `stop: {precision:
    p}` compares with p. NaN below 2 measured iterations."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


FIELDS: tuple[str, ...] = tuple(f.name for f in fields(ScalingRow))
"""Every key of the group, in definition order."""


def flat_key(field_name: str) -> str:
    """The key Tune's progress.csv (and a flattened row) uses for a field: 'scaling/env_steps'."""
    return f"{GROUP}/{field_name}"
