"""The Linux system calls the worker needs and Python's ``os`` module lacks (via ctypes).

prctl, mount, capset, unshare and a raw clone into new namespaces. Nothing here decides a
policy; ``isolation.py`` and ``attempt.py`` say what is mounted, dropped and limited.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 1, 2, 4, 8, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT = 1, 4, 24, 38, 47
NS_FLAGS = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS

libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
_pyapi = ctypes.PyDLL(None, use_errno=True)  # calls that keep the GIL, as os.fork does
_SYS_CLONE = {"x86_64": 56, "aarch64": 220, "ppc64le": 120, "s390x": 120, "riscv64": 220}.get(os.uname().machine)


def check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def prctl(option: int, arg: int = 0) -> int:
    return libc.prctl(option, arg, 0, 0, 0)


def mount(src: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    check(libc.mount(src.encode(), target.encode(), fstype.encode() if fstype else None, flags,
                     data.encode() if data else None), f"mount {target}")


def capset_empty() -> None:
    """Empty the effective, permitted and inheritable capability sets of this process."""

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    hdr, data = Header(0x20080522, 0), (Data * 2)()  # _LINUX_CAPABILITY_VERSION_3: two 32-bit words
    check(libc.capset(ctypes.byref(hdr), data), "capset")


def clone_into_namespaces() -> int:
    """fork() straight into new namespaces: the child is PID 1 of a fresh PID namespace.

    One copy of the (large, warm) worker instead of fork + unshare + fork; Python's own
    before/after-fork handling runs around the raw system call exactly as in os.fork().
    """
    if _SYS_CLONE is None:
        raise OSError(f"clone: unknown system call number on {os.uname().machine}")
    syscall = _pyapi.syscall
    syscall.restype = ctypes.c_long
    syscall.argtypes = [ctypes.c_long, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                        ctypes.c_ulong]
    _pyapi.PyOS_BeforeFork()
    pid = syscall(_SYS_CLONE, NS_FLAGS | signal.SIGCHLD, None, None, None, 0)
    if pid == 0:
        _pyapi.PyOS_AfterFork_Child()
        return 0
    err = ctypes.get_errno()
    _pyapi.PyOS_AfterFork_Parent()
    if pid < 0:
        raise OSError(err, f"clone: {os.strerror(err)}")
    return pid


def fork_into_namespaces() -> int:
    """The same for a worker that runs threads (some library started one): a raw clone
    would skip the C library's fork handlers, so fork, unshare, fork. Returns the pid of
    the intermediate process in the worker; killing it kills B (parent-death signal)."""
    pid = os.fork()
    if pid != 0:
        return pid
    try:
        check(libc.unshare(NS_FLAGS), "unshare")
        b = os.fork()
    except BaseException:  # noqa: BLE001
        os._exit(72)
    if b == 0:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        return 0
    try:
        os.waitpid(b, 0)
    finally:
        os._exit(0)


def thread_count() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 1


def vm_bytes() -> int:
    """This process's virtual size: the attempt's memory limit is counted on top of it."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * resource.getpagesize()
    except OSError:
        return 0
