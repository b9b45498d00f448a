"""Per-attempt isolation in mode ``ns``: the attempt's own user, mount, PID, network, IPC
and UTS namespaces, a fresh tmpfs as its only writable place, no capabilities.

Runs in B, the process cloned into the new namespaces (``linux.clone_into_namespaces``),
before the attempt's files are written. See docs/executor.md, "bwrap, in detail".
"""

from __future__ import annotations

import os
import socket
import struct

from . import events, linux

NS_WORKDIR = "/tmp/attempt"  # every ns-mode attempt runs here, in its own tmpfs
NS_SOLUTION = NS_WORKDIR + "/solution.py"


def _write(path: str, text: str) -> None:
    with open(path, "w") as fh:
        fh.write(text)


def map_ids(uid: int, gid: int) -> None:
    """Map the worker's uid and gid into the new user namespace, and nothing else."""
    linux.prctl(linux.PR_SET_DUMPABLE, 1)  # /proc/self/*_map must be writable by us
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{uid} {uid} 1")
    _write("/proc/self/gid_map", f"{gid} {gid} 1")


def _loopback_up() -> None:
    import fcntl

    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = struct.pack("16sH22x", b"lo", 0)
        flags = struct.unpack("16sH22x", fcntl.ioctl(s, siocgifflags, req))[1]
        fcntl.ioctl(s, siocsifflags, struct.pack("16sH22x", b"lo", flags | iff_up))


def private_mounts(limits: dict) -> str:
    """Fresh /tmp and /dev/shm (and /proc where allowed), own hostname and loopback; returns
    the attempt's folder."""
    linux.mount("none", "/", None, linux.MS_REC | linux.MS_PRIVATE)
    size_mb = max(32, 4 * int(limits.get("max_file_mb", 16)))
    linux.mount("tmpfs", "/tmp", "tmpfs", linux.MS_NOSUID | linux.MS_NODEV, f"size={size_mb}m,nr_inodes=16384,mode=0755")
    if os.path.isdir("/dev/shm"):
        linux.mount("tmpfs", "/dev/shm", "tmpfs", linux.MS_NOSUID | linux.MS_NODEV | linux.MS_NOEXEC,
                    "size=16m,nr_inodes=1024,mode=1777")
    try:  # a /proc of the attempt's own PID namespace; bwrap's /proc has locked submounts,
        linux.mount("proc", "/proc", "proc", linux.MS_NOSUID | linux.MS_NODEV | linux.MS_NOEXEC)  # which may forbid it
    except OSError:
        pass
    try:
        socket.sethostname("sandbox")
        _loopback_up()
    except OSError:
        pass
    os.mkdir(NS_WORKDIR, 0o755)
    return NS_WORKDIR


def drop_capabilities() -> None:
    """Clear the bounding, ambient, effective, permitted and inheritable sets; no new privileges."""
    for cap in range(64):
        if linux.prctl(linux.PR_CAPBSET_DROP, cap) != 0:
            break
    linux.prctl(linux.PR_CAP_AMBIENT, 4)  # PR_CAP_AMBIENT_CLEAR_ALL
    linux.capset_empty()
    linux.prctl(linux.PR_SET_NO_NEW_PRIVS, 1)


def probe_namespaces() -> str | None:
    """None when per-attempt namespaces work here, else the reason they do not."""
    uid, gid = os.getuid(), os.getgid()  # inside the new user namespace they read as unmapped
    r, w = os.pipe()
    try:
        pid = linux.clone_into_namespaces()
    except OSError as exc:
        os.close(r)
        os.close(w)
        return str(exc)
    if pid == 0:
        try:
            os.close(r)
            map_ids(uid, gid)
            linux.mount("none", "/", None, linux.MS_REC | linux.MS_PRIVATE)
            linux.mount("tmpfs", "/tmp", "tmpfs", linux.MS_NOSUID | linux.MS_NODEV, "size=1m")
            os.write(w, b"ok")
        except BaseException as exc:  # noqa: BLE001
            os.write(w, f"{exc}".encode())
        finally:
            os._exit(0)
    os.close(w)
    msg = events.read_to_end(r)
    os.waitpid(pid, 0)
    text = msg.decode("utf-8", "replace")
    return None if text == "ok" else (text or "namespace probe died")
