"""The Tune callbacks of a sweep: what each trial's results are written to.

Always JSON and CSV (the analysis reads them). By default also TensorBoard event files in every trial
directory (`tensorboard --logdir results/NAME`). Optionally Weights & Biases and MLflow, through Tune's
own logger callbacks, when the experiment file asks for them:

    tracking:
      tensorboard: false                      # default true
      wandb: {project: my-study}              # WandbLoggerCallback / wandb.init keyword arguments
      mlflow: {tracking_uri: "file:./mlruns"} # MLflowLoggerCallback keyword arguments

W&B needs `pip install 'scaling-study[wandb]'` and an API key, or `WANDB_MODE=offline` (or `mode: offline`
here) to write runs to disk only; MLflow needs `pip install 'scaling-study[mlflow]'`. Every scaling/* metric
reaches each of them as `scaling/<name>` (the per-iteration throughput is `scaling/env_steps_per_s`).
"""

from __future__ import annotations

from numbers import Number
from pathlib import Path
from typing import Any


def scalars_only(result: dict[str, Any]) -> dict[str, Any]:
    """The result with only what TensorBoard can plot: numbers, nested groups kept, lists and text left out
    (e.g. scaling/node_ids), so one odd value does not cost the whole logger."""
    kept = {}
    for key, value in result.items():
        if isinstance(value, dict):
            kept[key] = scalars_only(value)
        elif isinstance(value, Number):
            kept[key] = value
    return kept


def tensorboard_logger():
    from ray.tune.logger import TBXLoggerCallback

    class TensorBoardScalars(TBXLoggerCallback):
        """Tune's TensorBoard logger, fed only the values it can write."""

        def log_trial_result(self, iteration: int, trial, result: dict) -> None:
            super().log_trial_result(iteration, trial, scalars_only(result))

    return TensorBoardScalars()


def check_trackers_ready(tracking: dict[str, Any], source: str) -> None:
    """Before Ray starts, so a mistake is one line rather than a traceback from Tune's setup: W&B needs
    an API key unless it writes offline (mode: offline in the file, or WANDB_MODE=offline), and MLflow's
    tracking URI must name a store it accepts (MLflow 3 refuses a file:// store unless
    MLFLOW_ALLOW_FILE_STORE=true)."""
    import os

    from scaling_study.core.errors import SpecError

    if "mlflow" in tracking:
        from mlflow.tracking import MlflowClient

        try:
            MlflowClient(tracking_uri=tracking["mlflow"].get("tracking_uri"))
        except Exception as err:  # MLflow raises several kinds for a store it cannot open
            raise SpecError(f"{source}: tracking.mlflow.tracking_uri: {str(err).splitlines()[0][:300]}") from None
    if "wandb" not in tracking:
        return
    options = tracking["wandb"]
    if options.get("mode") in ("offline", "disabled"):
        os.environ["WANDB_MODE"] = options["mode"]  # Tune's callback reads the mode from the environment
    from ray.air.integrations.wandb import _set_api_key

    try:
        _set_api_key(options.get("api_key_file"), options.get("api_key"))
    except (ValueError, OSError) as err:
        raise SpecError(f"{source}: tracking.wandb: {str(err).splitlines()[0]} (or write runs to disk only with "
                        f"mode: offline)") from None


def trackers(tracking: dict[str, Any], experiment_name: str) -> list:
    """The logger callbacks the `tracking:` block asks for (JSON and CSV are added by the caller)."""
    callbacks = []
    if tracking.get("tensorboard", True):
        callbacks.append(tensorboard_logger())
    if "wandb" in tracking:
        from ray.air.integrations.wandb import WandbLoggerCallback

        callbacks.append(WandbLoggerCallback(**{"project": experiment_name, **tracking["wandb"]}))
    if "mlflow" in tracking:
        from ray.air.integrations.mlflow import MLflowLoggerCallback

        callbacks.append(MLflowLoggerCallback(**{"experiment_name": experiment_name, **tracking["mlflow"]}))
    return callbacks


def sweep_callbacks(tracking: dict[str, Any], experiment_name: str, exp_dir: Path, stop: dict[str, Any],
                    total: int, done_before: int, retries: int = 0) -> list:
    """Every callback of the sweep, loggers first: the ledger copies the files they have just closed;
    a retried trial's failed attempt is set aside (retries.py) before the ledger records it."""
    from ray.tune.logger import CSVLoggerCallback, JsonLoggerCallback

    from scaling_study.run.ledger import FinishedTrialRecorder
    from scaling_study.run.progress import ProgressPrinter
    from scaling_study.run.retries import NoLongerFitsWatch, RetryRecorder

    return [
        JsonLoggerCallback(), CSVLoggerCallback(), *trackers(tracking, experiment_name),
        RetryRecorder(exp_dir, retries), NoLongerFitsWatch(), FinishedTrialRecorder(exp_dir, stop), ProgressPrinter(total=total, done_before=done_before, stop=stop),
    ]
