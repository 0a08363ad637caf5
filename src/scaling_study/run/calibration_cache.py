"""Calibration measured once per machine, env, step cost, grid and software versions, then reused.

A thin layer around `calibrate.calibrate`: the key names everything that changes what it measures (the
machine or the cluster's nodes, the env and its step cost, the grid's sampler configurations, Python,
Ray, gymnasium and numpy, and calibrate.py's own source: a changed method measures afresh), and the
cached file is what `calibrate` returned, plus where it came from. `--recalibrate` measures afresh and
replaces the cached file. The cache lives in $SCALING_STUDY_CACHE_DIR, else $XDG_CACHE_HOME/scaling-study,
else ~/.cache/scaling-study.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import platform
from pathlib import Path
from typing import Any

from scaling_study.core.layout import write_json
from scaling_study.run.provenance import _version, cpu_model

CACHE_ENV = "SCALING_STUDY_CACHE_DIR"


def cache_dir() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "scaling-study"


# Keys of a trial's params that do not change what calibration measures.
PER_TRIAL = ("seed", "repeat", "trial_index", "point", "trial_timeout_s", "warmup_iterations")


def method_digest() -> str:
    """calibrate.py's source, hashed: a cached calibration is reused only by the method that measured it."""
    from scaling_study.run import calibrate

    return hashlib.sha256(Path(calibrate.__file__).read_bytes()).hexdigest()[:16]


def cache_key(env_config: dict[str, Any], nodes: list[dict[str, Any]],
              trial_params: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """What the calibration depends on. `nodes`: Ray's alive nodes (address and CPUs of each);
    `trial_params`: the grid, whose sampler configurations calibrate also measures."""
    grid = sorted({json.dumps({k: v for k, v in p.items() if k not in PER_TRIAL}, sort_keys=True, default=str)
                   for p in trial_params or []})
    return {
        "grid": grid,
        "machine": {"hostname": platform.node(), "cpu_model": cpu_model(), "cpu_count": os.cpu_count()},
        "nodes": sorted((n.get("NodeManagerAddress"), n.get("Resources", {}).get("CPU")) for n in nodes),
        "env": env_config,
        "method": method_digest(),
        "versions": {name: _version(name) for name in ("ray", "gymnasium", "numpy")}
        | {"python": platform.python_version()},
    }


def cache_path(key: dict[str, Any]) -> Path:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return cache_dir() / "calibration" / f"{key['env'].get('id', 'env')}-{digest}.json"


def calibration(env_config: dict[str, Any], trial_params: list[dict[str, Any]] | None = None,
                recalibrate: bool = False) -> dict[str, Any]:
    """The calibration for this env on the running Ray's nodes: from the cache, or measured and cached.
    The result's `cache` entry says which (`hit`), where the file is, and when it was measured."""
    import ray

    from scaling_study.run import calibrate

    key = cache_key(env_config, [n for n in ray.nodes() if n.get("Alive")], trial_params)
    path = cache_path(key)
    if not recalibrate:
        try:
            cached = json.loads(path.read_text())
            return {**cached, "cache": {**cached["cache"], "hit": True}}
        except (OSError, ValueError, KeyError, TypeError):
            pass  # not cached yet, or a damaged file: measure
    measured = calibrate.calibrate(env_config, trial_params)
    entry = {"path": str(path), "measured_at": datetime.datetime.now(datetime.timezone.utc).isoformat(
        timespec="seconds"), "key": key}
    try:
        write_json(path, {**measured, "cache": entry})
    except OSError:
        entry["path"] = None  # an unwritable cache costs a calibration next time, never the sweep
    return {**measured, "cache": {**entry, "hit": False}}
