"""Node-exclusive trials on the local 3-node cluster (cluster/local.py: 3 nodes of 1 logical CPU, all on
this machine): bench/specs/cluster_side_by_side.yaml's three 1-CPU trials swept one at a time
(--max-concurrent-trials 1) and node-exclusive (the suite's default on a cluster: one trial per node, side
by side). What it measures: the wall time side by side saves, and what each trial's throughput pays when
the nodes share this machine's cores. Nodes on separate machines would not share cores; this machine has
one, so that case is not measured here."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

from bench.harness import sweeps
from bench.harness.context import Context, KeyFigure, Outcome
from bench.harness.experiments import REPO, SPECS, relative, shrunk
from bench.harness.report import table, thousands

TITLE = "Node-exclusive trials on the local 3-node cluster"

SPEC = SPECS / "cluster_side_by_side.yaml"
LOCAL = REPO / "cluster" / "local.py"
ARMS = (("one at a time (`--max-concurrent-trials 1`)", ("--max-concurrent-trials", "1")),
        ("node-exclusive (the default on a cluster)", ()))


def run(ctx: Context) -> Outcome:
    spec = SPEC if not ctx.quick else shrunk(SPEC, ctx.work / "specs", iterations=2)
    state, token = ctx.work / "cluster-state.json", ctx.work / "cluster-token"
    token.write_text(os.urandom(32).hex())
    # A token of the bench's own, so the user's ~/.ray/auth_token is neither read nor created.
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "RAY_AUTH_TOKEN")}
    env["RAY_AUTH_TOKEN_PATH"] = str(token)
    up = subprocess.run([sys.executable, str(LOCAL), "up", "--state", str(state)], env=env, capture_output=True,
                        text=True, timeout=300)
    rows, walls, rates = [], {}, {}
    try:
        if up.returncode != 0:
            raise RuntimeError(f"cluster/local.py up failed: {up.stderr.strip()[-500:]}")
        address = json.loads(state.read_text())["address"]
        for label, extra in ARMS:
            sweep = sweeps.suite_sweep(spec, ctx.work / f"nodes-{len(extra)}", ctx.work / f"nodes-{len(extra)}.log",
                                       "--address", address, *extra, reuse_actors=True,
                                       env={"RAY_AUTH_TOKEN_PATH": str(token)})
            trials = sweeps.trials(sweep.exp_dir)
            per_trial = [statistics.median(r["scaling"]["env_steps_per_s"] for r in t.rows if not r["scaling"]["warmup"])
                         for t in trials]
            nodes = {n for t in trials for r in t.rows for n in r["scaling"]["node_ids"]}
            walls[bool(extra)], rates[bool(extra)] = sweep.run.wall_s, per_trial
            rows.append([label, str(len(trials)), f"{len(nodes)}", f"{sweep.run.wall_s:.1f}",
                         " / ".join(thousands(r) for r in per_trial)])
    finally:
        subprocess.run([sys.executable, str(LOCAL), "down", "--state", str(state)], env=env, capture_output=True,
                       text=True, timeout=120)
    saved = 1 - walls[False] / walls[True]
    speed = statistics.median(rates[False]) / statistics.median(rates[True])
    body = "\n\n".join([
        f"Cluster: `cluster/local.py up` (3 nodes of 1 logical CPU on this machine's {os.cpu_count()} cores: "
        f"oversubscribed). Experiment: {relative(spec)}. Wall time is the sweep command's, start to exit "
        "(calibration included; Ray start not: the cluster was already up). One run per arm, so no spread is "
        "given for the wall times; each trial's rate is the median of its measured iterations.",
        table(["arm", "trials", "nodes used", "wall s", "env steps/s per trial"], rows, align_right=(1, 2, 3)),
        f"Side by side saved {saved:.0%} of the wall time; a trial side by side ran at {speed:.2f} of its speed "
        f"alone (medians over trials; below 1 is the price of three nodes sharing {os.cpu_count()} cores).",
    ])
    commands = ["python -m bench --only node_exclusive",
                "python cluster/local.py up --state STATE      # prints address=127.0.0.1:PORT",
                f"scaling-study sweep {relative(spec)} --address 127.0.0.1:PORT --storage-path TMP --name one "
                "--no-analyze --max-concurrent-trials 1",
                f"scaling-study sweep {relative(spec)} --address 127.0.0.1:PORT --storage-path TMP --name nodes --no-analyze",
                "python cluster/local.py down --state STATE"]
    figures = [KeyFigure("local 3-node cluster: wall time saved by node-exclusive trials", f"{saved:.0%}"),
               KeyFigure("local 3-node cluster: a trial's speed side by side / alone", f"{speed:.2f}")]
    return Outcome(body, figures, commands)
