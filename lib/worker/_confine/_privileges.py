"""Capabilities and no_new_privs: a root server's worker loses what makes root powerful, and
nothing the worker runs can gain privileges."""

from __future__ import annotations

import ctypes

from ._platform import _libc

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
