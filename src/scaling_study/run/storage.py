"""Can the storage path hold this sweep's results? Checked before anything is written or Ray starts."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from scaling_study.core.errors import UsageError
from scaling_study.run.hosts import all_on_this_machine

URI_SCHEMES = ("s3://", "gs://", "gcs://", "abfs://", "az://", "hdfs://", "file://", "memory://", "mock://")
# File system types that every node of a cluster can mount (per /proc/mounts).
NETWORK_FS_TYPES = {
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "ceph", "glusterfs", "lustre", "gpfs", "beegfs", "fuse.sshfs",
    "fuse.gcsfuse", "fuse.s3fs", "fuse.mountpoint-s3", "fuse.juicefs", "fuse.cephfs", "fuse.glusterfs",
    "fuse.rclone", "9p", "virtiofs", "afs", "ocfs2", "gfs2",
}


def is_uri(path: str) -> bool:
    return "://" in path or path.startswith(URI_SCHEMES)


def check_storage_uri(storage_path: str) -> None:
    if is_uri(storage_path):
        raise UsageError(
            f"--storage-path {storage_path}: URIs (s3://, gs://, ...) are not supported yet, only a file system "
            f"path; on a cluster use a shared file system mounted at the same path on every node (NFS, EFS, "
            f"Filestore, or a bucket mounted with mountpoint-s3 / gcsfuse) and pass that path"
        )


def check_writable(storage: Path) -> None:
    """Refuse a storage path that is a file or cannot be written, before anything is written."""
    probe = storage
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise UsageError(f"--storage-path {storage}: {probe} is a file; expected a directory to hold results")
    if not os.access(probe, os.W_OK | os.X_OK) or not _can_create_in(probe):
        raise UsageError(f"--storage-path {storage}: {probe} is not writable; expected a directory you can write to")


def _can_create_in(directory: Path) -> bool:
    """Try it: for root os.access says yes everywhere, yet e.g. /sys refuses new directories.
    The probe directory is removed at once, so a refusal still leaves nothing behind."""
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".scaling-study-probe-", dir=directory))
    except OSError:
        return False
    return True


def network_mount(path: Path) -> str | None:
    """The network file system type `path` lies on (longest mount point per /proc/mounts), else None."""
    best, fs_type = "", None
    try:
        lines = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return None
    target = str(path)
    for line in lines:
        fields = line.split()
        if len(fields) < 3:
            continue
        mount = fields[1].replace("\\040", " ")
        if (target == mount or target.startswith(mount.rstrip("/") + "/")) and len(mount) >= len(best):
            best, fs_type = mount, fields[2]
    return fs_type if fs_type in NETWORK_FS_TYPES else None


def check_shared_storage(storage: Path, nodes: list[dict], asserted_shared: bool) -> str:
    """Refuse a node-local results path on a multi-node cluster; return why the path is accepted.

    Tune's trials write their results on the node they run on, to the same path: on more than one
    machine that path must be one shared file system, or results scatter over the nodes' disks.
    """
    if len(nodes) <= 1:
        return "single node"
    if asserted_shared:
        return "asserted shared with --shared-storage"
    probe = storage
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    fs_type = network_mount(probe.resolve())
    if fs_type:
        return f"on a {fs_type} network file system"
    if all_on_this_machine(nodes):
        return "every node runs on this machine"
    hosts = sorted({n["hostname"] or n["ip"] for n in nodes})
    raise UsageError(
        f"--storage-path {storage}: a local disk of this machine, but the cluster has {len(nodes)} nodes on "
        f"{len(hosts)} machine(s) ({', '.join(hosts[:4])}{', ...' if len(hosts) > 4 else ''}), whose trials "
        f"would write results to their own disks: pass a path on a file system every node mounts at the same "
        f"path (NFS, EFS, ...), or add --shared-storage if this path already is one"
    )
