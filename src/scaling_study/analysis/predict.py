"""The iteration model (model.py) applied to an experiment: its self-check and its extrapolation.

- `self_check`: every measured point predicted by the model fitted without it (leave-one-out).
- `extrapolation.extrapolation_check`: the points with more runners predicted by the model fitted on
  fewer; its errors give the range of every prediction beyond the measurements (`prediction_range`).
- `candidates` / `best_on`: what the model expects of settings on a machine or cluster not measured.
- `predict_command`: `scaling-study predict RESULTS --cpus N` (or `--nodes K --cpus-per-node C`).

A trial is the unit: each phase is a trial's median over its measured iterations, and a point's
trials (seeds) enter the fit one by one.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from scaling_study.core import model, phases
from scaling_study.core.sampling_model import is_async
from scaling_study.core.settings import default_of

from .extrapolation import NO_RANGE, ExtrapolationCheck, check_sentence, extrapolation_check, point_prediction
from .load import Experiment, NothingToAnalyse, load_experiment


def params_by_trial(experiment: Experiment) -> dict[str, dict]:
    """params.json of each analysed trial, by trial directory name."""
    params = {}
    for name in experiment.trials["trial"]:
        try:
            params[name] = json.loads((experiment.path / name / "params.json").read_text())
        except (OSError, ValueError):
            params[name] = {}
    return params


def env_step_s(experiment: Experiment, params: dict) -> float:
    """One env step on one core: the calibration's raw rate, else the simulated step cost, else 0."""
    rate = (experiment.calibration or {}).get("steps_per_s_per_core")
    if rate:
        return 1.0 / float(rate)
    return float((params.get("step_cost") or {}).get("seconds") or 0.0)


def machine_cores(experiment: Experiment) -> float:
    """Cores of the machine the trials ran on (provenance), else the most CPUs a trial reserved."""
    provenance = experiment.provenance or {}
    cluster, machine = provenance.get("cluster") or {}, provenance.get("machine") or {}
    cores = cluster.get("physical_cpus") or machine.get("cpu_count")
    return float(cores or experiment.trials["cpus"].max())


def setting_of(trial: pd.Series, params: dict, step_s: float, batch: float, cores: float) -> model.Configuration:
    cost = params.get("step_cost") or {}
    return model.Configuration(
        runners=float(trial["num_env_runners"]), envs=float(trial["num_envs_per_env_runner"]),
        env_step_s=step_s, batch=batch, epochs=float(params.get("num_epochs") or default_of("num_epochs")),
        is_async=is_async(params.get("gym_env_vectorize_mode")),
        sleeps=cost.get("mode") == "sleep" and bool(cost.get("seconds")), cores=cores)


def observations(experiment: Experiment) -> pd.DataFrame:
    """A row per PPO trial with measured phases: its point, its model Configuration and its median phase
    seconds. The iteration model is PPO's (sample, then learn); APPO's and IMPALA's trials overlap the
    two and are left out of its fit."""
    ppo = experiment.trials.loc[experiment.trials["algorithm"] == MODELLED_ALGORITHM, "trial"]
    measured = experiment.iterations[~experiment.iterations["warmup"] & experiment.iterations["trial"].isin(ppo)]
    measured = phases.with_other_seconds(measured)
    per_trial = measured.groupby("trial")[["env_steps", "iter_s", *phases.COLUMNS]].median()
    per_trial = per_trial.dropna()
    params = params_by_trial(experiment)
    cores = machine_cores(experiment)
    trials = experiment.trials.set_index("trial").loc[per_trial.index]
    settings = [setting_of(trial, params.get(name, {}), env_step_s(experiment, params.get(name, {})),
                           per_trial.at[name, "env_steps"], cores)
                for name, trial in trials.iterrows()]
    return per_trial.assign(point=trials["point"], configuration=settings,
                            cpus_per_runner=trials["num_cpus_per_env_runner"].astype(float))


MODELLED_ALGORITHM = "PPO"


def as_observations(rows: pd.DataFrame) -> list[model.TrialPhases]:
    return [model.TrialPhases(r.configuration, r.sample_s, r.learn_s, r.sync_s, r.other_s) for r in rows.itertuples()]


@dataclass
class SelfCheck:
    """Leave-one-point-out predictions and the model fitted to every point."""

    predicted: pd.Series      # point -> env steps/s predicted without that point's trials
    error_pct: pd.Series      # point -> 100 * (predicted - measured) / measured
    fitted: pd.Series         # point -> env steps/s of the model fitted to all points
    params: model.Params
    rows: pd.DataFrame        # observations(), a row per trial
    extrapolation: ExtrapolationCheck | None = None  # None below 3 runner counts

    @property
    def max_runners(self) -> float:
        """The most env runners measured."""
        return float(max(s.runners for s in self.rows["configuration"]))

    @property
    def measured_cpus(self) -> float:
        """CPUs of the machine measured (its cores, `machine_cores`), whatever the trials reserved."""
        return float(max(s.cores * s.nodes for s in self.rows["configuration"]))

    @property
    def median_abs_error_pct(self) -> float:
        return float(np.nanmedian(self.error_pct.abs())) if self.error_pct.notna().any() else np.nan


def self_check(experiment: Experiment, summary: pd.DataFrame) -> SelfCheck | None:
    """Fit the model without each point in turn and predict it; None without phase times or with
    fewer than three points (two leave one to fit from). With 3 or more runner counts, the
    extrapolation check too."""
    rows = observations(experiment)
    points = list(dict.fromkeys(rows["point"]))
    if len(points) < 3:
        return None
    full = model.fit(as_observations(rows))
    predicted, fitted = {}, {}
    for point in points:
        held_out = rows[rows["point"] == point]
        rest = model.fit(as_observations(rows[rows["point"] != point]))
        predicted[point] = point_prediction(list(held_out["configuration"]), rest)
        fitted[point] = point_prediction(list(held_out["configuration"]), full)
    measured = summary.set_index("point")["env_steps_per_s"]
    predicted = pd.Series(predicted, dtype=float)
    error = 100.0 * (predicted - measured.reindex(predicted.index)) / measured.reindex(predicted.index)
    return SelfCheck(predicted, error, pd.Series(fitted, dtype=float), full, rows,
                     extrapolation_check(rows, measured))


def add_predictions(summary: pd.DataFrame, check: SelfCheck | None) -> pd.DataFrame:
    """summary.csv's predicted_env_steps_per_s and prediction_error_pct (leave-one-out), and
    extrapolation_predicted_env_steps_per_s and extrapolation_error_pct (the points the extrapolation
    check held out); NaN where no check ran or the point was in the fit."""
    by_point = summary["point"]
    outside = check.extrapolation if check else None
    return summary.assign(
        predicted_env_steps_per_s=by_point.map(check.predicted) if check else np.nan,
        prediction_error_pct=by_point.map(check.error_pct) if check else np.nan,
        extrapolation_predicted_env_steps_per_s=by_point.map(outside.predicted) if outside else np.nan,
        extrapolation_error_pct=by_point.map(outside.error_pct) if outside else np.nan)


# --- Extrapolation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Machine:
    nodes: int
    cpus_per_node: float

    @property
    def cpus(self) -> float:
        return self.nodes * self.cpus_per_node

    def describe(self) -> str:
        one = f"{self.cpus_per_node:g} CPU" + ("" if self.cpus_per_node == 1 else "s")
        return one if self.nodes == 1 else f"{self.nodes} nodes of {one}"


def runner_counts(most: int) -> list[int]:
    """0, 1, 2, 4, 8, ... up to `most`, and `most` itself."""
    counts = [0] + [2 ** k for k in range(int(np.log2(most)) + 1)] if most >= 1 else [0]
    return sorted(set(counts + [most]))


def candidates(check: SelfCheck, machine: Machine) -> pd.DataFrame:
    """Every setting the model can speak for on `machine`: the measured envs per runner and
    vectorize modes, with as many env runners as fit beside the main process's CPU."""
    rows = check.rows
    per_runner = float(rows["cpus_per_runner"].median())
    most = int(np.floor((machine.cpus - 1.0) / per_runner + 1e-9))
    template = rows["configuration"].iloc[0]
    kinds = {(s.envs, s.is_async) for s in rows["configuration"]}
    out = []
    for envs, asynchronous in sorted(kinds):
        for runners in runner_counts(most):
            setting = replace(template, runners=float(runners), envs=envs, is_async=asynchronous,
                              cores=machine.cpus_per_node, nodes=float(machine.nodes))
            out.append({"num_env_runners": runners, "num_envs_per_env_runner": envs,
                        "vectorize": "async" if asynchronous else "sync", "cpus": 1.0 + runners * per_runner,
                        "env_steps_per_s": model.predicted_env_steps_per_s(setting, check.params)})
    table = pd.DataFrame(out)
    # the vectorize mode is named only where the measurements compared modes
    return table if table["vectorize"].nunique() > 1 else table.drop(columns="vectorize")


def uncertainty(check: SelfCheck, value: float) -> tuple[float, float]:
    """The range the leave-one-out errors put around a prediction: measured / predicted ratios seen
    over the measured points, applied to this prediction. It always holds the prediction itself: when
    every error has one sign the ratios all lie on one side of 1 (once, "1,287 (1,288-1,288)")."""
    ratios = 1.0 / (1.0 + check.error_pct.dropna() / 100.0)
    if ratios.empty:
        return np.nan, np.nan
    return value * min(float(ratios.min()), 1.0), value * max(float(ratios.max()), 1.0)


def is_beyond(check: SelfCheck, runners: float, machine_cpus: float) -> bool:
    """A prediction beyond the measurements: more env runners than measured, or more CPUs than the
    machine measured had."""
    return runners > check.max_runners or machine_cpus > check.measured_cpus


def prediction_range(check: SelfCheck, value: float, runners: float, beyond: bool) -> tuple[float, float, str]:
    """(low, high, where the range comes from). Within the measurements: the leave-one-out errors
    (`uncertainty`). Beyond them: the extrapolation check's errors, widening per doubling of runners
    (extrapolation.py); without that check (fewer than 3 runner counts), NaN and NO_RANGE."""
    if not beyond:
        return (*uncertainty(check, value), "leave-one-out")
    if check.extrapolation is None:
        return np.nan, np.nan, NO_RANGE
    return (*check.extrapolation.range(value, runners), "extrapolation check")


def range_text(low: float, high: float, source: str) -> str:
    return source if np.isnan(low) else f"range {low:,.0f}-{high:,.0f} from the {source}"


def describe_candidate(row: pd.Series) -> str:
    mode = f", {row['vectorize']}" if "vectorize" in row else ""
    return f"{row['num_env_runners']:g} env runner(s) x {row['num_envs_per_env_runner']:g} env(s){mode}"


def best_sentence(check: SelfCheck, machine: Machine) -> str:
    table = candidates(check, machine)
    best = table.loc[table["env_steps_per_s"].idxmax()]
    beyond = is_beyond(check, float(best["num_env_runners"]), machine.cpus)
    low, high, source = prediction_range(check, best["env_steps_per_s"], float(best["num_env_runners"]), beyond)
    if source == "leave-one-out":
        source = f"leave-one-out errors, median {check.median_abs_error_pct:.0f}%"
    elif source == "extrapolation check":
        source = (f"extrapolation check, {check.extrapolation.per_doubling_pct:.1f}% per doubling of runners "
                  f"past {check.extrapolation.max_fit:g}")
    note = (f" {machine.describe()} is beyond the {check.measured_cpus:g} CPUs measured: an extrapolation."
            if machine.cpus > check.measured_cpus else "")
    return (f"Prediction (model, not measured) for {machine.describe()}: fastest {describe_candidate(best)}, "
            f"about {best['env_steps_per_s']:,.0f} env steps/s ({range_text(low, high, source)}).{note}")


REPORT_MACHINES = (Machine(1, 8), Machine(1, 64))  # what a laptop user asks about before renting


def model_sentences(check: SelfCheck | None, summary: pd.DataFrame) -> list[str]:
    """The answer section's lines on the model: its self-check, then its predictions for bigger machines."""
    return check_sentences(check, summary) + (
        [best_sentence(check, machine) for machine in REPORT_MACHINES] if check else [])


def check_sentences(check: SelfCheck | None, summary: pd.DataFrame) -> list[str]:
    """The answer section's lines on the model: its leave-one-out error and which point it ranks first,
    then its extrapolation check."""
    others = sorted(set(summary.get("algorithm", pd.Series(dtype=str)).dropna()) - {MODELLED_ALGORITHM})
    verb = "samples" if len(others) == 1 else "sample"
    only = f" (of PPO's points only: the model is PPO's, and {' and '.join(others)} {verb} while learning)" \
        if others else ""
    if check is None:
        return [f"Model self-check: not done (needs phase times from at least three points){only}.",
                check_sentence(None, None)]
    measured = summary.set_index("point")["env_steps_per_s"].reindex(check.predicted.index)
    fastest, named = measured.idxmax(), check.predicted.idxmax()
    agree = "the measured fastest too" if fastest == named else f"but {fastest} was measured fastest"
    return [f"Model self-check{only}: each point predicted by the iteration model fitted without it is off by "
            f"{check.median_abs_error_pct:.0f}% (median; worst {check.error_pct.abs().max():.0f}%); so predicted, "
            f"{named} is fastest, {agree}.",
            check_sentence(check.extrapolation, len({s.runners for s in check.rows["configuration"]}))]


# --- The command ---------------------------------------------------------------------------------


def fitted_model(experiment: Experiment, results_dir: str) -> tuple[pd.DataFrame, SelfCheck] | None:
    """The summary of loaded results and the model fitted to them, self-checked; None, after one error
    line, where they carry too few phase times."""
    from .summary import build_summary

    calibration = experiment.calibration or {}
    summary = build_summary(experiment.iterations, experiment.trials, calibration.get("steps_per_s_per_core"),
                            grid=experiment.grid)
    check = self_check(experiment, summary)
    if check is None:
        print(f"error: {results_dir}: the model needs phase times (scaling/* metrics) from at least three "
              f"grid points", file=sys.stderr)
        return None
    return summary, check


def predict_command(results_dir: str, machine: Machine) -> int:
    """Print what the model expects on `machine`; 0 ok, 2 when the results cannot carry a model."""
    try:
        experiment = load_experiment(Path(results_dir))
    except NothingToAnalyse as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    fitted = fitted_model(experiment, results_dir)
    if fitted is None:
        return 2
    summary, check = fitted
    table = candidates(check, machine).sort_values("env_steps_per_s", ascending=False)
    for line in check_sentences(check, summary):
        print(line)
    print(best_sentence(check, machine))
    print(f"\nPredicted env steps/s on {machine.describe()} (model, not measured), best first:")
    unranged = False
    for _, row in table.head(10).iterrows():
        runners = float(row["num_env_runners"])
        low, high, source = prediction_range(check, row["env_steps_per_s"], runners,
                                             is_beyond(check, runners, machine.cpus))
        cpus = f"{row['cpus']:g} CPU" + ("" if row["cpus"] == 1 else "s")
        span = "(no range)" if np.isnan(low) else f"({low:,.0f}-{high:,.0f})"
        unranged = unranged or bool(np.isnan(low))
        print(f"  {describe_candidate(row):<40} {cpus:>10}  {row['env_steps_per_s']:>9,.0f} {span}")
    if unranged:
        print(f"  ({NO_RANGE})")
    return 0
