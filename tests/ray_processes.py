"""Finding and ending the processes a test started: by the temp dir they were given, by their id."""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def processes_naming(text: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            environ = (entry / "environ").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if text in cmdline or text in environ:
            pids.append(int(entry.name))
    return pids


def end_processes(pids: list[int], grace_s: float = 5.0) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.time() + grace_s
        while time.time() < deadline and any(Path(f"/proc/{p}").exists() and _alive(p) for p in pids):
            time.sleep(0.1)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def busy_cores(window_s: float = 1.0) -> float:
    """How many cores the whole machine kept busy over a window (from /proc/stat, this process included)."""
    def jiffies() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + fields[4]  # idle + iowait
        return sum(fields[:8]) - idle, sum(fields[:8])
    busy0, total0 = jiffies()
    time.sleep(window_s)
    busy1, total1 = jiffies()
    return (os.cpu_count() or 1) * (busy1 - busy0) / max(1, total1 - total0)


def wait_for_quiet_machine(most_busy_cores: float = 0.3, timeout_s: float = 60.0) -> float:
    """Wait (up to timeout_s) until the machine is nearly idle, so a timing test does not measure what an
    earlier test left running (a cluster still shutting down); returns the last busy level seen."""
    deadline = time.time() + timeout_s
    busy = busy_cores()
    while busy > most_busy_cores and time.time() < deadline:
        busy = busy_cores()
    return busy


@contextmanager
def own_ray_temp_dir() -> Iterator[str]:
    """RAY_TMPDIR set to a fresh short dir (Unix socket paths must stay short) for the duration; then
    Ray is shut down and every process that names the dir is ended, even when the body failed."""
    tmp = tempfile.mkdtemp(prefix="rt", dir="/tmp")
    old = os.environ.get("RAY_TMPDIR")
    os.environ["RAY_TMPDIR"] = tmp
    try:
        yield tmp
    finally:
        try:
            import ray

            ray.shutdown()
        finally:
            end_processes(processes_naming(tmp))
            shutil.rmtree(tmp, ignore_errors=True)
            if old is None:
                os.environ.pop("RAY_TMPDIR", None)
            else:
                os.environ["RAY_TMPDIR"] = old


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode(errors="replace")


def run_captured(command: list[str], timeout_s: float, **kwargs) -> subprocess.CompletedProcess:
    """subprocess.run with output captured and a timeout kept below the test's pytest-timeout: when it
    fires, the test fails showing the tail of what the command printed (pytest-timeout's kill loses it)."""
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, **kwargs)
    except subprocess.TimeoutExpired as expired:
        import pytest

        pytest.fail(f"{' '.join(map(str, command[:4]))} ... did not finish within {timeout_s:.0f} s\n"
                    f"--- stdout (tail)\n{_text(expired.stdout)[-3000:]}\n"
                    f"--- stderr (tail)\n{_text(expired.stderr)[-3000:]}", pytrace=False)


def read_until(process: subprocess.Popen, prefix: str, timeout_s: float) -> tuple[str, bool]:
    """Read the process's stdout until a line starts with `prefix`, the stream ends, or `timeout_s` pass,
    whether or not lines come meanwhile: (the text read, whether the line came). Reads the pipe's file
    descriptor directly, so a later communicate() gets the rest."""
    fd = process.stdout.fileno()
    deadline = time.monotonic() + timeout_s
    data = b""
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], min(left, 1.0))
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        data += chunk
        if any(line.startswith(prefix.encode()) for line in data.splitlines()):
            return data.decode(errors="replace"), True
    return data.decode(errors="replace"), False
