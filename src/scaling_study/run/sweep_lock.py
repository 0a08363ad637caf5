"""One sweep at a time: per experiment directory (refused) and per machine (waited for, or refused).

Both locks are `fcntl.flock` locks on files in one directory: `$SCALING_STUDY_LOCK_DIR`, else the system
temp dir. The kernel drops a flock when its holder's process ends, however it ends (kill -9 included),
so a killed sweep leaves no stale lock: the file stays, the lock does not, and the resume takes it.
Nothing is written under the storage path, so a refused sweep leaves no trace there.

- The experiment directory's lock (a file named by the directory's resolved path): a second sweep into
  the same directory is a UsageError naming the first one's pid (exit 2 on the command line).
- The machine's lock: a sweep into any other directory waits for the running one, saying so in one
  line; with `wait=False` (`--no-wait`) it is refused instead. Trials of two sweeps would otherwise
  share the cores, which the suite's timings forbid.

The locks hold one machine's sweeps apart: two machines driving one cluster do not see each other's.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from scaling_study.core.errors import UsageError

LOCK_DIR_ENV = "SCALING_STUDY_LOCK_DIR"
MACHINE_LOCK = "scaling-study-sweep.lock"


def lock_dir() -> Path:
    path = Path(os.environ.get(LOCK_DIR_ENV) or tempfile.gettempdir())
    path.mkdir(parents=True, exist_ok=True)
    return path


def directory_lock_path(exp_dir: Path) -> Path:
    digest = hashlib.sha256(str(Path(exp_dir).resolve()).encode()).hexdigest()[:16]
    return lock_dir() / f"scaling-study-dir-{digest}.lock"


def _try_lock(path: Path) -> IO[str] | None:
    """The open, locked file; None when another process holds the lock."""
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def _write_holder(handle: IO[str], exp_dir: Path) -> None:
    handle.seek(0)
    handle.truncate()
    handle.write(json.dumps({"pid": os.getpid(), "exp_dir": str(exp_dir)}) + "\n")
    handle.flush()


def _release(handle: IO[str]) -> None:
    handle.truncate(0)  # no stale holder for the next reader; closing the file drops the lock
    handle.close()


def holder(path: Path) -> dict[str, Any]:
    """Who holds the lock at `path`: {"pid", "exp_dir"}, or {} if it has not written itself yet."""
    for _ in range(20):  # the holder writes its pid just after taking the lock
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            time.sleep(0.05)
    return {}


def _describe(who: dict[str, Any]) -> str:
    return f"pid {who.get('pid', '?')}, into {who.get('exp_dir', '?')}"


@contextmanager
def one_sweep(exp_dir: Path, wait: bool = True, poll_s: float = 1.0) -> Iterator[None]:
    """Hold both locks for the body. Refuses (UsageError) a directory another sweep is writing, and
    waits for (or, `wait=False`, refuses) a sweep running on this machine into another directory."""
    exp_dir = Path(exp_dir).resolve()
    dir_path = directory_lock_path(exp_dir)
    dir_lock = _try_lock(dir_path)
    if dir_lock is None:
        raise UsageError(f"another sweep ({_describe(holder(dir_path))}) is writing {exp_dir}; wait for it "
                         f"to end, or stop it (its finished trials are kept) and run this command again")
    try:
        _write_holder(dir_lock, exp_dir)
        machine_path = lock_dir() / MACHINE_LOCK
        machine_lock = _try_lock(machine_path)
        if machine_lock is None:
            who = _describe(holder(machine_path))
            if not wait:
                raise UsageError(f"another sweep is running on this machine ({who}) and trials of two sweeps "
                                 f"would share its cores; run without --no-wait to wait for it")
            print(f"Waiting for the sweep already running on this machine ({who}) to end: trials of two "
                  f"sweeps would share its cores.", flush=True)
            while machine_lock is None:
                time.sleep(poll_s)
                machine_lock = _try_lock(machine_path)
        try:
            _write_holder(machine_lock, exp_dir)
            yield
        finally:
            _release(machine_lock)
    finally:
        _release(dir_lock)


def one_sweep_at_a_time(where: Callable[..., tuple[Path, bool]]):
    """Decorator: run the function inside `one_sweep(*where(*args, **kwargs))`."""
    def decorate(function):
        @functools.wraps(function)
        def locked(*args, **kwargs):
            with one_sweep(*where(*args, **kwargs)):
                return function(*args, **kwargs)
        return locked
    return decorate
