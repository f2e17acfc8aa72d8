"""Running jobs on a Dask cluster (``DaskExecutor``), the same interface as ``LocalExecutor``.

Workers may be other machines, so nothing goes through the job folder: the table is scattered
to the cluster once (and copied worker to worker onto a second one, so that losing a worker
does not lose it), the profiles go as JSON, and the task (``_run_on_worker``) runs the same job
code as a local process (``_work.job_files``) and returns the result files as bytes. The web
process writes them into the job folder and marks the record, from the future's callback; the
results are then read with ``_results`` like a local job's. Progress comes back as worker events
(``log_event``, at most a few a second) that the web process writes to the record.

Faults: a worker lost mid-job has its task rescheduled by the scheduler on another worker
(``distributed.scheduler.allowed-failures`` times, default 3, then ``KilledWorker``: failed).
The scheduler going away cancels the futures: the running jobs are marked failed, saying so.
Cancel cancels the future, marks the record and sets a cluster ``Event`` the task looks at with
each progress report, so a running job stops at its next fold rather than at its end.

On connecting, and whenever the set of workers changes, each worker's versions are compared
with this process's (``_versions``): a mismatch refuses the cluster (``ClusterUnusable``).
"""

from __future__ import annotations

import atexit
import concurrent.futures
import json
import logging
import threading
import time
from typing import Any

import distributed
import pandas as pd

from . import _versions
from ._record import RUNNING, JobRecord
from ._store import JobStore, new_id
from ._work import (
    PROFILES,
    TABLE,
    Files,
    Throttled,
    done,
    failed,
    job_files,
    mark_cancelled,
    over_time,
    plain,
    read_profiles,
    write_files,
    write_inputs,
)

log = logging.getLogger(__name__)
ERROR = "error.txt"  # a job that failed for its own reasons returns only this file
CONNECT_TIMEOUT_S = 10
# A task that raises (a cluster fault: its inner tasks' data lost) is run again this often.
# A job's own failures (a bad column, a model that cannot fit) are returned, not raised.
TASK_RETRIES = 1
# A job whose table was lost with its workers is sent again (from its folder) this often.
TABLE_RESENDS = 2


class ClusterUnusable(Exception):
    """The cluster cannot run this app's jobs; ``str(error)`` says why, in plain words."""


class DaskExecutor:
    """Runs the jobs of ``store`` on the Dask cluster at ``address`` (see the module docstring).

    Raises ``ClusterUnusable`` when the scheduler cannot be reached or a worker differs.
    """

    def __init__(self, store: JobStore, address: str) -> None:
        self.store, self.address = store, address
        try:
            self._client = distributed.Client(address, timeout=CONNECT_TIMEOUT_S,
                                              set_as_default=False)  # fmt: skip
        except (OSError, TimeoutError) as error:
            raise ClusterUnusable(
                f"The Dask cluster at {address} could not be reached ({error}). Check that "
                "its scheduler runs and that this server can reach it. Jobs run on this "
                "server meanwhile."
            ) from None
        self._lock = threading.Lock()
        self._futures: dict[str, distributed.Future] = {}  # job id -> its task
        self._tables: dict[str, distributed.Future] = {}  # job id -> its scattered table
        self._cancelling: set[str] = set()
        self._resent: dict[str, int] = {}  # job id -> times its table was sent again
        self._checked: frozenset[str] = frozenset()  # workers whose versions matched
        self._topic = f"model-studio-progress-{new_id()}"
        try:
            self._check_workers()
        except ClusterUnusable:
            self._client.close()
            raise
        self._client.subscribe_topic(self._topic, self._on_progress)
        atexit.register(self.close)

    def describe(self) -> str:
        """Where jobs run, for a person: "Dask cluster tcp://… (2 workers, 2 threads)"."""
        if not self.answering():
            return f"Dask cluster {self.address} (not answering)"
        threads = self._client.nthreads()
        return (f"Dask cluster {self.address} ({_count(len(threads), 'worker')}, "
                f"{_count(sum(threads.values()), 'thread')})")  # fmt: skip

    def answering(self) -> bool:
        """Whether the scheduler is connected (False once it went away: make a new executor)."""
        return self._client.status == "running"

    def submit(self, record: JobRecord, table: pd.DataFrame,
               profiles: list | None = None) -> None:  # fmt: skip
        """Send ``record``'s job on ``table`` (n_rows x n_columns) with its column profiles to
        the cluster; a refusal or an unreachable cluster fails the job, in plain words."""
        write_inputs(self.store.folder(record), table, profiles)
        if not self._send(record, table, profiles):
            return
        limit = float(record.params.get("time_limit_s") or 0)
        if limit:  # a single fit running far past the job's budget: stopped from here
            timer = threading.Timer(limit, self._stop_over_time, args=(record, limit))
            timer.daemon = True
            timer.start()

    def _send(self, record: JobRecord, table: pd.DataFrame, profiles: list | None,
              attempt: int = 0) -> bool:  # fmt: skip
        """Scatter ``table`` and submit the job's task (sent ``attempt`` times before); False
        when the job failed instead."""
        key = f"model-studio-job-{record.id}" + (f"-again-{attempt}" if attempt else "")
        profiles_json = json.dumps([p.to_json() for p in profiles]) if profiles else None
        try:
            self._check_workers()
            data = self._client.scatter(table.reset_index(drop=True), hash=False)
            if len(self._client.nthreads()) > 1:
                self._client.replicate([data], n=2)
            future = self._client.submit(
                _run_on_worker, data, profiles_json, record.kind, record.params, self._topic,
                record.workspace, record.id, key=key, pure=False, retries=TASK_RETRIES,
            )  # fmt: skip
        except ClusterUnusable as refusal:
            self._finish(record, error=str(refusal))
            return False
        except (OSError, TimeoutError, concurrent.futures.CancelledError):
            self._finish(record, error=self._stopped_answering("was sent"))
            return False
        with self._lock:
            self._futures[record.id], self._tables[record.id] = future, data
        future.add_done_callback(lambda f: self._on_done(record, f))
        return True

    def _send_again(self, record: JobRecord) -> bool:
        """Scatter the job's table again from its folder and resubmit it, at most
        ``TABLE_RESENDS`` times; False when that is used up or the table is gone.

        ``replicate`` keeps a second copy of the table only until the scheduler's active
        memory manager (on by default) drops the replica it finds unneeded, so a worker lost
        mid-job can take the only copy with it (distributed#6578).
        """
        with self._lock:
            sent = self._resent.get(record.id, 0)
            if sent >= TABLE_RESENDS:
                return False
            self._resent[record.id] = sent + 1
        folder = self.store.folder(record)
        try:
            table = pd.read_feather(folder / TABLE)
            path = folder / PROFILES
            profiles = read_profiles(path.read_text()) if path.exists() else None
        except (OSError, ValueError):
            return False
        log.info("job %s lost its table with a worker; sending it again", record.id)
        self._send(record, table, profiles, attempt=sent + 1)  # a failed send ends the job
        return True

    def _stop_over_time(self, record: JobRecord, limit: float) -> None:
        with self._lock:
            future = self._futures.get(record.id)
        if future is None or future.done():
            return
        self._finish(record, error=over_time(limit))
        self.cancel(record)

    def cancel(self, record: JobRecord) -> JobRecord:
        """Stop the job (queued or running); its record, as it now is."""
        with self._lock:
            future = self._futures.pop(record.id, None)
            self._tables.pop(record.id, None)
            self._cancelling.add(record.id)
        if future is not None and self.answering():
            distributed.Event(_cancel_event(record.id), client=self._client).set()
            future.cancel()
        with self._lock:
            return mark_cancelled(self.store, record)

    def running(self) -> int:
        """Jobs sent to the cluster and not finished (running or waiting for a worker)."""
        with self._lock:
            return sum(not future.done() for future in self._futures.values())

    def close(self) -> None:
        self._client.close()

    def _check_workers(self) -> None:
        """Compare the versions of the scheduler (it unpickles the tasks, so it imports the
        app's lib too) and of workers not yet checked with this process's."""
        workers = frozenset(self._client.nthreads())
        if workers <= self._checked and self._checked:
            return
        found = self._client.run(_versions.versions, workers=list(workers - self._checked),
                                 on_error="return")  # fmt: skip
        if not self._checked:
            try:
                found["scheduler"] = self._client.run_on_scheduler(_versions.versions)
            except Exception as error:
                found["scheduler"] = error
        reported = {
            worker: value if isinstance(value, dict) else
            {_versions.LIB: f"{_versions.NOT_IMPORTABLE}: {type(value).__name__}: {value}"}
            for worker, value in found.items()
        }  # fmt: skip
        problem = _versions.skew(self.address, _versions.versions(), reported)
        if problem:
            raise ClusterUnusable(problem)
        self._checked |= workers | {"scheduler"}

    def _on_progress(self, event: tuple[float, dict[str, Any]]) -> None:
        """A worker's progress report (in the client's event loop: quick)."""
        _, message = event
        with self._lock:
            if message["job"] in self._cancelling:
                return
            current = self.store.read(message["workspace"], message["job"])
            if current is None or current.finished_or_stopped:
                return
            changes: dict[str, Any] = {"fraction": message["fraction"], "step": message["step"]}
            if message.get("start"):
                if current.status == RUNNING:  # its worker was lost: started over elsewhere
                    changes["step"] = "Started again on another worker (one was lost)"
                changes |= {"status": RUNNING, "started": current.started or time.time()}
            self.store.write(current.with_(**changes))

    def _on_done(self, record: JobRecord, future: distributed.Future) -> None:
        """The task ended (in distributed's callback thread): write its files, mark the job."""
        with self._lock:
            cancelled = record.id in self._cancelling
            self._futures.pop(record.id, None)
            self._tables.pop(record.id, None)
        if cancelled:
            return
        try:
            files: Files = future.result()
        except distributed.KilledWorker:
            self._finish(record, error=(
                "The Dask workers running this job were lost several times in a row (killed, "
                "out of memory, or their machine went away). Sample fewer rows or choose a "
                "lighter model, then start it again."
            ))  # fmt: skip
            return
        except concurrent.futures.CancelledError as error:
            lost_scheduler = "connection-lost" in str(error) or not self.answering()
            if not lost_scheduler and self._send_again(record):
                return
            self._finish(record, error=self._stopped_answering("ran") if lost_scheduler else (
                "The Dask cluster dropped this job: the workers holding its table were lost. "
                "Start it again."
            ))  # fmt: skip
            return
        except Exception as error:
            self._finish(record, error=plain(error))
            return
        if ERROR in files:
            self._finish(record, error=files[ERROR].decode())
            return
        try:
            write_files(self.store.folder(record), files)
        except Exception as error:
            self._finish(record, error=plain(error))
            return
        self._finish(record)

    def _finish(self, record: JobRecord, error: str = "") -> None:
        """Mark the job done, or failed with ``error``, unless it already ended."""
        with self._lock:
            current = self.store.read(record.workspace, record.id) or record
            if not current.finished_or_stopped and record.id not in self._cancelling:
                self.store.write(failed(current, error) if error else done(current))

    def _stopped_answering(self, when: str) -> str:
        return (
            f"The Dask cluster at {self.address} stopped answering while this job {when}. "
            "Start it again: on this server, or on the cluster once its scheduler is back."
        )


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _cancel_event(job_id: str) -> str:
    return f"model-studio-cancel-{job_id}"


class _Cancelled(Exception):
    """The job was cancelled from the web process: stop at the next progress report."""


def _run_on_worker(
    frame: pd.DataFrame, profiles_json: str | None, kind: str, params: dict[str, Any],
    topic: str, workspace: str, job_id: str,
) -> Files:  # fmt: skip
    """A job's task, on a Dask worker: its result files, or ``{ERROR: plain words}``.

    Its folds or candidates go to the whole cluster (``lib.parallel.on_dask_cluster``).
    Raises only for cluster faults, which the scheduler may retry elsewhere.
    """
    from lib import parallel

    worker = distributed.get_worker()
    cancelled = distributed.Event(_cancel_event(job_id))

    def send(fraction: float, step: str, start: bool = False) -> None:
        if cancelled.is_set():
            raise _Cancelled
        message = {"job": job_id, "workspace": workspace, "fraction": fraction, "step": step}
        worker.log_event(topic, message | ({"start": True} if start else {}))

    send(0.0, "Starting on a Dask worker", start=True)
    threads = sum(distributed.get_client().nthreads().values())
    try:
        profiles = read_profiles(profiles_json) if profiles_json else None
        with parallel.on_dask_cluster(threads):
            return job_files(kind, frame, profiles, params, Throttled(send))
    except (_Cancelled, distributed.comm.CommClosedError, distributed.KilledWorker,
            concurrent.futures.CancelledError):  # fmt: skip
        raise
    except Exception as error:
        return {ERROR: plain(error).encode()}
