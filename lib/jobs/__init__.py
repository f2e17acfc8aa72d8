"""Training as jobs: off the page's script run and off the web process, with live progress.

A job (``JobRecord``: train or compare) belongs to a workspace, a person's unguessable id; its
record and files live on disk (``JobStore``), so a job outlives page switches and browser
reloads, and after a server restart an unfinished one shows as interrupted. ``LocalExecutor``
runs jobs in local processes, a few at a time, and notices one that dies; its progress
(fraction, step, elapsed, estimated time left) is read from the record. A finished job's
results are read back without unpickling (``training_result``, ``leaderboard``).
``DaskExecutor`` runs them on a Dask cluster instead (workers on other machines, same
interface); ``executor_for(store)`` picks it when ``MODEL_STUDIO_DASK_SCHEDULER`` is set and the
cluster is usable, and otherwise a ``LocalExecutor`` with the reason in its ``note``.
"""

from typing import TYPE_CHECKING, Any

from ._choose import SCHEDULER_VARIABLE, executor_for
from ._local import LocalExecutor
from ._record import (
    CANCELLED,
    DONE,
    FAILED,
    FINISHED,
    INTERRUPTED,
    QUEUED,
    RUNNING,
    JobRecord,
)
from ._results import job_table, leaderboard, training_result, tuning_leaderboard
from ._store import JobStore, new_id, valid_id

__all__ = [
    "CANCELLED",
    "DONE",
    "FAILED",
    "FINISHED",
    "INTERRUPTED",
    "QUEUED",
    "RUNNING",
    "SCHEDULER_VARIABLE",
    "ClusterUnusable",
    "DaskExecutor",
    "JobRecord",
    "JobStore",
    "LocalExecutor",
    "executor_for",
    "job_table",
    "leaderboard",
    "new_id",
    "training_result",
    "tuning_leaderboard",
    "valid_id",
]

if TYPE_CHECKING:
    from ._dask import ClusterUnusable, DaskExecutor


def __getattr__(name: str) -> Any:
    # Importing distributed takes ~0.6 s: only when a cluster is used.
    if name in ("ClusterUnusable", "DaskExecutor"):
        from . import _dask

        return getattr(_dask, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
