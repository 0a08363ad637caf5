"""The phases of one training iteration: one table, read by the trial (which timer to take from RLlib's
result), the summary (share columns), the figures (legend labels), the findings (words in a sentence)
and the iteration model's fit (phase columns).

Pure: the RLlib timer names are spelled here as strings (RLlib's `ray.rllib.utils.metrics` constants of
the same value; tests/test_phases.py checks they match), so importing this never imports Ray.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Phase:
    key: str
    """Short name: summary.csv's share column is `<key>_share`."""
    column: str
    """Seconds per iteration, a `ScalingRow` field (`other_s` is derived, see `other_seconds`)."""
    label: str
    """What a figure's legend calls it."""
    words: str
    """What a sentence of the findings calls it."""
    rllib_timer: str | None
    """The key under RLlib's result `timers` that times this phase in PPO; the trial sums it over the
    iteration. None for the rest of the iteration, which no timer measures."""
    async_timer: str | None = None
    """The key APPO and IMPALA time it under, where theirs differs (their training_step's `sample`)."""

    @property
    def timers(self) -> tuple[str, ...]:
        """Every key this phase may be timed under, PPO's first."""
        return tuple(t for t in (self.rllib_timer, self.async_timer) if t)

    @property
    def share_column(self) -> str:
        return f"{self.key}_share"


SAMPLE = Phase("sample", "sample_s", "sampling", "sampling", "env_runner_sampling_timer", async_timer="sample")
LEARN = Phase("learn", "learn_s", "learning", "learning", "learner_update_timer")
SYNC = Phase("sync", "sync_s", "weight sync", "synchronising weights", "synch_weights")
OTHER = Phase("other", "other_s", "other", "overhead outside sampling, learning and weight sync", None)

PHASES: tuple[Phase, ...] = (SAMPLE, LEARN, SYNC, OTHER)
"""Every phase, in the order of figures and tables; the timed ones first, the rest last."""
TIMED: tuple[Phase, ...] = tuple(p for p in PHASES if p.rllib_timer is not None)
"""The phases RLlib times: each iteration's `ScalingRow` carries their seconds."""
TIMED_COLUMNS: tuple[str, ...] = tuple(p.column for p in TIMED)
COLUMNS: tuple[str, ...] = tuple(p.column for p in PHASES)
BY_KEY: dict[str, Phase] = {p.key: p for p in PHASES}


def other_seconds(rows: Any) -> Any:
    """The iteration's time outside the timed phases: iter_s minus their sum; NaN where any of them is
    missing. `rows` is anything indexed by column name (a pandas DataFrame, a dict of arrays or floats)."""
    timed = rows[TIMED_COLUMNS[0]]
    for column in TIMED_COLUMNS[1:]:
        timed = timed + rows[column]
    return rows["iter_s"] - timed


def with_other_seconds(frame):
    """`frame` (a pandas DataFrame of iterations) with its `other_s` column."""
    return frame.assign(**{OTHER.column: other_seconds(frame)})
