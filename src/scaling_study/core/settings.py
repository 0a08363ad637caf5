"""The RLlib settings an experiment file may fix or sweep: names, old-name aliases, defaults and checks.

The one list both halves share: the sweep validates experiment files against it and the analysis reads
params.json (this suite's, or a foreign Tune sweep's) through it. Names follow RLlib's current words.
Each setting knows which `AlgorithmConfig` method takes it, so `config_calls.py` can apply any of them
without a special case. Pure: importing it never imports Ray.
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
    "num_cpus_for_driver": "num_cpus_for_main_process",
}

# What RLlib 2.60 does when a file (or a params.json) does not say; used to count CPUs before RLlib is
# imported. RLlib's num_cpus_per_learner default is "auto", which is 1 on a machine without GPUs.
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


def names_of(setting: str) -> list[str]:
    """The names `setting` has gone by, newest first: its current name, then its aliases."""
    return [setting, *(old for old, current in ALIASES.items() if current == setting)]


def resolve(params: dict[str, Any], settings: tuple[str, ...]) -> dict[str, Any]:
    """`settings` under their current names, whichever alias `params` used; RLlib's default where a
    value is absent or "auto" (e.g. RLlib's own num_cpus_per_learner in a foreign params.json)."""
    resolved = {}
    for setting in settings:
        value = next((params[n] for n in names_of(setting) if params.get(n) is not None), DEFAULTS[setting])
        resolved[setting] = DEFAULTS[setting] if value == "auto" else value
    return resolved


def display_value(value: Any) -> str:
    """A setting's value as a short word for labels and table cells: {seconds: 0.002, mode: sleep} ->
    '0.002/sleep', [32, 32] -> '32x32'."""
    if isinstance(value, dict):
        return "/".join(str(v) for v in value.values())
    if isinstance(value, list | tuple):
        return "x".join(str(v) for v in value)
    return str(value)
