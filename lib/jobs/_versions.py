"""Version skew between the web process and a Dask cluster's workers: ``versions``, ``skew``.

A worker unpickles the app's pipelines and runs the app's ``lib``, so the packages that make or
read them, and ``lib`` itself (a hash of its source), must be the same on both sides.
``versions()`` runs on each worker through ``Client.run``; this module is pickled by value, so
that a worker which cannot import ``lib`` still runs it and says so. It imports nothing of the
app's at module level for that reason.

``MODEL_STUDIO_TEST_FAKE_VERSIONS`` (tests only: a JSON object, name -> version, read where
``versions()`` runs) replaces what it reports, so the refusal can be tested on real workers.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import sys
from pathlib import Path

import cloudpickle

PACKAGES = ("scikit-learn", "numpy", "pandas", "scipy", "joblib", "pyarrow", "dask",
            "distributed", "cloudpickle")  # fmt: skip
PYTHON, LIB = "Python", "the app's code (lib/)"
FAKE_VARIABLE = "MODEL_STUDIO_TEST_FAKE_VERSIONS"
NOT_IMPORTABLE = "not importable"

cloudpickle.register_pickle_by_value(sys.modules[__name__])


def versions() -> dict[str, str]:
    """Python's version, each of ``PACKAGES``' (or "missing"), and ``LIB``: a hash of the
    app's ``lib`` source as this process imports it, or "not importable: <why>"."""
    found = {PYTHON: platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "missing"
    found[LIB] = _lib_hash()
    found |= json.loads(os.environ.get(FAKE_VARIABLE) or "{}")
    return found


def _lib_hash() -> str:
    """The first 16 hex digits of a SHA-256 over ``lib``'s .py files (paths and contents)."""
    try:
        spec = importlib.util.find_spec("lib")
    except (ImportError, ValueError) as error:
        return f"{NOT_IMPORTABLE}: {error}"
    if spec is None or not spec.submodule_search_locations:
        return f"{NOT_IMPORTABLE}: no package named lib on this worker's PYTHONPATH"
    root = Path(next(iter(spec.submodule_search_locations)))
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def skew(address: str, app: dict[str, str], workers: dict[str, dict[str, str]]) -> str:
    """Why the cluster at ``address`` cannot run this app's jobs, in plain words; "" when
    every worker (address, or "scheduler" -> its ``versions()``) matches ``app``."""
    problems = []
    for worker, found in sorted(workers.items()):
        who = "the scheduler" if worker == "scheduler" else f"the worker {worker}"
        lib = found.get(LIB, "")
        if lib.startswith(NOT_IMPORTABLE):
            problems.append(f"{who} cannot import the app's lib ({lib}).")
            continue
        for name, version in app.items():
            if found.get(name) != version:
                problems.append(
                    f"{who} has {name} {found.get(name, 'missing')}, this app has {version}."
                )
    if not problems:
        return ""
    return (
        f"The Dask cluster at {address} was not used: " + " ".join(problems) + " Start the "
        "scheduler and every worker from a checkout of this app's version, with the same "
        "requirements installed (pip install -r requirements.txt) and PYTHONPATH at the "
        "checkout. Jobs run on this server meanwhile."
    )
