"""The CPUs one PPO trial reserves: the one formula the sweep (fit checks, `scaling/cpus`) and the
analysis (foreign directories) share. Pure: counts before Ray or RLlib is imported.

A test holds `cpus_needed` equal to RLlib's own `PPO.default_resource_request`, the placement group
the sweep actually asks Ray for (see `sweep.resources_for`).
"""

from __future__ import annotations

import os
from typing import Any

from scaling_study.core.settings import resolve

RESOURCE_SETTINGS = (
    "num_env_runners", "num_cpus_per_env_runner", "num_learners", "num_cpus_per_learner", "num_cpus_for_main_process",
)


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


def local_cpus(requested: float | None) -> float:
    """Logical CPUs a local Ray will have: what was asked for, else every core."""
    return float(requested) if requested else float(os.cpu_count() or 1)

