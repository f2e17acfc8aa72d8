"""Installing the seccomp filter: the deny-list's rules, through libseccomp, over a default of
"allow"."""

from __future__ import annotations

import ctypes
import errno
import os

from ._libseccomp import (
    _SCMP_ACT_ALLOW,
    _SCMP_ACT_KILL_PROCESS,
    _SCMP_FLTATR_ACT_BADARCH,
    _SCMP_FLTATR_CTL_OPTIMIZE,
    _SCMP_FLTATR_CTL_TSYNC,
    _scmp_act_errno,
    _ScmpArgCmp,
)
from ._platform import _MACHINE
from ._syscall_rules import (
    _FUTURE_SYSCALLS,
    _NUMBERS,
    _NUMBERS_KNOWN,
    NEWEST_REVIEWED_SYSCALL,
    _rules,
)


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
