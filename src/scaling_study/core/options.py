"""The sweep's options, declared once: a field of `SweepOptions` carries its type, its default and its
help (CleanRL's `Args`), and `add_options` makes the command line's flags from the fields, so the CLI,
Python callers (`run_sweep(spec, SweepOptions(...))`) and the docs cannot drift apart.

    parser = argparse.ArgumentParser(); add_options(parser, SweepOptions)
    options = options_from(SweepOptions, parser.parse_args())
"""

from __future__ import annotations

import argparse
import os
from dataclasses import MISSING, dataclass, field, fields
from typing import Any


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return int(text)


def option(default: Any, help: str, *, flag: str | None = None, parse=None, env: str | None = None) -> Any:
    """A field that is also a command-line option. `flag` names it (default: --field-name; a bool that
    defaults to True needs a flag that turns it off, e.g. --no-wait); `parse` converts the text;
    `env` names an environment variable that gives the command line's default."""
    return field(default=default, metadata={"help": help, "flag": flag, "parse": parse, "env": env})


@dataclass
class SweepOptions:
    storage_path: str = option("results", "where Tune writes (default: results)")
    name: str | None = option(None, "experiment name (default: the file's name:)")
    address: str | None = option(None, "join a running Ray cluster (default: $RAY_ADDRESS; else start a local Ray)",
                                 env="RAY_ADDRESS")
    # Whole numbers only: Ray's CPU count is an int, and the fit check must use the count Ray gets.
    num_cpus: int | None = option(None, "logical CPUs for the local Ray; more than the cores is a deliberate "
                                        "oversubscription", parse=positive_int)
    max_concurrent_trials: int | None = option(
        None, "trials at once, as given (default: the file's, else 1 on one node, and on a cluster one per node, "
              "each holding a whole node: trials never share cores)", parse=positive_int)
    allow_pending: bool = option(False, "run points that do not fit now (an autoscaling cluster may grow)")
    restart: bool = option(False, "start afresh instead of resuming")
    verbose: bool = option(False, "show Ray's and Tune's own output")
    reuse_actors: bool = option(True, "start a fresh process for every trial instead of reusing a finished trial's",
                                flag="--cold-processes")
    """Warm processes: Tune runs a trial in the process of a finished one that reserved the same resources,
    saving the start of a process that imports RLlib and torch (rows record `warm_process`, `startup_s`)."""
    recalibrate: bool = option(False, "measure the env's raw steps/s afresh instead of reusing this machine's "
                                      "cached figure")
    wait: bool = option(True, "refuse, instead of waiting, when another sweep is running on this machine",
                        flag="--no-wait")
    """Wait for a sweep already running on this machine (run/sweep_lock.py); False refuses instead."""
    shared_storage: bool = option(False, "assert that --storage-path is a file system every cluster node mounts "
                                         "at that path")


def add_options(parser: argparse.ArgumentParser, cls: type) -> None:
    """An argparse option per field of `cls`, from the field's default, type and help."""
    for f in fields(cls):
        meta = f.metadata
        flag = meta.get("flag") or "--" + f.name.replace("_", "-")
        default = f.default if f.default is not MISSING else None
        if isinstance(default, bool):
            parser.add_argument(flag, dest=f.name, action="store_false" if default else "store_true",
                                help=meta["help"])
            continue
        if meta.get("env"):
            default = os.environ.get(meta["env"]) or default
        parser.add_argument(flag, dest=f.name, default=default, type=meta.get("parse"), help=meta["help"])


def options_from(cls: type, args: argparse.Namespace) -> Any:
    """`cls` filled from parsed arguments (the fields only; the parser may hold other options too)."""
    return cls(**{f.name: getattr(args, f.name) for f in fields(cls)})
