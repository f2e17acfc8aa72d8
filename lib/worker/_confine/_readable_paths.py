"""The read allow-list of a model worker (``worker_readable_paths``), for Landlock's
``confine(readable=...)``."""

from __future__ import annotations

import os

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
