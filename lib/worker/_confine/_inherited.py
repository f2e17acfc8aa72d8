"""What the worker inherits from the forkserver: its session and process group, and its open
descriptors (stdio becomes /dev/null, every other is closed but the kept ones)."""

from __future__ import annotations

import os

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
