"""A Tune experiment directory -> tidy tables: one row per iteration and one row per trial.

Works on this suite's directories (result rows carry a `scaling` group of per-iteration truths) and on
foreign ones (plain `tune.Tuner("PPO", ...)` sweeps on the new or old API stack). Where scaling/* is
missing, throughput is env steps sampled in the iteration / time_this_iter_s, and phase times are NaN
with `phases_measured == False`: RLlib's timers are smoothed averages, not per-iteration truths.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from scaling_study.core import layout, rows
from scaling_study.core.resources import cpus_needed
from scaling_study.core.sampling_model import envs_waiting_at_once, sampler_key
from scaling_study.core.settings import ALIASES, algorithm_named, default_of, display_value, names_of, resolve
from scaling_study.core.spec import EXPLORE_PARAMS
from scaling_study.core.tune_files import (
    TrialFiles,
    find_trial_dirs,
    read_experiment_state,
    read_trial,
)


def scaling_column(field_name: str) -> str:
    """The column a `scaling` field is read into, before it is merged with its RLlib fallback."""
    return f"s_{field_name}"


# Output column -> result keys to try, first present wins ("a/b" = nested dict or flattened key).
# Tune's and RLlib's own keys; this suite's `scaling` group is added below from its one definition.
ROW_KEYS = {
    "iteration": ["training_iteration"],
    "time_this_iter_s": ["time_this_iter_s"],
    "time_total_s": ["time_total_s"],
    "timestamp": ["timestamp"],
    "date": ["date"],
    "result_trial_id": ["trial_id"],
    "hostname": ["hostname"],
    "node_ip": ["node_ip"],
    "iterations_since_restore": ["iterations_since_restore"],
    # env steps sampled in this iteration: new API stack, then old API stack
    "rllib_env_steps": ["env_runners/num_env_steps_sampled", "num_env_steps_sampled_this_iter"],
    "episode_return": ["env_runners/episode_return_mean", "env_runners/episode_reward_mean",
                       "episode_reward_mean"],
    # env steps the learner trained on, since the start (differenced per trial below)
    "rllib_trained_lifetime": ["learners/__all_modules__/num_env_steps_trained_lifetime"],
    # APPO's and IMPALA's learner thread: seconds per update waiting for a batch, and updating
    "rllib_learner_wait": ["learners/__all_modules__/learner_thread_in_queue_wait_timer"],
    "rllib_learner_update": ["learners/__all_modules__/learner_thread_update_timer"],
    # env runners RLlib restarted after they died, so far in the trial (restart_failed_env_runners)
    "rllib_env_runner_restarts": ["fault_tolerance/num_remote_worker_restarts"],
    # s_<field>: every field of the suite's `scaling` group (rows.ScalingRow)
    **{scaling_column(name): [rows.flat_key(name)] for name in rows.FIELDS},
}
TEXT_COLUMNS = ("date", "result_trial_id", "hostname", "node_ip", scaling_column("node_ids"),
                scaling_column("warmup"), scaling_column("degraded"), scaling_column("warm_process"))

# The parallelism settings every trial record carries, whichever names its params.json used.
PARALLEL_SETTINGS = ("num_env_runners", "num_envs_per_env_runner", "num_cpus_per_env_runner",
                     "num_cpus_for_main_process", "num_learners", "num_cpus_per_learner")
# Always columns (the heatmap's axes), swept or not.
BASE_GRID = ("num_env_runners", "num_envs_per_env_runner")
# Params that differ between trials of one grid point.
NOT_GRID_PARAMS = {"seed", "repeat", "point", "warmup_iterations", "trial_id", "trial_index", "trial_timeout_s",
                   *EXPLORE_PARAMS}


@dataclass
class Experiment:
    """Everything the analysis knows about one experiment directory."""

    name: str
    path: Path
    iterations: pd.DataFrame
    trials: pd.DataFrame
    grid: list[str]
    """The settings that tell grid points apart (runners, envs per runner, then each other swept one),
    each a column of `trials` (and of the summary): group by these, never by parsing the point label."""
    provenance: dict | None = None
    calibration: dict | None = None
    warnings: list[str] = field(default_factory=list)
    pruned: dict[str, dict] = field(default_factory=dict)
    """Points racing stopped running (`prune: true`), by label, with the evidence (scaling_study/pruned.json)."""
    explored: dict[str, dict] = field(default_factory=dict)
    """What `auto` tried per series and why it stopped (scaling_study/explored.json)."""
    configs: dict = field(default_factory=dict)
    """Each point's PPOConfig as copyable Python (scaling_study/configs.json)."""
    seeded: dict[str, dict] = field(default_factory=dict)
    """`repeats: {first, most}`: the seeds each point got and why no more (scaling_study/seeded.json)."""


class NothingToAnalyse(Exception):
    """The directory holds nothing the analysis can use; the message is one line for the user."""


def lookup(row: dict, path: str):
    """A value by 'a/b/c' path from a nested result row or a flat progress.csv row; None if absent."""
    if path in row:
        return row[path]
    value = row
    for part in path.split("/"):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def pick_columns(rows: list[dict]) -> pd.DataFrame:
    """The ROW_KEYS columns of a trial's result rows (only these few keys are ever touched)."""
    picked = {}
    for column, paths in ROW_KEYS.items():
        values = [None] * len(rows)
        for path in paths:
            found = [lookup(row, path) for row in rows]
            values = [v if v is not None else f for v, f in zip(values, found, strict=True)]
        picked[column] = values
    return pd.DataFrame(picked)


def resolve_params(params: dict) -> dict:
    """Parallelism settings under our names, whichever alias the trial used; defaults where absent."""
    return resolve(params, PARALLEL_SETTINGS)


def sampling_cpus(p: dict, params: dict | None = None, cores: float | None = None) -> float:
    """What the physical limit multiplies the one-core raw env rate by: the cores that step envs at once.
    With no env runners, the main process's one. With runners, one each, up to the cores the trial held
    (`cores`: a PPO trial's main process is idle while its runners sample, so they may use every core);
    where the cores are unknown (foreign directories), the CPUs the runners reserve. A simulator that
    sleeps (a step cost in `sleep` mode) needs no core while it waits, so there it is the envs that
    wait at once: one per runner, or all of a runner's envs when they are vectorized `async`."""
    params = params or {}
    if (params.get("step_cost") or {}).get("mode") == "sleep":
        at_once = envs_waiting_at_once(p["num_envs_per_env_runner"], params.get("gym_env_vectorize_mode"))
        return max(p["num_env_runners"], 1) * at_once
    if not p["num_env_runners"]:
        return 1
    if cores is not None and np.isfinite(cores):
        return min(p["num_env_runners"], cores)
    return p["num_env_runners"] * p["num_cpus_per_env_runner"]


def trial_cores(result_rows: list[dict]) -> float | None:
    """The cores the trial held (`scaling/cores` of its first row that has it), or None (foreign, older)."""
    for row in result_rows:
        value = pd.to_numeric(lookup(row, rows.flat_key("cores")), errors="coerce")
        if pd.notna(value):
            return float(value)
    return None


def trial_record(files: TrialFiles, state: dict, finished: dict | None = None) -> dict:
    """One trial's settings and Tune facts, before its iterations are looked at; `finished` is its
    ledger entry (this suite's directories), which says what stopped it."""
    params = files.params or {}
    resolved = resolve_params(params)
    status = state.get("status") or ("ERROR" if files.error_text else "UNKNOWN")
    return {
        "trial": files.name,
        "trial_id": state.get("trial_id"),
        **resolved,
        "algorithm": algorithm_of_trial(files.name, params),
        # which bare-runner calibration (calibration.json's sampler_ceilings) is this trial's ceiling
        "sampler_key": sampler_key(resolved["num_envs_per_env_runner"], params.get("gym_env_vectorize_mode"),
                                   params.get("step_cost")),
        "cpus_reserved": cpus_needed(params),
        "sampling_cpus": sampling_cpus(resolved, params, trial_cores(files.rows)),
        "repeat": params.get("repeat"),
        "seed": params.get("seed"),
        "suite_point": params.get("point"),
        "warmup_iterations": params.get("warmup_iterations", 0) or 0,
        "status": status,
        "errored": status == "ERROR" or files.error_text is not None,
        "error": first_line(files.error_text),
        "restarts": state.get("num_failures"),
        "stopped_by": (finished or {}).get("stopped_by"),
        # run again from scratch after a failed attempt (run/retries.py): how often, and after what
        "retries": (finished or {}).get("retries", 0),
        "retried_after": "; ".join((finished or {}).get("retried_after") or []),
    }


def algorithm_of_trial(directory: str, params: dict) -> str:
    """The trial's algorithm: its params' `algorithm` (this suite's), else the trainable Tune named its
    directory after (a plain `tune.Tuner("APPO", ...)`: APPO_<env>_<id>), else PPO."""
    named = algorithm_named(params) or algorithm_named({"algorithm": directory.split("_", 1)[0]})
    return named or default_of("algorithm")


def known_state(state: dict, in_ledger: bool, files: TrialFiles) -> dict:
    """Tune's facts about a trial, completed: the ledger knows a finished trial whose session was killed
    before Tune saved its state, and every result row carries the trial's id."""
    state = dict(state)
    if in_ledger and state.get("status") in (None, "PENDING", "RUNNING"):
        state["status"] = "TERMINATED"
    if not state.get("trial_id"):
        state["trial_id"] = next((row["trial_id"] for row in files.rows if isinstance(row.get("trial_id"), str)), None)
    return state


def first_line(text: str | None) -> str | None:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1][:200] if lines else None  # a traceback's last line names the exception


def varying_settings(params: dict[str, dict]) -> list[str]:
    """The settings (current names) whose values differ between trials, besides the base grid."""
    flat = pd.DataFrame.from_dict(
        {name: {k: repr(v) for k, v in p.items() if k not in NOT_GRID_PARAMS} for name, p in params.items()},
        orient="index",
    )
    varying = [ALIASES.get(c, c) for c in flat.columns if flat[c].nunique(dropna=False) > 1]
    return [name for name in dict.fromkeys(varying) if name not in BASE_GRID]


def setting_value(params: dict, setting: str):
    """A setting's value in a params.json under any of its names (RLlib's default if absent), as a
    plain scalar: dicts and lists become their short display words so the column can be grouped by."""
    value = next((params[n] for n in names_of(setting) if params.get(n) is not None), default_of(setting))
    return display_value(value) if isinstance(value, dict | list) else value


def add_grid_columns(trials: pd.DataFrame, params: dict[str, dict]) -> tuple[pd.DataFrame, list[str]]:
    """A column per swept setting, and each trial's point label: the suite's own, else one built from
    those columns (display only)."""
    extra = varying_settings(params)
    trials = trials.copy()
    for setting in extra:
        trials[setting] = trials["trial"].map(lambda name, s=setting: setting_value(params[name], s))
    grid = [*BASE_GRID, *extra]
    built = pd.Series([", ".join(f"{k}={display_value(v)}" for k, v in zip(grid, values, strict=True))
                       for values in zip(*(trials[k] for k in grid), strict=True)], index=trials.index)
    trials["point"] = trials["suite_point"].where(trials["suite_point"].notna(), built)
    return trials, grid


def derive_iteration_columns(it: pd.DataFrame) -> pd.DataFrame:
    """Throughput, warmup, timing columns: scaling/* where present, RLlib's/Tune's keys otherwise."""
    it = it.copy()
    numeric = [c for c in ROW_KEYS if c not in TEXT_COLUMNS]
    it[numeric] = it[numeric].apply(pd.to_numeric, errors="coerce")
    it["phases_measured"] = it["s_env_steps"].notna() & it["s_sample_s"].notna()
    it["env_steps"] = it["s_env_steps"].fillna(it["rllib_env_steps"])
    it["iter_s"] = it["s_iter_s"].fillna(it["time_this_iter_s"])
    it["env_steps_per_s"] = it["s_env_steps_per_s"].fillna(it["env_steps"] / it["iter_s"])
    # a rate beside an iteration that took no time (iter_s 0) is no measurement, whatever the row says
    it.loc[it["iter_s"] <= 0, "env_steps_per_s"] = np.nan
    it["cpus"] = it["s_cpus"].fillna(it["cpus_reserved"])
    it["env_runner_restarts"] = it["s_env_runner_restarts"].fillna(it["rllib_env_runner_restarts"])
    # what the learner did: this suite's row, else RLlib's counters (a foreign APPO or IMPALA sweep)
    # (a row before the learner's first update has no counter: the next one's count starts from 0)
    lifetime = it.sort_values("iteration").groupby("trial")["rllib_trained_lifetime"]
    before = lifetime.transform(lambda s: s.shift().ffill().fillna(0.0))
    it["trained_env_steps"] = it["s_trained_env_steps"].fillna(it["rllib_trained_lifetime"] - before)
    thread = it["rllib_learner_wait"] / (it["rllib_learner_wait"] + it["rllib_learner_update"])
    it["learner_wait_share"] = it["s_learner_wait_share"].fillna(thread)
    for name in ("sample_s", "learn_s", "sync_s", "setup_s", "startup_s", "trial_started_at", "iter_ended_at",
                 "nodes", "node_ids", "relative_ci", "cores"):
        it[name] = it[scaling_column(name)]  # this suite's alone: NaN for foreign directories
    it["warm_process"] = it["s_warm_process"].map(parse_bool, na_action="ignore")
    declared = it["s_warmup"].map(parse_bool, na_action="ignore")
    it["warmup"] = declared.where(declared.notna(), it["iteration"] <= it["warmup_iterations"]).astype(bool)
    # Tune's timestamp is whole seconds and time_total_s leaves out setup: windows from them are approximate.
    it["window_exact"] = it["iter_ended_at"].notna() & it["trial_started_at"].notna()
    it["iter_ended_at"] = it["iter_ended_at"].fillna(it["timestamp"])
    it["trial_started_at"] = it["trial_started_at"].fillna(it["timestamp"] - it["time_total_s"])
    # Seconds since the trial started (setup included); foreign dirs: Tune's training seconds.
    since_start = it["iter_ended_at"] - it["trial_started_at"].groupby(it["trial"]).transform("min")
    it["wall_s"] = since_start.where(it["window_exact"], it["time_total_s"])
    return it.drop(columns=[c for c in it.columns if c.startswith("s_")]
                   + ["rllib_env_steps", "rllib_env_runner_restarts", "rllib_trained_lifetime", "rllib_learner_wait",
                      "rllib_learner_update"])


def parse_bool(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def parse_node_ids(value) -> tuple:
    """node_ids from a result row (a list) or progress.csv (its repr); node_ip is the fallback."""
    if isinstance(value, str):
        try:
            value = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return (value,)
    return tuple(value) if isinstance(value, list | tuple) else ()


def summarise_trials(trials: pd.DataFrame, it: pd.DataFrame) -> pd.DataFrame:
    """Per-trial facts from the iterations: count, time window, nodes, setup."""
    grouped = it.groupby("trial")
    facts = pd.DataFrame({
        "iterations": grouped.size(),
        "measured_iterations": (~it["warmup"]).groupby(it["trial"]).sum(),
        "started_at": grouped["trial_started_at"].min(),
        "ended_at": grouped["iter_ended_at"].max(),
        "window_exact": grouped["window_exact"].all(),
        "setup_s": grouped["setup_s"].first(),
        "startup_s": grouped["startup_s"].first(),
        "warm_process": grouped["warm_process"].first(),
        "cpus": grouped["cpus"].first(),
        "cores": grouped["cores"].first(),
        "nodes": grouped["nodes"].max(),
        "phases_measured": grouped["phases_measured"].all(),
        "hostname": grouped["hostname"].first(),
        "node_ip": grouped["node_ip"].first(),
        "node_ids": grouped["node_ids"].agg(lambda s: ",".join(sorted({n for v in s for n in parse_node_ids(v)}))),
        "restarts_seen": (it["iterations_since_restore"] == 1).groupby(it["trial"]).sum() - 1,
        "env_runner_restarts": grouped["env_runner_restarts"].max(),
    })
    merged = trials.merge(facts, left_on="trial", right_index=True, how="left")
    merged["restarts"] = merged["restarts"].fillna(merged["restarts_seen"].clip(lower=0))
    merged["node_ids"] = merged["node_ids"].replace("", np.nan).fillna(merged["node_ip"])
    return merged.drop(columns=["restarts_seen"])


def skip_reason(files: TrialFiles, picked: pd.DataFrame | None) -> str | None:
    """Why a trial cannot be analysed, or None when it can."""
    if files.params is None:
        return "no readable params.json (its grid point is unknown)"
    if not files.rows:
        return "no results (empty or missing result.json and progress.csv)"
    if picked is not None and picked[["rllib_env_steps", "s_env_steps"]].isna().all(axis=None):
        return "not an RLlib trial (its results report no env steps sampled)"
    return None


def read_trials(experiment: Path) -> tuple[pd.DataFrame, dict[str, dict], list[pd.DataFrame], list[str]]:
    """Every trial directory -> a record each, params and picked rows of the usable ones, warnings."""
    state, ledger = read_experiment_state(experiment), layout.read_ledger(experiment)
    finished = ledger.by_dir()
    records, params, frames, warnings = [], {}, [], list(ledger.warnings)
    for directory in find_trial_dirs(experiment):
        files = read_trial(directory)
        warnings += files.warnings
        picked = pick_columns(files.rows) if files.rows else None
        state_of = known_state(state.get(directory.name, {}), directory.name in finished, files)
        record = trial_record(files, state_of, finished.get(directory.name))
        record["skipped"] = skip_reason(files, picked)
        if directory.name in ledger.repeated and not record["skipped"]:
            # a second run of a trial the ledger lists already (two sweeps into one directory): counted once
            record["skipped"] = f"a second run of the trial the ledger lists as {ledger.repeated[directory.name]}"
        records.append(record)
        if record["skipped"]:
            warnings.append(f"{directory.name}: skipped, {record['skipped']}")
            continue
        params[directory.name] = files.params
        frames.append(picked.assign(trial=directory.name))
    return pd.DataFrame(records), params, frames, warnings


def nothing_message(experiment: Path, trials: pd.DataFrame) -> str:
    if trials.empty:
        return f"{experiment}: no Tune trials found (no sub-directory holds params.json or result.json)"
    if trials["skipped"].str.startswith("not an RLlib trial").any():
        return f"{experiment}: no RLlib trials (none of its {len(trials)} trials reports env steps sampled)"
    return f"{experiment}: none of its {len(trials)} trials has results that can be analysed"


TRIAL_COLUMNS_ON_ITERATIONS = ["trial", "point", "repeat", "num_env_runners", "num_envs_per_env_runner",
                               "num_cpus_per_env_runner", "cpus_reserved", "sampling_cpus", "warmup_iterations"]


def load_experiment(path: str | Path) -> Experiment:
    """Read a Tune experiment directory into an Experiment; NothingToAnalyse when nothing is usable."""
    experiment = Path(path)
    if not experiment.is_dir():
        raise NothingToAnalyse(f"{path}: no such directory")
    trials, params, frames, warnings = read_trials(experiment)
    if not frames:
        raise NothingToAnalyse(nothing_message(experiment, trials))
    usable = trials["skipped"].isna()
    labelled, grid = add_grid_columns(trials[usable], params)
    for column in ["point", *grid]:
        trials.loc[usable, column] = labelled[column]
    # Foreign sweeps have no repeat index: trials of the same point are its repeats, in directory order.
    trials["repeat"] = trials["repeat"].fillna(trials.groupby("point", dropna=False).cumcount())
    rows = pd.concat(frames, ignore_index=True).drop_duplicates(["trial", "iteration"], keep="last")
    rows = rows.merge(trials.loc[usable, TRIAL_COLUMNS_ON_ITERATIONS], on="trial", how="left")
    iterations = derive_iteration_columns(rows)
    iterations = iterations[np.isfinite(iterations["env_steps_per_s"])].reset_index(drop=True)
    provenance, calibration = layout.read_provenance(experiment), layout.read_calibration(experiment)
    warnings += layout.unreadable_suite_files(experiment)
    name = ((provenance or {}).get("spec") or {}).get("name") or experiment.resolve().name
    return Experiment(name, experiment, iterations, summarise_trials(trials, iterations), grid,
                      provenance, calibration, warnings, layout.read_pruned(experiment),
                      layout.read_explored(experiment), layout.read_configs(experiment), layout.read_seeded(experiment))
