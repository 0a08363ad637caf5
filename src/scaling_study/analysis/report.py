"""Write summary.csv, trials.csv, report.md and a self-contained report.html (figures as data URIs).

The report is a list of blocks rendered twice, once as Markdown and once as HTML, so both say the same.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import numpy as np
import pandas as pd

from scaling_study.core import stats
from scaling_study.core.settings import DEFAULTS
from scaling_study.core.spec import REFERENCE

from .figures import FIGURES, per_trial_throughput
from .findings import Findings
from .meta import RunInfo

# After "point" come the grid's settings, a column each (see `load.Experiment.grid`).
TRIAL_COLUMNS = ["repeat", "seed",
                 "cpus", "status", "stopped_by", "errored", "error", "restarts", "env_runner_restarts", "skipped",
                 "iterations", "measured_iterations", "env_steps_per_s", "setup_s", "startup_s", "warm_process",
                 "nodes", "node_ids", "hostname",
                 "started", "ended", "started_at", "ended_at", "duration_s", "window_exact"]


def trials_table(trials: pd.DataFrame, iterations: pd.DataFrame, grid: list[str]) -> pd.DataFrame:
    """A row per trial, skipped ones included, with its median measured throughput and time window."""
    table = per_trial_throughput(iterations, trials).assign(
        duration_s=trials["ended_at"] - trials["started_at"],
        started=iso_utc(trials["started_at"]), ended=iso_utc(trials["ended_at"]))
    return table.reindex(columns=["trial_id", "trial", "point", *grid, *TRIAL_COLUMNS])


def iso_utc(epoch_seconds: pd.Series) -> pd.Series:
    times = pd.to_datetime(pd.to_numeric(epoch_seconds, errors="coerce"), unit="s", utc=True)
    return times.dt.round("ms").dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str.slice(0, 23) + "Z"


def fmt(value, spec: str = ",.0f", missing: str = "n/a") -> str:
    try:
        return missing if value is None or not np.isfinite(value) else format(value, spec)
    except TypeError:
        return str(value)


def cpus_text(count: float) -> str:
    return f"{fmt(count, 'g')} CPU" + ("" if count == 1 else "s")


def efficiency_note(summary: pd.DataFrame) -> list[str]:
    """Why a parallel efficiency can pass 100%: the smallest configuration is not the best use of its CPUs."""
    above = summary[summary["efficiency"] > 1.0]
    if above.empty:
        return []
    top = above.loc[above["efficiency"].idxmax()]
    return [f"An efficiency above 100% ({fmt(100 * top['efficiency'], '.0f')}% at {top['point']}) means throughput "
            f"grew faster than CPUs: the smallest configuration does not get all it could from its CPU (more envs "
            f"per runner share one batched inference), so it is a low bar, not a sign of measurement error."]


def seeds_text(seeds) -> str:
    return f"{fmt(seeds, 'g')} seed" + ("" if seeds == 1 else "s")


def interval_text(row: pd.Series) -> str:
    """The 95% interval over seeds, or why there is none."""
    if pd.isna(row["env_steps_per_s_ci_low"]):
        return f"no interval: {seeds_text(row['seeds'])}, an interval needs {stats.MIN_SEEDS_FOR_CI}"
    return (f"95% CI over {seeds_text(row['seeds'])} {fmt(row['env_steps_per_s_ci_low'])}"
            f"-{fmt(row['env_steps_per_s_ci_high'])}")


def throughput_text(row: pd.Series) -> str:
    return f"{fmt(row['env_steps_per_s'])} env steps/s ({interval_text(row)})"


def comparison_verdict(distinguishable: bool | None) -> str:
    if distinguishable is None:
        return (f"with fewer than {stats.MIN_SEEDS_FOR_CI} seeds per point there is no interval to tell whether "
                f"the difference is real (set repeats: {stats.MIN_SEEDS_FOR_CI} or more)")
    if distinguishable:
        return "their intervals over seeds do not overlap: the difference is larger than the seeds disagree"
    return "their intervals over seeds overlap: these repeats cannot tell them apart"


def summary_display(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary as short strings for the report tables."""
    def pct(column):
        return summary[column].map(lambda v: fmt(100 * v, ".0f") + "%" if pd.notna(v) else "n/a")
    pruned = summary["pruned"] if "pruned" in summary else pd.Series(False, index=summary.index)
    return pd.DataFrame({
        "point": summary["point"] + pruned.map({True: " (pruned)", False: ""}),
        "CPUs": summary["cpus"].map(lambda v: fmt(v, "g")),
        "repeats": summary["repeats"],
        "env steps/s [95% CI over seeds]": summary.apply(
            lambda r: f"{fmt(r['env_steps_per_s'])} [" + (
                f"{fmt(r['env_steps_per_s_ci_low'])}-{fmt(r['env_steps_per_s_ci_high'])}"
                if pd.notna(r["env_steps_per_s_ci_low"]) else f"{seeds_text(r['seeds'])}: too few") + "]",
            axis=1),
        "speedup": summary["speedup"].map(lambda v: fmt(v, ".2f") + "x"),
        "efficiency": pct("efficiency"),
        "sampling": pct("sample_share"), "learning": pct("learn_share"),
        "sync": pct("sync_share"), "other": pct("other_share"),
        "setup s": summary["setup_s"].map(lambda v: fmt(v, ".1f")),
        "CV": pct("cv"),
        "model (LOO) [error]": summary.apply(
            lambda r: f"{fmt(r['predicted_env_steps_per_s'])} [{fmt(r['prediction_error_pct'], '+.0f')}%]"
            if pd.notna(r.get("predicted_env_steps_per_s")) else "n/a", axis=1),
        "% of limit": summary["pct_of_limit"].map(lambda v: fmt(v, ".1f") + "%" if pd.notna(v) else "n/a"),
    })


def waterfall_display(summary: pd.DataFrame) -> pd.DataFrame:
    """Each layer's env steps/s and, in brackets, its share of the layer before it."""
    def layer(column, before=None):
        def cell(row):
            text = fmt(row[column])
            if before is not None and pd.notna(row[column]) and pd.notna(row[before]) and row[before] > 0:
                text += f" ({fmt(100 * row[column] / row[before], '.0f')}%)"
            return text
        return summary.apply(cell, axis=1)
    return pd.DataFrame({
        "point": summary["point"],
        "raw env limit": layer("limit_env_steps_per_s"),
        "bare sampler ceiling": layer("sampler_ceiling_env_steps_per_s", "limit_env_steps_per_s"),
        "sampling in the sweep": layer("sampling_env_steps_per_s", "sampler_ceiling_env_steps_per_s"),
        "end to end": layer("env_steps_per_s", "sampling_env_steps_per_s"),
    })


def waterfall_blocks(summary: pd.DataFrame) -> list[tuple]:
    """The waterfall section; none for results without the sampler calibration (older or foreign)."""
    if summary.get("sampler_ceiling_env_steps_per_s", pd.Series(dtype=float)).notna().sum() == 0:
        return []
    return [
        ("h2", "Where the env steps go"),
        ("p", "Env steps/s per grid point, layer by layer, each with its share of the layer before: the raw "
              "env (one core's rate x the envs that step at once), a bare RLlib env runner sampling this env "
              "(calibrated at sweep start, times the runners), the sweep's sampling phase (env steps / "
              "sample time, median per trial, then over trials), and end to end (learning included)."),
        ("table", waterfall_display(summary)),
    ]


def reference_row(summary: pd.DataFrame) -> pd.Series | None:
    """The measured point at RLlib's default parallelism (spec.REFERENCE), or None."""
    match = pd.Series(True, index=summary.index)
    for setting, value in REFERENCE.items():
        column = summary[setting] if setting in summary else pd.Series(DEFAULTS[setting], index=summary.index)
        match &= column == value
    rows = summary[match & summary["env_steps_per_s"].notna()]
    return rows.iloc[0] if len(rows) else None


def gain_text(fastest: pd.Series, other: pd.Series, name: str) -> str:
    ratio = fastest["env_steps_per_s"] / other["env_steps_per_s"]
    return f"{fmt(ratio, '.2f')}x {name} ({other['point']}, {fmt(other['env_steps_per_s'])} env steps/s)"


def cores_held(summary: pd.DataFrame) -> str:
    cores = summary["cores"].dropna() if "cores" in summary else pd.Series(dtype=float)
    if cores.empty:
        return "this machine"
    low, high = cores.min(), cores.max()
    count = f"{low:g}" if low == high else f"{low:g}-{high:g}"
    return f"this machine ({count} core{'' if high == 1 else 's'} per trial)"


def lead_blocks(summary: pd.DataFrame, findings: Findings, figures: dict[str, Path], configs: dict) -> list[tuple]:
    """The first screen: one sentence (the fastest setting, its interval, its gains), one figure, and the
    PPOConfig chain that trains at that setting here."""
    fastest = findings.fastest
    base = summary[summary["baseline"]].iloc[0]
    reference = reference_row(summary)
    gains = [gain_text(fastest, base, "the smallest setting")] if base["point"] != fastest["point"] else []
    if reference is None:
        gains.append("RLlib's default (2 env runners x 1 env each) was not measured")
    elif reference["point"] != fastest["point"]:
        gains.append(gain_text(fastest, reference, "RLlib's default"))
    else:
        gains.append("it is RLlib's default parallelism (2 env runners x 1 env each)")
    sentence = (f"The fastest setting measured on {cores_held(summary)} is {fastest['point']}: "
                f"{throughput_text(fastest)}; " + "; ".join(gains) + " (ratios of medians).")
    blocks = [("p", sentence)]
    if "throughput_vs_runners" in figures:
        blocks.append(("figure", FIGURES["throughput_vs_runners"], figures["throughput_vs_runners"]))
    chain = (configs.get("points") or {}).get(fastest["point"])
    if chain:
        blocks += [("p", "To train at this setting on this machine (the CPU settings make its placement group "
                         "fit; the suite's env wrapper and timers are kept, so it is what the trial ran):"),
                   ("code", f"{configs.get('preamble', '')}\n\n{chain}\n")]
    else:
        blocks.append(("p", "No PPOConfig to copy: these results carry no scaling_study/configs.json (a foreign "
                            "or older directory); `scaling-study validate --show-config FILE` prints one."))
    return blocks


def explored_items(explored: dict[str, dict]) -> list[str]:
    """A sentence per `auto` series: what it tried, what it left out, and why it stopped. Its best is the
    best when it stopped (a series' decision sees its first seeds only): the answer, after more seeds, may
    name another."""
    items = []
    for series, decision in explored.items():
        where = f" ({series})" if series else ""
        left = decision.get("not_tried") or []
        skipped = f"; not run: {', '.join(map(str, left))}" if left else ""
        items.append(f"{decision.get('setting')}{where}: tried {', '.join(map(str, decision.get('tried', [])))}"
                     f"{skipped}; best when it stopped {decision.get('best')}; {decision.get('why')}.")
    return items


def seeded_items(seeded: dict[str, dict]) -> list[str]:
    """A sentence per point of `repeats: {first, most}`: the seeds it got and why no more."""
    return [f"{point}: {info.get('seeds')} seed(s); {info.get('why')}." for point, info in seeded.items()]


def answer_items(summary: pd.DataFrame, findings: Findings, calibration: dict | None) -> list[str]:
    fastest, second = findings.fastest, findings.runner_up
    base = summary[summary["baseline"]].iloc[0]
    items = [f"Fastest: {fastest['point']} at {throughput_text(fastest)} on {cpus_text(fastest['cpus'])}, "
             f"{fmt(fastest['speedup'], '.2f')}x the smallest configuration ({base['point']})."]
    if second is not None:
        items.append(f"Next fastest: {second['point']} at {throughput_text(second)}; "
                     f"{comparison_verdict(findings.distinguishable)}.")
    items += findings.effects
    items += [f"Bottleneck: {findings.bottleneck}", *findings.model, findings.amdahl_sentence, findings.self_check]
    if calibration and calibration.get("steps_per_s_per_core"):
        items.append(f"Physical limit: the raw env ({calibration.get('env_id', 'env')}) runs "
                     f"{fmt(calibration['steps_per_s_per_core'])} steps/s per core; the fastest point reaches "
                     f"{fmt(fastest['pct_of_limit'], '.1f')}% of its limit (raw rate x its sampling CPUs).")
    else:
        items.append("Physical limit: unknown (no scaling_study/calibration.json in the results).")
    return items


def stopping_text(trials: pd.DataFrame) -> str:
    """What ended the trials, from the ledger's `stopped_by` (precision, or which cap)."""
    counts = trials["stopped_by"].dropna().value_counts() if "stopped_by" in trials else pd.Series(dtype=int)
    if counts.empty:
        return "What stopped the trials is not recorded (no scaling_study/finished.jsonl entries)."
    parts = [f"{name} ({count} trial{'s' if count != 1 else ''})" for name, count in counts.items()]
    unrecorded = len(trials) - int(counts.sum())
    tail = f"; {unrecorded} not recorded as finished" if unrecorded else ""
    return "Stopped by: " + ", ".join(parts) + tail + "."


def racing_items(pruned: dict[str, dict]) -> list[str]:
    """A sentence per point racing stopped running, with the evidence it rested on."""
    return [f"{point}: not run again after {info.get('after_seeds', info.get('seeds'))} seed(s): "
            f"{info.get('rule', 'clearly slower')} (up to {fmt(info.get('high'))} env steps/s against "
            f"{fmt(info.get('best_low'))} for {info.get('best')})." for point, info in pruned.items()]


def report_blocks(info: RunInfo, source: Path, summary: pd.DataFrame, trials: pd.DataFrame,
                  findings: Findings, figures: dict[str, Path], calibration: dict | None,
                  pruned: dict[str, dict] | None = None, explored: dict[str, dict] | None = None,
                  configs: dict | None = None, seeded: dict[str, dict] | None = None) -> list[tuple]:
    analysed = trials["skipped"].isna().sum()
    items = answer_items(summary, findings, calibration)
    not_done = [item for item in items if "not done" in item]  # a method that could not run: details
    blocks = [
        ("h1", f"Scaling report: {info.experiment}"),
        ("p", f"{info.machine} | Ray {info.ray_version} | {info.date} | results: {source} | "
              f"{analysed} trial(s) analysed, {len(trials) - analysed} skipped"),
        *lead_blocks(summary, findings, figures, configs or {}),
        ("h2", "Answer"), ("ul", [item for item in items if item not in not_done]),
        *([("h2", "How auto explored"), ("ul", explored_items(explored))] if explored else []),
        *([("h2", "Where the seeds went"), ("ul", seeded_items(seeded))] if seeded else []),
        ("h2", "Warnings"), ("ul", findings.warnings or ["None."]),
        ("h2", "Summary per grid point"),
        ("p", f"Throughput is the median of each seed's median over its measured (non-warmup) iterations, "
              f"with a 95% interval over seeds (a two-level bootstrap: seeds, then their iterations; none "
              f"below {stats.MIN_SEEDS_FOR_CI} seeds); speedup and "
              "efficiency against the smallest configuration; phase shares of iteration time; the model's "
              "prediction of each point when fitted without it, and its error."),
        *[("p", note) for note in efficiency_note(summary)],
        ("table", summary_display(summary)),
        *([("h2", "Racing"), ("ul", racing_items(pruned))] if pruned else []),
        *waterfall_blocks(summary),
        ("h2", "Figures"),
    ]
    for name, png in figures.items():
        if name != "throughput_vs_runners":  # on the first screen
            blocks.append(("figure", FIGURES[name], png))
    shown = trials.reindex(columns=["trial_id", "point", "repeat", "status", "stopped_by", "iterations",
                                    "env_steps_per_s", "nodes", "duration_s", "skipped"])
    shown["env_steps_per_s"] = shown["env_steps_per_s"].map(fmt)
    shown["duration_s"] = shown["duration_s"].map(lambda v: fmt(v, ".1f"))
    blocks += [("h2", "Trials"), ("p", stopping_text(trials)), ("table", shown),
               ("p", "Files: summary.csv (a row per point), trials.csv (a row per trial), figures as PNG and SVG.")]
    if not_done:
        blocks += [("h2", "Details: what could not be done"), ("ul", not_done)]
    return blocks


def markdown_table(frame: pd.DataFrame) -> str:
    cells = frame.astype(object).where(frame.notna(), "").astype(str)
    rows = [list(frame.columns), ["---"] * frame.shape[1], *cells.to_numpy().tolist()]
    return "\n".join("| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows)


def to_markdown(blocks: list[tuple]) -> str:
    out = []
    for kind, *content in blocks:
        if kind in ("h1", "h2"):
            out.append(("# " if kind == "h1" else "## ") + content[0])
        elif kind == "p":
            out.append(content[0])
        elif kind == "ul":
            out.append("\n".join(f"- {item}" for item in content[0]))
        elif kind == "table":
            out.append(markdown_table(content[0]))
        elif kind == "code":
            out.append(f"```python\n{content[0].rstrip()}\n```")
        elif kind == "figure":
            caption, png = content
            out.append(f"![{caption}]({png.name})\n\n{caption} ([SVG]({png.with_suffix('.svg').name}))")
    return "\n\n".join(out) + "\n"


STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;font-size:0.85em;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 6px}
th{background:#f3f3f3}img{max-width:100%;height:auto;border:1px solid #eee}figure{margin:1.5em 0}
figcaption{color:#555;font-size:0.9em}pre{background:#f6f6f6;padding:0.8em;overflow-x:auto;font-size:0.85em}"""


def data_uri(png: Path) -> str:
    """The figure's SVG (sharp on any screen) as a data URI; the PNG where no SVG was written."""
    svg = png.with_suffix(".svg")
    if svg.exists():
        return "data:image/svg+xml;base64," + base64.b64encode(svg.read_bytes()).decode("ascii")
    return "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode("ascii")


def to_html(blocks: list[tuple], title: str) -> str:
    out = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
           f"<style>{STYLE}</style></head><body>"]
    for kind, *content in blocks:
        if kind in ("h1", "h2", "p"):
            out.append(f"<{kind}>{html.escape(content[0])}</{kind}>")
        elif kind == "ul":
            out.append("<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in content[0]) + "</ul>")
        elif kind == "table":
            out.append(content[0].to_html(index=False, na_rep="", border=0))
        elif kind == "code":
            out.append(f"<pre><code>{html.escape(content[0])}</code></pre>")
        elif kind == "figure":
            caption, png = content
            out.append(f"<figure><img src='{data_uri(png)}' alt='{html.escape(caption)}'>"
                       f"<figcaption>{html.escape(caption)}</figcaption></figure>")
    out.append("</body></html>")
    return "\n".join(out)


def write_report(out_dir: Path, info: RunInfo, source: Path, summary: pd.DataFrame, trials: pd.DataFrame,
                 findings: Findings, figures: dict[str, Path], calibration: dict | None,
                 pruned: dict[str, dict] | None = None, explored: dict[str, dict] | None = None,
                 configs: dict | None = None, seeded: dict[str, dict] | None = None) -> Path:
    """Write summary.csv, trials.csv, report.md, report.html; return the path of report.html."""
    summary.to_csv(out_dir / "summary.csv", index=False)
    trials.to_csv(out_dir / "trials.csv", index=False)
    blocks = report_blocks(info, source, summary, trials, findings, figures, calibration, pruned, explored, configs,
                           seeded)
    (out_dir / "report.md").write_text(to_markdown(blocks))
    report = out_dir / "report.html"
    report.write_text(to_html(blocks, f"Scaling report: {info.experiment}"))
    return report
