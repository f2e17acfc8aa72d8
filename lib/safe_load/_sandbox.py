"""Check untrusted bytes in a throw-away sandboxed worker before loading them in process.

``check_in_child(data, limits)`` opens the file in a model worker (``lib.worker``): a process
forked from the pre-warmed forkserver and confined before it reads a byte, which runs the
same safe parse plus predictions on rows the app builds, then stops. A crash, out-of-memory or
hang there becomes a refusal here; nothing the worker sends back is unpickled.
"""

from __future__ import annotations

from ._limits import Limits

# Test-only crash modes of check_in_child, as the worker's faults while opening.
_CRASHES = {
    "segfault": "crash_on_open",
    "abort": "abort_on_open",
    "hang": "hang_on_open",
    "memory": "memory_on_open",
}


def check_in_child(data: bytes, limits: Limits, *, _test_crash: str | None = None) -> None:
    """Open ``data`` in a sandboxed worker, then stop it; raise the refusal if it failed."""
    from lib.worker import SandboxedRunner

    fault = _CRASHES.get(_test_crash) if _test_crash else None
    SandboxedRunner(data, limits, _test_fault=fault).close()
