"""Figures of a summary. Each plot takes an optional `ax` and returns it; nothing is ever shown.

Figures are built as `matplotlib.figure.Figure` objects, not through pyplot: no global state, no GUI
backend, PNG is rendered by Agg and SVG by matplotlib's SVG backend. `save_figure` writes both.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from scaling_study.core import phases, stats
from scaling_study.core.settings import display_value, short_pairs

FIGSIZE = (7.5, 4.6)


def short_point(label: str) -> str:
    """'num_env_runners=2, num_envs_per_env_runner=4' -> 'runners=2, envs=4' for tick labels and legends
    (each setting's short name, as trial directories use it)."""
    return ", ".join(f"{key}={value}" for key, value in short_pairs(label))


def point_colours(count: int) -> list:
    if count <= 10:
        return [matplotlib.colormaps["tab10"](i) for i in range(count)]
    return [matplotlib.colormaps["viridis"](i / (count - 1) * 0.9) for i in range(count)]


def new_ax(figsize=FIGSIZE) -> Axes:
    return Figure(figsize=figsize, layout="constrained").add_subplot()


RUNNER_SETTINGS = ("num_env_runners", "num_cpus_per_env_runner")


def series_of(summary: pd.DataFrame, grid: list[str]) -> pd.Series:
    """The line each point belongs to on a CPUs axis: its values of the settings that vary, other than
    the runner count, e.g. 'envs=4' or 'gym_env_vectorize_mode=async'."""
    varying = [s for s in grid if s not in RUNNER_SETTINGS and summary[s].nunique(dropna=False) > 1]
    names = [short_point(", ".join(f"{s}={display_value(v)}" for s, v in zip(varying, values, strict=True)))
             for values in zip(*(summary[s] for s in varying), strict=True)] if varying else []
    return pd.Series(names or "all points", index=summary.index)


def series_colours(series: pd.Series) -> dict:
    names = list(dict.fromkeys(series))
    cmap = matplotlib.colormaps["viridis"]
    return {name: cmap(i / max(len(names) - 1, 1) * 0.85) for i, name in enumerate(names)}


LOG_RANGE = 30.0  # a y range wider than this ratio needs a log axis to show its small values at all
OFF_SCALE = 3.0   # a limit more than this many times the top measurement is named, not drawn


def needs_log(values) -> bool:
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values) & (values > 0)]
    return values.size > 1 and values.max() / values.min() > LOG_RANGE


def cpu_ticks(ax: Axes, summary: pd.DataFrame) -> None:
    """A tick at each measured CPU count, labelled with the env runners it means."""
    per_cpus = summary.groupby("cpus")["num_env_runners"].agg(lambda r: "/".join(f"{v:g}" for v in sorted(set(r))))
    ax.set_xticks(per_cpus.index, [f"{c:g}\n({r} runner{'' if r == '1' else 's'})" for c, r in per_cpus.items()])
    ax.minorticks_off()


def runner_ticks(ax: Axes, summary: pd.DataFrame) -> None:
    """A tick at each measured env runner count, labelled with the cores its trials held (or, for results
    that do not record cores, the CPUs they reserved)."""
    labels = {}
    for runners, points in summary.groupby("num_env_runners"):
        cores = points["cores"].dropna() if "cores" in points else pd.Series(dtype=float)
        held = (f"{cores.max():g} core{'' if cores.max() == 1 else 's'}" if len(cores)
                else f"{points['cpus'].max():g} CPUs reserved")
        labels[runners] = f"{runners:g}\n({held})"
    ax.set_xticks(list(labels), list(labels.values()))
    ax.minorticks_off()


def plot_throughput_vs_runners(summary: pd.DataFrame, grid: list[str], ax: Axes | None = None) -> Axes:
    """Median env steps/s vs env runners, a line (with its 95% CI band) per setting other than the runner
    count, each tick labelled with the cores the trials held; each line's physical limit dashed in its
    colour when calibrated and on scale, else named."""
    ax = ax or new_ax()
    series = series_of(summary, grid)
    top = float(summary["env_steps_per_s_ci_high"].fillna(summary["env_steps_per_s"]).max())
    off_scale = []
    for name, colour in series_colours(series).items():
        line = summary[series == name].sort_values(["num_env_runners", "cpus"])
        ax.plot(line["num_env_runners"], line["env_steps_per_s"], "o-", color=colour, label=name)
        ax.fill_between(line["num_env_runners"], line["env_steps_per_s_ci_low"], line["env_steps_per_s_ci_high"],
                        color=colour, alpha=0.2, linewidth=0)
        limit = line.dropna(subset=["limit_env_steps_per_s"])
        if len(limit) and limit["limit_env_steps_per_s"].max() <= OFF_SCALE * top:
            ax.plot(limit["num_env_runners"], limit["limit_env_steps_per_s"], "--", color=colour, alpha=0.8)
        elif len(limit):
            low, high = limit["limit_env_steps_per_s"].min(), limit["limit_env_steps_per_s"].max()
            off_scale.append(f"{low:,.0f}" if low == high else f"{low:,.0f}-{high:,.0f}")
    pruned = summary[summary["pruned"]] if "pruned" in summary else summary.iloc[:0]
    if len(pruned):
        ax.plot(pruned["num_env_runners"], pruned["env_steps_per_s"], "x", color="crimson", markersize=10,
                label="pruned by racing (fewer seeds)")
    if summary["limit_env_steps_per_s"].notna().any() and len(off_scale) < series.nunique():
        ax.plot([], [], "k--", label="physical limit (raw env rate x what samples at once)")
    title = "Throughput vs env runners"
    if off_scale:
        title += f"\n(physical limit off scale: {', '.join(dict.fromkeys(off_scale))} env steps/s)"
    if needs_log(summary["env_steps_per_s"]):
        ax.set_yscale("log")
    else:
        ax.set_ylim(bottom=0)
    runner_ticks(ax, summary)
    ax.set(xlabel="env runners (cores the trial held)", ylabel="env steps/s (median, 95% CI)", title=title)
    ax.legend(fontsize="small", loc="best")
    ax.grid(alpha=0.3)
    return ax


def plot_heatmap(summary: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Median env steps/s on a grid of env runners (rows) x envs per runner (columns)."""
    ax = ax or new_ax()
    grid = summary.pivot_table(index="num_env_runners", columns="num_envs_per_env_runner",
                               values="env_steps_per_s", aggfunc="max")
    image = ax.imshow(grid.to_numpy(), cmap="viridis", aspect="auto", origin="lower")
    ax.figure.colorbar(image, ax=ax, label="env steps/s (median)")
    ax.set_xticks(range(grid.shape[1]), [f"{c:g}" for c in grid.columns])
    ax.set_yticks(range(grid.shape[0]), [f"{r:g}" for r in grid.index])
    top = np.nanmax(grid.to_numpy())
    for (row, col), value in np.ndenumerate(grid.to_numpy()):
        if np.isfinite(value):
            ax.text(col, row, f"{value:,.0f}", ha="center", va="center", fontsize="small",
                    color="black" if value > 0.6 * top else "white")
    ax.set(xlabel="envs per env runner", ylabel="env runners", title="Throughput by runners x envs per runner")
    return ax


def plot_speedup(summary: pd.DataFrame, grid: list[str], fit: stats.AmdahlFit,
                 origin: tuple[float, float] = (1.0, 1.0), ax: Axes | None = None) -> Axes:
    """Speedup vs CPUs of each series against its own first point (fewest CPUs), with the ideal line
    and, when fitted (three CPU counts or more), the Amdahl fit of the best point per CPU count.

    origin is the (CPUs, speedup) the fit starts from, on the same scale: 1 at the best point on the
    fewest CPUs.
    """
    ax = ax or new_ax()
    series = series_of(summary, grid)
    first_cpus = summary["cpus"].min()
    for name, colour in series_colours(series).items():
        line = summary[series == name].sort_values("cpus").dropna(subset=["env_steps_per_s"])
        if len(line):
            ax.plot(line["cpus"], line["env_steps_per_s"] / line["env_steps_per_s"].iloc[0], "o-", color=colour,
                    label=name)
    cpus = np.linspace(first_cpus, summary["cpus"].max(), 100)
    ax.plot(cpus, cpus / first_cpus, ":", color="grey", label="ideal (linear)")
    if np.isfinite(fit.serial_fraction):
        ceiling = f"{fit.ceiling_speedup:.1f}x" if np.isfinite(fit.ceiling_speedup) else "none"
        fit_cpus = np.linspace(origin[0], summary["cpus"].max(), 100)
        ax.plot(fit_cpus, stats.amdahl_speedup(fit_cpus / origin[0], fit.serial_fraction), "k--",
                label=f"Amdahl fit, best per CPU count (serial {fit.serial_fraction:.0%}, ceiling {ceiling})")
    cpu_ticks(ax, summary)
    ax.set_ylim(bottom=0)
    ax.set(xlabel="CPUs reserved per trial (env runners)", ylabel="speedup vs the line's first point",
           title="Speedup vs CPUs")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return ax


def plot_phases(seconds: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Stacked bar of median seconds per iteration in each phase, one bar per point."""
    ax = ax or new_ax((7.5, max(2.5, 0.45 * len(seconds) + 1.5)))
    labels = [short_point(p) for p in seconds.index]
    if seconds["sample_s"].notna().any():
        left = np.zeros(len(seconds))
        for phase in phases.PHASES:
            width = seconds[phase.column].fillna(0).clip(lower=0).to_numpy()
            ax.barh(labels, width, left=left, label=phase.label)
            left += width
        ax.legend(fontsize="small")
    else:
        ax.barh(labels, seconds["iter_s"], color="grey", label="iteration (phases not measured)")
        ax.legend(fontsize="small")
    ax.tick_params(axis="y", labelsize="x-small")
    ax.invert_yaxis()
    ax.set(xlabel="seconds per iteration (median of measured iterations)", title="Where an iteration's time goes")
    return ax


def plot_return_vs_time(iterations: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Episode return vs wall-clock seconds: per point, the median over its trials at each iteration
    (at their median time), with a band from the lowest to the highest trial."""
    ax = ax or new_ax()
    points = list(dict.fromkeys(iterations["point"]))
    colours = dict(zip(points, point_colours(len(points)), strict=True))
    for point, rows in iterations.groupby("point", sort=False):
        per_iteration = rows.groupby("iteration").agg(
            wall_s=("wall_s", "median"), median=("episode_return", "median"),
            low=("episode_return", "min"), high=("episode_return", "max"))
        ax.plot(per_iteration["wall_s"], per_iteration["median"], "-", color=colours[point],
                label=short_point(point))
        if rows["trial"].nunique() > 1:
            ax.fill_between(per_iteration["wall_s"], per_iteration["low"], per_iteration["high"],
                            color=colours[point], alpha=0.15, linewidth=0)
    ax.set(xlabel="wall-clock seconds since the trial started", ylabel="episode return (mean; median over seeds)",
           title="Learning progress vs wall-clock time (band: lowest to highest seed)")
    ax.legend(fontsize="xx-small", ncol=1 + len(points) // 8)
    ax.grid(alpha=0.3)
    return ax


def plot_throughput_by_nodes(per_trial: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Per-trial median env steps/s grouped by how many Ray nodes the trial spanned."""
    ax = ax or new_ax()
    groups = sorted(per_trial["nodes"].dropna().unique())
    data = [per_trial.loc[per_trial["nodes"] == n, "env_steps_per_s"].dropna().to_numpy() for n in groups]
    ax.boxplot(data, tick_labels=[f"{n:g}" for n in groups])
    for position, values in enumerate(data, start=1):
        ax.plot(np.full(len(values), position), values, "o", alpha=0.5, color="tab:blue")
    ax.set(xlabel="Ray nodes the trial spanned", ylabel="env steps/s (per-trial median)",
           title="Throughput by nodes spanned")
    ax.grid(alpha=0.3)
    return ax


def save_figure(ax: Axes, out_dir: Path, name: str, stamp: str) -> Path:
    """Stamp the figure with who made it, write NAME.png and NAME.svg; return the PNG path."""
    figure = ax.figure
    figure.supxlabel(stamp, fontsize="x-small", color="dimgrey")  # layout-aware, unlike figure.text
    png = out_dir / f"{name}.png"
    figure.savefig(png, dpi=100)  # the HTML embeds the SVG, sharp on any screen
    figure.savefig(out_dir / f"{name}.svg")
    return png
