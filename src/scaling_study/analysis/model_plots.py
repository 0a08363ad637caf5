"""Figures of the iteration model: its leave-one-out self-check and its curve past what was measured."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from scaling_study.core import model

from .plots import new_ax, series_colours
from .predict import SelfCheck, runner_counts


def plot_measured_vs_predicted(summary: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Each point's measured env steps/s against the model's prediction fitted without it."""
    ax = ax or new_ax((6.0, 5.0))
    shown = summary.dropna(subset=["predicted_env_steps_per_s", "env_steps_per_s"])
    measured, predicted = shown["env_steps_per_s"], shown["predicted_env_steps_per_s"]
    top = 1.08 * float(max(measured.max(), predicted.max()))
    ax.plot([0, top], [0, top], ":", color="grey", label="prediction = measurement")
    ax.errorbar(predicted, measured, yerr=[measured - shown["env_steps_per_s_ci_low"].fillna(measured),
                                           shown["env_steps_per_s_ci_high"].fillna(measured) - measured],
                fmt="o", color="tab:blue", capsize=3, label="a grid point (95% CI)")
    worst = shown.loc[shown["prediction_error_pct"].abs().idxmax()]
    ax.annotate(f"worst: {worst['prediction_error_pct']:+.0f}%", (worst["predicted_env_steps_per_s"],
                worst["env_steps_per_s"]), xytext=(8, -12), textcoords="offset points", fontsize="small")
    ax.set(xlim=(0, top), ylim=(0, top), xlabel="predicted env steps/s (model fitted without the point)",
           ylabel="measured env steps/s (median)",
           title=f"Model self-check: median error {shown['prediction_error_pct'].abs().median():.0f}%")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return ax


def curve(check: SelfCheck, envs: float, is_async: bool, runners: list[int], cores: float | None) -> np.ndarray:
    """The model's env steps/s for each runner count; cores=None gives each setting a machine of the
    CPUs it reserves (at least the measured machine's)."""
    template = check.rows["configuration"].iloc[0]
    per_runner = float(check.rows["cpus_per_runner"].median())
    values = []
    for r in runners:
        machine = cores if cores is not None else max(template.cores, np.ceil(1.0 + r * per_runner))
        setting = replace(template, runners=float(r), envs=envs, is_async=is_async, cores=machine)
        values.append(model.predicted_env_steps_per_s(setting, check.params))
    return np.array(values)


def plot_model_curve(summary: pd.DataFrame, check: SelfCheck, most_runners: int = 64,
                     ax: Axes | None = None) -> Axes:
    """The model's throughput vs env runners, past the measured ones: solid on a machine with the
    CPUs each setting reserves, dotted on the measured machine; measured points as markers."""
    ax = ax or new_ax()
    rows = check.rows
    runners = runner_counts(most_runners)
    kinds = rows.assign(envs=[s.envs for s in rows["configuration"]], is_async=[s.is_async for s in rows["configuration"]])
    kinds["series"] = kinds.apply(lambda r: f"envs={r['envs']:g}" + (", async" if r["is_async"] else ""), axis=1)
    colours = series_colours(kinds["series"])
    cores = rows["configuration"].iloc[0].cores
    measured_points = summary.set_index("point")["env_steps_per_s"]
    for (envs, is_async, name), group in kinds.groupby(["envs", "is_async", "series"]):
        colour = colours[name]
        ax.plot(runners, curve(check, envs, is_async, runners, None), "-", color=colour, label=f"{name} (model)")
        ax.plot(runners, curve(check, envs, is_async, runners, cores), ":", color=colour)
        measured = group.groupby("point").first()
        ax.plot(measured["configuration"].map(lambda s: s.runners), measured_points.reindex(measured.index), "o",
                color=colour)
    ax.plot([], [], "k:", label=f"model on the measured {cores:g} cores")
    ax.plot([], [], "ko", label="measured (median)")
    measured_most = float(max(s.runners for s in rows["configuration"]))
    ax.axvspan(measured_most, runners[-1], color="grey", alpha=0.08, label="not measured: prediction")
    ax.set_xscale("symlog", linthresh=1)
    ax.set_xticks(runners, [f"{r}" for r in runners])
    ax.set_ylim(bottom=0)
    ax.set(xlabel="env runners (each on a machine with the CPUs the setting reserves)",
           ylabel="env steps/s", title="The iteration model's throughput, extended past the measured runners")
    ax.legend(fontsize="x-small")
    ax.grid(alpha=0.3)
    return ax
