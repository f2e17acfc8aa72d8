"""The seccomp deny-list: which system calls, or uses of them, fail and with which errno."""

from __future__ import annotations

import errno
import fcntl
import os
import termios
from collections.abc import Iterable

from ._libseccomp import _SCMP_CMP_MASKED_EQ, _SCMP_CMP_NE
from ._platform import _MACHINE

_MASK64 = (1 << 64) - 1

# Architectures whose syscall numbers from 424 on follow the kernel's unified table (the same
# number everywhere), so the numeric tables below hold. Elsewhere only the names resolve.
_NUMBERS_KNOWN = _MACHINE in ("x86_64", "aarch64")


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
