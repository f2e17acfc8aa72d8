"""Running jobs in local processes, a few at a time (``LocalExecutor``).

Each job gets its own process, forked from the pre-warmed forkserver the model workers use
(scikit-learn already imported), so a fit uses neither the page's script thread nor the web
process's interpreter. At most ``max_running`` run at once (default: the usable cores); the
rest wait in order. A watcher thread per job notices a process that dies without finishing
its record (killed, out of memory) and marks the job failed, saying how it stopped. Cancel
kills the process and marks the job cancelled.
"""

from __future__ import annotations

import atexit
import collections
import os
import signal
import threading
import time
from multiprocessing.process import BaseProcess

import pandas as pd

from ._record import FAILED, QUEUED, JobRecord
from ._store import JobStore
from ._work import mark_cancelled, over_time, run_job, write_inputs


class LocalExecutor:
    """Runs the jobs of ``store`` in local processes (see the module docstring)."""

    def __init__(self, store: JobStore, max_running: int | None = None) -> None:
        self.store = store
        self.max_running = max_running or len(os.sched_getaffinity(0))
        self._lock = threading.Lock()
        self._waiting: collections.deque[JobRecord] = collections.deque()
        self._running: dict[str, BaseProcess] = {}
        self._cancelling: set[str] = set()  # killed on purpose: not a failure
        self.note = ""  # why jobs run here rather than on a Dask cluster (``executor_for``)
        atexit.register(self._stop_all)

    def describe(self) -> str:
        """Where jobs run, for a person: "this server's 2 cores"."""
        from lib.parallel import usable_cores

        cores = usable_cores()
        return f"this server's {cores} core{'s' if cores != 1 else ''}"

    def submit(self, record: JobRecord, table: pd.DataFrame,
               profiles: list | None = None) -> None:  # fmt: skip
        """Queue ``record``'s job on ``table`` (n_rows x n_columns) with its column profiles."""
        write_inputs(self.store.folder(record), table, profiles)
        with self._lock:
            self._waiting.append(record)
        self._start_waiting()

    def cancel(self, record: JobRecord) -> JobRecord:
        """Stop the job (queued or running); its record, as it now is."""
        with self._lock:
            self._waiting = collections.deque(r for r in self._waiting if r.id != record.id)
            process = self._running.get(record.id)
            self._cancelling.add(record.id)
        if process is not None:
            process.kill()
            process.join(10)
        return mark_cancelled(self.store, record)

    def _stop_all(self) -> None:
        """At the web process's exit: end the jobs' processes (their records then read as
        interrupted when a server starts over the same folder)."""
        with self._lock:
            self._waiting.clear()
            processes = list(self._running.values())
        for process in processes:
            process.kill()
            process.join(5)

    def running(self) -> int:
        with self._lock:
            return len(self._running)

    def _start_waiting(self) -> None:
        from lib.worker._forkserver import JOB_PROCESS_NAME, context

        with self._lock:
            while self._waiting and len(self._running) < self.max_running:
                record = self._waiting.popleft()
                current = self.store.read(record.workspace, record.id)
                if current is None or current.status != QUEUED:
                    continue  # cancelled while it waited
                process = context().Process(
                    target=run_job,
                    args=(str(self.store.root), record.workspace, record.id, os.getpid()),
                    name=JOB_PROCESS_NAME,
                    # Not a daemon, so that a job may start processes of its own (joblib's
                    # workers for folds and candidates); ``_stop_all`` ends them at exit.
                    daemon=False,
                )
                process.start()
                self.store.write(current.with_(pid=process.pid or 0))
                self._running[record.id] = process
                watcher = threading.Thread(target=self._watch, args=(record, process),
                                           name=f"job-{record.id[:8]}", daemon=True)  # fmt: skip
                watcher.start()

    def _watch(self, record: JobRecord, process: BaseProcess) -> None:
        limit = float(record.params.get("time_limit_s") or 0) or None
        process.join(limit)
        ran_over = process.is_alive()
        if ran_over:  # a single fit running far past the job's budget: stopped here
            process.kill()
            process.join()
        with self._lock:
            self._running.pop(record.id, None)
            cancelled = record.id in self._cancelling
        current = self.store.read(record.workspace, record.id)
        if current is not None and not current.finished_or_stopped and not cancelled:
            error = over_time(limit or 0) if ran_over else _death(process.exitcode)
            self.store.write(current.with_(status=FAILED, error=error, finished=time.time()))
        self._start_waiting()


def _death(code: int | None) -> str:
    """Why a job's process ended without finishing its record, in plain words."""
    if code is not None and code < 0:
        name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
        if name == "SIGKILL":
            return (
                "The process running this job was killed (SIGKILL), most often because the "
                "machine ran out of memory. Sample fewer rows or choose a lighter model, then "
                "start it again. Nothing else was affected."
            )
        return f"The process running this job crashed ({name}). Nothing else was affected."
    return f"The process running this job stopped unexpectedly (exit code {code})."
