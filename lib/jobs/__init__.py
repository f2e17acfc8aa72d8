"""Training as jobs: off the page's script run and off the web process, with live progress.

A job (``JobRecord``: train or compare) belongs to a workspace, a person's unguessable id; its
record and files live on disk (``JobStore``), so a job outlives page switches and browser
reloads, and after a server restart an unfinished one shows as interrupted. ``LocalExecutor``
runs jobs in local processes, a few at a time, and notices one that dies; its progress
(fraction, step, elapsed, estimated time left) is read from the record. A finished job's
results are read back without unpickling (``training_result``, ``leaderboard``).
"""

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
    "JobRecord",
    "JobStore",
    "LocalExecutor",
    "job_table",
    "leaderboard",
    "new_id",
    "training_result",
    "tuning_leaderboard",
    "valid_id",
]
