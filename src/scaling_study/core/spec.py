"""Experiment files: YAML -> a validated, typed `ExperimentSpec`, then grid points and trial params.

Everything here runs before Ray starts, so a mistake in a file costs the user one line and no wait:

    spec = load_spec("experiments/frozenlake.yaml")     # raises SpecError with one readable line
    params = trial_params(spec, node_cpus=2)             # one dict per trial (grid x repeats)
"""

from __future__ import annotations

import difflib
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from scaling_study.core.env_imports import (
    EnvImportError,
    check_module_names,
    import_in_driver,
    modules_to_import,
    registered_name,
)
from scaling_study.core.errors import SpecError
from scaling_study.core.resources import cpus_needed, fitted_reservation
from scaling_study.core.settings import (
    ALIASES,
    DEFAULTS,
    SETTINGS,
    display_value,
    non_negative_int,
    positive_int,
    positive_number,
)
from scaling_study.core.tracking_spec import parse_tracking

TOP_LEVEL_KEYS = (
    "name", "description", "env", "search_space", "fixed", "repeats", "stop", "warmup_iterations",
    "max_concurrent_trials", "num_cpus", "trial_timeout_s", "seed", "prune", "tracking",
    "retries", "algorithm",
)
ENV_KEYS = ("id", "import", "config", "step_cost")

# Stop keys Tune accepts for these trials; the strings are RLlib's metric names (a test holds them
# equal to ray.rllib.utils.metrics, which is too slow to import before validation).
STOP_KEYS = {
    "training_iteration": positive_int,
    "time_total_s": positive_number,
    "num_env_steps_sampled_lifetime": positive_int,
    "env_runners/episode_return_mean": lambda v: None if isinstance(v, (int, float)) else "a number",
    # Not a metric: stop once the trial's throughput is known to +-this fraction (stopping.py).
    "precision": lambda v: None if isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v < 1
    else "a fraction between 0 and 1, e.g. 0.05 for +-5%",
}
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
AUTO = "auto"
AUTO_SETTINGS = ("num_env_runners", "num_envs_per_env_runner")
"""The settings `auto` explores (run/explore.py): in a file, `auto` or `{auto: {max: N}}`."""
ENVS_AUTO_MAX = 64
"""Where `num_envs_per_env_runner: auto` stops at the latest (1, 2, 4, ... 64), unless capped lower."""
EXPLORE_PARAMS = ("auto_series", "auto_setting", "reference")
"""Trial params that tell run/explore.py a trial's place in `auto`'s search: bookkeeping, not settings."""
REFERENCE = {"num_env_runners": 2, "num_envs_per_env_runner": 1}
"""RLlib's own PPO default parallelism (PPOConfig: num_env_runners=2, one env each): run beside `auto`
as a named reference point, so the report can say what the best setting gains over it."""


@dataclass
class ExperimentSpec:
    """One study, as read from `experiments/<name>.yaml`."""

    name: str
    """Experiment name: the folder under the storage path, and the report's title."""
    env_id: str
    """Gymnasium env id, e.g. FrozenLake-v1, or 'module:EnvId' for an env a module of yours registers."""
    search_space: dict[str, Any] | list[dict[str, Any]]
    """Grid axes (setting -> list of values, or `auto` / `{auto: {max: N}}` for num_env_runners or
    num_envs_per_env_runner), or an explicit list of points (each a mapping of settings)."""
    env_config: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments passed to gymnasium.make."""
    env_imports: list[str] = field(default_factory=list)
    """Modules imported (in the driver and every worker) before the env is made: they register envs."""
    tracking: dict[str, Any] = field(default_factory=dict)
    """Extra Tune logger callbacks (tensorboard, wandb, mlflow): see scaling_study.run.tracking."""
    fixed: dict[str, Any] = field(default_factory=dict)
    """Settings held constant across the grid."""
    repeats: int = 1
    """Trials (seeds) per grid point; with `first_seeds`, the most any point gets."""
    first_seeds: int | None = None
    """`repeats: {first: F, most: M}`: every point visited is measured on F seeds, then seeds go to the
    fastest and its rivals until they come apart or have M (core/adaptive.seeds_round). None: every
    point gets all `repeats`."""
    stop: dict[str, Any] = field(default_factory=lambda: {"training_iteration": 5})
    """Tune stop criteria: a trial stops when any is reached."""
    warmup_iterations: int = 1
    """Iterations at the start of each trial left out of throughput statistics."""
    max_concurrent_trials: int | None = None
    """Trials running at once; None: one at a time on one node, node-exclusive on a cluster
    (node_exclusive.py), so trials never share cores and spoil each other's timings."""
    num_cpus: int | None = None
    """Logical CPUs for a local Ray; more than the machine has is a deliberate oversubscription."""
    trial_timeout_s: float | None = None
    """Wall seconds after which a trial that has not finished is stopped (guards against stalls)."""
    retries: int = 2
    """Times a failed trial (its node lost, its process killed) is run again, from scratch on the nodes
    left (never from a checkpoint: no trial mixes timings of two placements); 0: never."""
    seed: int = 0
    """Seed of the first repeat; repeat r uses seed + r."""
    prune: bool = False
    """Racing: after each round of repeats, points clearly slower than the best are not run again."""
    description: str = ""
    source: str = "<memory>"
    """Where the spec came from (for messages and provenance)."""

    def to_dict(self) -> dict[str, Any]:
        """The resolved spec, in the file's own shape, for provenance."""
        return {
            "name": self.name, "description": self.description,
            "env": {"id": self.env_id, "config": self.env_config,
                    **({"import": self.env_imports} if self.env_imports else {})},
            "search_space": self.search_space, "fixed": self.fixed,
            "repeats": self.repeats if self.first_seeds is None else {"first": self.first_seeds, "most": self.repeats},
            "stop": self.stop, "warmup_iterations": self.warmup_iterations,
            "max_concurrent_trials": self.max_concurrent_trials, "num_cpus": self.num_cpus,
            "trial_timeout_s": self.trial_timeout_s, "seed": self.seed, "prune": self.prune,
            "retries": self.retries, "source": self.source,
            **({"tracking": self.tracking} if self.tracking else {}),
        }


# ---------------------------------------------------------------- loading


def load_spec(path: str | Path) -> ExperimentSpec:
    """Read and validate an experiment file; any problem raises SpecError naming file and key."""
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"{path}: no such experiment file (expected a YAML file, e.g. experiments/smoke.yaml)")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(err, "problem", None) or "not valid YAML"
        raise SpecError(f"{path}: broken YAML{where}: {problem}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise SpecError(f"{path}: cannot read the file: {err}") from None
    return parse_spec(raw, source=str(path))


def parse_spec(raw: Any, source: str = "<memory>") -> ExperimentSpec:
    """Validate a YAML document (already parsed) into an ExperimentSpec."""
    if not isinstance(raw, dict):
        raise SpecError(f"{source}: expected a mapping of keys (name, env, search_space, ...), got {_kind(raw)}")
    _reject_unknown(raw, TOP_LEVEL_KEYS, source, "")
    name = _require(raw, "name", source)
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise SpecError(f"{source}: name: expected letters, digits, '_', '-' or '.' (no path separators), got {name!r}")
    env_id, env_imports, env_config, env_step_cost = _parse_env(_require(raw, "env", source), source)
    fixed = _parse_settings(raw.get("fixed") or {}, source, "fixed", as_axes=False)
    space = _parse_space(_require(raw, "search_space", source), source)
    swept = set(space) if isinstance(space, dict) else set(space[0])
    autos = [k for k, v in space.items() if not isinstance(v, list)] if isinstance(space, dict) else []
    if autos and raw.get("prune"):
        raise SpecError(f"{source}: prune: true races list axes; search_space.{autos[0]} is 'auto', which stops on "
                        f"its own once adding no longer pays; expected prune: false or a list of values")
    if len(autos) > 1:
        raise SpecError(f"{source}: search_space.{autos[1]}: 'auto' on one setting at a time (also on {autos[0]}); "
                        f"expected a list of values for one of them")
    if "algorithm" in raw:  # `algorithm: APPO` at the top: the same as under fixed
        if "algorithm" in fixed or "algorithm" in swept:
            raise SpecError(f"{source}: algorithm: also set under fixed or search_space; keep one")
        _check_value("algorithm", raw["algorithm"], source, "algorithm")
        fixed["algorithm"] = _normalise("algorithm", raw["algorithm"])
    if env_step_cost is not None:
        if "step_cost" in fixed or "step_cost" in swept:
            raise SpecError(f"{source}: env.step_cost: also set under fixed or search_space; keep one")
        fixed["step_cost"] = env_step_cost
    both = sorted(set(fixed) & swept)
    if both:
        raise SpecError(f"{source}: {both[0]}: both fixed and swept; keep it in one of fixed or search_space")
    spec = ExperimentSpec(
        name=name, env_id=env_id, env_config=env_config, env_imports=env_imports, search_space=space,
        fixed=fixed, source=source, tracking=parse_tracking(raw.get("tracking"), source),
        description=str(raw.get("description") or ""),
        **_parse_repeats(raw.get("repeats"), bool(raw.get("prune")), source),
        stop=_parse_stop(raw.get("stop", {"training_iteration": 5}), source),
        warmup_iterations=_checked(raw, "warmup_iterations", 1, non_negative_int, source),
        max_concurrent_trials=_checked(raw, "max_concurrent_trials", None, positive_int, source),
        # Whole: Ray's CPU count is an int, and the fit check must use the count Ray gets.
        num_cpus=_checked(raw, "num_cpus", None, positive_int, source),
        trial_timeout_s=_checked(raw, "trial_timeout_s", None, positive_number, source),
        seed=_checked(raw, "seed", 0, non_negative_int, source),
        retries=_checked(raw, "retries", 2, non_negative_int, source),
        prune=_checked(raw, "prune", False, lambda v: None if isinstance(v, bool) else "true or false", source),
    )
    _check_warmup_leaves_iterations(spec)
    _check_algorithm_settings(spec)
    return spec


def _check_algorithm_settings(spec: ExperimentSpec) -> None:
    """A setting of one algorithm's (APPO's buffer) in a study that never runs it is a mistake; in a sweep
    over algorithms it applies to the trials of those that take it (config_calls leaves it out of the rest)."""
    points = spec.search_space if isinstance(spec.search_space, list) else [spec.search_space]
    for point in points:
        given = {**spec.fixed, **point}
        runs = given.get("algorithm", DEFAULTS["algorithm"])
        runs = set(runs) if isinstance(runs, list) else {runs}
        for name in given:
            takes = SETTINGS[name].algorithms
            if not runs & set(takes):
                where = "fixed" if name in spec.fixed else "search_space"
                raise SpecError(f"{spec.source}: {where}.{name}: a setting of {' and '.join(takes)} only, and this "
                                f"study runs {', '.join(sorted(runs))}; expected algorithm: {takes[0]} (or drop it)")


def _parse_repeats(repeats: Any, prune: bool, source: str) -> dict[str, Any]:
    """`repeats: N` (every point N seeds) or `repeats: {first: F, most: M}` (seeds where they change the
    ranking: F per point, up to M for the fastest and its rivals)."""
    if repeats is None:
        return {"repeats": 1}
    if not isinstance(repeats, dict):
        problem = positive_int(repeats)
        if problem:
            raise SpecError(f"{source}: repeats: expected {problem} or {{first: 1, most: 5}}, got {repeats!r}")
        return {"repeats": repeats}
    from scaling_study.core.stats import (
        MIN_SEEDS_FOR_CI as MIN_SEEDS,  # here: scipy only when it is asked for
    )

    _reject_unknown(repeats, ("first", "most"), source, "repeats.")
    first, most = repeats.get("first", 1), repeats.get("most")
    if positive_int(first) or positive_int(most) or most < max(first, MIN_SEEDS):
        raise SpecError(f"{source}: repeats: expected {{first: F, most: M}} with whole numbers 1 <= F <= M and "
                        f"M >= {MIN_SEEDS} (an interval over seeds needs {MIN_SEEDS}), got {repeats!r}")
    if prune:
        raise SpecError(f"{source}: repeats: {{first, most}} adds seeds to the contenders, prune: true races every "
                        f"point a round of repeats at a time; expected one of them (prune: false, or repeats: N)")
    return {"repeats": most, "first_seeds": first}


def _parse_env(env: Any, source: str) -> tuple[str, list[str], dict, Any]:
    if isinstance(env, str):
        env = {"id": env}
    if not isinstance(env, dict):
        raise SpecError(f"{source}: env: expected a mapping with 'id' (e.g. id: FrozenLake-v1), got {_kind(env)}")
    _reject_unknown(env, ENV_KEYS, source, "env.")
    env_id = _require(env, "id", source, "env.")
    try:
        imports = check_module_names(env.get("import") or [])
    except EnvImportError as err:
        raise SpecError(f"{source}: env.import: {err}") from None
    check_env_id(env_id, source, imports)
    config = env.get("config") or {}
    if not isinstance(config, dict):
        raise SpecError(f"{source}: env.config: expected a mapping of gymnasium.make keyword arguments, got {_kind(config)}")
    step_cost = env.get("step_cost")
    if step_cost is not None:
        problem = SETTINGS["step_cost"].check(step_cost)
        if problem:
            raise SpecError(f"{source}: env.step_cost: expected {problem}, got {step_cost!r}")
        step_cost = {"seconds": step_cost["seconds"], "mode": step_cost.get("mode", "spin")}
    return env_id, imports, config, step_cost


def check_env_id(env_id: Any, source: str, imports: list[str] = ()) -> None:
    """Import the modules that register envs (`imports`, and `module` of a 'module:EnvId' id) here in
    the driver, then check that gymnasium's registry holds the id."""
    import gymnasium

    if not isinstance(env_id, str):
        raise SpecError(f"{source}: env.id: expected a gymnasium env id such as FrozenLake-v1, got {env_id!r}")
    modules = modules_to_import(env_id, list(imports))
    try:
        import_in_driver(modules)
    except EnvImportError as err:
        raise SpecError(f"{source}: {'env.import' if imports else 'env.id'}: {err}") from None
    name = registered_name(env_id)
    if name not in gymnasium.envs.registry:
        near = difflib.get_close_matches(name, list(gymnasium.envs.registry), n=1)
        hint = f" (did you mean {near[0]}?)" if near else ""
        after = f" after importing {', '.join(modules)}" if modules else ""
        raise SpecError(f"{source}: env.id: gymnasium does not know {name!r}{after}{hint}")


def _parse_space(block: Any, source: str) -> dict[str, Any] | list[dict[str, Any]]:
    """A grid (mapping of axes) or an explicit list of points that all set the same keys."""
    if not isinstance(block, list):
        return _parse_settings(block, source, "search_space", as_axes=True)
    if not block:
        raise SpecError(f"{source}: search_space: empty list of points; expected at least one point")
    points = [_parse_settings(p, source, f"search_space[{i}]", as_axes=False) for i, p in enumerate(block)]
    for i, point in enumerate(points):
        if not point:
            raise SpecError(f"{source}: search_space[{i}]: empty point; expected settings such as num_env_runners: 2")
        if set(point) != set(points[0]):
            raise SpecError(
                f"{source}: search_space[{i}]: sets {sorted(point)}; expected the same keys as the first point "
                f"{sorted(points[0])}"
            )
    if len({repr(sorted(p.items())) for p in points}) != len(points):
        raise SpecError(f"{source}: search_space: a point is listed twice; expected distinct points")
    return points


def _parse_settings(block: Any, source: str, where: str, as_axes: bool) -> dict[str, Any]:
    """Check a `fixed` or `search_space` block: known names, aliases resolved, values typed."""
    if not isinstance(block, dict):
        raise SpecError(f"{source}: {where}: expected a mapping of RLlib settings, got {_kind(block)}")
    if as_axes and not block:
        raise SpecError(f"{source}: search_space: expected at least one axis, e.g. num_env_runners: [0, 1, 2]")
    settings: dict[str, Any] = {}
    for key, value in block.items():
        name = _current_name(key, block, source, where)
        key_path = f"{where}.{key}"
        if as_axes:
            settings[name] = _parse_axis(name, value, source, key_path)
        else:
            _check_value(name, value, source, key_path)
            settings[name] = _normalise(name, value)
    return settings


def _current_name(key: Any, block: dict, source: str, where: str) -> str:
    if key in ALIASES:
        current = ALIASES[key]
        if current in block:
            raise SpecError(f"{source}: {where}.{key}: is the old name of {current}, which is also set; keep one")
        return current
    if key in SETTINGS:
        return key
    known = sorted(SETTINGS) + sorted(ALIASES)
    near = difflib.get_close_matches(str(key), known, n=1)
    hint = f"did you mean {near[0]}?" if near else "known settings: " + ", ".join(sorted(SETTINGS))
    raise SpecError(f"{source}: {where}.{key}: unknown RLlib setting; {hint}")


def _parse_axis(name: str, value: Any, source: str, key_path: str) -> Any:
    if value == AUTO or (isinstance(value, dict) and AUTO in value):
        if name not in AUTO_SETTINGS:
            raise SpecError(f"{source}: {key_path}: 'auto' is only for {' or '.join(AUTO_SETTINGS)}; "
                            f"expected a list of values")
        return _parse_auto(value, source, key_path)
    if not isinstance(value, list):
        raise SpecError(f"{source}: {key_path}: expected a list of values to sweep (e.g. [1, 2, 4]), got {value!r}")
    if not value:
        raise SpecError(f"{source}: {key_path}: empty grid; expected at least one value")
    for item in value:
        _check_value(name, item, source, key_path)
    values = [_normalise(name, item) for item in value]
    if len({repr(v) for v in values}) != len(values):
        raise SpecError(f"{source}: {key_path}: a value is listed twice; expected distinct values")
    return values


def _parse_auto(value: Any, source: str, key_path: str) -> Any:
    """`auto`, or `{auto: {max: N}}` with N >= 1 (kept in the file's shape: provenance and resume compare it)."""
    if value == AUTO:
        return AUTO
    options = value[AUTO]
    if set(value) != {AUTO} or not isinstance(options, dict) or set(options) != {"max"}:
        raise SpecError(f"{source}: {key_path}: expected auto or {{auto: {{max: N}}}}, got {value!r}")
    if positive_int(options["max"]) is not None:
        raise SpecError(f"{source}: {key_path}.auto.max: expected a whole number >= 1, got {options['max']!r}")
    return {AUTO: {"max": options["max"]}}


def auto_axis(spec: ExperimentSpec) -> tuple[str, int | None] | None:
    """(setting, cap) of the grid's `auto` axis, or None when every axis is a list."""
    if isinstance(spec.search_space, list):
        return None
    for name, value in spec.search_space.items():
        if value == AUTO:
            return name, None
        if isinstance(value, dict):
            return name, value[AUTO]["max"]
    return None


def _check_value(name: str, value: Any, source: str, key_path: str) -> None:
    problem = SETTINGS[name].check(value)
    if problem:
        raise SpecError(f"{source}: {key_path}: expected {problem}, got {value!r}")


def _normalise(name: str, value: Any) -> Any:
    if name in ("placement_strategy", "algorithm"):
        return value.upper()
    if name == "gym_env_vectorize_mode":
        return value.lower()
    if name == "step_cost" and value is not None:
        return {"seconds": value["seconds"], "mode": value.get("mode", "spin")}
    return value


def _parse_stop(stop: Any, source: str) -> dict[str, Any]:
    if not isinstance(stop, dict) or not stop:
        raise SpecError(f"{source}: stop: expected a mapping such as {{training_iteration: 5}}, got {stop!r}")
    for key, value in stop.items():
        if key not in STOP_KEYS:
            near = difflib.get_close_matches(str(key), list(STOP_KEYS), n=1)
            hint = f"did you mean {near[0]}?" if near else "expected one of " + ", ".join(STOP_KEYS)
            raise SpecError(f"{source}: stop.{key}: unknown metric; {hint}")
        problem = STOP_KEYS[key](value)
        if problem:
            raise SpecError(f"{source}: stop.{key}: expected {problem}, got {value!r}")
    if set(stop) == {"precision"}:
        raise SpecError(f"{source}: stop.precision: needs a cap beside it, e.g. training_iteration: 30, "
                        f"for a trial whose throughput never settles")
    return dict(stop)


def _check_warmup_leaves_iterations(spec: ExperimentSpec) -> None:
    iterations = spec.stop.get("training_iteration")
    if iterations is not None and spec.warmup_iterations >= iterations:
        raise SpecError(
            f"{spec.source}: warmup_iterations: expected fewer than stop.training_iteration ({iterations}), "
            f"got {spec.warmup_iterations}: no iteration would be measured"
        )


def _require(block: dict, key: str, source: str, prefix: str = "") -> Any:
    if key not in block or block[key] is None:
        raise SpecError(f"{source}: {prefix}{key}: missing; this key is required")
    return block[key]


def _reject_unknown(block: dict, known: tuple[str, ...], source: str, prefix: str) -> None:
    for key in block:
        if key not in known:
            near = difflib.get_close_matches(str(key), [*known, *SETTINGS, *ALIASES], n=1)
            if near and (near[0] in SETTINGS or near[0] in ALIASES):
                hint = f"RLlib settings go under fixed: or search_space: (did you mean {near[0]}?)"
            elif near:
                hint = f"did you mean {near[0]}?"
            else:
                hint = "expected one of " + ", ".join(known)
            raise SpecError(f"{source}: {prefix}{key}: unknown key; {hint}")


def _checked(raw: dict, key: str, default: Any, check, source: str) -> Any:
    if raw.get(key) is None:
        return default
    value = raw[key]
    problem = check(value)
    if problem:
        raise SpecError(f"{source}: {key}: expected {problem}, got {value!r}")
    return value


def _kind(value: Any) -> str:
    return "nothing" if value is None else f"{type(value).__name__} {value!r}"[:80]


# ---------------------------------------------------------------- the grid


def auto_candidates(setting: str, cores: float, cap: int | None = None) -> list[int]:
    """The values `auto` may try, in order. Env runners: 0, 1, 2, 3, 4, then doubling, up to the first
    that is at least twice the granted `cores` (a trial past that would hold two runners per core).
    Envs per runner: 1, 2, 4, ... up to ENVS_AUTO_MAX. `cap` (`{auto: {max: N}}`) stops them sooner."""
    if setting == "num_env_runners":
        values, limit = [0, 1, 2, 3, 4], max(1, 2 * int(cores))
        while values[-1] < limit:
            values.append(values[-1] * 2)
        values = values[:next(i for i, v in enumerate(values) if v >= limit) + 1]
    else:
        values = [2**k for k in range(11) if 2**k <= ENVS_AUTO_MAX]
    return [v for v in values if cap is None or v <= cap]


def _with_reservation(point: dict[str, Any], node_cpus: float) -> dict[str, Any]:
    return {**point, **fitted_reservation(point, node_cpus)}


def grid_points(spec: ExperimentSpec, node_cpus: float, cores: float | None = None) -> list[dict[str, Any]]:
    """The settings of every grid point (fixed merged in), in file order, CPU reservations fitted to a
    node of `node_cpus` CPUs where the file sets none. An `auto` axis lists every candidate it may
    try on `cores` granted cores (default: node_cpus), then RLlib's default as a reference point; the
    sweep runs candidates in order until adding stops paying (run/explore.py). Under a reservation the
    file wrote, candidates that cannot fit are left out."""
    if isinstance(spec.search_space, list):
        return [_with_reservation({**spec.fixed, **point}, node_cpus) for point in spec.search_space]
    auto = auto_axis(spec)
    axes = {k: v for k, v in spec.search_space.items() if auto is None or k != auto[0]}
    points = []
    for combo in itertools.product(*axes.values()):
        base = {**spec.fixed, **dict(zip(axes, combo, strict=True))}
        if auto is None:
            points.append(_with_reservation(base, node_cpus))
            continue
        setting, cap = auto
        candidates = [_with_reservation({**base, setting: v}, node_cpus)
                      for v in auto_candidates(setting, cores or node_cpus, cap)]
        fitting = [p for p in candidates if cpus_needed(p) <= node_cpus]
        points.extend(fitting or candidates[:1])  # none fits: the first is refused with the usual message
    if auto is not None:
        reference = _with_reservation({**spec.fixed, **REFERENCE}, node_cpus)
        if cpus_needed(reference) <= node_cpus and not any(_same_settings(p, reference, spec) for p in points):
            points.append(reference)
    return points


def _same_settings(a: dict[str, Any], b: dict[str, Any], spec: ExperimentSpec) -> bool:
    return all(a.get(k) == b.get(k) for k in {*swept_settings(spec), *REFERENCE})


def is_reference(point: dict[str, Any]) -> bool:
    """Is this point RLlib's default parallelism (REFERENCE)?"""
    return all(point.get(k, DEFAULTS.get(k)) == v for k, v in REFERENCE.items())


def swept_settings(spec: ExperimentSpec) -> list[str]:
    """The settings the grid varies, in file order."""
    return list(spec.search_space[0] if isinstance(spec.search_space, list) else spec.search_space)


def point_label(point: dict[str, Any], spec: ExperimentSpec) -> str:
    """The swept settings of a point, e.g. 'num_env_runners=2, num_envs_per_env_runner=4'. For display
    only: the analysis reads a point's settings from params.json, never from this label."""
    keys = swept_settings(spec)
    if auto_axis(spec) is not None:
        keys = [*keys, *(k for k in REFERENCE if k not in keys)]  # the reference point differs there
    return ", ".join(f"{key}={display_value(point.get(key, DEFAULTS.get(key)))}" for key in keys)


def series_label(point: dict[str, Any], spec: ExperimentSpec) -> str | None:
    """The `auto` series a point belongs to: its settings on the other swept axes ("" when `auto` is the
    only axis), or None for a grid without `auto` and for the reference point outside the grid."""
    auto = auto_axis(spec)
    if auto is None:
        return None
    others = [k for k in swept_settings(spec) if k != auto[0]]
    if any(point.get(k) not in spec.search_space[k] for k in others):
        return None
    return ", ".join(f"{k}={display_value(point[k])}" for k in others)


def trial_params(spec: ExperimentSpec, node_cpus: float, cores: float | None = None) -> list[dict[str, Any]]:
    """One plain dict per trial (grid point x repeat): what Tune stores as the trial's params.json."""
    params, auto = [], auto_axis(spec)
    for point in grid_points(spec, node_cpus, cores):
        explore = {} if auto is None else dict(zip(EXPLORE_PARAMS, (series_label(point, spec), auto[0],
                                                                   is_reference(point)), strict=True))
        for repeat in range(spec.repeats):
            params.append({
                **{k: v for k, v in DEFAULTS.items() if k not in point},
                **point,
                "env_id": spec.env_id,
                "env_config": spec.env_config,
                **({"env_imports": spec.env_imports} if spec.env_imports else {}),
                "repeat": repeat,
                "seed": spec.seed + repeat,
                "point": point_label(point, spec),
                "warmup_iterations": spec.warmup_iterations,
                "trial_timeout_s": spec.trial_timeout_s,
                **explore,
            })
    return params


def points_that_do_not_fit(spec: ExperimentSpec, node_cpus: float, cores: float | None = None,
                           capacity: float | None = None) -> list[tuple[str, float]]:
    """(label, CPUs needed) for every grid point (reservations fitted to a node of `node_cpus`) that
    `capacity` CPUs cannot hold (default: the node's; on a cluster, all its CPUs, since a trial's
    bundles may spread over nodes)."""
    capacity = node_cpus if capacity is None else capacity
    return [
        (point_label(p, spec), cpus_needed(p))
        for p in grid_points(spec, node_cpus, cores)
        if cpus_needed(p) > capacity
    ]
