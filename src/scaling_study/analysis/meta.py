"""Which experiment, machine, Ray version and date made the results: stamped on every figure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from scaling_study.core.cores import Cores

from .load import Experiment


@dataclass(frozen=True)
class RunInfo:
    experiment: str
    machine: str
    ray_version: str
    date: str

    @property
    def stamp(self) -> str:
        return f"{self.experiment} | {self.machine} | Ray {self.ray_version} | {self.date}"


def machine_text(provenance: dict, trials: pd.DataFrame) -> str:
    machine = provenance.get("machine") or {}
    granted = (provenance.get("cluster") or {}).get("cores") or {}
    if machine.get("cpu_model") or machine.get("cpu_count"):
        cores = f", {machine['cpu_count']} cores" if machine.get("cpu_count") else ""
        if granted.get("granted"):
            cores = f", {Cores(**granted).describe()}"
        nodes = (provenance.get("cluster") or {}).get("nodes")
        cluster = f", {nodes} nodes" if nodes and nodes > 1 else ""
        return f"{machine.get('cpu_model') or 'unknown CPU'}{cores}{cluster}"
    hosts = trials["hostname"].dropna().unique() if "hostname" in trials else []
    return "machine unknown" + (f" (host {', '.join(map(str, hosts[:3]))})" if len(hosts) else "")


def run_date(provenance: dict, iterations: pd.DataFrame) -> str:
    if provenance.get("started_at"):
        return str(provenance["started_at"])[:10]
    dates = iterations["date"].dropna() if "date" in iterations else pd.Series(dtype=object)
    return str(dates.min())[:10] if len(dates) else date.today().isoformat()


def describe_run(experiment: Experiment) -> RunInfo:
    provenance = experiment.provenance or {}
    ray_version = (provenance.get("versions") or {}).get("ray") or "version unknown"
    return RunInfo(experiment.name, machine_text(provenance, experiment.trials), ray_version,
                   run_date(provenance, experiment.iterations))
