"""Starting or joining Ray, and what the sweep needs to know about the cluster it got."""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import ray


@dataclass
class ClusterInfo:
    address: str | None
    """None when the suite started a local Ray itself."""
    logical_cpus: float
    """CPUs Ray schedules with: the sum over alive nodes."""
    physical_cpus: int
    """Cores of this machine (local) or the sum of the nodes' reported logical CPUs (cluster)."""
    nodes: int
    oversubscribed: bool
    """True when Ray was told of more CPUs than there are cores: timings then share cores."""

    def to_dict(self) -> dict:
        return asdict(self)


def local_cpus(requested: float | None) -> float:
    """Logical CPUs a local Ray will have: what was asked for, else every core."""
    return float(requested) if requested else float(os.cpu_count() or 1)


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


def start_or_join(address: str | None, num_cpus: float | None, quiet: bool) -> ClusterInfo:
    """Join the cluster at `address`, or start a local Ray bound to 127.0.0.1 with no dashboard.

    Token authentication, which Ray 2.60 turns on for clusters it starts, is left on.
    """
    common = dict(include_dashboard=False, log_to_driver=not quiet, configure_logging=not quiet)
    if address:
        ray.init(address=address, **common)
    else:
        ray.init(num_cpus=num_cpus and int(num_cpus), _node_ip_address="127.0.0.1", **common)
    return describe(address, num_cpus)


def describe(address: str | None, requested_cpus: float | None) -> ClusterInfo:
    alive = [n for n in ray.nodes() if n.get("Alive")]
    logical = float(sum(n["Resources"].get("CPU", 0) for n in alive))
    physical = (os.cpu_count() or 1) if not address else int(logical)
    return ClusterInfo(
        address=address,
        logical_cpus=logical,
        physical_cpus=physical,
        nodes=len(alive),
        oversubscribed=logical > physical,
    )
