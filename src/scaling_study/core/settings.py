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

ALGORITHMS = ("PPO", "APPO", "IMPALA")
"""The RLlib algorithms a trial may run (`algorithm:`); PPO alternates sampling and learning, APPO and
IMPALA sample while they learn."""
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


UNSET: Any = type("Unset", (), {"__repr__": lambda self: "UNSET"})()
"""A default the suite never needs: RLlib decides, and nothing here counts on its value."""


@dataclass(frozen=True)
class Setting:
    """Everything the suite knows of one setting, in one record."""

    name: str
    check: Check
    section: str
    """The AlgorithmConfig method that takes it (`config_calls.py` applies it there and fails on a section
    it does not apply); "env" is ours: the env creator's config."""
    doc: str
    default: Any = UNSET
    """RLlib 2.60's value when a file (or a foreign params.json) does not say, where the suite needs it."""
    short: str = ""
    """The word trial directories and figure labels use for it (the name itself when empty)."""
    pinned: bool = False
    """The default is written into every trial's params, so params.json says what ran: the settings CPUs
    are counted from before RLlib is imported, the algorithm and the step cost."""
    algorithms: tuple[str, ...] = ALGORITHMS
    """The algorithms whose config takes it; a trial of another algorithm is not given it."""
    algorithm_defaults: tuple[tuple[str, Any], ...] = ()
    """RLlib 2.60's value where an algorithm's differs from `default` (PPO's), as (algorithm, value)."""

    @property
    def short_name(self) -> str:
        return self.short or self.name

    def default_for(self, algorithm: str) -> Any:
        return dict(self.algorithm_defaults).get(algorithm, self.default)


ASYNC = ("APPO", "IMPALA")

SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in [
        Setting("algorithm", one_of(ALGORITHMS), "algorithm",
                "the RLlib algorithm: PPO alternates sampling and learning, APPO and IMPALA overlap them",
                default="PPO", short="algo", pinned=True),
        Setting("num_env_runners", non_negative_int, "env_runners",
                "remote env runner actors; 0 samples in the main process", default=0, short="runners", pinned=True),
        Setting("num_envs_per_env_runner", positive_int, "env_runners",
                "gymnasium vector envs stepped together in each runner", default=1, short="envs", pinned=True),
        Setting("num_cpus_per_env_runner", positive_number, "env_runners", "CPUs reserved per env runner",
                default=1, short="cpus_per_runner", pinned=True),
        Setting("rollout_fragment_length", positive_int_or_auto, "env_runners",
                "steps each env runner collects per sample call", short="fragment"),
        Setting("gym_env_vectorize_mode", one_of(VECTORIZE_MODES), "env_runners",
                "sync steps envs in turn; async steps each in its own process", short="vector"),
        Setting("sample_timeout_s", positive_number, "env_runners",
                "seconds to wait for env runners before giving up on a sample"),
        # 0 for every algorithm, so that algorithms compare on the same CPUs (RLlib's APPO and IMPALA default
        # to 1 remote learner, which reserves a CPU of its own).
        Setting("num_learners", non_negative_int, "learners", "remote learner actors; 0 learns in the main process",
                default=0, short="learners", pinned=True),
        # RLlib's default is "auto", which is 1 on a machine without GPUs.
        Setting("num_cpus_per_learner", positive_number, "learners", "CPUs reserved per learner",
                default=1, short="cpus_per_learner", pinned=True),
        Setting("num_cpus_for_main_process", positive_number, "resources", "CPUs reserved for the main process",
                default=1, short="main_cpus", pinned=True),
        Setting("placement_strategy", one_of(PLACEMENT_STRATEGIES), "resources",
                "how Ray places a trial's bundles across nodes", default="PACK", short="placement", pinned=True),
        Setting("train_batch_size_per_learner", positive_int, "training", "env steps per training iteration",
                default=4000, short="batch"),
        Setting("minibatch_size", positive_int, "training", "SGD minibatch size", default=128,
                algorithm_defaults=(("APPO", None), ("IMPALA", None))),
        Setting("num_epochs", positive_int, "training", "passes over each train batch", default=30,
                algorithm_defaults=(("APPO", 1), ("IMPALA", 1))),
        Setting("min_time_s_per_iteration", non_negative_number, "reporting",
                "an iteration lasts at least this long (RLlib: none for PPO, 10 s for APPO and IMPALA)",
                algorithm_defaults=(("APPO", 10), ("IMPALA", 10))),
        # APPO's and IMPALA's own: they sample while they learn.
        Setting("broadcast_interval", positive_int, "training",
                "learner updates between weight broadcasts to the env runners", algorithms=ASYNC),
        Setting("num_aggregator_actors_per_learner", non_negative_int, "learners",
                "actors that batch episodes for each learner; 0 batches in the main process",
                short="aggregators", algorithms=ASYNC),
        Setting("circular_buffer_num_batches", positive_int, "training",
                "train batches APPO's circular buffer holds", algorithms=("APPO",)),
        Setting("circular_buffer_iterations_per_batch", positive_int, "training",
                "times APPO may learn from each batch in its buffer", algorithms=("APPO",)),
        Setting("lr", positive_number, "training", "learning rate"),
        Setting("gamma", fraction, "training", "discount factor"),
        Setting("fcnet_hiddens", layer_sizes, "rl_module", "hidden layer sizes of the policy and value nets"),
        Setting("step_cost", step_cost, "env", "simulated cost added to every env step", default=None, pinned=True),
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

DEFAULTS: dict[str, Any] = {s.name: s.default for s in SETTINGS.values() if s.pinned}
"""The pinned settings' defaults (`Setting.pinned`), derived from the records: what every trial's params
holds where its point does not say."""


def algorithm_named(params: dict[str, Any]) -> str | None:
    """The algorithm `params` name, in RLlib's spelling ('appo' -> 'APPO'); None where they name none of ours."""
    named = params.get("algorithm")
    return named.upper() if isinstance(named, str) and named.upper() in ALGORITHMS else None


def default_of(setting: str, algorithm: str = "PPO") -> Any:
    """RLlib's default of `setting` for `algorithm` as its record holds it; None where the suite does not
    need it."""
    default = SETTINGS[setting].default_for(algorithm) if setting in SETTINGS else UNSET
    return None if default is UNSET else default


def short_name(setting: str) -> str:
    """'num_envs_per_env_runner' -> 'envs'; a name that is no setting of ours stays as it is."""
    return SETTINGS[setting].short_name if setting in SETTINGS else setting


def short_pairs(label: str) -> list[tuple[str, str]]:
    """A point label 'num_env_runners=2, num_envs_per_env_runner=4' -> [('runners', '2'), ('envs', '4')]."""
    pairs = []
    for part in str(label or "").split(", "):
        key, _, value = part.partition("=")
        if key:
            pairs.append((short_name(key), value))
    return pairs


def names_of(setting: str) -> list[str]:
    """The names `setting` has gone by, newest first: its current name, then its aliases."""
    return [setting, *(old for old, current in ALIASES.items() if current == setting)]


def resolve(params: dict[str, Any], settings: tuple[str, ...]) -> dict[str, Any]:
    """`settings` under their current names, whichever alias `params` used; RLlib's default where a
    value is absent or "auto" (e.g. RLlib's own num_cpus_per_learner in a foreign params.json)."""
    resolved = {}
    for setting in settings:
        default = SETTINGS[setting].default
        if default is UNSET:
            raise KeyError(f"{setting} has no default in its Setting record")
        value = next((params[n] for n in names_of(setting) if params.get(n) is not None), default)
        resolved[setting] = default if value == "auto" else value
    return resolved


def display_value(value: Any) -> str:
    """A setting's value as a short word for labels and table cells: {seconds: 0.002, mode: sleep} ->
    '0.002/sleep', [32, 32] -> '32x32'."""
    if isinstance(value, dict):
        return "/".join(str(v) for v in value.values())
    if isinstance(value, list | tuple):
        return "x".join(str(v) for v in value)
    return str(value)
