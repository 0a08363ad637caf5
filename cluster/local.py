"""A real three-node Ray cluster on this one machine, to try `scaling-study sweep --address` on.

    python cluster/local.py up      # head + 2 workers; prints the address to use
    python cluster/local.py status  # the recorded cluster and whether its processes are alive
    python cluster/local.py down    # stops exactly the processes `up` started, by their ids

(`make cluster-up` / `make cluster-down` run these.) Each node is a separate `ray start` with its own
temp dir under one short directory /tmp/ssc-XXXX (Unix socket paths must stay under about 107 bytes),
a fixed number of logical CPUs, no dashboard, and token authentication on (RAY_AUTH_MODE=token): a
worker joins, and a driver connects, only with the cluster's token. The token is the one Ray already
uses for this user (RAY_AUTH_TOKEN, else RAY_AUTH_TOKEN_PATH, else ~/.ray/auth_token, generated when
missing), so `RAY_ADDRESS=<printed address> scaling-study sweep ...` needs nothing more.

Every process the cluster runs (the nodes' daemons and the Ray workers they spawn) inherits the marker
SCALING_STUDY_CLUSTER=<dir> in its environment; `down` ends the processes that carry this cluster's
marker, and no other: never `ray stop`, which would end every Ray on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MARKER = "SCALING_STUDY_CLUSTER"
DEFAULT_STATE = Path(__file__).resolve().parent / ".local" / "cluster.json"
DEFAULT_TOKEN = Path.home() / ".ray" / "auth_token"
OBJECT_STORE_BYTES = 300 * 1024**2  # per node; PPO on FrozenLake needs little, and three nodes share /dev/shm


def ray_cli() -> str:
    """The `ray` next to this Python (the project's venv), else the one on PATH."""
    beside = Path(sys.executable).parent / "ray"
    return str(beside) if beside.exists() else (shutil.which("ray") or "ray")


def free_port() -> int:
    # Ray's servers listen on every interface, so the port must be free on all of them.
    with socket.socket() as probe:
        probe.bind(("", 0))
        return probe.getsockname()[1]


def token_env() -> dict[str, str]:
    """Token authentication on, with a token the head, the workers and the user's drivers all find."""
    env = {"RAY_AUTH_MODE": "token"}
    if os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH"):
        return env  # the user chose the token; every node inherits the choice
    if not DEFAULT_TOKEN.exists():
        DEFAULT_TOKEN.parent.mkdir(parents=True, exist_ok=True)
        DEFAULT_TOKEN.write_text(secrets.token_hex(32))
        DEFAULT_TOKEN.chmod(0o600)
        print(f"Generated a Ray authentication token at {DEFAULT_TOKEN}")
    env["RAY_AUTH_TOKEN_PATH"] = str(DEFAULT_TOKEN)
    return env


def ray_start(args: list[str], env: dict[str, str], log: Path) -> None:
    command = [ray_cli(), "start", *args]
    with log.open("a") as out:
        out.write("$ " + " ".join(command) + "\n")
        out.flush()
        done = subprocess.run(command, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=120)
    if done.returncode != 0:
        tail = "\n".join(log.read_text().splitlines()[-15:])
        raise RuntimeError(f"`ray start {' '.join(args[:2])}` failed (exit {done.returncode}):\n{tail}")


def node_args(cpus: float, temp_dir: Path) -> list[str]:
    return [
        "--node-ip-address", "127.0.0.1", "--num-cpus", f"{cpus:g}", "--num-gpus", "0",
        "--object-store-memory", str(OBJECT_STORE_BYTES), "--temp-dir", str(temp_dir), "--disable-usage-stats",
    ]


def wait_for_nodes(address: str, expected: int, env: dict[str, str], timeout_s: float = 60) -> int:
    """Connect as a driver (which also proves the token works) until `expected` nodes are alive."""
    probe = (
        "import ray, sys, time\n"
        "ray.init(address=sys.argv[1], include_dashboard=False, log_to_driver=False, logging_level='ERROR')\n"
        "deadline = time.time() + float(sys.argv[3])\n"
        "while True:\n"
        "    alive = sum(1 for n in ray.nodes() if n['Alive'])\n"
        "    if alive >= int(sys.argv[2]) or time.time() > deadline: break\n"
        "    time.sleep(0.5)\n"
        "print(alive)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe, address, str(expected), str(timeout_s)], env=env,
                          capture_output=True, text=True, timeout=timeout_s + 60)
    try:
        return int(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise RuntimeError(f"could not connect to the new cluster at {address}: {done.stderr.strip()[-500:]}") from None


def up(state_file: Path, workers: int, cpus: float, head_cpus: float) -> dict:
    if state_file.exists():
        state = json.loads(state_file.read_text())
        if cluster_pids(state["dir"]):
            raise SystemExit(f"A local cluster is already up at {state['address']} (state: {state_file}); "
                             f"run `make cluster-down` first")
        state_file.unlink()
    root = Path(tempfile.mkdtemp(prefix="ssc-", dir="/tmp"))
    env = {**os.environ, **token_env(), MARKER: str(root)}
    env.pop("RAY_ADDRESS", None)  # `ray start --head` must start a head, not look for one
    port = free_port()
    address = f"127.0.0.1:{port}"
    state = {"dir": str(root), "address": address, "port": port, "nodes": 1 + workers,
             "cpus": {"head": head_cpus, "worker": cpus},
             "started_at": time.time()}
    state_file.parent.mkdir(parents=True, exist_ok=True)
    state_file.write_text(json.dumps(state, indent=2))  # written first, so `down` works even if `up` fails
    log = root / "start.log"
    try:
        ray_start(["--head", "--port", str(port), "--include-dashboard", "false",
                   *node_args(head_cpus, root / "head")], env, log)
        for i in range(workers):
            ray_start(["--address", address, *node_args(cpus, root / f"w{i + 1}")], env, log)
        alive = wait_for_nodes(address, 1 + workers, env)
        if alive < 1 + workers:
            raise RuntimeError(f"only {alive} of {1 + workers} nodes came up; see {log} and {root}/*/session_latest/logs")
    except Exception:
        down(state_file)
        raise
    state["pids"] = cluster_pids(str(root))
    state_file.write_text(json.dumps(state, indent=2))
    return state


def _protected() -> set[int]:
    """This process and its ancestors: never ended, whatever their environment says."""
    pids, pid = set(), os.getpid()
    while pid > 1:
        pids.add(pid)
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            break
    return pids


def cluster_pids(root: str) -> list[int]:
    """Processes that carry this cluster's marker in their environment, or hold a file open under its
    directory: Ray starts some agents (dashboard agent, runtime-env agent) with an environment of their
    own, without the marker, but they keep their log files under the node's session directory."""
    marker = f"{MARKER}={root}".encode()
    protected, pids = _protected(), []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in protected:
            continue
        try:
            marked = marker in (entry / "environ").read_bytes().split(b"\0")
            if (marked or _holds_file_under(entry, root)) and _alive(int(entry.name)):
                pids.append(int(entry.name))
        except OSError:
            continue
    return sorted(pids)


def _holds_file_under(entry: Path, root: str) -> bool:
    prefix = root.rstrip("/") + "/"
    try:
        return any(os.readlink(fd).startswith(prefix) for fd in (entry / "fd").iterdir())
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def down(state_file: Path, grace_s: float = 5.0) -> int:
    """End this cluster's processes (SIGTERM, then SIGKILL after `grace_s`); return how many there were."""
    if not state_file.exists():
        print(f"No local cluster recorded at {state_file}; nothing to stop.")
        return 0
    state = json.loads(state_file.read_text())
    root = state["dir"]
    ended: set[int] = set()
    for sig in (signal.SIGTERM, signal.SIGKILL):
        deadline = time.time() + grace_s
        while True:
            # Re-scan each round: a raylet may start a worker while its siblings are being ended.
            pids = cluster_pids(root)
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, sig)
                    ended.add(pid)
                except ProcessLookupError:
                    pass
            if time.time() > deadline:
                break
            time.sleep(0.2)
        if not cluster_pids(root):
            break
    left = cluster_pids(root)
    if left:
        raise SystemExit(f"could not end processes {left} of the local cluster in {root}")
    if root.startswith("/tmp/ssc-"):
        shutil.rmtree(root, ignore_errors=True)
    state_file.unlink()
    return len(ended)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["up", "down", "status"])
    parser.add_argument("--state", type=Path, default=DEFAULT_STATE, help=f"state file (default: {DEFAULT_STATE})")
    parser.add_argument("--workers", type=int, default=2, help="worker nodes besides the head (default: 2)")
    parser.add_argument("--cpus", type=float, default=1, help="logical CPUs per worker node (default: 1)")
    parser.add_argument("--head-cpus", type=float, default=1, help="logical CPUs of the head node (default: 1)")
    args = parser.parse_args(argv)
    if not sys.platform.startswith("linux"):
        print(f"cluster/local.py needs Linux (it finds the cluster's processes under /proc); this is {sys.platform}. "
              "On macOS start a cluster with `ray start --head` and pass its address with RAY_ADDRESS.", file=sys.stderr)
        return 2
    if args.action == "up":
        started = time.time()
        state = up(args.state, args.workers, args.cpus, args.head_cpus)
        total = args.head_cpus + args.workers * args.cpus
        cores = os.cpu_count() or 1
        over = f", more than this machine's {cores} cores: an oversubscription" if total > cores else ""
        print(f"Local Ray cluster up in {time.time() - started:.0f} s: {1 + args.workers} nodes, "
              f"{total:g} logical CPUs{over}; token authentication on; files in {state['dir']}.")
        print("Use it with:")
        print(f"  RAY_ADDRESS={state['address']} make sweep EXPERIMENT=experiments/smoke.yaml")
        print("Stop it with: make cluster-down")
        print(f"address={state['address']}")
    elif args.action == "down":
        count = down(args.state)
        if count:
            print(f"Local Ray cluster stopped ({count} processes ended).")
    else:
        if not args.state.exists():
            print("No local cluster recorded.")
            return 1
        state = json.loads(args.state.read_text())
        pids = cluster_pids(state["dir"])
        print(f"address={state['address']} dir={state['dir']} processes alive={len(pids)}")
        return 0 if pids else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
