"""The machine and software a benchmark run measured, and waiting for the machine to be quiet."""

from __future__ import annotations

import datetime
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from scaling_study.provenance import cpu_model, git_commit

PACKAGES = ("ray", "torch", "gymnasium", "pandas", "scaling-study")


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


def memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return None


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in PACKAGES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def describe() -> dict[str, object]:
    return {
        "cpu_model": cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": memory_gib(),
        "platform": platform.platform(),
        "hostname": platform.node(),
        "git_commit": git_commit(Path(__file__).resolve().parent),
        "versions": versions(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


@dataclass
class QuietWait:
    threshold: float
    waited_s: float
    load_at_start: tuple[float, float, float]
    load_at_end: tuple[float, float, float]

    @property
    def quiet(self) -> bool:
        return self.load_at_end[0] < self.threshold


def wait_until_quiet(threshold: float, max_wait_s: float, poll_s: float = 30.0,
                     log: Callable[[str], None] = print) -> QuietWait:
    """Poll the 1-minute load average until it is below `threshold`, for at most `max_wait_s`."""
    start, first = time.monotonic(), load_average()
    load = first
    while load[0] >= threshold and time.monotonic() - start < max_wait_s:
        log(f"waiting for a quiet machine: 1-minute load {load[0]:.2f} >= {threshold} "
            f"({time.monotonic() - start:.0f} of at most {max_wait_s:.0f} s)")
        time.sleep(min(poll_s, max(max_wait_s - (time.monotonic() - start), 0.1)))
        load = load_average()
    return QuietWait(threshold, time.monotonic() - start, first, load)
