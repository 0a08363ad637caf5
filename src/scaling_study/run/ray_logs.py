"""Ray's and Tune's driver-side chatter goes to `scaling_study/ray.log` instead of the terminal.

On a cluster the log can only be placed once the sweep is accepted (the cluster's CPUs are known after
joining it): until `keep` is called it waits in a temp file, so a refused sweep writes nothing under
the storage path.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path


def route_ray_logs(log_file: Path | None) -> None:
    """Send Ray's and Tune's driver-side chatter (and Python warnings) to a file instead of the terminal."""
    if log_file is None:
        return
    import ray.rllib  # noqa: F401  (both add their own handlers on import: replace them after)
    import ray.tune  # noqa: F401

    log_file.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_file)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    # Everything propagates to the root logger, whose only handler is the file: Ray's own handlers are
    # removed, and loggers Ray creates later (some during ray.init) have none of their own.
    names = [n for n in logging.root.manager.loggerDict if n == "ray" or n.startswith("ray.")]
    for name in ["ray", "py.warnings", *names]:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    logging.root.handlers[:] = [handler]
    logging.root.setLevel(logging.INFO)
    logging.captureWarnings(True)
    _route_driver_messages()


def _route_driver_messages() -> None:
    """The driver's error listener (ray._private.worker.listen_error_messages) prints what the cluster
    reports, e.g. "(raylet) The node ... has been marked dead", straight to stdout whatever log_to_driver
    says; with worker logs off (log_to_driver=False) it is the only caller of print_to_stdstream, which
    is looked up at each call: send those lines to the log file too."""
    from ray._private import worker

    messages = logging.getLogger("ray.driver_messages")

    def to_log(data, ignore_prefix: bool = False) -> None:
        for line in data.get("lines", []):
            messages.warning("(%s) %s", data.get("pid", "?"), line)

    worker.print_to_stdstream = to_log


class RayLog:
    """The log of one sweep: None (shown, with --verbose), straight to `log_file`, or held in a temp
    file until `keep`."""

    def __init__(self, log_file: Path | None, hold: bool):
        self.log_file = log_file
        self.held: Path | None = _temp_log() if log_file and hold else None
        route_ray_logs(self.held or log_file)

    def keep(self) -> None:
        """The sweep is accepted: move what was held to `log_file` and go on writing there."""
        if not self.held:
            return
        for handler in logging.root.handlers:
            handler.close()
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.held, self.log_file)
        route_ray_logs(self.log_file)  # appends after what was copied

    def close(self) -> None:
        if self.held:
            self.held.unlink(missing_ok=True)


def _temp_log() -> Path:
    handle, path = tempfile.mkstemp(prefix="scaling-study-ray-", suffix=".log")
    os.close(handle)
    return Path(path)
