"""The pre-warmed process every model worker is forked from.

Forking a fresh worker from a process that has already imported numpy, pandas and
scikit-learn (``PRELOAD``) takes a few milliseconds instead of seconds; the forkserver is
started once per web server, lazily or by ``warm_up``. Workers are named
``SANDBOX_PROCESS_NAME`` so that they do not re-import the web process's ``__main__`` (the
Streamlit script).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.spawn
import os
import threading
from collections.abc import Callable
from typing import Any

PRELOAD = [
    "lib.safe_load",
    "lib.metadata",
    "lib.model_info",
    "lib.model_ops",
    "lib.worker._child",
    "lib.data",
    "lib.profile",
    "pyarrow",
    "pyarrow.parquet",
    "openpyxl",
    "sklearn.inspection",
    "numpy",
    "pandas",
    "scipy.sparse",
    "sklearn.base",
    "sklearn.pipeline",
    "sklearn.compose",
    "sklearn.preprocessing",
    "sklearn.impute",
    "sklearn.linear_model",
    "sklearn.ensemble",
    "sklearn.tree",
    "sklearn.neighbors",
    "sklearn.svm",
]
_CTX_LOCK = threading.Lock()
_CTX: multiprocessing.context.ForkServerContext | None = None


SANDBOX_PROCESS_NAME = "model-studio-sandbox"
# Processes of the app's own that skip ``__main__`` too: training jobs (``lib.jobs``).
JOB_PROCESS_NAME = "model-studio-job"
_WITHOUT_MAIN = frozenset({SANDBOX_PROCESS_NAME, JOB_PROCESS_NAME})


class _WithoutMainModule:
    """Wraps multiprocessing's preparation so sandbox children skip the parent's ``__main__``.

    Under Streamlit, ``__main__`` is the running app script: a child that re-imported it (as
    multiprocessing does by default) would run the whole app in bare mode before the check.
    The child only needs this package, which it imports by name.
    """

    wraps_for_sandbox = True

    def __init__(self, get_preparation_data: Callable[[str], dict[str, Any]]) -> None:
        self._get_preparation_data = get_preparation_data

    def __call__(self, name: str) -> dict[str, Any]:
        data = self._get_preparation_data(name)
        if name in _WITHOUT_MAIN:
            data.pop("init_main_from_name", None)
            data.pop("init_main_from_path", None)
        return data


def context() -> multiprocessing.context.ForkServerContext:
    """The forkserver context every model worker is started from (made once)."""
    global _CTX
    with _CTX_LOCK:
        if not getattr(multiprocessing.spawn.get_preparation_data, "wraps_for_sandbox", False):
            multiprocessing.spawn.get_preparation_data = _WithoutMainModule(
                multiprocessing.spawn.get_preparation_data
            )
        if _CTX is None:
            # Workers' OpenMP threads sleep rather than spin while they wait: spinning threads
            # of several workers on a busy shared machine stall each other (read when the
            # forkserver starts, which inherits this environment).
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(PRELOAD)
            _CTX = ctx
        return _CTX


def warm_up() -> None:
    """Start the forkserver now (optional; the first worker does it otherwise)."""
    from multiprocessing import forkserver

    context()
    forkserver.ensure_running()
