"""The phase table (core/phases.py): its RLlib timer names are RLlib's own, its columns are result-row
fields, and `other_s` is the iteration's rest. Imports RLlib's constants module only: no Ray is started."""

from __future__ import annotations

import math

import pandas as pd
from ray.rllib.utils import metrics as rllib_metrics

from scaling_study.core import phases
from scaling_study.core.rows import FIELDS


def test_timer_names_are_rllibs_constants():
    assert phases.SAMPLE.rllib_timer == rllib_metrics.ENV_RUNNER_SAMPLING_TIMER
    assert phases.LEARN.rllib_timer == rllib_metrics.LEARNER_UPDATE_TIMER
    assert phases.SYNC.rllib_timer == rllib_metrics.SYNCH_WORKER_WEIGHTS_TIMER
    assert phases.SAMPLE.async_timer == rllib_metrics.SAMPLE_TIMER  # what APPO's and IMPALA's training_step times
    assert phases.SAMPLE.timers == ("env_runner_sampling_timer", "sample")
    assert phases.LEARN.timers == ("learner_update_timer",)


def test_timed_columns_are_result_row_fields_and_other_is_derived():
    assert set(phases.TIMED_COLUMNS) <= set(FIELDS)
    assert phases.OTHER.column not in FIELDS
    assert [p.key for p in phases.PHASES] == ["sample", "learn", "sync", "other"]


def test_other_seconds_is_the_rest_and_nan_where_a_phase_is_missing():
    frame = pd.DataFrame({"iter_s": [2.0, 1.0], "sample_s": [1.0, 0.5], "learn_s": [0.5, math.nan],
                          "sync_s": [0.25, 0.1]})
    other = phases.with_other_seconds(frame)["other_s"]
    assert other.iloc[0] == 0.25  # 2 - (1 + 0.5 + 0.25)
    assert math.isnan(other.iloc[1])
