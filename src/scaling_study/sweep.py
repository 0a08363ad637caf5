"""Tuner assembly: param space, resources, isolation, stop, storage and resume.

    run_sweep(load_spec("experiments/smoke.yaml"), SweepOptions())

writes a standard Tune experiment directory `results/<name>/`, plus `scaling_study/` inside it with
the provenance, the calibration and Ray's log.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scaling_study.spec import ExperimentSpec, SpecError, cpus_needed, points_that_do_not_fit, trial_params
from scaling_study.tracking import check_trackers_ready

SUITE_DIR = "scaling_study"  # our files inside the Tune experiment directory


@dataclass
class SweepOptions:
    storage_path: str = "results"
    name: str | None = None
    address: str | None = None
    num_cpus: float | None = None
    allow_pending: bool = False
    restart: bool = False
    verbose: bool = False
    max_concurrent_trials: int | None = None
    shared_storage: bool = False
    """The user asserts storage_path is one file system every node of the cluster mounts at that path."""


class _Lookup:
    """`tune.sample_from` body: one key of trial `trial_index`'s params. A class, so tuner.pkl
    pickles it and a resumed sweep sees the same trials."""

    def __init__(self, key: str, table: list[dict[str, Any]]):
        self.key, self.table = key, table

    def __call__(self, config) -> Any:
        return self.table[config["trial_index"]][self.key]


def param_space(params: list[dict[str, Any]]) -> dict[str, Any]:
    """Tune sweeps a trial index; each trial's params.json then holds its plain values at top level.
    (A grid need not be a full product: `auto` runners differ per point.)"""
    from ray import tune

    space: dict[str, Any] = {"trial_index": tune.grid_search(list(range(len(params))))}
    for key in params[0]:
        space[key] = tune.sample_from(_Lookup(key, params))
    return space


def resources_for(config: dict[str, Any]):
    """The trial's placement group, as RLlib itself would request it for this PPO config."""
    from ray.rllib.algorithms.ppo import PPO

    from scaling_study import ppo

    return PPO.default_resource_request(ppo.build_config(config))


def experiment_dir(options: SweepOptions, spec: ExperimentSpec) -> Path:
    return Path(options.storage_path).expanduser().resolve() / (options.name or spec.name)


def check_storage(storage: Path) -> None:
    """Refuse a storage path that is a file or cannot be written, before anything is written."""
    probe = storage
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise SpecError(f"--storage-path {storage}: {probe} is a file; expected a directory to hold results")
    if not os.access(probe, os.W_OK | os.X_OK) or not _can_create_in(probe):
        raise SpecError(f"--storage-path {storage}: {probe} is not writable; expected a directory you can write to")


def _can_create_in(directory: Path) -> bool:
    """Try it: for root os.access says yes everywhere, yet e.g. /sys refuses new directories.
    The probe directory is removed at once, so a refusal still leaves nothing behind."""
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".scaling-study-probe-", dir=directory))
    except OSError:
        return False
    return True


def check_fit(spec: ExperimentSpec, cluster_cpus: float, allow_pending: bool) -> None:
    too_big = points_that_do_not_fit(spec, cluster_cpus)
    if too_big and not allow_pending:
        listed = "; ".join(f"{label} needs {cpus:g}" for label, cpus in too_big)
        raise SpecError(
            f"{spec.source}: {len(too_big)} grid point(s) need more than the {cluster_cpus:g} CPUs Ray has "
            f"({listed}); drop them, or oversubscribe deliberately with --num-cpus N (local Ray), "
            f"or pass --allow-pending on an autoscaling cluster"
        )


def stored_spec(exp_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((exp_dir / SUITE_DIR / "provenance.json").read_text())["spec"]
    except (OSError, ValueError, KeyError):
        return None


def _same_experiment(stored: dict[str, Any], spec: ExperimentSpec) -> bool:
    ignore = {"source", "description", "tracking"}  # where results are also sent is not the experiment
    current = json.loads(json.dumps(spec.to_dict(), default=str))
    return {k: v for k, v in stored.items() if k not in ignore} == {
        k: v for k, v in current.items() if k not in ignore
    }


def decide_resume(exp_dir: Path, spec: ExperimentSpec, restart: bool) -> bool:
    """True to resume the experiment in `exp_dir`; refuses to mix two different experiments."""
    if not exp_dir.exists():
        return False
    if restart:
        aside = exp_dir.with_name(f"{exp_dir.name}.replaced-{time.strftime('%Y%m%d-%H%M%S')}")
        exp_dir.rename(aside)
        print(f"--restart: the previous results were moved to {aside}")
        return False
    stored = stored_spec(exp_dir)
    if stored is None:
        if any(exp_dir.iterdir()):
            raise SpecError(
                f"{exp_dir}: exists but was not written by a scaling-study sweep; "
                f"pass --name NEW or another --storage-path"
            )
        return False
    if not _same_experiment(stored, spec):
        raise SpecError(
            f"{exp_dir}: holds results of a different version of experiment {spec.name!r}; "
            f"pass --restart to replace them or --name NEW to keep both"
        )
    return True


def build_tuner(spec: ExperimentSpec, params: list[dict[str, Any]], todo: list[int], exp_dir: Path, options: SweepOptions):
    """A Tuner for the trials still to run; `params` is the whole grid so indices stay stable."""
    from ray import tune

    from scaling_study.tracking import sweep_callbacks
    from scaling_study.trial import run_trial
    from scaling_study.trial_names import trial_dirname, trial_name

    space = param_space(params)
    space["trial_index"] = tune.grid_search(todo)
    return tune.Tuner(
        tune.with_resources(run_trial, resources_for),
        param_space=space,
        tune_config=tune.TuneConfig(
            max_concurrent_trials=options.max_concurrent_trials or spec.max_concurrent_trials,
            reuse_actors=False,
            trial_name_creator=trial_name,
            trial_dirname_creator=trial_dirname,
        ),
        run_config=tune.RunConfig(
            name=exp_dir.name,
            storage_path=str(exp_dir.parent),
            stop=dict(spec.stop),
            verbose=1 if options.verbose else 0,
            # result.json, progress.csv, TensorBoard and the trackers asked for; no checkpoints unless asked.
            callbacks=sweep_callbacks(spec.tracking, spec.name, exp_dir, spec.stop, total=len(params),
                                      done_before=len(params) - len(todo)),
            checkpoint_config=tune.CheckpointConfig(checkpoint_at_end=False, num_to_keep=None),
            failure_config=tune.FailureConfig(max_failures=0),
        ),
    )


def run_sweep(spec: ExperimentSpec, options: SweepOptions, argv: list[str] | None = None) -> Path:
    """Validate everything, start or join Ray, run the grid, and return the experiment directory."""
    import ray

    from scaling_study import calibrate, cluster, provenance
    from scaling_study.ppo import env_config

    cluster.check_storage_uri(options.storage_path)
    job_env = own_env_runtime(spec)
    check_trackers_ready(spec.tracking, spec.source)
    exp_dir = experiment_dir(options, spec)
    check_storage(exp_dir)
    if options.address:
        # Bounded: ray.init alone may retry a bad address for minutes. Nothing is written before this.
        joining = cluster.preflight(options.address)
        cluster.check_shared_storage(exp_dir, joining.nodes, options.shared_storage)
    num_cpus = options.num_cpus or spec.num_cpus
    if not options.address:
        check_fit(spec, cluster.local_cpus(num_cpus), options.allow_pending)
        resume = decide_resume(exp_dir, spec, options.restart)
    # Our loggers are in the callbacks (tracking.py); Tune would otherwise add its own second set.
    os.environ["TUNE_DISABLE_AUTO_CALLBACK_LOGGERS"] = "1"
    if not options.verbose:
        # The legacy reporter honours verbose=0; the new one prints a config box regardless.
        os.environ["RAY_AIR_NEW_OUTPUT"] = "0"
    log_file = None if options.verbose else exp_dir / SUITE_DIR / "ray.log"
    # A cluster's CPUs are known only after joining it: until its fit check passes, Ray's log waits in
    # a temp file, so a refusal writes nothing under the storage path.
    early_log = _temp_log() if log_file and options.address else None
    cluster.route_ray_logs(early_log or log_file)
    info = cluster.start_or_join(options.address, num_cpus, quiet=not options.verbose, runtime_env=job_env)
    try:
        if options.address:
            check_fit(spec, info.logical_cpus, options.allow_pending)
            resume = decide_resume(exp_dir, spec, options.restart)
            if early_log:
                _move_log(early_log, log_file, cluster)
        params = trial_params(spec, info.logical_cpus)
        _print_plan(spec, params, info, exp_dir, resume)
        suite_dir = exp_dir / SUITE_DIR
        if not resume or not (suite_dir / "provenance.json").exists():
            provenance.write_json(suite_dir / "provenance.json", provenance.collect(spec.to_dict(), info.to_dict(), argv))
        if not (suite_dir / "calibration.json").exists():
            provenance.write_json(suite_dir / "calibration.json", calibrate.calibrate(env_config(params[0])))
        todo = _trials_to_run(exp_dir, params, resume)
        if todo:
            grid = build_tuner(spec, params, todo, exp_dir, options).fit()
            _raise_if_interrupted(exp_dir, grid, todo, len(params))
        _print_summary(exp_dir)
    finally:
        ray.shutdown()
        if early_log:
            early_log.unlink(missing_ok=True)
    return exp_dir


def own_env_runtime(spec: ExperimentSpec) -> dict[str, Any] | None:
    """The job's runtime_env that ships the env modules of your own to every worker (env_imports.py);
    also refuses, before Ray starts, an observation space RLlib's default models cannot take."""
    from scaling_study import env_imports
    from scaling_study.envs import check_observation_space

    modules = env_imports.modules_to_import(spec.env_id, spec.env_imports)
    problem = check_observation_space({"id": spec.env_id, "kwargs": spec.env_config, "imports": spec.env_imports})
    if problem:
        raise SpecError(f"{spec.source}: env.id: {problem}")
    return env_imports.runtime_env(env_imports.import_in_driver(modules))


class SweepInterrupted(Exception):
    """Tune stopped before every trial finished or errored (its SIGINT handler ends fit() quietly)."""

    def __init__(self, exp_dir: Path, finished: int, total: int):
        super().__init__(f"{finished} of {total} trials finished")
        self.exp_dir, self.finished, self.total = exp_dir, finished, total


def _raise_if_interrupted(exp_dir: Path, grid, todo: list[int], total: int) -> None:
    """Trials neither in the ledger nor errored were cut short: Tune marks them TERMINATED on Ctrl-C,
    so the ledger, not Tune's status, says what finished."""
    from scaling_study.ledger import finished_trials

    finished = finished_trials(exp_dir)
    errored = {result.config["trial_index"] for result in grid if result.error is not None}
    if set(todo) - set(finished) - errored:
        raise SweepInterrupted(exp_dir, len(finished), total)


def _temp_log() -> Path:
    handle, path = tempfile.mkstemp(prefix="scaling-study-ray-", suffix=".log")
    os.close(handle)
    return Path(path)


def _move_log(early_log: Path, log_file: Path, cluster) -> None:
    import logging
    import shutil

    for handler in logging.root.handlers:
        handler.close()
    log_file.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(early_log, log_file)
    cluster.route_ray_logs(log_file)  # appends after what was copied


def _trials_to_run(exp_dir: Path, params: list[dict[str, Any]], resume: bool) -> list[int]:
    from scaling_study.ledger import finished_trials, set_aside_unfinished

    if not resume:
        return list(range(len(params)))
    finished = finished_trials(exp_dir)
    moved = set_aside_unfinished(exp_dir)
    if moved:
        print(f"Set aside {len(moved)} unfinished trial director(ies) under {exp_dir / SUITE_DIR / 'interrupted'}")
    todo = [i for i in range(len(params)) if i not in finished]
    print(f"{len(finished)} of {len(params)} trials already finished; running the other {len(todo)}.", flush=True)
    return todo


def _print_plan(spec, params, info, exp_dir: Path, resume: bool) -> None:
    points = len({p["point"] for p in params})
    where = f"cluster at {info.address}" if info.address else "a local Ray"
    over = " (oversubscribed: more logical CPUs than cores)" if info.oversubscribed else ""
    verb = "Resuming" if resume else "Running"
    print(
        f"{verb} {spec.name}: {points} grid points x {spec.repeats} repeat(s) = {len(params)} trials on {where} "
        f"with {info.logical_cpus:g} CPUs{over}, up to {max(cpus_needed(p) for p in params):g} CPUs per trial.\n"
        f"Results: {exp_dir}",
        flush=True,
    )


def _print_summary(exp_dir: Path) -> None:
    from scaling_study.ledger import finished_trials
    from scaling_study.progress import throughput_table

    rows, errored = [], 0
    for trial_dir in sorted(p for p in exp_dir.iterdir() if (p / "params.json").exists()):
        errored += (trial_dir / "error.txt").exists()
        for line in (trial_dir / "result.json").read_text().splitlines() if (trial_dir / "result.json").exists() else []:
            result = json.loads(line)
            scaling = result.get("scaling") or {}
            if scaling and not scaling.get("warmup"):
                rows.append({"point": result["config"]["point"], "trial_id": result["trial_id"],
                             "cpus": scaling["cpus"], "env_steps_per_s": scaling["env_steps_per_s"],
                             "setup_s": scaling["setup_s"]})
    print("\nThroughput per grid point (median over measured iterations and repeats):")
    print(throughput_table(rows))
    if errored:
        print(f"{errored} trial(s) errored: see error.txt in their trial directories.")
    print(f"\n{len(finished_trials(exp_dir))} trials finished. Tune results: {exp_dir}", flush=True)
