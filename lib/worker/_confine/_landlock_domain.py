"""The Landlock domain: denies writes, execution and access to other processes everywhere, and
with ``readable`` paths, reading anywhere but beneath them."""

from __future__ import annotations

import ctypes
import logging
import os
import stat
from collections.abc import Sequence
from typing import Any

from ._platform import _MACHINE, _libc

log = logging.getLogger(__name__)

# Landlock's syscall numbers are the same on every architecture but alpha and mips.
_SYS_LANDLOCK_CREATE_RULESET = 444
_SYS_LANDLOCK_ADD_RULE = 445
_SYS_LANDLOCK_RESTRICT_SELF = 446
_LANDLOCK_CREATE_RULESET_VERSION = 1
_LANDLOCK_RULE_PATH_BENEATH = 1
# handled_access_fs (ABI 1) ...
_FS_EXECUTE = 1 << 0
_FS_WRITE_FILE = 1 << 1
_FS_READ_FILE = 1 << 2
_FS_READ_DIR = 1 << 3
_FS_REMOVE_DIR = 1 << 4
_FS_REMOVE_FILE = 1 << 5
_FS_MAKE_ALL = sum(1 << bit for bit in range(6, 13))  # char, dir, reg, sock, fifo, block, sym
_FS_REFER = 1 << 13  # ABI 2
_FS_TRUNCATE = 1 << 14  # ABI 3
_FS_IOCTL_DEV = 1 << 15  # ABI 5
_NET_BIND_TCP, _NET_CONNECT_TCP = 1 << 0, 1 << 1  # ABI 4
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1 << 0, 1 << 1  # ABI 6


class _LandlockRulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1  # the kernel's struct landlock_path_beneath_attr is packed: 12 bytes
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _landlock(
    applied: list[str], not_applied: list[str], readable: Sequence[str] | None = None
) -> None:
    """A Landlock domain that denies every handled access everywhere, except reading beneath
    ``readable`` when it is given (without it, reads are not handled and stay allowed).
    Being in a domain also stops ptrace-style access (/proc/<pid>/mem, environ, maps, fd/<n>)
    to processes outside it, which is what protects a non-root server's processes from a
    worker of the same user. (A worker that kept root's capabilities could still read environ
    and maps in our tests; they are dropped first.) Signal scoping needs ABI 6 (Linux 6.12);
    before that the seccomp filter alone keeps signals in.

    Execution stays denied everywhere: Landlock's EXECUTE right governs execve only, not
    mmap(PROT_EXEC), so shared libraries still load (lazy imports of extension modules work
    under this domain), as long as their files may be read."""
    if _MACHINE.startswith(("alpha", "mips")):
        not_applied.append(f"no Landlock: syscall numbers unknown on {_MACHINE}")
        return
    syscall = _libc().syscall
    syscall.restype = ctypes.c_long
    abi = syscall(
        ctypes.c_long(_SYS_LANDLOCK_CREATE_RULESET),
        None,
        ctypes.c_size_t(0),
        ctypes.c_uint32(_LANDLOCK_CREATE_RULESET_VERSION),
    )
    if abi < 1:
        reason = os.strerror(ctypes.get_errno())
        not_applied.append(f"no Landlock: the kernel does not offer it ({reason})")
        return
    attr = _LandlockRulesetAttr()
    attr.handled_access_fs = _FS_EXECUTE | _FS_WRITE_FILE | _FS_REMOVE_DIR | _FS_REMOVE_FILE
    attr.handled_access_fs |= _FS_MAKE_ALL
    if readable is not None:
        attr.handled_access_fs |= _FS_READ_FILE | _FS_READ_DIR
    size = 8
    if abi >= 2:
        attr.handled_access_fs |= _FS_REFER
    if abi >= 3:
        attr.handled_access_fs |= _FS_TRUNCATE
    if abi >= 4:
        attr.handled_access_net = _NET_BIND_TCP | _NET_CONNECT_TCP
        size = 16
    if abi >= 5:
        attr.handled_access_fs |= _FS_IOCTL_DEV
    if abi >= 6:
        attr.scoped = _SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL
        size = 24
    ruleset = syscall(
        ctypes.c_long(_SYS_LANDLOCK_CREATE_RULESET),
        ctypes.byref(attr),
        ctypes.c_size_t(size),
        ctypes.c_uint32(0),
    )
    if ruleset < 0:
        not_applied.append(f"no Landlock: creating the ruleset failed ({_errno_text()})")
        return
    allowed = 0
    try:
        for path in readable or ():
            allowed += _allow_reading(syscall, ruleset, path)
        done = syscall(
            ctypes.c_long(_SYS_LANDLOCK_RESTRICT_SELF), ctypes.c_int(ruleset), ctypes.c_uint32(0)
        )
        if done != 0:
            not_applied.append(f"no Landlock: restricting the process failed ({_errno_text()})")
            return
    finally:
        os.close(ruleset)
    what = ["file writes, deletes and creation", "execution", "access to other processes"]
    if readable is not None:
        what.insert(0, f"reading files and listing directories outside {allowed} allowed paths")
    if abi >= 4:
        what.append("TCP bind and connect")
    if abi >= 5:
        what.append("device ioctls")
    if abi >= 6:
        what.append("signals to and abstract sockets of processes outside it")
    applied.append(f"Landlock (ABI {abi}) denies " + ", ".join(what))


# Descriptors that keep procfs rules' dentries alive for the process's life (see below).
_PINNED: list[int] = []


def _allow_reading(syscall: Any, ruleset: int, path: str) -> int:
    """Add a rule allowing reads beneath ``path`` (a file: reading it); 1 if added, else 0
    (a path that does not exist or cannot be opened is skipped: nothing more is readable)."""
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return 0
    keep = False
    try:
        is_dir = stat.S_ISDIR(os.fstat(fd).st_mode)
        rule = _PathBeneathAttr(_FS_READ_FILE | (_FS_READ_DIR if is_dir else 0), fd)
        added = syscall(
            ctypes.c_long(_SYS_LANDLOCK_ADD_RULE),
            ctypes.c_int(ruleset),
            ctypes.c_int(_LANDLOCK_RULE_PATH_BENEATH),
            ctypes.byref(rule),
            ctypes.c_uint32(0),
        )
        if added != 0:
            log.warning("cannot allow reading %s: %s", path, _errno_text())
            return 0
        # A rule holds the inode. procfs makes a new inode whenever it looks a name up again
        # after the dentry was dropped (memory pressure): an open descriptor keeps it.
        keep = os.path.realpath(path).startswith("/proc/")
        return 1
    finally:
        if keep:
            _PINNED.append(fd)
        else:
            os.close(fd)


def _errno_text() -> str:
    return os.strerror(ctypes.get_errno())
