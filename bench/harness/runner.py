"""Run one benchmark command in a subprocess: its own RAY_TMPDIR, wall time end to end, and the time
each stdout line arrived (to split the wall time later). Every process naming the temp dir is ended
afterwards, whatever happened, so no Ray is left behind."""

from __future__ import annotations

import itertools
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bench.harness.experiments import REPO
from tests.ray_processes import end_processes, processes_naming  # the test suite's own clean-up, by pid

VENV_BIN = REPO / ".venv" / "bin"
WORKER_LOG = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) I \d+ \d+\] core_worker_process\.cc:\d+: "
                        r"Constructing CoreWorkerProcess\. pid: (\d+)")


class RunFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class WorkerStart:
    pid: int
    started_at: float  # when Ray's core worker in that process was constructed (interpreter up, Ray imported)
    actor: str  # the actor class it hosts (ImplicitFunc: a Tune trial; SingleAgentEnvRunner, ...), "" for tasks


@dataclass
class Run:
    started_at: float  # epoch seconds just before the launch
    ended_at: float
    wall_s: float
    lines: list[tuple[float, str]] = field(default_factory=list)  # (epoch seconds it arrived, line) per stdout line
    ray_sessions: list[str] = field(default_factory=list)  # Ray session names (they carry their start time)
    workers: list[WorkerStart] = field(default_factory=list)  # Ray worker processes, in order of start
    log: Path | None = None

    def first_line(self, prefix: str) -> tuple[float, str] | None:
        return next(((t, line) for t, line in self.lines if line.startswith(prefix)), None)

    def line_containing(self, text: str) -> tuple[float, str] | None:
        return next(((t, line) for t, line in self.lines if text in line), None)


def python(*args: str) -> list[str]:
    return [str(VENV_BIN / "python"), *args]


def scaling_study(*args: str) -> list[str]:
    return [str(VENV_BIN / "scaling-study"), *args]


def run(command: list[str], log: Path, timeout_s: float = 1800, env: dict[str, str] | None = None) -> Run:
    """Run `command` from the repository root (with `env` added to this process's environment); raise
    RunFailed (with the log's tail) unless it exits 0."""
    ray_tmp = tempfile.mkdtemp(prefix="rb", dir="/tmp")  # short: Ray's socket paths must stay short
    env = {**os.environ, **(env or {}), "RAY_TMPDIR": ray_tmp, "PYTHONUNBUFFERED": "1"}
    lines: list[tuple[float, str]] = []
    log.parent.mkdir(parents=True, exist_ok=True)
    try:
        with log.open("w") as sink:
            started_at, start = time.time(), time.perf_counter()
            process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=sink,
                                       text=True, start_new_session=True)
            reader = threading.Thread(target=_read_lines, args=(process, lines), daemon=True)
            reader.start()
            try:
                code = process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)  # the group of the child we started
                code = process.wait()
            wall_s, ended_at = time.perf_counter() - start, time.time()
            reader.join(timeout=10)
            sink.write("\n--- stdout ---\n" + "\n".join(line for _, line in lines) + "\n")
        sessions = sorted(p.name for p in (Path(ray_tmp) / "ray").glob("session_2*"))
        workers = worker_starts(Path(ray_tmp) / "ray")
    finally:
        end_processes(processes_naming(ray_tmp))
        shutil.rmtree(ray_tmp, ignore_errors=True)
    if code != 0:
        tail = "\n".join(log.read_text().splitlines()[-15:])
        raise RunFailed(f"{' '.join(command)} exited {code} (log: {log}):\n{tail}")
    return Run(started_at, ended_at, wall_s, lines, sessions, workers, log)


def _read_lines(process: subprocess.Popen, lines: list[tuple[float, str]]) -> None:
    for line in process.stdout:
        lines.append((time.time(), line.rstrip("\n")))


def worker_starts(ray_dir: Path) -> list[WorkerStart]:
    """Ray worker processes of every session under `ray_dir`: start time from the core worker's log,
    hosted actor from the `:actor_name:` line Ray writes to the worker's stdout file."""
    found = []
    for log in ray_dir.glob("session_2*/logs/python-core-worker-*.log"):
        with log.open(errors="replace") as lines:
            match = next((m for m in map(WORKER_LOG.match, itertools.islice(lines, 20)) if m), None)
        if match is None:
            continue
        pid, actor = int(match.group(2)), ""
        for out in log.parent.glob(f"worker-*-{pid}.out"):
            names = [line.split(":actor_name:", 1)[1].strip() for line in out.read_text(errors="replace").splitlines()
                     if line.startswith(":actor_name:")]
            actor = names[0] if names else actor
        found.append(WorkerStart(pid, datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp(), actor))
    return sorted(found, key=lambda w: w.started_at)


def session_started_at(session_name: str) -> float:
    """Epoch seconds of a Ray session's start, from its name: session_YYYY-MM-DD_HH-MM-SS_micro_pid."""
    stamp = "_".join(session_name.split("_")[1:4])
    return datetime.strptime(stamp, "%Y-%m-%d_%H-%M-%S_%f").timestamp()
