"""The `tracking:` block of an experiment file, validated before Ray starts (run/tracking.py builds
the loggers it asks for)."""

from __future__ import annotations

import importlib.util
from typing import Any

from scaling_study.core.errors import SpecError

TRACKERS = ("tensorboard", "wandb", "mlflow")
# The package each optional tracker imports, and the extra that installs it.
PACKAGES = {"wandb": "wandb", "mlflow": "mlflow"}
# Secrets an option could carry; the file is copied into provenance.json, so they stay in the environment.
SECRETS = {"wandb": ("api_key", "WANDB_API_KEY or api_key_file"), "mlflow": ("tracking_token", "MLFLOW_TRACKING_TOKEN")}
# MLflowLoggerCallback's keyword arguments in Ray 2.60 (a test holds them equal to its signature).
MLFLOW_KEYS = ("tracking_uri", "registry_uri", "experiment_name", "tags", "tracking_token", "save_artifact",
               "log_params_on_trial_end")


def parse_tracking(block: Any, source: str) -> dict[str, Any]:
    """Validate the `tracking:` block; returns only what the file set (TensorBoard is on unless off)."""
    if block is None:
        return {}
    if not isinstance(block, dict):
        raise SpecError(f"{source}: tracking: expected a mapping such as {{wandb: {{project: NAME}}}}, got {block!r}")
    tracking: dict[str, Any] = {}
    for key, value in block.items():
        if key not in TRACKERS:
            raise SpecError(f"{source}: tracking.{key}: unknown tracker; expected one of {', '.join(TRACKERS)}")
        if key == "tensorboard":
            if not isinstance(value, bool):
                raise SpecError(f"{source}: tracking.tensorboard: expected true or false, got {value!r}")
            tracking[key] = value
            continue
        if value is False or value is None:
            continue
        options = {} if value is True else value
        if not isinstance(options, dict):
            raise SpecError(f"{source}: tracking.{key}: expected true or a mapping of its logger's options, got {value!r}")
        secret, instead = SECRETS[key]
        if secret in options:
            raise SpecError(f"{source}: tracking.{key}.{secret}: keep secrets out of experiment files (they are copied "
                            f"into provenance.json); set {instead} instead")
        if key == "mlflow":
            unknown = sorted(set(options) - set(MLFLOW_KEYS))
            if unknown:
                raise SpecError(f"{source}: tracking.mlflow.{unknown[0]}: unknown option; expected one of {', '.join(MLFLOW_KEYS)}")
        if importlib.util.find_spec(PACKAGES[key]) is None:
            raise SpecError(f"{source}: tracking.{key}: the {PACKAGES[key]} package is not installed; "
                            f"pip install 'scaling-study[{key}]' (or drop tracking.{key})")
        tracking[key] = dict(options)
    return tracking
