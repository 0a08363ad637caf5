"""The CPUs one PPO trial reserves: the one formula the sweep (fit checks, `scaling/cpus`) and the
analysis (foreign directories) share. Pure: counts before Ray or RLlib is imported.

A test holds `cpus_needed` equal to RLlib's own `PPO.default_resource_request`, the placement group
the sweep actually asks Ray for (see `sweep.resources_for`).
"""

from __future__ import annotations

import math
from typing import Any

from scaling_study.core.cores import granted_cores
from scaling_study.core.settings import resolve

RESOURCE_SETTINGS = (
    "num_env_runners", "num_cpus_per_env_runner", "num_learners", "num_cpus_per_learner", "num_cpus_for_main_process",
)
CPU_SETTINGS = ("num_cpus_per_env_runner", "num_cpus_per_learner", "num_cpus_for_main_process")
"""The settings that make up a trial's CPU reservation; a file that sets none gets one fitted to its node."""
PLACEMENT_SETTINGS = (*RESOURCE_SETTINGS, "placement_strategy")
"""What a trial's placement group is made of (RLlib's default_resource_request reads no others)."""
RAY_CPU_UNIT = 1e-4
"""Ray counts resources in units of 1e-4: a fitted reservation is rounded down to it, so it still fits."""


def cpus_needed(settings: dict[str, Any]) -> float:
    """CPUs one trial reserves: the main process, its env runners and its remote learners.

    With num_learners=0 the learner lives in the main process, whose bundle is then the larger of the
    two CPU settings (RLlib's `_get_main_process_bundle`). Settings may use any alias; absent ones take
    RLlib's defaults.
    """
    s = resolve(settings, RESOURCE_SETTINGS)
    if s["num_learners"] == 0:
        main = max(s["num_cpus_per_learner"], s["num_cpus_for_main_process"])
        learners = 0
    else:
        main = s["num_cpus_for_main_process"]
        learners = s["num_learners"] * s["num_cpus_per_learner"]
    return main + s["num_env_runners"] * s["num_cpus_per_env_runner"] + learners


def placement_shape(settings: dict[str, Any]) -> tuple:
    """A key equal for two trials that ask Ray for the same placement group. Tune hands a finished
    trial's process to the next trial only when their placement groups are equal (reuse_actors), so the
    searchers run trials of one shape one after another."""
    return tuple(resolve(settings, PLACEMENT_SETTINGS).values())


def fitted_reservation(settings: dict[str, Any], node_cpus: float) -> dict[str, float]:
    """The CPU settings that make a trial of `settings` fit a node of `node_cpus` CPUs, or {} when it
    needs none: the file set a reservation (honoured as written), its learners are remote, or RLlib's
    default (1 CPU for the main process + 1 per env runner) already fits.

    A PPO trial samples, then learns: its runners and its main process seldom run at once, so the
    reservation need not be what a trial uses. Fitted, the main process (which learns) holds 1 CPU, or
    half the node's when it has fewer than 2, and the env runners share the rest equally.
    """
    if any(settings.get(name) is not None for name in CPU_SETTINGS):
        return {}
    s = resolve(settings, RESOURCE_SETTINGS)
    runners = s["num_env_runners"]
    if s["num_learners"] or cpus_needed(settings) <= node_cpus or runners == 0:
        return {}
    main = min(1.0, node_cpus / 2)
    per_runner = math.floor((node_cpus - main) / runners / RAY_CPU_UNIT) * RAY_CPU_UNIT
    per_runner = round(per_runner, 4)
    if per_runner <= 0:
        return {}  # more runners than Ray can count CPUs for: refused later as not fitting
    main = round(node_cpus - runners * per_runner, 4)  # what rounding leaves goes to the main process: the
    # trial then reserves exactly the node (3 runners on 2: 0.3333 each, 1.0001 for the main process)
    return {"num_cpus_for_main_process": main, "num_cpus_per_learner": main, "num_cpus_per_env_runner": per_runner}


def local_cpus(requested: float | None) -> float:
    """Logical CPUs a local Ray will have: what was asked for, else the cores this process is granted
    (core/cores.py: CPU affinity, cgroups, SLURM), which Ray 2.60 alone would overcount."""
    return float(requested) if requested else float(granted_cores().granted)

