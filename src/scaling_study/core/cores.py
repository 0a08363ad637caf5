"""How many cores this process may use: the least of every limit the OS and the scheduler grant.

`os.cpu_count()` counts the machine. Under `taskset`, a container's `--cpuset-cpus` or `--cpus`, a
Kubernetes CPU limit or a SLURM allocation, fewer cores run this process's threads, and Ray 2.60 counts
only some of those limits (it reads cgroup v1's cpuset and quota and v2's cpu.max, not v2's
cpuset.cpus.effective nor the CPU affinity). The suite starts a local Ray with `granted_cores().granted`.

Sources, each read where it exists; the least wins, and never more than the machine's count:

- CPU affinity (`os.sched_getaffinity`): taskset, SLURM's binding, a container's cpuset;
- cgroup v2: `cpu.max` of this process's cgroup and of every ancestor (a quota: floor, at least 1),
  `cpuset.cpus.effective` of its cgroup;
- cgroup v1: `cpu.cfs_quota_us` / `cpu.cfs_period_us`, `cpuset.effective_cpus` (else `cpuset.cpus`);
- `SLURM_CPUS_ON_NODE`, where set.

A file that cannot be parsed gives one warning and is skipped. Pure: reads files under `root` and the
environment; the affinity call is a parameter, so tests fake every source.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

AFFINITY = "CPU affinity"
CGROUP2_QUOTA = "cgroup v2 cpu.max"
CGROUP2_CPUSET = "cgroup v2 cpuset"
CGROUP1_QUOTA = "cgroup v1 CPU quota"
CGROUP1_CPUSET = "cgroup v1 cpuset"
SLURM = "SLURM_CPUS_ON_NODE"


@dataclass(frozen=True)
class Cores:
    machine: int
    """Cores of the machine (`os.cpu_count()`)."""
    granted: int
    """Cores this process may run on at once: the least of `limits`, at most `machine`."""
    limit: str | None
    """The source that decided `granted`, e.g. "CPU affinity"; None when nothing limits the machine's count."""
    limits: dict[str, int] = field(default_factory=dict)
    """Every source found, with the cores it grants."""
    warnings: tuple[str, ...] = ()
    """One line per source that could not be read."""

    def describe(self) -> str:
        """e.g. "1 core granted (CPU affinity) of 2", or "2 cores" when nothing limits them."""
        plural = "core" if self.granted == 1 else "cores"
        if self.limit is None:
            return f"{self.granted} {plural}"
        return f"{self.granted} {plural} granted ({self.limit}) of {self.machine}"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "warnings": list(self.warnings)}


def parse_cpu_list(text: str) -> int:
    """Cores in a Linux CPU list: "0-3,8,10-11" -> 7. Raises ValueError on anything else."""
    count = 0
    for part in text.strip().split(","):
        start, dash, end = part.strip().partition("-")
        low, high = int(start), int(end) if dash else int(start)
        if high < low:
            raise ValueError(f"range {part!r} runs backwards")
        count += high - low + 1
    if count == 0:
        raise ValueError("no CPUs listed")
    return count


def quota_cores(quota: float, period: float) -> int | None:
    """Cores a CFS quota grants: None when unlimited (v2 "max", v1 -1); a fraction rounds down, to at
    least 1 (a 1.5-core quota runs two threads at once only three quarters of the time)."""
    if quota < 0:
        return None
    if period <= 0:
        raise ValueError(f"period {period:g} is not positive")
    return max(1, math.floor(quota / period))


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def _own_cgroups(root: Path) -> dict[str, str]:
    """controller (or "" for cgroup v2) -> this process's cgroup path, from /proc/self/cgroup."""
    text = _read(root / "proc/self/cgroup") or ""
    found = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            for controller in parts[1].split(",") if parts[1] else [""]:
                found[controller] = parts[2].strip()
    return found


def _candidates(mount: Path, own: str | None) -> list[Path]:
    """The cgroup directory of this process under `mount`, then its ancestors up to the mount (in a
    container the own path may not exist under the mount: the mount is then its cgroup)."""
    dirs = []
    if own and own != "/":
        path = mount / own.lstrip("/")
        while path != mount and mount in path.parents:
            dirs.append(path)
            path = path.parent
    dirs.append(mount)
    return dirs


def _cgroup2(root: Path, own: dict[str, str], found: dict[str, int], warn: Callable[[str], None]) -> None:
    mount = root / "sys/fs/cgroup"
    if not (mount / "cgroup.controllers").exists():
        return
    dirs = _candidates(mount, own.get(""))
    quotas = []
    for directory in dirs:  # a quota anywhere above this process limits it too
        text = _read(directory / "cpu.max")
        if text is None:
            continue
        try:
            quota, period = text.split()
            cores = quota_cores(-1 if quota == "max" else float(quota), float(period))
        except ValueError as err:
            warn(f"cannot read {directory / 'cpu.max'} ({err}: {text.strip()[:40]!r}); using the next source")
            continue
        if cores is not None:
            quotas.append(cores)
    if quotas:
        found[CGROUP2_QUOTA] = min(quotas)
    for directory in dirs:
        text = _read(directory / "cpuset.cpus.effective")
        if text is None or not text.strip():
            continue
        try:
            found[CGROUP2_CPUSET] = parse_cpu_list(text)
        except ValueError as err:
            warn(f"cannot read {directory / 'cpuset.cpus.effective'} ({err}); using the next source")
        break  # the nearest one is effective: it already holds what every ancestor allows


def _cgroup1(root: Path, own: dict[str, str], found: dict[str, int], warn: Callable[[str], None]) -> None:
    base = root / "sys/fs/cgroup"
    for name in ("cpu", "cpu,cpuacct", "cpuacct,cpu"):
        mount = base / name
        for directory in _candidates(mount, own.get("cpu")) if mount.is_dir() else []:
            quota, period = _read(directory / "cpu.cfs_quota_us"), _read(directory / "cpu.cfs_period_us")
            if quota is None or period is None:
                continue
            try:
                cores = quota_cores(float(quota), float(period))
            except ValueError as err:
                warn(f"cannot read {directory / 'cpu.cfs_quota_us'} ({err}); using the next source")
                break
            if cores is not None:
                found[CGROUP1_QUOTA] = min(cores, found.get(CGROUP1_QUOTA, cores))
            break
        if CGROUP1_QUOTA in found:
            break
    mount = base / "cpuset"
    for directory in _candidates(mount, own.get("cpuset")) if mount.is_dir() else []:
        for file in ("cpuset.effective_cpus", "cpuset.cpus"):
            text = _read(directory / file)
            if text is None or not text.strip():
                continue
            try:
                found[CGROUP1_CPUSET] = parse_cpu_list(text)
            except ValueError as err:
                warn(f"cannot read {directory / file} ({err}); using the next source")
            return


def _default_affinity() -> int | None:
    getter = getattr(os, "sched_getaffinity", None)  # Linux only
    return len(getter(0)) if getter else None


def granted_cores(root: str | Path = "/", affinity: Callable[[], int | None] = _default_affinity,
                  environ: Mapping[str, str] | None = None, cpu_count: int | None = None) -> Cores:
    """The cores this process may use, and which limit decided (module docstring)."""
    root = Path(root)
    environ = os.environ if environ is None else environ
    machine = cpu_count if cpu_count is not None else (os.cpu_count() or 1)
    warnings: list[str] = []
    found: dict[str, int] = {}
    count = affinity()
    if count:
        found[AFFINITY] = count
    own = _own_cgroups(root)
    _cgroup2(root, own, found, warnings.append)
    _cgroup1(root, own, found, warnings.append)
    slurm = environ.get(SLURM)
    if slurm is not None:
        try:
            found[SLURM] = int(slurm.strip().split("(")[0])  # SLURM may write "4(x2)"
            if found[SLURM] < 1:
                raise ValueError
        except ValueError:
            found.pop(SLURM, None)
            warnings.append(f"cannot read {SLURM}={slurm!r} (expected a whole number >= 1); using the next source")
    limiting = {source: cores for source, cores in found.items() if cores < machine}
    if not limiting:
        return Cores(machine, machine, None, found, tuple(warnings))
    limit = min(limiting, key=lambda source: (limiting[source], list(found).index(source)))
    return Cores(machine, limiting[limit], limit, found, tuple(warnings))
