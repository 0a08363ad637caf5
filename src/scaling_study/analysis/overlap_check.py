"""The overlap model (core/overlap_model) checked on an asynchronous algorithm's points (APPO, IMPALA), as
the iteration model is on PPO's: each point predicted by the model fitted without it (leave-one-out), and,
with 3 or more runner counts, the larger counts predicted from the smaller (the same split as
extrapolation.split_counts). The seed is the unit: a point's inputs are its summary row's medians.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scaling_study.core.overlap_model import AsyncPoint, fit_async, predict_point
from scaling_study.core.settings import ASYNC

from .extrapolation import counts_text, split_counts


@dataclass
class OverlapCheck:
    algorithm: str
    error_pct: pd.Series          # point -> leave-one-out error, percent of measured
    extrapolation_pct: pd.Series  # point -> error fitted on the smaller runner counts (empty below 3 counts)
    fitted_counts: list[float]
    predicted_counts: list[float]


def as_points(rows: pd.DataFrame) -> list[AsyncPoint]:
    return [AsyncPoint(r.num_env_runners, r.env_steps_per_s, 1.0 - r.learner_wait_share) for r in rows.itertuples()]


def errors(fit_rows: pd.DataFrame, held_out: pd.DataFrame) -> pd.Series:
    fit = fit_async(as_points(fit_rows))
    predicted = held_out["num_env_runners"].map(lambda n: predict_point(n, fit))
    return 100.0 * (predicted - held_out["env_steps_per_s"]) / held_out["env_steps_per_s"]


def overlap_checks(summary: pd.DataFrame) -> list[OverlapCheck]:
    """One check per asynchronous algorithm with 3 or more measured points (two leave one to fit from)."""
    checks = []
    usable = summary.dropna(subset=["env_steps_per_s", "learner_wait_share"])
    for algorithm, rows in usable[usable["algorithm"].isin(ASYNC)].groupby("algorithm"):
        rows = rows.set_index("point")
        if len(rows) < 3:
            continue
        loo = pd.concat([errors(rows.drop(index=point), rows.loc[[point]]) for point in rows.index])
        split = split_counts(rows["num_env_runners"])
        fitted, predicted = split or ([], [])
        extrapolated = (errors(rows[rows["num_env_runners"].isin(fitted)], rows[rows["num_env_runners"].isin(predicted)])
                        if split else pd.Series(dtype=float))
        checks.append(OverlapCheck(algorithm, loo, extrapolated, fitted, predicted))
    return checks


def overlap_sentences(checks: list[OverlapCheck]) -> list[str]:
    lines = []
    for check in checks:
        loo = check.error_pct.abs()
        line = (f"Overlap model self-check ({check.algorithm}: samplers side by side until the learner caps "
                f"them, no term for cores): each point predicted without it is off by {np.median(loo):.0f}% "
                f"(median; worst {loo.max():.0f}%)")
        if len(check.extrapolation_pct):
            signed = ", ".join(f"{e:+.0f}%" for e in check.extrapolation_pct)
            line += (f"; fitted on {counts_text(check.fitted_counts)} runners, predicted "
                     f"{counts_text(check.predicted_counts)}: {signed}")
        lines.append(line + ".")
    return lines


def add_overlap_errors(summary: pd.DataFrame, checks: list[OverlapCheck]) -> pd.DataFrame:
    """summary.csv's prediction_error_pct and extrapolation_error_pct for the asynchronous points, which
    the iteration model (PPO's) leaves NaN."""
    summary = summary.copy()
    for check in checks:
        for column, errors_by_point in (("prediction_error_pct", check.error_pct),
                                        ("extrapolation_error_pct", check.extrapolation_pct)):
            if column not in summary:
                summary[column] = np.nan
            mapped = summary["point"].map(errors_by_point)
            summary[column] = summary[column].where(mapped.isna(), mapped)
    return summary
