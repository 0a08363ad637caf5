"""What made an experiment's numbers: spec, command, code, versions, machine and thread settings.

Environment variables are recorded only from an allow-list, so no secret (tokens, keys) is written.
"""

from __future__ import annotations

import datetime
import os
import platform
import shlex
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

ENV_ALLOW_LIST = (
    "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TORCH_NUM_THREADS",
    "OPENBLAS_CORETYPE", "RAY_ADDRESS",
)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def git_commit(cwd: Path | None = None) -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd or Path(__file__).parent, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=cwd or Path(__file__).parent,
                           capture_output=True, text=True, timeout=5).stdout.strip()
    return out.stdout.strip() + ("-dirty" if dirty else "")


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def threads() -> dict[str, Any]:
    import torch

    return {
        "torch_num_threads": torch.get_num_threads(),
        "env": {k: os.environ[k] for k in ENV_ALLOW_LIST if k in os.environ},
    }


def collect(spec_dict: dict[str, Any], cluster: dict[str, Any], argv: list[str] | None = None,
            concurrency: dict[str, Any] | None = None) -> dict[str, Any]:
    """`concurrency`: how many trials ran at once and whether each held a node of its own
    (node_exclusive.Concurrency)."""
    return {
        "spec": spec_dict,
        "command": shlex.join(argv if argv is not None else sys.argv),
        "git_commit": git_commit(),
        "versions": {
            "python": platform.python_version(),
            "ray": _version("ray"),
            "torch": _version("torch"),
            "gymnasium": _version("gymnasium"),
            "scaling-study": _version("scaling-study"),
        },
        "machine": {
            "cpu_model": cpu_model(),
            "cpu_count": os.cpu_count(),
            "hostname": platform.node(),
            "platform": platform.platform(),
        },
        "threads": threads(),
        "cluster": cluster,
        "concurrency": concurrency,
        "started_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
