"""Where an experiment file's settings become RLlib calls: one trial's params -> its algorithm's config
class (PPOConfig, APPOConfig, IMPALAConfig) and the chained method calls on it, as data.

`algorithm_config.build_config` applies these calls to a real config; `scaling-study validate
--show-config` prints them as copyable Python. Both read this one list, so what is shown is what a trial
builds. Pure: importing it never imports Ray (RLlib objects are named by `Name` and resolved in
algorithm_config.py).
"""

from __future__ import annotations

import pprint
from dataclasses import dataclass
from typing import Any

from scaling_study.core.settings import SETTINGS, algorithm_named, default_of
from scaling_study.run import envs

# Settings go to the AlgorithmConfig method their `section` names, in this order.
CONFIG_SECTIONS = ("env_runners", "learners", "resources", "training", "reporting", "fault_tolerance")
# Settings applied apart (name -> their section): the algorithm picks the config class, then an RLModule
# model config and the env creator's config have calls of their own below.
APPLIED_APART = {"algorithm": "algorithm", "fcnet_hiddens": "rl_module", "step_cost": "env"}
CONFIG_CLASSES = {"PPO": ("ray.rllib.algorithms.ppo", "PPOConfig"),
                  "APPO": ("ray.rllib.algorithms.appo", "APPOConfig"),
                  "IMPALA": ("ray.rllib.algorithms.impala", "IMPALAConfig")}
"""algorithm -> (module, config class) of RLlib 2.60."""


class UnappliedSetting(ValueError):
    """A setting record names a config section this module does not apply: it would be dropped."""


def check_sections(settings=SETTINGS) -> None:
    """Every setting is applied somewhere: in its section's call, or by a call of its own."""
    for setting in settings.values():
        if setting.section not in CONFIG_SECTIONS and APPLIED_APART.get(setting.name) != setting.section:
            raise UnappliedSetting(
                f"setting {setting.name} is in config section {setting.section!r}, which config_calls does not "
                f"apply (it applies {', '.join(CONFIG_SECTIONS)}, and {', '.join(APPLIED_APART)} by name)")


@dataclass(frozen=True)
class Name:
    """An RLlib or suite object, by the name ppo.py knows it under (e.g. PerIterationTimers)."""

    name: str
    kwargs: dict[str, Any] | None = None
    """When given, the object is called with these: DefaultModelConfig(fcnet_hiddens=[32, 32])."""


@dataclass(frozen=True)
class Call:
    method: str
    kwargs: dict[str, Any]


def env_config(params: dict[str, Any]) -> dict[str, Any]:
    """The env creator's config (envs.make_env): gymnasium id, its keyword arguments, the step cost, and
    the modules that register the env (imported first in every process that makes it)."""
    return {"id": params["env_id"], "kwargs": params.get("env_config") or {}, "step_cost": params.get("step_cost"),
            "imports": params.get("env_imports") or []}


def algorithm_of(params: dict[str, Any]) -> str:
    """The trial's algorithm in RLlib's spelling (PPO where params do not say)."""
    return algorithm_named(params) or default_of("algorithm")


def config_class(params: dict[str, Any]) -> str:
    """The name of the trial's config class, e.g. 'APPOConfig'."""
    return CONFIG_CLASSES[algorithm_of(params)][1]


def config_calls(params: dict[str, Any]) -> list[Call]:
    """The config calls of one trial, in order; settings not in `params` keep RLlib's defaults, and a
    setting its algorithm does not take (APPO's buffer in a PPO trial of a sweep over both) is left out."""
    check_sections()
    algorithm = algorithm_of(params)
    calls = [
        Call("framework", {"framework": "torch"}),
        Call("environment", {"env": envs.ENV_NAME, "env_config": env_config(params)}),
        Call("callbacks", {"callbacks_class": Name("PerIterationTimers")}),
        Call("debugging", {"seed": params.get("seed", 0)}),
    ]
    for section in CONFIG_SECTIONS:
        values = {k: v for k, v in params.items()
                  if k in SETTINGS and SETTINGS[k].section == section and algorithm in SETTINGS[k].algorithms}
        if values:
            calls.append(Call(section, values))
    if "fcnet_hiddens" in params:
        model = Name("DefaultModelConfig", {"fcnet_hiddens": list(params["fcnet_hiddens"])})
        calls.append(Call("rl_module", {"model_config": model}))
    if envs.needs_flattening(env_config(params)):
        calls.append(Call("env_runners", {"env_to_module_connector": Name("one_hot_observations")}))
    return calls


def preamble(algorithms: list[str] | tuple[str, ...] = ("PPO",)) -> str:
    """What a script needs to run the printed configs: the imports, and the env registered under its name."""
    imports = [f"from {CONFIG_CLASSES[a][0]} import {CONFIG_CLASSES[a][1]}" for a in CONFIG_CLASSES if a in algorithms]
    return "\n".join([*imports, "from ray.rllib.core.rl_module.default_model_config import DefaultModelConfig", "",
                      "from scaling_study.run import envs",
                      "from scaling_study.run.algorithm_config import one_hot_observations",
                      "from scaling_study.run.metrics import PerIterationTimers", "",
                      "envs.register()  # the env creator, under the name below"])


def as_python(params: dict[str, Any], variable: str = "config") -> str:
    """`config = (PPOConfig().framework("torch")...)` for one trial's params, as source code, one call a line."""
    calls = config_calls(params)
    lines = [f"{variable} = (", f"    {config_class(params)}()"]
    for call in calls:
        arguments = ", ".join(f"{key}={_literal(value)}" for key, value in call.kwargs.items())
        lines.append(f"    .{call.method}({arguments})")
    return "\n".join([*lines, ")"])


def _literal(value: Any) -> str:
    if isinstance(value, Name):
        if value.kwargs is None:
            return value.name
        return f"{value.name}(" + ", ".join(f"{k}={_literal(v)}" for k, v in value.kwargs.items()) + ")"
    return pprint.pformat(value, width=1000, sort_dicts=False)
