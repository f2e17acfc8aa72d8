"""Confine the current process before it runs untrusted code (a model worker).

For now this holds the address-space arithmetic the safe loader's sandbox child already uses;
the worker will need the same cap.

Only the standard library is imported here, so the module can be imported anywhere cheaply.
"""

from __future__ import annotations

import os
import resource


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
