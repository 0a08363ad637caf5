"""Helpers the bench shares with the test suite, loaded from tests/ by path (tests/ is not a package):
ending the processes a Ray temp dir names, and the synthetic 100-trial experiment generator."""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]


@cache
def tests_module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_bench_tests_{name}", REPO / "tests" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def end_processes_naming(text: str) -> list[int]:
    """End every process whose command line or environment names `text` (ours: a temp dir we made)."""
    processes = tests_module("ray_processes")
    pids = processes.processes_naming(text)
    processes.end_processes(pids)
    return pids


def write_large_experiment(root: Path, **sizes) -> Path:
    return tests_module("analysis_helpers").write_large_experiment(root, **sizes)
