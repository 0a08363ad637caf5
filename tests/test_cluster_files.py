"""The cluster files a user runs the suite with on a real cluster: they parse, carry what their tools
require, and the command in each is the suite's real command line."""

from __future__ import annotations

import shlex
from pathlib import Path

import yaml
from ray_processes import REPO

from scaling_study.cli import build_parser

CLUSTER = REPO / "cluster"


def parse_sweep_command(command: str):
    words = shlex.split(command)
    assert words[:2] == ["scaling-study", "sweep"], command
    args = build_parser().parse_args(words[1:])
    assert args.command == "sweep"
    return args


def experiment_in_repo(path: str, prefix: str) -> Path:
    """The experiment file the command names, as it lies in this checkout."""
    local = REPO / path.removeprefix(prefix).lstrip("/")
    assert local.is_file(), f"{path} names no experiment of this repository"
    return local


def test_the_launcher_file_is_a_valid_ray_cluster_config():
    import json

    import jsonschema
    import ray.autoscaler

    config = yaml.safe_load((CLUSTER / "aws.yaml").read_text())
    schema = json.loads((Path(ray.autoscaler.__file__).parent / "ray-schema.json").read_text())
    jsonschema.validate(config, schema)  # Ray's own launcher schema: a missing or unknown field fails
    assert config["provider"]["type"] == "aws"
    assert config["head_node_type"] in config["available_node_types"]
    starts = " ".join(config["head_start_ray_commands"] + config["worker_start_ray_commands"])
    assert starts.count("RAY_AUTH_MODE=token") == 2, "token authentication on for head and workers"
    assert any("auth_token" in target for target in config["file_mounts"])


def test_the_launcher_file_runs_the_suites_sweep_on_shared_storage():
    from scaling_study.core.spec import load_spec

    config = yaml.safe_load((CLUSTER / "aws.yaml").read_text())
    args = parse_sweep_command(config["metadata"]["sweep_command"])
    load_spec(str(experiment_in_repo(args.experiment, "")))
    assert args.address == "127.0.0.1:6379"
    assert args.storage_path.startswith("/mnt/efs")
    assert any("/mnt/efs" in c and "nfs4" in c for c in config["setup_commands"]), "the storage path is an NFS mount"


def test_the_rayjob_manifest_runs_the_suites_sweep_with_token_auth_and_shared_storage():
    from scaling_study.core.spec import load_spec

    documents = list(yaml.safe_load_all((CLUSTER / "rayjob.yaml").read_text()))
    kinds = {doc["kind"]: doc for doc in documents}
    job, claim = kinds["RayJob"], kinds["PersistentVolumeClaim"]
    assert job["apiVersion"] == "ray.io/v1"
    spec = job["spec"]
    assert {"entrypoint", "rayClusterSpec"} <= set(spec)
    cluster = spec["rayClusterSpec"]
    assert cluster["rayVersion"] == "2.60.0" and cluster["authOptions"] == {"mode": "token"}
    assert {"headGroupSpec", "workerGroupSpecs"} <= set(cluster)

    args = parse_sweep_command(spec["entrypoint"])
    load_spec(str(experiment_in_repo(args.experiment, "/home/ray/scaling-study")))
    # No --address: the driver joins through RAY_ADDRESS, which Ray Jobs set for the entrypoint (a fixed
    # address here would point every job at one cluster).
    assert args.address is None, spec["entrypoint"]

    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    pods = [cluster["headGroupSpec"]["template"]["spec"]] + [g["template"]["spec"] for g in cluster["workerGroupSpecs"]]
    for pod in pods:
        claims = {v["name"]: v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"]}
        mounts = {m["mountPath"]: m["name"] for c in pod["containers"] for m in c.get("volumeMounts", [])}
        assert claims[mounts[args.storage_path]] == claim["metadata"]["name"], "every pod mounts the results volume"
