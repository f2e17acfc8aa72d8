"""Resource limits: no core dumps, no file can grow, capped address space, open descriptors
and (when asked) CPU time."""

from __future__ import annotations

import os
import resource

MAX_OPEN_FILES = 64


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
