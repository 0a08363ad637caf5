"""Where a sweep's wall time goes: its end-to-end wall time split into consecutive segments.

Pure functions on timestamps (epoch seconds) gathered by bench.sweeps: when each stdout line of the
sweep arrived, its Ray session's name, the suite's files and every trial's result rows. The segments
add up to the wall time.
"""

from __future__ import annotations

from dataclasses import dataclass

BEFORE_RAY = "Python start-up, imports, checks (until ray.init starts)"
RAY_START = "Ray start (ray.init)"
BEFORE_CALIBRATION = "plan and provenance (after Ray start)"
CALIBRATION = "calibration (raw env rate: a Ray task, 1 s of stepping)"
BEFORE_FIRST_TRIAL = "Tune set-up, first placement group, first trial actor's process start"
ACTOR_IMPORTS = "trial actors' imports and trainable set-up (process up -> trial code starts)"
OWN = "trials' own time (build + iterations)"
INSIDE = "inside trials, not counted (config, reporting between iterations)"
BETWEEN = "between trials (stop algorithm, end actor, next placement group, next process start)"
AFTER_LAST = "after the last iteration (stop algorithm, Tune wrap-up, summary)"
SHUTDOWN = "Ray shutdown and process exit"
SEGMENTS = (BEFORE_RAY, RAY_START, BEFORE_CALIBRATION, CALIBRATION, BEFORE_FIRST_TRIAL, ACTOR_IMPORTS, OWN, INSIDE,
            BETWEEN, AFTER_LAST, SHUTDOWN)
PER_TRIAL = (ACTOR_IMPORTS, INSIDE, BETWEEN)


@dataclass
class TrialTimes:
    started_at: float  # when the trial's own code began, in its actor
    setup_s: float  # building the algorithm, env runner actors included
    iter_s: list[float]
    last_iter_ended_at: float

    @property
    def own_s(self) -> float:
        return self.setup_s + sum(self.iter_s)

    @property
    def span_s(self) -> float:
        return self.last_iter_ended_at - self.started_at


@dataclass
class SweepTimes:
    launched_at: float
    exited_at: float
    trials: list[TrialTimes]
    ray_init_at: float | None = None
    ray_ready_at: float | None = None
    calibration: tuple[float, float] | None = None
    finished_at: float | None = None  # the sweep's work over, before Ray's shutdown
    actor_started_at: list[float] | None = None
    """When each trial actor's process came up (Ray's worker logs); fewer than the trials when Tune reused
    actors; None when unknown (imports are then counted with the segment before each trial)."""

    @property
    def wall_s(self) -> float:
        return self.exited_at - self.launched_at

    @property
    def own_s(self) -> float:
        return sum(t.own_s for t in self.trials)

    @property
    def efficiency(self) -> float:
        return self.own_s / self.wall_s


def segments(times: SweepTimes) -> dict[str, float]:
    """Seconds per segment, in SEGMENTS order; a segment whose marks are unknown is folded into the next
    known one (and is 0 here), so the values always add up to the wall time."""
    trials = sorted(times.trials, key=lambda t: t.started_at)
    if not trials:
        raise ValueError("no trial to place on the timeline")
    calibration_start, calibration_end = times.calibration or (None, None)
    actors = fresh_actor_starts(trials, times.actor_started_at or [])
    marks = [(BEFORE_RAY, times.ray_init_at), (RAY_START, times.ray_ready_at),
             (BEFORE_CALIBRATION, calibration_start), (CALIBRATION, calibration_end),
             (BEFORE_FIRST_TRIAL, actors[0] if actors[0] is not None else trials[0].started_at)]
    result = dict.fromkeys(SEGMENTS, 0.0)
    previous = times.launched_at
    for label, mark in marks:
        if mark is not None:
            result[label], previous = mark - previous, mark
    result[ACTOR_IMPORTS] = sum(t.started_at - a for t, a in zip(trials, actors, strict=True) if a is not None)
    result[OWN] = sum(t.own_s for t in trials)
    result[INSIDE] = sum(t.span_s - t.own_s for t in trials)
    result[BETWEEN] = sum((b_actor if b_actor is not None else b.started_at) - a.last_iter_ended_at
                          for a, b, b_actor in zip(trials, trials[1:], actors[1:], strict=False))
    end = times.finished_at if times.finished_at is not None else times.exited_at
    result[AFTER_LAST] = end - trials[-1].last_iter_ended_at
    result[SHUTDOWN] = times.exited_at - end
    return result


def fresh_actor_starts(trials: list[TrialTimes], actor_starts: list[float]) -> list[float | None]:
    """For each trial (in order), the start of the actor process that came up for it: the last one
    between the previous trial's end and its own start; None when it ran in a reused actor."""
    found: list[float | None] = []
    previous_end = float("-inf")
    for trial in trials:
        mine = [a for a in actor_starts if previous_end < a <= trial.started_at]
        found.append(mine[-1] if mine else None)
        previous_end = trial.last_iter_ended_at
    return found


def overheads(segment_seconds: dict[str, float], trials: int) -> tuple[float, float]:
    """(fixed seconds per sweep, overhead seconds per trial): what a trial costs besides its own time (its
    actor's imports, reporting, the gap before it), and everything else."""
    per_trial = sum(segment_seconds[name] for name in PER_TRIAL) / trials
    return sum(segment_seconds.values()) - segment_seconds[OWN] - per_trial * trials, per_trial


def own_seconds_needed(efficiency: float, fixed_s: float, per_trial_s: float, trials: int) -> float:
    """Own seconds each of `trials` trials needs for the sweep to reach `efficiency`:
    L / (L + per_trial + fixed / trials) >= e  <=>  L >= e / (1 - e) * (per_trial + fixed / trials)."""
    return efficiency / (1 - efficiency) * (per_trial_s + fixed_s / trials)
