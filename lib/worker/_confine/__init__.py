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

Only the standard library is imported here, so the package can be imported anywhere cheaply.

Each layer lives in its own module, in the order confine() applies them:

- ``_inherited``: a new session; /dev/null stdio and no inherited descriptors but the kept ones.
- ``_limits``: resource limits (``address_space_cap``, ``mapped_bytes``, ``MAX_OPEN_FILES``).
- ``_privileges``: dropping capabilities and setting ``no_new_privs``.
- ``_landlock_domain``: the Landlock domain (writes, execution, other processes, reads).
- ``_readable_paths``: ``worker_readable_paths``, the read allow-list of a model worker.
- ``_libseccomp``: ctypes bindings for libseccomp.
- ``_syscall_rules``: the seccomp deny-list (``IOCTLS_ALLOWED``, ``NEWEST_REVIEWED_SYSCALL``).
- ``_seccomp_filter``: installing the filter from the deny-list.
- ``_thread_locks``: multiprocessing's locks become threading's.
- ``_description``: ``describe()``, what is blocked and what is not.
- ``_platform``: the machine's architecture and the C library, shared by the layers above.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass

from ._description import describe
from ._inherited import _new_session, _reset_descriptors
from ._landlock_domain import _landlock
from ._libseccomp import _load_libseccomp
from ._limits import MAX_OPEN_FILES, _set_limits, address_space_cap, mapped_bytes
from ._privileges import _drop_capabilities, _set_no_new_privs
from ._readable_paths import worker_readable_paths
from ._seccomp_filter import _seccomp
from ._syscall_rules import IOCTLS_ALLOWED, NEWEST_REVIEWED_SYSCALL
from ._thread_locks import _use_thread_locks

__all__ = [
    "IOCTLS_ALLOWED",
    "MAX_OPEN_FILES",
    "NEWEST_REVIEWED_SYSCALL",
    "Confinement",
    "address_space_cap",
    "confine",
    "describe",
    "mapped_bytes",
    "worker_readable_paths",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Confinement:
    """What confine() applied, for logs and the README: each entry a short plain sentence."""

    applied: list[str]
    not_applied: list[str]  # e.g. "no syscall filter: libseccomp not found"


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
