"""Confine the current process before it runs untrusted code (a model worker).

``confine(keep_fds=..., memory_bytes=...)`` is the first thing a worker child does after the
forkserver forks it. It assumes the model it will load may run arbitrary native code (say, through
memory corruption in compiled code), so everything it sets up is enforced by the kernel, not by
Python: a new session, /dev/null stdio and no inherited descriptors but the kept ones, resource
limits, no capabilities, ``no_new_privs``, a Landlock domain and a seccomp filter (libseccomp
through ctypes). The filter is a deny-list over a default of "allow", so the worker keeps importing
modules lazily and starting threads (OpenMP, OpenBLAS) as before; given ``readable`` paths,
Landlock lets it read files only beneath them (``worker_readable_paths`` for a model worker).

``describe()`` lists exactly what is blocked and what is not; the README's security model quotes
it. ``confine`` returns a ``Confinement`` saying which layers it applied and which it could not
(no libseccomp, an old kernel); the caller decides whether to run the model without them.

Only the standard library is imported here, so the module can be imported anywhere cheaply.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import logging
import os
import platform
import resource
import stat
import termios
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

MAX_OPEN_FILES = 64

_MASK64 = (1 << 64) - 1
_MACHINE = platform.machine()
# Architectures whose syscall numbers from 424 on follow the kernel's unified table (the same
# number everywhere), so the numeric tables below hold. Elsewhere only the names resolve.
_NUMBERS_KNOWN = _MACHINE in ("x86_64", "aarch64")


@dataclass(frozen=True)
class Confinement:
    """What confine() applied, for logs and the README: each entry a short plain sentence."""

    applied: list[str]
    not_applied: list[str]  # e.g. "no syscall filter: libseccomp not found"


def address_space_cap(mapped: int, extra: int, hard: int) -> int:
    """The child's address-space cap: what it has mapped plus ``extra`` bytes, but never above
    the ``hard`` limit it inherited (a server started under ``ulimit -v``): raising it fails
    for an unprivileged process, which used to refuse every upload as a crash."""
    wanted = mapped + extra
    return wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)


def mapped_bytes() -> int:
    """The size of this process's address space now (VmSize), from /proc/self/statm."""
    with open("/proc/self/statm", "rb") as f:
        pages = int(f.read().split()[0])
    return pages * os.sysconf("SC_PAGE_SIZE")


def confine(
    *,
    keep_fds: Sequence[int],
    memory_bytes: int,
    cpu_seconds_total: int | None = None,
    readable: Sequence[str] | None = None,
) -> Confinement:
    """Confine this process for good; call it first thing in a freshly forked worker.

    ``keep_fds`` stay open (the channel to the server; not 0, 1 or 2, which become /dev/null);
    every other descriptor is closed. ``memory_bytes`` is how much address space the process may
    add to what it has mapped now; ``cpu_seconds_total`` caps its CPU time for its whole life
    (SIGKILL when reached). With ``readable`` (directories and files, see
    ``worker_readable_paths``), Landlock also denies reading files and listing directories
    anywhere but beneath them; paths that do not exist are skipped. Raises (and so leaves
    nothing half-trusted running) if the process has other threads, a limit cannot be set or a
    stray descriptor cannot be closed; a missing libseccomp or kernel feature is reported in
    ``not_applied`` and logged instead.
    """
    keep = sorted({int(fd) for fd in keep_fds})
    if any(fd < 3 for fd in keep):
        raise ValueError(f"keep_fds must not contain 0, 1 or 2 (they become /dev/null): {keep}")
    if memory_bytes <= 0:
        raise ValueError(f"memory_bytes must be positive, not {memory_bytes}")
    threads = len(os.listdir("/proc/self/task"))
    if threads != 1:
        # Capabilities, no_new_privs and Landlock are per thread: the others would stay free.
        raise RuntimeError(f"confine() must run before any other thread starts ({threads} run)")
    pid = os.getpid()
    applied: list[str] = []
    not_applied: list[str] = []
    # Loaded before anything is locked down: dlopen needs nothing the filter takes away, but
    # the library search is simplest while everything still works.
    seccomp_lib = _load_libseccomp(not_applied)

    _new_session(applied)
    _reset_descriptors(keep, applied)
    _set_limits(memory_bytes, cpu_seconds_total, applied)
    _drop_capabilities(applied, not_applied)
    if _set_no_new_privs():
        applied.append("no_new_privs is set: nothing it runs can gain privileges")
    else:
        not_applied.append("no_new_privs could not be set")
    _landlock(applied, not_applied, readable)
    if seccomp_lib is not None:
        _seccomp(seccomp_lib, pid, applied, not_applied)
    _use_thread_locks(applied)

    for line in not_applied:
        log.warning("worker confinement incomplete: %s", line)
    return Confinement(applied=applied, not_applied=not_applied)


# What a model worker reads after confine(): found by tracing real worker flows (strace -f -e
# trace=%file: loading, predicting, permutation importance, partial dependence, lazy imports of
# scikit-learn and scipy submodules). Besides Python's own files: glibc's and OpenBLAS's CPU
# count (/sys/devices/system/cpu) and joblib's (loky reads the CPU quota files of cgroup v2
# or v1). The rest are cheap to allow and harmless: the loader's files, time zones, /dev/null
# and /dev/urandom, and the process's own /proc entries.
_SYSTEM_READABLE = (
    "/usr/lib",
    "/usr/lib64",
    "/lib",
    "/lib64",
    "/usr/local/lib",
    "/etc/ld.so.cache",
    "/usr/share/zoneinfo",
    "/etc/localtime",
    "/dev/null",
    "/dev/urandom",
    "/proc/self",  # also holds /proc/thread-self's targets
    "/sys/devices/system/cpu",
    "/sys/fs/cgroup/cpu.max",
    "/sys/fs/cgroup/cpu/cpu.cfs_quota_us",
    "/sys/fs/cgroup/cpu/cpu.cfs_period_us",
)


def worker_readable_paths() -> list[str]:
    """The paths a model worker may read beneath, for ``confine(readable=...)``; call it in
    the worker itself (``/proc/self`` is kept as a name).

    The Python installation and its environment (``sys.prefix``, ``sys.base_prefix``, the exec
    prefixes and every existing ``sys.path`` entry), the app's own package (``lib/`` only), the
    directories of the shared libraries mapped now, and ``_SYSTEM_READABLE``. Nothing that
    holds the project root (so not its ``saved_models/`` or ``.streamlit/``), the model
    library, or the home directory (``~/.aws`` and the like) is allowed, even when it is on
    ``sys.path`` (``PYTHONPATH=.``, the script's directory, ``""``); nor anything inside the
    library or ``.streamlit/``.
    """
    import sys

    import lib

    package = os.path.dirname(os.path.realpath(lib.__file__ or ""))
    root = os.path.dirname(package)
    library = os.environ.get("MODEL_STUDIO_LIBRARY") or os.path.join(root, "saved_models")
    library = os.path.realpath(os.path.expanduser(library))
    protected = [root, library, os.path.realpath(os.path.expanduser("~"))]
    secret = [library, os.path.join(root, ".streamlit")]

    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    candidates = [*prefixes, *(entry or os.getcwd() for entry in sys.path), package]
    candidates += _shared_library_dirs()
    chosen: list[str] = []
    for candidate in candidates:
        path = os.path.realpath(candidate)
        if not os.path.exists(path) or path in chosen:
            continue
        if any(_within(p, path) for p in protected) or any(_within(path, s) for s in secret):
            continue
        chosen.append(path)
    chosen += [path for path in _SYSTEM_READABLE if os.path.exists(path)]
    return _outermost(chosen)


def _within(path: str, directory: str) -> bool:
    """Whether ``path`` is ``directory`` or lies beneath it (both resolved)."""
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def _outermost(paths: list[str]) -> list[str]:
    """``paths`` without those beneath another of them (a rule covers everything beneath)."""
    kept: list[str] = []
    for path in sorted(set(paths)):
        if not any(_within(path, outer) for outer in kept):
            kept.append(path)
    return kept


def _shared_library_dirs() -> list[str]:
    """The directories of the shared libraries this process has mapped (from /proc/self/maps),
    so that one loaded from an unusual place can be loaded again (dlopen reopens by name)."""
    try:
        with open("/proc/self/maps") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    dirs = set()
    for line in lines:
        fields = line.split(maxsplit=5)
        if len(fields) == 6 and fields[5].startswith("/") and ".so" in fields[5]:
            dirs.add(os.path.dirname(fields[5]))
    return sorted(dirs)


# ---- 1. session ---------------------------------------------------------------------------------


def _new_session(applied: list[str]) -> None:
    try:
        os.setsid()
    except PermissionError:  # already a process group leader: it cannot start a session
        applied.append("already leads its own process group (no new session needed)")
        return
    applied.append("runs in its own session and process group")


# ---- 2. descriptors -----------------------------------------------------------------------------


def _reset_descriptors(keep: list[int], applied: list[str]) -> None:
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        if fd != devnull:
            os.dup2(devnull, fd)
    if devnull > 2:
        os.close(devnull)
    listed = _open_fds()
    top = max([*(listed or []), *keep, 2]) + 1
    if listed is None:  # no /proc: close up to the descriptor limit
        top = max(top, os.sysconf("SC_OPEN_MAX"))
    low = 3
    for fd in [*keep, top]:
        if low < fd:
            os.closerange(low, fd)
        low = fd + 1
    for fd in _open_fds() or []:
        if fd > 2 and fd not in keep:
            os.close(fd)
    left = {fd for fd in _open_fds() or [] if fd > 2} - set(keep)
    if left:
        raise RuntimeError(f"could not close inherited descriptors {sorted(left)}")
    applied.append(
        f"stdin, stdout and stderr are /dev/null; every other descriptor is closed except {keep}"
    )


def _open_fds() -> list[int] | None:
    """The open descriptors, or None without /proc. The listing's own descriptor, closed again
    by the time it returns, is left out."""
    try:
        listed = [int(name) for name in os.listdir("/proc/self/fd")]
    except FileNotFoundError:
        return None
    return [fd for fd in listed if _is_open(fd)]


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


# ---- 3. resource limits -------------------------------------------------------------------------


def _set_limits(memory_bytes: int, cpu_seconds_total: int | None, applied: list[str]) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    applied.append("no core dumps; no file can grow (RLIMIT_CORE = RLIMIT_FSIZE = 0)")

    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = address_space_cap(mapped_bytes(), memory_bytes, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    applied.append(f"address space capped at {cap:,} bytes (RLIMIT_AS)")

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    files = MAX_OPEN_FILES if hard == resource.RLIM_INFINITY else min(MAX_OPEN_FILES, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (files, files))
    applied.append(f"at most {files} open descriptors (RLIMIT_NOFILE)")

    if cpu_seconds_total is not None:
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        seconds = max(1, int(cpu_seconds_total))
        if hard != resource.RLIM_INFINITY:
            seconds = min(seconds, hard)
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds))
        applied.append(f"killed after {seconds} s of CPU time in total (RLIMIT_CPU)")


# ---- 4. capabilities and no_new_privs -----------------------------------------------------------

_PR_CAPBSET_DROP = 24
_PR_SET_NO_NEW_PRIVS = 38
_PR_CAP_AMBIENT = 47
_PR_CAP_AMBIENT_CLEAR_ALL = 4
_CAP_SETPCAP = 8
_LINUX_CAPABILITY_VERSION_3 = 0x20080522


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _prctl(option: int, arg2: int = 0) -> int:
    prctl = _libc().prctl
    prctl.restype = ctypes.c_int
    zero = ctypes.c_ulong(0)
    return int(prctl(ctypes.c_int(option), ctypes.c_ulong(arg2), zero, zero, zero))


def _capabilities() -> tuple[int, int] | None:
    """(effective, permitted) capability masks of this thread, or None if capget fails."""
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    if _libc().capget(ctypes.byref(header), data) != 0:
        return None
    effective = data[0].effective | (data[1].effective << 32)
    permitted = data[0].permitted | (data[1].permitted << 32)
    return effective, permitted


def _drop_capabilities(applied: list[str], not_applied: list[str]) -> None:
    """Drop every capability: a root server's worker stays uid 0 but loses what makes root
    powerful (overriding file permissions, ptrace of other processes, raising limits, raw I/O,
    mounts, TIOCSTI...). Harmless for a non-root worker, which has none."""
    before = _capabilities()
    _prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL)
    if before is not None and before[0] & (1 << _CAP_SETPCAP):
        try:
            with open("/proc/sys/kernel/cap_last_cap", "rb") as f:
                last = int(f.read())
        except (OSError, ValueError):
            last = 63
        for cap in range(last + 1):
            _prctl(_PR_CAPBSET_DROP, cap)
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    _libc().capset(ctypes.byref(header), (_CapData * 2)())
    after = _capabilities()
    if after == (0, 0):
        had = bin(before[0] | before[1]).count("1") if before else 0
        applied.append(
            f"all Linux capabilities dropped (it had {had})"
            if had
            else "holds no Linux capabilities (it had none)"
        )
    else:
        not_applied.append(f"capabilities could not be dropped (still {after})")


def _set_no_new_privs() -> bool:
    return _prctl(_PR_SET_NO_NEW_PRIVS, 1) == 0


# ---- 5. Landlock --------------------------------------------------------------------------------

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


# ---- 6. seccomp ---------------------------------------------------------------------------------

_SCMP_ACT_ALLOW = 0x7FFF0000
_SCMP_ACT_KILL_PROCESS = 0x80000000
_SCMP_FLTATR_ACT_BADARCH = 2
_SCMP_FLTATR_CTL_TSYNC = 4
_SCMP_FLTATR_CTL_OPTIMIZE = 8
_SCMP_CMP_NE = 1
_SCMP_CMP_MASKED_EQ = 7


def _scmp_act_errno(code: int) -> int:
    return 0x00050000 | (code & 0x0000FFFF)


class _ScmpArgCmp(ctypes.Structure):
    _fields_ = [
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    ]


# (argument index, operator, datum_a, datum_b); all of a rule's comparisons must hold.
_Cmp = tuple[int, int, int, int]
_Rule = tuple[str, int, tuple[_Cmp, ...]]


def _differs(arg: int, value: int) -> _Cmp:
    """The argument, all 64 bits, is not ``value``. Safe for deny rules on 32-bit arguments:
    junk in the upper half makes it differ, so the call is denied."""
    return (arg, _SCMP_CMP_NE, value & _MASK64, 0)


def _has_bits(arg: int, bits: int) -> _Cmp:
    return (arg, _SCMP_CMP_MASKED_EQ, bits, bits)


def _lacks_bits(arg: int, bits: int) -> _Cmp:
    return (arg, _SCMP_CMP_MASKED_EQ, bits, 0)


def _is32(arg: int, value: int) -> _Cmp:
    """The low 32 bits of the argument are ``value``: the kernel reads int arguments from the
    low half only, so comparing all 64 bits would let junk in the upper half slip past."""
    return (arg, _SCMP_CMP_MASKED_EQ, 0xFFFFFFFF, value & 0xFFFFFFFF)


def _deny(*names: str, code: int = errno.EPERM) -> list[_Rule]:
    return [(name, code, ()) for name in names]


_CLONE_THREAD = 0x00010000
_CLONE_NAMESPACES = (
    0x00020000,  # CLONE_NEWNS
    0x02000000,  # CLONE_NEWCGROUP
    0x04000000,  # CLONE_NEWUTS
    0x08000000,  # CLONE_NEWIPC
    0x10000000,  # CLONE_NEWUSER
    0x20000000,  # CLONE_NEWPID
    0x40000000,  # CLONE_NEWNET
)
_WRITE_INTENT = (os.O_WRONLY, os.O_RDWR, os.O_CREAT, os.O_TRUNC, os.O_APPEND)
# fcntl's values where Python has them (some architectures number them differently).
_F_SETOWN_EX = 15  # not in Python's fcntl; from the kernel's generic fcntl.h
_F_LOCKS_LEASES_NOTIFY = (
    fcntl.F_SETLK,
    fcntl.F_SETLKW,
    fcntl.F_OFD_SETLK,
    fcntl.F_OFD_SETLKW,
    fcntl.F_SETLEASE,
    fcntl.F_NOTIFY,
)
_IOPRIO_WHO_USER = 3
# The only ioctl requests allowed: what Python itself makes (isatty, the terminal size,
# set_blocking, set_inheritable, bytes waiting). Any other fails with ENOTTY, as on a file that
# does not support it: injecting terminal input (TIOCSTI), redirecting SIGIO (FIOSETOWN), inode
# flags, fs-verity, encryption policies, loop devices, KVM and every other driver's requests.
IOCTLS_ALLOWED = {
    "TCGETS": termios.TCGETS,
    "TIOCGWINSZ": termios.TIOCGWINSZ,
    "TIOCGPGRP": termios.TIOCGPGRP,
    "FIONREAD": termios.FIONREAD,
    "FIONBIO": termios.FIONBIO,
    "FIOCLEX": termios.FIOCLEX,
    "FIONCLEX": termios.FIONCLEX,
}
# Syscalls libseccomp may be too old to know by name, by their unified number.
_NUMBERS = {
    "fchmodat2": 452,
    "setxattrat": 463,
    "removexattrat": 466,
    "open_tree_attr": 467,
    "file_setattr": 469,
}
# The newest syscall this list was reviewed against (Linux 6.18: file_setattr). Later ones are
# unknown, so they fail with ENOSYS (what libc expects of an older kernel) rather than run.
NEWEST_REVIEWED_SYSCALL = 469
_FUTURE_SYSCALLS = range(NEWEST_REVIEWED_SYSCALL + 1, 600)

_FILE_CHANGES = (
    "creat",
    "unlink",
    "unlinkat",
    "rename",
    "renameat",
    "renameat2",
    "rmdir",
    "mkdir",
    "mkdirat",
    "truncate",
    "ftruncate",
    "fallocate",
    "chmod",
    "fchmod",
    "fchmodat",
    "fchmodat2",
    "chown",
    "fchown",
    "lchown",
    "fchownat",
    "link",
    "linkat",
    "symlink",
    "symlinkat",
    "mknod",
    "mknodat",
    "utime",
    "utimes",
    "utimensat",
    "futimesat",
    "setxattr",
    "lsetxattr",
    "fsetxattr",
    "setxattrat",
    "removexattr",
    "lremovexattr",
    "fremovexattr",
    "removexattrat",
    "file_setattr",
    "name_to_handle_at",
    "open_by_handle_at",
    "flock",
)
_NETWORK = (
    "socket",
    "socketpair",
    "connect",
    "bind",
    "listen",
    "accept",
    "accept4",
    "sendmsg",
    "sendmmsg",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "mq_open",
    "mq_unlink",
    "shmget",
    "shmat",
    "shmctl",
    "msgget",
    "msgsnd",
    "msgrcv",
    "msgctl",
    "semget",
    "semop",
    "semtimedop",
    "semctl",
    "ipc",
)
_PROCESSES = (
    "execve",
    "execveat",
    "fork",
    "vfork",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "process_madvise",
    "process_mrelease",
    "kcmp",
    "pidfd_open",
    "pidfd_send_signal",
    "pidfd_getfd",
    "tkill",
    "setpgid",
    "setsid",
    "unshare",
    "setns",
)
_PRIVILEGES = (
    "setrlimit",
    "setuid",
    "setgid",
    "setreuid",
    "setregid",
    "setresuid",
    "setresgid",
    "setfsuid",
    "setfsgid",
    "setgroups",
    "capset",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "open_tree",
    "open_tree_attr",
    "move_mount",
    "mount_setattr",
    "quotactl",
    "quotactl_fd",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "fanotify_init",
    "fanotify_mark",
    "keyctl",
    "add_key",
    "request_key",
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "kexec_file_load",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "iopl",
    "ioperm",
    "modify_ldt",
    "syslog",
    "settimeofday",
    "clock_settime",
    "sethostname",
    "setdomainname",
    "vhangup",
)


def _rules(pid: int) -> list[_Rule]:
    """The deny-list. Everything not matched here is allowed."""
    clone_flags = 1 if _MACHINE.startswith("s390") else 0  # s390 swaps clone's first two
    rules: list[_Rule] = []
    rules += _deny(*_FILE_CHANGES, *_NETWORK, *_PROCESSES, *_PRIVILEGES)
    rules += _deny("clone3", "openat2", code=errno.ENOSYS)  # flags behind a pointer
    for flag in _WRITE_INTENT:
        rules.append(("open", errno.EPERM, (_has_bits(1, flag),)))
        rules.append(("openat", errno.EPERM, (_has_bits(2, flag),)))
    rules.append(("sendto", errno.EPERM, (_differs(4, 0),)))  # only on a connected socket
    # Threads only: a clone without CLONE_THREAD is a new process.
    rules.append(("clone", errno.EPERM, (_lacks_bits(clone_flags, _CLONE_THREAD),)))
    for flag in _CLONE_NAMESPACES:
        rules.append(("clone", errno.EPERM, (_has_bits(clone_flags, flag),)))
    # Signals to itself only (raise, abort and pthread_kill use its own pid).
    for name in ("kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo"):
        rules.append((name, errno.EPERM, (_differs(0, pid),)))
    # Scheduling, priorities and memory placement of itself only ("pid 0").
    for name in ("sched_setaffinity", "sched_setscheduler", "sched_setparam", "sched_setattr"):
        rules.append((name, errno.EPERM, (_differs(0, 0),)))
    for name in ("migrate_pages", "move_pages", "get_robust_list"):
        rules.append((name, errno.EPERM, (_differs(0, 0),)))
    rules.append(("setpriority", errno.EPERM, (_differs(1, 0),)))
    rules.append(("setpriority", errno.EPERM, (_is32(0, os.PRIO_USER),)))
    rules.append(("ioprio_set", errno.EPERM, (_differs(1, 0),)))
    rules.append(("ioprio_set", errno.EPERM, (_is32(0, _IOPRIO_WHO_USER),)))
    # Reading limits (getrlimit is prlimit64 without a new limit) works; changing them does not.
    rules.append(("prlimit64", errno.EPERM, (_differs(2, 0),)))
    # fcntl: SIGIO/SIGURG to another process, file locks and leases, directory notifications.
    rules.append(("fcntl", errno.EPERM, (_is32(1, fcntl.F_SETOWN), _differs(2, pid))))
    for cmd in (_F_SETOWN_EX, *_F_LOCKS_LEASES_NOTIFY):
        rules.append(("fcntl", errno.EPERM, (_is32(1, cmd),)))
    # libseccomp cannot say "none of these" in one rule, so: one rule per 32-bit prefix that no
    # allowed request starts with. They cover every other request exactly.
    for mask, value in _prefixes_outside(IOCTLS_ALLOWED.values()):
        rules.append(("ioctl", errno.ENOTTY, ((1, _SCMP_CMP_MASKED_EQ, mask, value),)))
    return rules


def _prefixes_outside(allowed: Iterable[int], bits: int = 32) -> list[tuple[int, int]]:
    """(mask, value) pairs such that a ``bits``-wide number is outside ``allowed`` exactly when
    ``number & mask == value`` for one of them: the sibling of every branch on the way from the
    top bit down to each allowed number, where that sibling holds no allowed number."""
    wanted = {value & ((1 << bits) - 1) for value in allowed}
    pairs: list[tuple[int, int]] = []

    def walk(prefix: int, depth: int, values: set[int]) -> None:
        if depth == bits:
            return
        shift = bits - depth - 1
        for bit in (0, 1):
            branch = {v for v in values if (v >> shift) & 1 == bit}
            head = (prefix << 1) | bit
            if branch:
                walk(head, depth + 1, branch)
            else:
                pairs.append((((1 << (depth + 1)) - 1) << shift, head << shift))

    walk(0, 0, wanted)
    return pairs


def _load_libseccomp(not_applied: list[str]) -> ctypes.CDLL | None:
    # find_library runs ldconfig, so only when the usual soname is not found.
    lib = _open_library("libseccomp.so.2") or _open_library(ctypes.util.find_library("seccomp"))
    if lib is None:
        not_applied.append("no syscall filter: libseccomp not found")
        return None
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_attr_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [
        ctypes.c_void_p,
        ctypes.c_uint32,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.POINTER(_ScmpArgCmp),
    ]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    lib.seccomp_release.restype = None
    return lib


def _open_library(name: str | None) -> ctypes.CDLL | None:
    if not name:
        return None
    try:
        return ctypes.CDLL(name, use_errno=True)
    except OSError:
        return None


def _syscall_number(lib: ctypes.CDLL, name: str) -> int | None:
    number = int(lib.seccomp_syscall_resolve_name(name.encode()))
    if number >= 0:
        return number
    if number == -1 and _NUMBERS_KNOWN and name in _NUMBERS:  # newer than this libseccomp
        return _NUMBERS[name]
    return None  # not a syscall on this architecture (libseccomp gives a negative number)


def _seccomp(lib: ctypes.CDLL, pid: int, applied: list[str], not_applied: list[str]) -> None:
    ctx = lib.seccomp_init(_SCMP_ACT_ALLOW)
    if not ctx:
        not_applied.append("no syscall filter: seccomp_init failed")
        return
    try:
        # Another ABI (32-bit int 0x80, x32) would dodge the rules: kill the process instead.
        lib.seccomp_attr_set(ctx, _SCMP_FLTATR_ACT_BADARCH, _SCMP_ACT_KILL_PROCESS)
        lib.seccomp_attr_set(ctx, _SCMP_FLTATR_CTL_TSYNC, 1)
        lib.seccomp_attr_set(ctx, _SCMP_FLTATR_CTL_OPTIMIZE, 2)  # a binary tree: fewer checks
        names: set[str] = set()
        for name, code, cmps in _rules(pid):
            number = _syscall_number(lib, name)
            if number is None:
                continue
            array = (_ScmpArgCmp * max(1, len(cmps)))(*(_ScmpArgCmp(*cmp) for cmp in cmps))
            rc = lib.seccomp_rule_add_array(ctx, _scmp_act_errno(code), number, len(cmps), array)
            if rc != 0:
                not_applied.append(f"no syscall filter: the rule for {name} failed ({-rc})")
                return
            names.add(name)
        if _NUMBERS_KNOWN:
            for number in _FUTURE_SYSCALLS:
                rc = lib.seccomp_rule_add_array(ctx, _scmp_act_errno(errno.ENOSYS), number, 0, None)
                if rc != 0:
                    not_applied.append(f"no syscall filter: the rule for #{number} failed ({-rc})")
                    return
        rc = lib.seccomp_load(ctx)
        if rc != 0:
            not_applied.append(f"no syscall filter: seccomp_load failed ({os.strerror(-rc)})")
            return
    finally:
        lib.seccomp_release(ctx)
    applied.append(
        f"seccomp filter denies {len(names)} system calls or uses of them"
        + (f" and every syscall numbered above {NEWEST_REVIEWED_SYSCALL}" if _NUMBERS_KNOWN else "")
    )
    if not _NUMBERS_KNOWN:
        not_applied.append(
            f"on {_MACHINE} the filter has no rules for syscalls newer than libseccomp knows"
        )


# ---- 7. multiprocessing's locks ---------------------------------------------------------------


def _use_thread_locks(applied: list[str]) -> None:
    """Make multiprocessing's Lock, RLock, Semaphore, BoundedSemaphore, Condition, Event and
    Barrier the threading ones.

    Its own are POSIX named semaphores, files created in /dev/shm, which the confinement forbids
    (and RLIMIT_FSIZE = 0 would stop their first write). A confined process cannot start another
    process to share one with anyway. They are needed even without processes: joblib's threading
    backend, which scikit-learn uses (HistGradientBoosting's binning, any model with n_jobs > 1),
    runs a multiprocessing.pool.ThreadPool, and that makes a SimpleQueue, which takes two Locks.
    """
    import multiprocessing.synchronize as synchronize
    import threading

    def lock(*, ctx: object = None) -> object:
        return threading.Lock()

    def rlock(*, ctx: object = None) -> object:
        return threading.RLock()

    def semaphore(value: int = 1, *, ctx: object = None) -> object:
        return threading.Semaphore(value)

    def bounded_semaphore(value: int = 1, *, ctx: object = None) -> object:
        return threading.BoundedSemaphore(value)

    def condition(lock: object = None, *, ctx: object = None) -> object:
        return threading.Condition(lock)  # type: ignore[arg-type]

    def event(*, ctx: object = None) -> object:
        return threading.Event()

    def barrier(
        parties: int, action: object = None, timeout: float | None = None, *, ctx: object = None
    ) -> object:
        return threading.Barrier(parties, action, timeout)  # type: ignore[arg-type]

    replacements = {
        "Lock": lock,
        "RLock": rlock,
        "Semaphore": semaphore,
        "BoundedSemaphore": bounded_semaphore,
        "Condition": condition,
        "Event": event,
        "Barrier": barrier,
    }
    for name, factory in replacements.items():
        setattr(synchronize, name, factory)
    applied.append(
        "multiprocessing's locks, semaphores, conditions, events and barriers are threading's "
        "(its own need files in /dev/shm)"
    )


# ---- what it means ------------------------------------------------------------------------------

_BLOCKED = [
    "Writing files: opening any file with write intent (O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, "
    "O_APPEND, so also O_TMPFILE; creat) fails, and so do deleting, renaming, linking, "
    "truncating or preallocating files, creating directories, device nodes, FIFOs or symlinks, "
    "and changing modes, owners, timestamps, extended attributes or inode flags. RLIMIT_FSIZE "
    "is 0, so no file can grow even through a descriptor opened for writing earlier, and a "
    "Landlock domain (where the kernel has it) denies the same writes by path, independently.",
    "Reading files outside the readable paths given to confine() (a model worker's are "
    "worker_readable_paths), where the kernel has Landlock: opening a file to read it or "
    "listing a directory fails with PermissionError, so the project root (saved_models/, "
    ".streamlit/secrets.toml), the model library, the home directory (~/.aws and the like), "
    "/etc and other processes' /proc entries cannot be read. Following a link (/proc/self/root, "
    "/proc/self/cwd, a symlink) does not help: Landlock checks where the file really is.",
    "The network and local IPC: creating a socket of any family (IP, Unix, netlink, packet, "
    "...), socketpair, connect, bind, listen, accept, sendto with an address, sendmsg and "
    "sendmmsg (so a kept socket cannot send elsewhere or pass descriptors); io_uring; System V "
    "shared memory, semaphores and message queues; POSIX message queues and named semaphores.",
    "New processes and programs: fork, vfork, clone without CLONE_THREAD or with a namespace "
    "flag, execve, execveat, unshare and setns; clone3 and openat2 fail with ENOSYS so that "
    "libc falls back to clone and openat, which the filter can inspect. Threads still start.",
    "Touching other processes: sending them any signal (kill, tgkill, rt_sigqueueinfo, "
    "rt_tgsigqueueinfo and fcntl F_SETOWN name its own pid only, so kill(0, ...), kill(-1, ...) "
    "and process groups are refused; tkill, pidfd_send_signal, F_SETOWN_EX, FIOSETOWN and "
    "SIOCSPGRP are refused), ptrace, process_vm_readv/writev, process_madvise, "
    "process_mrelease, kcmp, pidfd_open, pidfd_getfd, and changing another process's priority, "
    "scheduling, CPU affinity, I/O priority or memory placement (it may change its own, named "
    "as pid 0; so pinning single threads, as OMP_PROC_BIND asks, fails). Landlock additionally "
    "confines signals and ptrace-style access to its own domain.",
    "Reading another process's memory, environment, memory map or descriptors through "
    "/proc/<pid>/mem, environ, maps, fd/<n> and the like: a root server's worker has no "
    "capabilities left, so the kernel refuses it access to processes that hold some (a root "
    "server does); Landlock refuses it for every process outside the worker's domain, which "
    "protects a non-root server too.",
    "Raising its limits or privileges: setrlimit, prlimit64 with a new limit, the setuid/setgid "
    "family, setgroups and capset; all Linux capabilities are dropped (the bounding set too "
    "when it may) and no_new_privs is set. It cannot leave its session or process group.",
    "Kernel administration: mount, umount2, pivot_root, chroot and the new mount API, bpf, "
    "perf_event_open, userfaultfd, fanotify, keyctl/add_key/request_key, module loading, "
    "kexec, reboot, swapon/swapoff, acct, iopl/ioperm, modify_ldt, quotactl, syslog, setting "
    "the clock or host name, name_to_handle_at and open_by_handle_at.",
    "File locks, leases and directory notifications (flock, fcntl F_SETLK, F_SETLKW, "
    "F_OFD_SETLK, F_OFD_SETLKW, F_SETLEASE, F_NOTIFY), so it cannot stall the server's writes "
    "to a file it can read.",
    "Every ioctl request but TCGETS, TIOCGWINSZ, TIOCGPGRP, FIONREAD, FIONBIO, FIOCLEX and "
    "FIONCLEX (what Python itself uses) fails with ENOTTY: no terminal input injection "
    "(TIOCSTI), SIGIO redirection, inode flags, fs-verity or encryption policies, and no "
    "control of devices such as loop devices or KVM.",
    "System calls newer than the list (numbered above 469 on x86_64 and aarch64) fail with "
    "ENOSYS, and a system call through another ABI (32-bit int 0x80, x32) kills the process, "
    "so neither can bypass the filter.",
    "Resources: core dumps (RLIMIT_CORE 0), more than 64 open descriptors, address space beyond "
    "what it had mapped plus memory_bytes (allocations fail with MemoryError), and when "
    "cpu_seconds_total is given, CPU time beyond it over its whole life (SIGKILL).",
    "Inherited reach: it runs in its own session and process group, so neither a kill(0, ...) "
    "nor a terminal's signals reach the server's group; stdin, stdout and stderr are /dev/null "
    "and no inherited descriptor stays open except keep_fds.",
]

_NOT_BLOCKED = [
    "Reading what a worker needs, when confine() is given readable paths (a model worker is, "
    "see worker_readable_paths): the Python installation and its environment (sys.prefix, "
    "sys.base_prefix and the existing sys.path entries but those holding the project root or "
    "the home directory), the app's lib/ package, the shared-library directories (/usr/lib, "
    "/lib, /lib64, /usr/lib64, /usr/local/lib and those of the libraries it has mapped), "
    "/etc/ld.so.cache, time zones, /dev/null, /dev/urandom, its own /proc/self, "
    "/sys/devices/system/cpu and the cgroup CPU quota files; file permissions still apply. "
    "Without Landlock (Linux before 5.13, or not enabled), or without readable, it can read "
    "any file the server's user may read.",
    "Everything already in its memory: it is forked from the forkserver, so it holds that "
    "process's environment variables (including any secrets in them) and whatever its "
    "imported modules loaded, plus whatever the server sends it.",
    "Its kept descriptors (the channel to the server): it can write any bytes to them at any "
    "time, so the server must treat everything it reads there as untrusted.",
    "CPU and memory within the caps, any number of threads (RLIMIT_NPROC is not used; root "
    "ignores it), and kernel memory outside RLIMIT_AS (page cache, pipe buffers): it can slow "
    "the machine down or use up process IDs until it is killed. Host-level limits need "
    "cgroups (systemd MemoryMax=, TasksMax=, CPUQuota=).",
    "Looking at other processes: listing /proc/<pid>/fd (numbers only) and reading "
    "/proc/<pid>/cmdline, status and stat of any process, as any process may. Without "
    "Landlock (Linux before 5.13, or not enabled), a non-root worker can also read "
    "/proc/<pid>/environ and maps of the server and other processes of the same user, and "
    "/proc/<pid>/mem when Yama's ptrace_scope is 0.",
    "Harmless kernel services: anonymous memory, pipes, eventfds, memfds (which cannot grow), "
    "timers, inotify, getrandom, signals to itself, changing its own priority or CPU affinity, "
    "and any system call not named here (a deny-list over a default of allow).",
    "Bugs in the kernel or the CPU: the filter removes much of the kernel's attack surface, but "
    "a kernel exploit or a side channel (timing, caches) is not stopped. A layer the machine "
    "lacks (no libseccomp, no Landlock) is missing, which confine() reports in "
    "Confinement.not_applied.",
]


def describe() -> list[str]:
    """What a confined worker cannot and can do, one sentence per entry, each starting with
    "Blocked:" or "Not blocked:"; for the README's security model."""
    return [f"Blocked: {line}" for line in _BLOCKED] + [
        f"Not blocked: {line}" for line in _NOT_BLOCKED
    ]
