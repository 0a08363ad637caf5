"""A sweep, step by step: check where results go, join or start Ray, decide what to run, run it.

    run_sweep(load_spec("experiments/smoke.yaml"), SweepOptions())

writes a standard Tune experiment directory `results/<name>/`, plus `scaling_study/` inside it with
the provenance, the calibration, the ledger of finished trials and Ray's log (see layout.py).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from scaling_study.core import layout
from scaling_study.core.cores import granted_cores
from scaling_study.core.errors import SpecError, UsageError
from scaling_study.core.options import SweepOptions
from scaling_study.core.resources import cpus_needed, local_cpus
from scaling_study.core.spec import ExperimentSpec, auto_axis, points_that_do_not_fit, trial_params
from scaling_study.run import node_exclusive, storage, sweep_lock
from scaling_study.run.tracking import check_trackers_ready


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
    """The trial's placement group, as RLlib itself would request it for this config (its algorithm's own
    default_resource_request: in RLlib 2.60 PPO, APPO and IMPALA all keep Algorithm's)."""
    from scaling_study.run import algorithm_config

    built = algorithm_config.build_config(config)
    return built.algo_class.default_resource_request(built)


def experiment_dir(options: SweepOptions, spec: ExperimentSpec) -> Path:
    return Path(options.storage_path).expanduser().resolve() / (options.name or spec.name)


def check_fit(spec: ExperimentSpec, node_cpus: float, cores: int, capacity: float, allow_pending: bool) -> None:
    too_big = points_that_do_not_fit(spec, node_cpus, cores, capacity)
    if too_big and not allow_pending:
        listed = "; ".join(f"{label} needs {cpus:g}" for label, cpus in too_big)
        raise UsageError(
            f"{spec.source}: {len(too_big)} grid point(s) need more than the {capacity:g} CPUs Ray has "
            f"({listed}); drop them, or oversubscribe deliberately with --num-cpus N (local Ray), "
            f"or pass --allow-pending on an autoscaling cluster"
        )


def check_envs(spec: ExperimentSpec, node_cpus: float, cores: int | None = None) -> None:
    """Build each grid point's env once, before Ray starts: an `env.config` gymnasium refuses would
    otherwise surface as a traceback from calibration's Ray task. Needs gymnasium only, not Ray."""
    from scaling_study.run import envs
    from scaling_study.run.config_calls import env_config

    for config in {repr(c): c for c in map(env_config, trial_params(spec, node_cpus, cores))}.values():
        try:
            env = envs.make_env(config)
        except envs.MissingEnvExtra as err:
            raise SpecError(f"{spec.source}: env.id: {err}") from None
        except Exception as err:
            raise SpecError(f"{spec.source}: env.config: gymnasium.make({config['id']!r}, **{config['kwargs']}) "
                            f"failed ({_one_line(err)}); expected keyword arguments {config['id']} accepts") from None
        problem = envs.observation_space_problem(env.observation_space)
        env.close()
        if problem:
            raise SpecError(f"{spec.source}: env.id: {problem}")


def check_configs(spec: ExperimentSpec, node_cpus: float, cores: int) -> None:
    """The envs, then every grid point's config as RLlib validates it, before Ray starts: Tune would
    validate a point only on reaching it, and a refusal then ends the sweep mid-way in a traceback."""
    import logging

    from scaling_study.run import algorithm_config

    check_envs(spec, node_cpus, cores)
    points = {params["point"]: params for params in trial_params(spec, node_cpus, cores)}
    logging.disable(logging.WARNING)  # RLlib's notice that the algorithm runs on the new API stack
    try:
        for label, params in points.items():
            try:
                algorithm_config.build_config(params).validate()
            except Exception as err:
                raise SpecError(f"{spec.source}: {label}: RLlib refuses this configuration: {_one_line(err)}") from None
    finally:
        logging.disable(logging.NOTSET)


def _one_line(err: Exception) -> str:
    lines = str(err).strip().splitlines()
    return f"{type(err).__name__}: {lines[0] if lines else ''}"


def build_tuner(spec: ExperimentSpec, params: list[dict[str, Any]], todo: list[int], exp_dir: Path, options: SweepOptions,
                concurrency):
    """A Tuner for the trials still to run; `params` is the whole grid so indices stay stable;
    `concurrency` (node_exclusive.Concurrency) says how many at once and what each holds."""
    from ray import tune

    from scaling_study.core.trial_names import TrialNames
    from scaling_study.run.stopping import ScalingStopper
    from scaling_study.run.tracking import sweep_callbacks
    from scaling_study.run.trial import run_trial

    if auto_axis(spec) is not None or spec.first_seeds is not None:
        # auto: candidates in order, until adding stops paying; repeats: {first, most}: then seeds to the
        # contenders
        from scaling_study.run.explore import ExploreSearcher
        from scaling_study.run.racing import finished_rates

        space, search = {}, {"search_alg": ExploreSearcher(params, todo, exp_dir, finished_rates(exp_dir),
                                                           first_seeds=spec.first_seeds),
                             "num_samples": len(todo)}
    elif spec.prune:  # racing: a searcher hands out the trials a round of repeats at a time
        from scaling_study.run.racing import RacingSearcher, finished_rates

        space, search = {}, {"search_alg": RacingSearcher(params, todo, exp_dir, finished_rates(exp_dir)),
                             "num_samples": len(todo)}
    else:
        space, search = param_space(params), {}
        space["trial_index"] = tune.grid_search(todo)
    names = TrialNames(params)
    return tune.Tuner(
        tune.with_resources(run_trial, concurrency.resources(resources_for)),
        param_space=space,
        tune_config=tune.TuneConfig(
            max_concurrent_trials=concurrency.trials_at_once,
            reuse_actors=options.reuse_actors,
            trial_name_creator=names.name,
            trial_dirname_creator=names.dirname,
            **search,
        ),
        run_config=tune.RunConfig(
            name=exp_dir.name,
            storage_path=str(exp_dir.parent),
            stop=ScalingStopper(spec.stop),  # the file's caps, and precision
            verbose=1 if options.verbose else 0,
            # result.json, progress.csv, TensorBoard and the trackers asked for; no checkpoints unless asked.
            callbacks=sweep_callbacks(spec.tracking, spec.name, exp_dir, spec.stop, total=len(params),
                                      done_before=len(params) - len(todo), retries=spec.retries),
            checkpoint_config=tune.CheckpointConfig(checkpoint_at_end=False, num_to_keep=None),
            # A failed trial runs again from scratch (retries.py): there is no checkpoint to resume from.
            failure_config=tune.FailureConfig(max_failures=spec.retries),
        ),
    )


@sweep_lock.one_sweep_at_a_time(lambda spec, options, argv=None: (experiment_dir(options, spec), options.wait))
def run_sweep(spec: ExperimentSpec, options: SweepOptions, argv: list[str] | None = None) -> Path:
    """Validate everything, start or join Ray, run the grid, and return the experiment directory.

    Nothing is written before the sweep is accepted: the storage path can hold results, a cluster is
    reachable, every grid point fits, and any results already there are of this same experiment.
    """
    import ray

    from scaling_study.run import cluster
    from scaling_study.run.ray_logs import RayLog
    from scaling_study.run.resume import trials_to_run

    exp_dir = experiment_dir(options, spec)
    joining = check_results_path(exp_dir, options)
    job_env = own_env_runtime(spec)
    check_trackers_ready(spec.tracking, spec.source)
    # A local Ray's CPUs and cores are known before it starts; a cluster's only once it is joined.
    resume = None if joining else accept(spec, exp_dir, local_cpus(options.num_cpus or spec.num_cpus),
                                         granted_cores().granted, options)
    quiet_tune(options.verbose)
    log = RayLog(None if options.verbose else exp_dir / layout.RAY_LOG, hold=joining)
    try:
        ray_cpus = None if joining else int(local_cpus(options.num_cpus or spec.num_cpus))
        info = cluster.start_or_join(options.address, ray_cpus, quiet=not options.verbose, runtime_env=job_env)
        if joining:
            resume = accept(spec, exp_dir, info.trial_node_cpus, info.trial_cores, options, info.logical_cpus)
            log.keep()
        params = trial_params(spec, info.trial_node_cpus, info.trial_cores)
        concurrency = node_exclusive.decide(options.max_concurrent_trials or spec.max_concurrent_trials, joining,
                                            info.node_cpus, params, info.oversubscribed)
        _print_plan(spec, params, info, exp_dir, resume)
        if joining:
            print(f"Concurrency: {concurrency.why}.", flush=True)
        write_suite_files(exp_dir, spec, params, info, resume, argv, concurrency, options.recalibrate)
        todo = trials_to_run(exp_dir, len(params), resume)
        if todo:
            grid = build_tuner(spec, params, todo, exp_dir, options, concurrency).fit()
            _raise_if_interrupted(exp_dir, grid, todo, params)
        _print_summary(exp_dir)
    finally:
        ray.shutdown()
        log.close()
    return exp_dir


def own_env_runtime(spec: ExperimentSpec) -> dict[str, Any] | None:
    """The job's runtime_env that ships the env modules of your own to every worker (env_imports.py)."""
    from scaling_study.core import env_imports

    modules = env_imports.modules_to_import(spec.env_id, spec.env_imports)
    return env_imports.runtime_env(env_imports.import_in_driver(modules))


def check_results_path(exp_dir: Path, options: SweepOptions) -> bool:
    """Refuse a storage path that cannot hold results; when joining a cluster, check (bounded) that it
    is there and that every node sees the path. True when joining a cluster."""
    storage.check_storage_uri(options.storage_path)
    storage.check_writable(exp_dir)
    if not options.address:
        return False
    from scaling_study.run import cluster

    # Bounded: ray.init alone may retry a bad address for minutes.
    nodes = cluster.preflight(options.address).nodes
    storage.check_shared_storage(exp_dir, nodes, options.shared_storage)
    return True


def accept(spec: ExperimentSpec, exp_dir: Path, node_cpus: float, cores: int, options: SweepOptions,
           capacity: float | None = None) -> bool:
    """Every grid point fits (or pending is allowed), RLlib accepts its config, and the directory holds
    this experiment or none; True to resume it."""
    from scaling_study.run.resume import decide_resume

    check_fit(spec, node_cpus, cores, node_cpus if capacity is None else capacity, options.allow_pending)
    check_configs(spec, node_cpus, cores)
    return decide_resume(exp_dir, spec, options.restart)


def quiet_tune(verbose: bool) -> None:
    # Our loggers are in the callbacks (tracking.py); Tune would otherwise add its own second set.
    os.environ["TUNE_DISABLE_AUTO_CALLBACK_LOGGERS"] = "1"
    if not verbose:
        # The legacy reporter honours verbose=0; the new one prints a config box regardless.
        os.environ["RAY_AIR_NEW_OUTPUT"] = "0"


def write_suite_files(exp_dir: Path, spec: ExperimentSpec, params: list[dict[str, Any]], info, resume: bool,
                      argv: list[str] | None, concurrency, recalibrate: bool = False) -> None:
    """provenance.json (kept from the first run when resuming), configs.json (each point's config as
    copyable Python) and calibration.json (measured once per machine, env and versions:
    calibration_cache.py)."""
    from scaling_study.run import calibration_cache, provenance
    from scaling_study.run.config_calls import algorithm_of, as_python, env_config, preamble

    if not resume or not (exp_dir / layout.PROVENANCE).exists():
        record = provenance.collect(spec.to_dict(), info.to_dict(), argv, concurrency.to_dict())
        layout.write_json(exp_dir / layout.PROVENANCE, record)
    if not resume or not (exp_dir / layout.CONFIGS).exists():
        chains = {p["point"]: as_python(p) for p in params if p["repeat"] == 0}
        algorithms = sorted({algorithm_of(p) for p in params})
        layout.write_json(exp_dir / layout.CONFIGS, {"preamble": preamble(algorithms), "points": chains})
    if not (exp_dir / layout.CALIBRATION).exists():
        layout.write_json(exp_dir / layout.CALIBRATION,
                              calibration_cache.calibration(env_config(params[0]), params, recalibrate))


class SweepInterrupted(Exception):
    """Tune stopped before every trial finished or errored (its SIGINT handler ends fit() quietly)."""

    def __init__(self, exp_dir: Path, finished: int, total: int):
        super().__init__(f"{finished} of {total} trials finished")
        self.exp_dir, self.finished, self.total = exp_dir, finished, total


def _raise_if_interrupted(exp_dir: Path, grid, todo: list[int], params: list[dict[str, Any]]) -> None:
    """Trials neither in the ledger nor errored nor pruned (racing) were cut short: Tune marks them
    TERMINATED on Ctrl-C, so the ledger, not Tune's status, says what finished."""
    from scaling_study.run.explore import unexplored_trials, unseeded_trials
    from scaling_study.run.ledger import finished_trials
    from scaling_study.run.racing import pruned_trials

    finished = finished_trials(exp_dir)
    errored = {result.config["trial_index"] for result in grid if result.error is not None}
    skipped = pruned_trials(params, exp_dir) | unexplored_trials(params, exp_dir) | unseeded_trials(params, exp_dir)
    if set(todo) - set(finished) - errored - skipped:
        raise SweepInterrupted(exp_dir, len(finished), len(params))


def _print_plan(spec, params, info, exp_dir: Path, resume: bool) -> None:
    points = len({p["point"] for p in params})
    where = f"cluster at {info.address}" if info.address else "a local Ray"
    over = " (oversubscribed: more logical CPUs than cores)" if info.oversubscribed else ""
    verb = "Resuming" if resume else "Running"
    racing = "\nRacing: after each round of repeats, points clearly slower than the best are not run again." \
        if spec.prune else ""
    auto = auto_axis(spec)
    if auto is not None:
        points_word = f"up to {points} grid points"
        racing = (f"\nauto: {auto[0]} candidates in order, stopping once one more no longer pays (two steps under "
                  f"+5%, or an interval wholly below the best's); RLlib's default (2 env runners x 1 env) as a "
                  f"reference.")
    else:
        points_word = f"{points} grid points"
    repeats = f"{spec.repeats} repeat(s)"
    if spec.first_seeds is not None:
        repeats = f"up to {spec.repeats} seeds"
        racing += (f"\nSeeds: {spec.first_seeds} per point first, then one more each round to the fastest and the next until "
                   f"their 95% intervals over seeds come apart, or {spec.repeats} each.")
    print(
        f"{verb} {spec.name} on {info.describe_cores()}: {points_word} x {repeats} = up to {len(params)} "
        f"trials on {where} with {info.logical_cpus:g} CPUs{over}, up to {max(cpus_needed(p) for p in params):g} "
        f"CPUs per trial.\nResults: {exp_dir}{racing}",
        flush=True,
    )


def _print_summary(exp_dir: Path) -> None:
    from scaling_study.core.rows import GROUP
    from scaling_study.core.tune_files import find_trial_dirs, read_trial
    from scaling_study.run.progress import throughput_table

    rows = []
    for trial_dir in find_trial_dirs(exp_dir):
        trial = read_trial(trial_dir)
        for result in trial.rows if trial.params else []:
            scaling = result.get(GROUP) or {}
            if scaling and not scaling.get("warmup"):
                rows.append({"point": trial.params["point"], "trial_id": result["trial_id"],
                             "cpus": scaling["cpus"], "env_steps_per_s": scaling["env_steps_per_s"],
                             "setup_s": scaling["setup_s"]})
    print("\nThroughput per grid point (median over measured iterations and repeats):")
    print(throughput_table(rows))
    finished, errored = trial_counts(exp_dir)
    if errored:
        print(f"{errored} trial(s) errored: see error.txt in their trial directories.")
    print(f"\n{finished} trials finished. Tune results: {exp_dir}", flush=True)


def trial_counts(exp_dir: Path) -> tuple[int, int]:
    """(finished, errored) trials of the experiment. A resume sets the directories of unfinished trials
    aside, errored ones included, so the errored are those of the latest run."""
    from scaling_study.core.tune_files import find_trial_dirs, read_trial
    from scaling_study.run.ledger import finished_trials

    errored = sum(read_trial(d).error_text is not None for d in find_trial_dirs(exp_dir))
    return len(finished_trials(exp_dir)), errored
