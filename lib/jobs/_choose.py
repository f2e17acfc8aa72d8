"""Where jobs run: ``executor_for(store)``, a Dask cluster when one is configured, else here."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ._local import LocalExecutor
from ._store import JobStore

if TYPE_CHECKING:
    from ._dask import DaskExecutor

SCHEDULER_VARIABLE = "MODEL_STUDIO_DASK_SCHEDULER"


def executor_for(store: JobStore, max_running: int | None = None) -> LocalExecutor | DaskExecutor:
    """A ``DaskExecutor`` on the scheduler in ``MODEL_STUDIO_DASK_SCHEDULER`` (tcp://host:port)
    when it is set, and the cluster answers with workers like this process; otherwise a
    ``LocalExecutor`` (``max_running`` jobs at once), whose ``note`` then says, in plain words,
    why the cluster was not used (unreachable, or a worker's versions differ)."""
    address = os.environ.get(SCHEDULER_VARIABLE, "").strip()
    if address:
        from ._dask import ClusterUnusable, DaskExecutor  # distributed: only when it is used

        try:
            return DaskExecutor(store, address)
        except ClusterUnusable as refusal:
            local = LocalExecutor(store, max_running)
            local.note = str(refusal)
            return local
    return LocalExecutor(store, max_running)
