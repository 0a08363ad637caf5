"""The iteration model's extrapolation check, and the range it puts on predictions beyond the measurements.

Leave-one-out (predict.self_check) asks whether the model interpolates: every point it predicts has
measured neighbours on both sides. A prediction for more runners or a bigger machine has none, so its
range comes from this check instead:

- The rule (`split_counts`): with 3 or more distinct `num_env_runners` values measured, the model is
  fitted on the points with the smaller half of the counts (the n // 2 smallest, but at least 2: 0-1 of
  0-1-2, 0-1 of 0-1-2-4, 1-2-4 of 1-2-4-8-16-32) and predicts the points with the rest. With fewer
  than 3 counts there is nothing to hold out beyond a 2-count fit, and no range is given.
- The growth (`error_per_doubling`): each held-out point's |error| divided by how many doublings of
  runners it lies past the largest fitted count, log2(runners / max_fit_runners); the worst of these.
- The range (`half_width_pct`): a prediction for `runners` gets +-(per doubling x
  log2(max(runners, max_measured) / max_fit_runners)) percent: at the largest measured count it is as
  wide as the check's own errors allow, and it widens by the per-doubling error with each doubling past
  it. Never narrower for a bigger machine with few runners (the max with the largest measured count).

The arithmetic is in functions on plain numbers; `extrapolation_check` runs the fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scaling_study.core import model

MIN_RUNNER_COUNTS = 3
NO_RANGE = "no range: the extrapolation check needs 3 or more runner counts"


def split_counts(counts) -> tuple[list[float], list[float]] | None:
    """(fitted, predicted) distinct runner counts, ascending; None below MIN_RUNNER_COUNTS counts."""
    distinct = sorted({float(c) for c in counts})
    if len(distinct) < MIN_RUNNER_COUNTS:
        return None
    fitted = max(2, len(distinct) // 2)
    return distinct[:fitted], distinct[fitted:]


def doublings(runners: float, max_fit_runners: float) -> float:
    """Doublings of env runners from the largest fitted count: log2(runners / max_fit_runners)."""
    return math.log2(runners / max_fit_runners)


def error_per_doubling(runners, errors_pct, max_fit_runners: float) -> float:
    """The worst |error| per doubling of runners past the fit, over the held-out points (NaN: none)."""
    rates = [abs(e) / doublings(r, max_fit_runners) for r, e in zip(runners, errors_pct, strict=True)
             if not math.isnan(e)]
    return max(rates) if rates else math.nan


def half_width_pct(per_doubling_pct: float, runners: float, max_measured: float, max_fit_runners: float) -> float:
    """The range's half-width, percent of the prediction, for a prediction at `runners`."""
    return per_doubling_pct * doublings(max(runners, max_measured), max_fit_runners)


def extrapolation_range(value: float, per_doubling_pct: float, runners: float, max_measured: float,
                        max_fit_runners: float) -> tuple[float, float]:
    """value -+ its half-width (never below 0)."""
    half = half_width_pct(per_doubling_pct, runners, max_measured, max_fit_runners) / 100.0
    return max(value * (1.0 - half), 0.0), value * (1.0 + half)


def point_prediction(settings: list[model.Configuration], p: model.Params) -> float:
    """A point's env steps/s: the median over its trials' settings (they differ only in batch size)."""
    return float(np.median([model.predicted_env_steps_per_s(s, p) for s in settings]))


@dataclass
class ExtrapolationCheck:
    """The model fitted on the fewer runners, predicting the points with more."""

    fitted_counts: list[float]
    predicted_counts: list[float]
    predicted: pd.Series    # held-out point -> env steps/s predicted by the fit on fewer runners
    error_pct: pd.Series    # held-out point -> 100 * (predicted - measured) / measured
    runners: pd.Series      # held-out point -> its num_env_runners
    per_doubling_pct: float  # error_per_doubling over the held-out points

    @property
    def max_fit(self) -> float:
        return self.fitted_counts[-1]

    @property
    def max_measured(self) -> float:
        return self.predicted_counts[-1]

    def range(self, value: float, runners: float) -> tuple[float, float]:
        return extrapolation_range(value, self.per_doubling_pct, runners, self.max_measured, self.max_fit)


def extrapolation_check(rows: pd.DataFrame, measured: pd.Series) -> ExtrapolationCheck | None:
    """`rows`: predict.observations (a row per trial: point, configuration, phase seconds); `measured`:
    point -> measured env steps/s. None with fewer than 3 runner counts."""
    runners_of = rows.groupby("point")["configuration"].first().map(lambda s: s.runners)
    split = split_counts(runners_of)
    if split is None:
        return None
    fitted_counts, predicted_counts = split
    fit_rows = rows[rows["configuration"].map(lambda s: s.runners in fitted_counts)]
    params = model.fit([model.TrialPhases(r.configuration, r.sample_s, r.learn_s, r.sync_s, r.other_s)
                        for r in fit_rows.itertuples()])
    held_out = [p for p in dict.fromkeys(rows["point"]) if runners_of[p] in predicted_counts]
    predicted = pd.Series({p: point_prediction(list(rows.loc[rows["point"] == p, "configuration"]), params)
                           for p in held_out}, dtype=float)
    truth = measured.reindex(predicted.index)
    error = 100.0 * (predicted - truth) / truth
    runners = runners_of.reindex(predicted.index).astype(float)
    return ExtrapolationCheck(fitted_counts, predicted_counts, predicted, error, runners,
                              error_per_doubling(runners.tolist(), error.tolist(), fitted_counts[-1]))


def counts_text(counts: list[float]) -> str:
    """0, 1 -> '0-1'; 1, 2, 4 -> '1-4'; one count alone -> '2'."""
    return f"{counts[0]:g}" if len(counts) == 1 else f"{counts[0]:g}-{counts[-1]:g}"


def check_sentence(check: ExtrapolationCheck | None, runner_counts: int | None) -> str:
    """The answer section's line on the extrapolation check (`runner_counts`: how many were measured
    with phase times, None when unknown)."""
    if check is None:
        measured = "" if runner_counts is None else f"; {runner_counts} measured"
        return (f"Extrapolation check: not done (needs 3 or more runner counts{measured}), so "
                f"predictions beyond the measurements carry no range.")
    by_count = []
    for count in check.predicted_counts:
        errors = check.error_pct[check.runners == count].dropna()
        by_count.append(f"{count:g} runners " + ", ".join(f"{e:+.0f}%" for e in errors))
    return (f"Extrapolation check: fitted on {counts_text(check.fitted_counts)} runners, predicted "
            f"{counts_text(check.predicted_counts)}: errors {'; '.join(by_count)} (worst "
            f"{check.per_doubling_pct:.1f}% per doubling of runners past {check.max_fit:g}; the ranges of "
            f"predictions beyond the measurements widen by that per doubling).")
