"""An experiment file's grid predicted by the model fitted to measured results, and those predictions
read back beside the measurements.

- `scaling-study predict RESULTS --experiment FILE [--cpus N | --nodes K --cpus-per-node C] [--csv OUT]`
  (`predict_grid_command`): every grid point of FILE (`spec.grid_points`, as the sweep enumerates them)
  on the machine (default: the one measured). A point is predicted only where the model speaks for
  every setting it differs in from the measurements (`why_not_predicted`): env runners, envs per
  runner, CPU reservations, batch size and epochs; a vectorize mode only if it was measured; anything
  else (lr, another env, another step cost) must be what was measured, else the point is listed as
  "not predicted: <point>: <reason>", never guessed.
- `scaling-study analyze RESULTS --predicted CSV` (`beside_measured`): the CSV's predictions matched to
  summary.csv's rows on the setting columns both have.
"""

from __future__ import annotations

import io
import math
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scaling_study.core import model
from scaling_study.core.errors import SpecError
from scaling_study.core.layout import write_text_atomic
from scaling_study.core.resources import CPU_SETTINGS, cpus_needed
from scaling_study.core.sampling_model import is_async
from scaling_study.core.settings import SETTINGS, default_of, display_value, names_of
from scaling_study.core.spec import (
    REFERENCE,
    ExperimentSpec,
    auto_axis,
    grid_points,
    load_spec,
    point_label,
    swept_settings,
)

from .load import NothingToAnalyse, load_experiment

PREDICTION_COLUMNS = ["predicted_env_steps_per_s", "predicted_low", "predicted_high", "range_from"]
# Settings the model has a term for, whatever value a point gives them (CPU reservations count CPUs only).
MODEL_TERMS = ("num_env_runners", "num_envs_per_env_runner", "num_epochs", "train_batch_size_per_learner",
               *CPU_SETTINGS)
# Settings with a term that is fitted only from the values measured.
MEASURED_VALUES_ONLY = ("gym_env_vectorize_mode",)


def norm(value: Any) -> str:
    """A setting's value as one comparable word: 1, 1.0 and '1' alike; dicts (in key order: Tune's
    params.json sorts them, the experiment file need not) and lists as words."""
    if isinstance(value, dict):
        return "/".join(f"{key}={norm(value[key])}" for key in sorted(value))
    if isinstance(value, list | tuple):
        value = display_value(value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "None"
    try:
        return format(float(value), ".12g")
    except (TypeError, ValueError):
        return str(value).strip()


# What an unset value means where the suite's records hold no default (RLlib decides).
UNSET_MEANS = {"gym_env_vectorize_mode": "sync", "step_cost": "none"}


def compared(setting: str, value: Any) -> str:
    """A setting's value as compared between a grid point and the measurements."""
    word = norm(value)
    return UNSET_MEANS.get(setting, "RLlib's default") if word == "None" else word


def point_value(point: dict[str, Any], setting: str) -> Any:
    value = point.get(setting)
    return default_of(setting) if value is None else value


def measured_values(params: list[dict]) -> dict[str, set[str]]:
    """Every setting's measured values (as `compared`), over the analysed trials' params.json, under any of
    the setting's names."""
    def raw(p: dict, setting: str) -> Any:
        return next((p[n] for n in names_of(setting) if p.get(n) is not None), default_of(setting))

    return {setting: {compared(setting, raw(p, setting)) for p in params} for setting in SETTINGS}


def why_not_predicted(point: dict[str, Any], measured: dict[str, set[str]]) -> str | None:
    """None when the model speaks for `point`; else the reason, naming the first setting it cannot."""
    for setting, values in measured.items():
        if setting in MODEL_TERMS or not values:
            continue
        value = compared(setting, point_value(point, setting))
        if value in values:
            continue
        seen = ", ".join(sorted(values))
        if setting in MEASURED_VALUES_ONLY:
            return (f"{setting}={value}: the model's term for it is fitted only from what was measured "
                    f"({setting}={seen})")
        return f"{setting}={value}: the model has no term for {setting} (measured: {setting}={seen})"
    return None


def env_mismatch(spec: ExperimentSpec, params: list[dict], calibration: dict | None) -> str | None:
    """Why no point of `spec` is predicted: another env or env config than the results measured."""
    ids = {p.get("env_id") for p in params if p.get("env_id")} or (
        {calibration["env_id"]} if (calibration or {}).get("env_id") else set())
    if ids and spec.env_id not in ids:
        return f"env {spec.env_id}: the results measured {', '.join(sorted(ids))}"
    configs = {norm(p["env_config"]) for p in params if "env_config" in p}
    if configs and norm(spec.env_config) not in configs:
        return f"env config {spec.env_config}: the results measured another"
    return None


def configuration_of(point: dict[str, Any], template: model.Configuration, measured: dict[str, set[str]],
                     machine) -> model.Configuration:
    """The model's Configuration of a grid point: the measured env (its step) with the point's settings.
    The batch is the measured env steps per iteration where the point's batch size was measured, else
    the point's batch size."""
    batch = point_value(point, "train_batch_size_per_learner")
    same_batch = compared("train_batch_size_per_learner", batch) in measured["train_batch_size_per_learner"]
    return replace(template, runners=float(point_value(point, "num_env_runners")),
                   envs=float(point_value(point, "num_envs_per_env_runner")),
                   batch=template.batch if same_batch else float(batch),
                   epochs=float(point_value(point, "num_epochs")),
                   is_async=is_async(point_value(point, "gym_env_vectorize_mode")),
                   cores=machine.cpus_per_node, nodes=float(machine.nodes))


def setting_columns(spec: ExperimentSpec) -> list[str]:
    """The CSV's setting columns: runners and envs per runner, then every other swept setting (and
    RLlib's default's settings, where `auto` adds it as a reference point)."""
    keys = ["num_env_runners", "num_envs_per_env_runner", *swept_settings(spec)]
    if auto_axis(spec) is not None:
        keys += list(REFERENCE)
    return list(dict.fromkeys(keys))


def cell(value: Any) -> Any:
    return display_value(value) if isinstance(value, dict | list | tuple) else value


def predict_grid(check, spec: ExperimentSpec, params: list[dict], calibration: dict | None,
                 machine) -> tuple[pd.DataFrame, list[str]]:
    """(a row per predicted grid point, "not predicted: <point>: <reason>" lines)."""
    from .predict import is_beyond, prediction_range

    measured = measured_values(params)
    template = check.rows["configuration"].iloc[0]
    template = replace(template, batch=float(np.median([s.batch for s in check.rows["configuration"]])))
    columns = setting_columns(spec)
    everywhere = env_mismatch(spec, params, calibration)
    rows, refused = [], []
    for point in grid_points(spec, machine.cpus_per_node, machine.cpus_per_node):
        label = point_label(point, spec)
        reason = everywhere or why_not_predicted(point, measured)
        if reason is None and cpus_needed(point) > machine.cpus + 1e-9:
            reason = f"needs {cpus_needed(point):g} CPUs, the machine has {machine.cpus:g}"
        if reason:
            refused.append(f"not predicted: {label}: {reason}")
            continue
        setting = configuration_of(point, template, measured, machine)
        value = model.predicted_env_steps_per_s(setting, check.params)
        beyond = is_beyond(check, setting.runners, machine.cpus)
        low, high, source = prediction_range(check, value, setting.runners, beyond)
        rows.append({**{c: cell(point_value(point, c)) for c in columns}, "predicted_env_steps_per_s": value,
                     "predicted_low": low, "predicted_high": high, "range_from": source})
    return pd.DataFrame(rows, columns=[*columns, *PREDICTION_COLUMNS]), refused


def write_csv(table: pd.DataFrame, path: Path) -> None:
    buffer = io.StringIO()
    table.to_csv(buffer, index=False, na_rep="NaN")
    write_text_atomic(path, buffer.getvalue())


def predict_grid_command(results_dir: str, experiment_file: str, machine, csv_out: str | None) -> int:
    """Print (and with `csv_out`, write) the model's prediction for every grid point of
    `experiment_file`; 0 ok, 1 when no point can be predicted, 2 for bad input (one line)."""
    from .predict import Machine, fitted_model, machine_cores, params_by_trial

    try:
        spec = load_spec(experiment_file)
        experiment = load_experiment(Path(results_dir))
    except (SpecError, NothingToAnalyse) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    fitted = fitted_model(experiment, results_dir)
    if fitted is None:
        return 2
    _, check = fitted
    machine = machine or Machine(1, machine_cores(experiment))
    params = list(params_by_trial(experiment).values())
    table, refused = predict_grid(check, spec, params, experiment.calibration, machine)
    if table.empty:  # nothing to bet on: say why for each point, write nothing, and fail
        for line in refused:
            print(line)
        print(f"error: none of the {len(refused)} grid point(s) of {experiment_file} can be predicted from "
              f"{results_dir}{'; nothing written' if csv_out else ''}", file=sys.stderr)
        return 1
    if csv_out:
        try:
            write_csv(table, Path(csv_out))
        except OSError as error:
            print(f"error: cannot write {csv_out}: {error.strerror or error}", file=sys.stderr)
            return 2
    total = len(table) + len(refused)
    print(f"{spec.name}: {len(table)} of {total} grid point(s) predicted on {machine.describe()} by the model "
          f"fitted to {results_dir} (model, not measured):")
    for _, row in table.iterrows():
        settings = ", ".join(f"{c}={row[c]}" for c in table.columns if c not in PREDICTION_COLUMNS)
        span = (row["range_from"] if np.isnan(row["predicted_low"])
                else f"{row['predicted_low']:,.0f}-{row['predicted_high']:,.0f} from the {row['range_from']}")
        print(f"  {settings}: {row['predicted_env_steps_per_s']:,.0f} env steps/s ({span})")
    for line in refused:
        print(line)
    if csv_out:
        print(f"wrote {csv_out}")
    return 0


# --- analyze --predicted CSV ---------------------------------------------------------------------


class BadPredictions(Exception):
    """A --predicted CSV the analysis cannot use; the message is one line."""


def read_predictions(path: str) -> pd.DataFrame:
    try:
        table = pd.read_csv(path)
    except FileNotFoundError:
        raise BadPredictions(f"{path}: no such predictions file (expected the CSV of scaling-study predict "
                             f"--experiment FILE --csv OUT)") from None
    except (OSError, ValueError, pd.errors.ParserError) as error:
        raise BadPredictions(f"{path}: cannot read it as CSV: {str(error).splitlines()[0]}") from None
    if "predicted_env_steps_per_s" not in table.columns:
        raise BadPredictions(f"{path}: no predicted_env_steps_per_s column (expected the CSV of scaling-study "
                             f"predict --experiment FILE --csv OUT)")
    return table


def matching_keys(predictions: pd.DataFrame, grid: list[str], source: str) -> list[str]:
    """The setting columns a predictions CSV shares with the results' grid (BadPredictions: none)."""
    keys = [c for c in predictions.columns if c not in PREDICTION_COLUMNS and c in grid]
    if not keys:
        raise BadPredictions(f"{source}: no setting column in common with the results ({', '.join(grid)})")
    return keys


def beside_measured(summary: pd.DataFrame, predictions: pd.DataFrame, grid: list[str],
                    source: str) -> tuple[pd.DataFrame, str]:
    """summary with predicted_from_csv_env_steps_per_s (+ _low, _high) and predicted_from_csv_error_pct,
    matched on the setting columns both tables have; and the report's line."""
    keys = matching_keys(predictions, grid, source)

    def key_of(row) -> tuple:
        return tuple(norm(row[k]) for k in keys)

    by_key: dict[tuple, list[int]] = {}
    for i, row in predictions.iterrows():
        by_key.setdefault(key_of(row), []).append(i)
    matched = [by_key.get(key_of(row), []) for _, row in summary.iterrows()]

    def column(name):
        return [predictions.at[m[0], name] if len(m) == 1 and name in predictions else np.nan for m in matched]

    out = summary.copy()
    out["predicted_from_csv_env_steps_per_s"] = column("predicted_env_steps_per_s")
    out["predicted_from_csv_low"] = column("predicted_low")
    out["predicted_from_csv_high"] = column("predicted_high")
    out["predicted_from_csv_error_pct"] = (100.0 * (out["predicted_from_csv_env_steps_per_s"] - out["env_steps_per_s"])
                                           / out["env_steps_per_s"])
    found = out["predicted_from_csv_error_pct"].notna()
    ambiguous = sum(len(m) > 1 for m in matched)
    if not found.any():
        line = f"Predicted beside measured ({source}): no measured point matches a predicted row (on {', '.join(keys)})."
    else:
        errors = out.loc[found, "predicted_from_csv_error_pct"]
        line = (f"Predicted beside measured ({source}): {found.sum()} of {len(out)} measured point(s) matched on "
                f"{', '.join(keys)}; the predictions are off by {errors.abs().median():.0f}% (median; worst "
                f"{errors.iloc[errors.abs().argmax()]:+.0f}%).")
    if ambiguous:
        line += f" {ambiguous} point(s) matched more than one predicted row and were left out."
    return out, line
