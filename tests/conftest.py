"""Shared fixtures. Tests that start Ray give it a temp dir of its own and, whatever happens, end every
process whose command line or environment names that dir: only processes the test started, by their id."""

from __future__ import annotations

import shutil
import tempfile

import pytest
from ray_processes import end_processes, processes_naming


@pytest.fixture
def ray_tmp(monkeypatch):
    """A short RAY_TMPDIR for this test (Unix socket paths must stay short); every process started
    with it is ended at teardown, even when the test fails."""
    tmp = tempfile.mkdtemp(prefix="rt", dir="/tmp")
    monkeypatch.setenv("RAY_TMPDIR", tmp)
    yield tmp
    try:
        import ray

        ray.shutdown()
    finally:
        end_processes(processes_naming(tmp))
        shutil.rmtree(tmp, ignore_errors=True)
