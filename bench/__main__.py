"""`python -m bench [--quick] [--only NAME ...]`: run the benchmarks and write BENCHMARKS.md.

A full run writes BENCHMARKS.md at the repository root; --quick or --only write to the scratch
directory unless --out is given, so a partial run never replaces the full report.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import os
import platform
import shlex
import shutil
import sys
import tempfile
import time
import traceback
from importlib import metadata
from pathlib import Path
from typing import NamedTuple

from bench.harness import report
from bench.harness.context import Context
from bench.harness.experiments import REPO
from bench.sections import ORDER
from scaling_study.run.provenance import cpu_model, git_commit

BENCHMARKS = {name: importlib.import_module(f"bench.sections.{name}") for name in ORDER}


def parse_args(argv: list[str] | None):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny budgets, to check the harness")
    parser.add_argument("--only", action="append", choices=list(BENCHMARKS), metavar="NAME",
                        help=f"run only this benchmark (repeatable): {', '.join(BENCHMARKS)}")
    parser.add_argument("--list", action="store_true", help="print each section's name and title, and exit")
    parser.add_argument("--out", type=Path, help="report path (default: BENCHMARKS.md for a full run)")
    parser.add_argument("--quiet-load", type=float, default=0.7, help="1-minute load to wait for (default 0.7)")
    parser.add_argument("--max-wait", type=float, default=None,
                        help="seconds to wait for that load before starting anyway (default 600; 0 with --quick)")
    parser.add_argument("--keep-work", action="store_true", help="keep the scratch directory (logs, Tune dirs)")
    return parser.parse_args(argv)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def machine_facts() -> dict[str, object]:
    return {
        "cpu_model": cpu_model(), "cores": os.cpu_count(), "platform": platform.platform(),
        "memory_gib": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30,
        "git_commit": git_commit(REPO),
        "versions": {"python": platform.python_version(),
                     **{p: metadata.version(p) for p in ("ray", "torch", "gymnasium", "pandas", "scaling-study")}},
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


class QuietWait(NamedTuple):
    threshold: float
    waited_s: float
    load_at_start: tuple[float, float, float]
    load_at_end: tuple[float, float, float]


def wait_until_quiet(threshold: float, max_wait_s: float, poll_s: float = 30.0) -> QuietWait:
    """Poll the 1-minute load average until it is below `threshold`, for at most `max_wait_s`."""
    start, first = time.monotonic(), os.getloadavg()
    load = first
    while load[0] >= threshold and (waited := time.monotonic() - start) < max_wait_s:
        log(f"waiting for a quiet machine: 1-minute load {load[0]:.2f} >= {threshold} "
            f"({waited:.0f} of at most {max_wait_s:.0f} s)")
        time.sleep(min(poll_s, max(max_wait_s - waited, 0.1)))
        load = os.getloadavg()
    return QuietWait(threshold, time.monotonic() - start, first, load)


def run_one(name: str, ctx: Context) -> report.SectionResult:
    module = BENCHMARKS[name]
    title, benchmark = module.TITLE, module.run
    log(f"{name}: {title}")
    before, start = os.getloadavg(), time.perf_counter()
    outcome, error = None, None
    try:
        outcome = benchmark(ctx)
    except Exception:  # noqa: BLE001  (one benchmark failing must not lose the others' figures)
        error = traceback.format_exc(limit=3)
        log(f"{name} FAILED:\n{error}")
    return report.SectionResult(name, title, outcome, before, os.getloadavg(), time.perf_counter() - start, error)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list:
        for name, module in BENCHMARKS.items():
            print(f"{name:20} {module.TITLE}")
        return 0
    names = args.only or list(BENCHMARKS)
    work = Path(tempfile.mkdtemp(prefix="bench-", dir="/tmp"))
    out = args.out or (REPO / "BENCHMARKS.md" if not args.quick and not args.only else work / "BENCHMARKS.md")
    command = shlex.join(["python", "-m", "bench", *(sys.argv[1:] if argv is None else argv)])
    quiet = wait_until_quiet(args.quiet_load, args.max_wait if args.max_wait is not None else (0 if args.quick else 600))
    log(f"load average {quiet.load_at_end}; scratch directory {work}; report {out}")
    started, facts, sections = time.perf_counter(), machine_facts(), []
    ctx = Context(args.quick, work, log)  # one for every section, so they share the sweeps they all read
    try:
        for name in names:
            sections.append(run_one(name, ctx))
            report.write(out, report.header(facts, command, quiet, time.perf_counter() - started, args.quick), sections)
    finally:
        if not args.keep_work:  # everything but the report, when it was written there
            for entry in (e for e in work.iterdir() if e != out):
                shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)
            if not out.is_relative_to(work):
                shutil.rmtree(work, ignore_errors=True)
    log(f"wrote {out}")
    return 0 if all(s.outcome is not None for s in sections) else 1


if __name__ == "__main__":
    sys.exit(main())
