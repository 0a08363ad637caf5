"""The RLlib settings an experiment file may fix or sweep, with their checks and course-name aliases.

Names follow RLlib's current words. Each setting knows which `AlgorithmConfig` method takes it, so
`ppo.py` can apply any of them without a special case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PLACEMENT_STRATEGIES = ("PACK", "SPREAD", "STRICT_PACK", "STRICT_SPREAD")
VECTORIZE_MODES = ("sync", "async", "vector_entry_point")
STEP_COST_MODES = ("spin", "sleep")

# Check functions return None when the value is fine, else what was expected.
Check = Callable[[Any], "str | None"]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def positive_int(value: Any) -> str | None:
    return None if _is_int(value) and value >= 1 else "a whole number >= 1"


def non_negative_int(value: Any) -> str | None:
    return None if _is_int(value) and value >= 0 else "a whole number >= 0"


def positive_number(value: Any) -> str | None:
    return None if _is_number(value) and value > 0 else "a number > 0"


def non_negative_number(value: Any) -> str | None:
    return None if _is_number(value) and value >= 0 else "a number >= 0"


def fraction(value: Any) -> str | None:
    return None if _is_number(value) and 0 < value <= 1 else "a number in (0, 1]"


def positive_int_or_auto(value: Any) -> str | None:
    return None if value == "auto" or positive_int(value) is None else "a whole number >= 1 or 'auto'"


def one_of(choices: tuple[str, ...]) -> Check:
    def check(value: Any) -> str | None:
        if isinstance(value, str) and value.lower() in {c.lower() for c in choices}:
            return None
        return "one of " + ", ".join(choices)

    return check


def layer_sizes(value: Any) -> str | None:
    if isinstance(value, list) and value and all(_is_int(v) and v >= 1 for v in value):
        return None
    return "a non-empty list of layer sizes, e.g. [32, 32]"


def step_cost(value: Any) -> str | None:
    """`{seconds: S, mode: spin|sleep}`, or null for no extra cost."""
    expected = "null or {seconds: S >= 0, mode: spin|sleep}"
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"seconds", "mode"} or "seconds" not in value:
        return expected
    if non_negative_number(value["seconds"]) is not None:
        return expected
    if value.get("mode", "spin") not in STEP_COST_MODES:
        return expected
    return None


@dataclass(frozen=True)
class Setting:
    name: str
    check: Check
    section: str  # the AlgorithmConfig method that takes it; "env" and "suite" are ours
    doc: str


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in [
        Setting("num_env_runners", non_negative_int, "env_runners",
                "remote env runner actors; 0 samples in the main process"),
        Setting("num_envs_per_env_runner", positive_int, "env_runners",
                "gymnasium vector envs stepped together in each runner"),
        Setting("num_cpus_per_env_runner", positive_number, "env_runners", "CPUs reserved per env runner"),
        Setting("rollout_fragment_length", positive_int_or_auto, "env_runners",
                "steps each env runner collects per sample call"),
        Setting("gym_env_vectorize_mode", one_of(VECTORIZE_MODES), "env_runners",
                "sync steps envs in turn; async steps each in its own process"),
        Setting("sample_timeout_s", positive_number, "env_runners",
                "seconds to wait for env runners before giving up on a sample"),
        Setting("num_learners", non_negative_int, "learners", "remote learner actors; 0 learns in the main process"),
        Setting("num_cpus_per_learner", positive_number, "learners", "CPUs reserved per learner"),
        Setting("num_cpus_for_main_process", positive_number, "resources", "CPUs reserved for the main process"),
        Setting("placement_strategy", one_of(PLACEMENT_STRATEGIES), "resources",
                "how Ray places a trial's bundles across nodes"),
        Setting("train_batch_size_per_learner", positive_int, "training", "env steps per training iteration"),
        Setting("minibatch_size", positive_int, "training", "SGD minibatch size"),
        Setting("num_epochs", positive_int, "training", "passes over each train batch"),
        Setting("lr", positive_number, "training", "learning rate"),
        Setting("gamma", fraction, "training", "discount factor"),
        Setting("fcnet_hiddens", layer_sizes, "rl_module", "hidden layer sizes of the policy and value nets"),
        Setting("step_cost", step_cost, "env", "simulated cost added to every env step"),
        Setting("restart_failed_env_runners", lambda v: None if isinstance(v, bool) else "true or false",
                "fault_tolerance", "restart an env runner that dies instead of failing the trial"),
    ]
}

# The course's (old API stack) words, accepted and stored under the current names.
ALIASES: dict[str, str] = {
    "num_rollout_workers": "num_env_runners",
    "num_workers": "num_env_runners",
    "num_envs_per_worker": "num_envs_per_env_runner",
    "num_cpus_per_worker": "num_cpus_per_env_runner",
    "num_sgd_iter": "num_epochs",
    "sgd_minibatch_size": "minibatch_size",
    "train_batch_size": "train_batch_size_per_learner",
}

# What RLlib does when a file does not say; used to count CPUs before RLlib is imported.
DEFAULTS: dict[str, Any] = {
    "num_env_runners": 0,
    "num_envs_per_env_runner": 1,
    "num_cpus_per_env_runner": 1,
    "num_learners": 0,
    "num_cpus_per_learner": 1,
    "num_cpus_for_main_process": 1,
    "placement_strategy": "PACK",
    "step_cost": None,
}
