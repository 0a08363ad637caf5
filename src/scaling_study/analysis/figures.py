"""Decide which figures an experiment supports and write each as PNG + SVG."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import model_plots, plots
from .findings import Findings
from .predict import SelfCheck
from .summary import phase_seconds

# File name -> what the figure shows, in report order.
FIGURES = {
    "throughput_vs_runners": "Throughput vs env runners (cores each trial held), a line per envs per runner, 95% CI bands, physical limit",
    "heatmap": "Throughput on the env runners x envs per runner grid",
    "speedup": "Speedup vs CPUs with the ideal line and the Amdahl fit",
    "phases": "Seconds per iteration in each phase, per point",
    "return_vs_time": "Episode return vs wall-clock seconds, a line per trial",
    "throughput_by_nodes": "Throughput by number of Ray nodes a trial spanned",
    "measured_vs_predicted": "Model self-check: each point measured against the model fitted without it",
    "model_curve": "Prediction (not measured): the model's throughput with more env runners and CPUs",
}


def per_trial_throughput(iterations: pd.DataFrame, trials: pd.DataFrame) -> pd.DataFrame:
    """The trials with each one's median env steps/s over its measured iterations."""
    measured = iterations[~iterations["warmup"]]
    medians = measured.groupby("trial")["env_steps_per_s"].median()
    return trials.assign(env_steps_per_s=trials["trial"].map(medians))


def write_figures(iterations: pd.DataFrame, trials: pd.DataFrame, summary: pd.DataFrame, grid: list[str],
                  findings: Findings, out_dir: Path, stamp: str, check: SelfCheck | None = None) -> dict[str, Path]:
    """Write every figure the data supports; return name -> PNG path."""
    ordered = summary.set_index("point")
    measured = iterations[~iterations["warmup"]]
    axes = {
        "throughput_vs_runners": plots.plot_throughput_vs_runners(summary, grid),
        "heatmap": plots.plot_heatmap(summary),
        "speedup": plots.plot_speedup(summary, grid, findings.amdahl, findings.amdahl_origin),
        "phases": plots.plot_phases(phase_seconds(measured).reindex(ordered.index)),
        "return_vs_time": plots.plot_return_vs_time(iterations),
    }
    if trials["nodes"].dropna().nunique() > 1:  # one node count: nothing to compare
        axes["throughput_by_nodes"] = plots.plot_throughput_by_nodes(per_trial_throughput(iterations, trials))
    if check is not None:
        axes["measured_vs_predicted"] = model_plots.plot_measured_vs_predicted(summary)
        axes["model_curve"] = model_plots.plot_model_curve(summary, check)
    return {name: plots.save_figure(ax, out_dir, name, stamp) for name, ax in axes.items()}
