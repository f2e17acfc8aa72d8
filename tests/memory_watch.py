"""How much a block of code grows this process's resident memory, sampled as it runs.

``with resident_growth() as growth: ...`` then ``growth.peak_mb``: the highest resident set
size seen during the block minus the size when it began (MB). Used by tests that assert a
hostile file is refused without the test process allocating for it.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass

_PAGE = os.sysconf("SC_PAGE_SIZE")


def resident_bytes() -> int:
    """This process's resident set size now, from /proc/self/statm."""
    with open("/proc/self/statm", "rb") as f:
        return int(f.read().split()[1]) * _PAGE


@dataclass
class Growth:
    start: int
    peak: int

    @property
    def peak_mb(self) -> float:
        return (self.peak - self.start) / 1e6


@contextlib.contextmanager
def resident_growth(interval_s: float = 0.002) -> Iterator[Growth]:
    """Sample the resident size every ``interval_s`` while the block runs (see module doc)."""
    start = resident_bytes()
    growth = Growth(start, start)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            growth.peak = max(growth.peak, resident_bytes())
            done.wait(interval_s)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield growth
    finally:
        done.set()
        thread.join()
        growth.peak = max(growth.peak, resident_bytes())
