"""What a job runs: ``job_files`` (on a table, wherever it runs) and ``run_job`` (its own process).

``job_files(kind, frame, profiles, params, progress)`` runs a job of ``kind`` (``JOB_KINDS``, a
dict of kind -> function) and gives its results as files, ``{file name: bytes}``: the model as
``model.joblib`` (``lib.persistence.dump_model``), figures as JSON and ``.npz`` without pickles.
A local job's process calls it through ``run_job(root, workspace, job_id)``, which reads the
inputs from the job's folder, writes progress to its record (at most a few times a second),
writes the files beside them and marks the record done, or failed with the reason in plain
words. A Dask worker calls it too (``_dask``), and the web process writes the files.
"""

from __future__ import annotations

import io
import json
import os
import select
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._record import CANCELLED, DONE, FAILED, RUNNING, JobRecord
from ._store import JobStore

TABLE, PROFILES = "table.arrow", "profiles.json"
MODEL, RESULT, HOLDOUT, BOARD = "model.joblib", "result.json", "holdout.npz", "board.json"
TUNING = "tuning.json"
RESULT_FILES = frozenset({MODEL, RESULT, HOLDOUT, BOARD, TUNING})
PROGRESS_EVERY_S = 0.25
JOB_NICENESS = 10  # added to a local job process's nice value

Progress = Callable[[float, str], None]
Files = dict[str, bytes]


def run_job(root: str, workspace: str, job_id: str, server_pid: int = 0) -> None:
    """Run the job; every outcome ends in its record (see the module docstring)."""
    # Below the web process in the CPU queue: on a busy machine another visitor's page
    # rerun goes first, and the fit takes the cores the pages leave (its workers inherit it).
    os.nice(JOB_NICENESS)
    if server_pid:
        _end_with_the_server(server_pid)
    store = JobStore(root)
    record = store.read(workspace, job_id)
    if record is None:
        return
    record = record.with_(status=RUNNING, started=time.time(), step="Reading the table")
    store.write(record)
    progress = _Progress(store, record)
    try:
        folder = store.folder(record)
        frame = pd.read_feather(folder / TABLE)
        path = folder / PROFILES
        profiles = read_profiles(path.read_text()) if path.exists() else None
        write_files(folder, job_files(record.kind, frame, profiles, record.params, progress))
    except Exception as error:
        store.write(failed(progress.record, plain(error)))
        return
    finally:
        _end_parallel_workers()
    store.write(done(progress.record))


def _end_parallel_workers() -> None:
    """End the loky workers the job's folds and candidates ran in. A process started by a
    forkserver joins its children when its work returns, before any exit hook runs, so an
    idle loky pool (workers wait 300 s for more) would keep the job's process, and its place
    among the jobs that may run at once, for five minutes after the job is done."""
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True, kill_workers=True)


def job_files(kind: str, frame: pd.DataFrame, profiles: list[Any] | None,
              params: dict[str, Any], progress: Progress) -> Files:  # fmt: skip
    """The result files of a ``kind`` job on ``frame`` (n_rows x n_columns) with ``params``."""
    return JOB_KINDS[kind](frame, profiles, params, progress)


def write_inputs(folder: Path, table: pd.DataFrame, profiles: list[Any] | None) -> None:
    """Keep a job's table (n_rows x n_columns, Arrow) and its column profiles (JSON) in its
    folder: a local job reads them there, and a reload takes the table back from them."""
    table.reset_index(drop=True).to_feather(folder / TABLE, compression="uncompressed")
    if profiles is not None:
        (folder / PROFILES).write_text(json.dumps([p.to_json() for p in profiles]))


def write_files(folder: Path, files: Files) -> None:
    """Write a job's result files into its folder (only the names a job writes)."""
    for name, data in files.items():
        if name not in RESULT_FILES:
            raise ValueError(f"not a job's result file: {name!r}")
        (folder / name).write_bytes(data)


def done(record: JobRecord) -> JobRecord:
    return record.with_(status=DONE, fraction=1.0, step="Done", finished=time.time())


def failed(record: JobRecord, error: str) -> JobRecord:
    return record.with_(status=FAILED, error=error, finished=time.time())


def mark_cancelled(store: JobStore, record: JobRecord) -> JobRecord:
    """Mark the job cancelled unless it already ended; its record, as it now is."""
    current = store.read(record.workspace, record.id) or record
    if current.finished_or_stopped:
        return current
    stopped = current.with_(status=CANCELLED, step="Cancelled", finished=time.time())
    store.write(stopped)
    return stopped


def over_time(limit_s: float) -> str:
    """Why a job stopped at its hard time limit (``params["time_limit_s"]``)."""
    return (
        f"The job was stopped after {limit_s:,.0f} s, past its time budget: one step (a "
        "single fit) took longer than the whole budget. Give it more time, sample fewer rows "
        "or choose a lighter model."
    )


def read_profiles(text: str) -> list[Any]:
    """Column profiles from their JSON (a list of ``ColumnProfile.to_json()``)."""
    from lib.profile import ColumnProfile

    return [ColumnProfile.from_json(item) for item in json.loads(text)]


def _end_with_the_server(server_pid: int) -> None:
    """End this job when the web process ends, even killed, rather than run on unseen (its
    record then reads as interrupted at the next start). Its parent, the forkserver, is no
    sign: it lives on while any process it forked does. Its loky workers end with it."""
    try:
        server = os.pidfd_open(server_pid)
    except ProcessLookupError:
        os._exit(1)  # it ended already
    except (AttributeError, OSError):
        return  # no pidfd here (not Linux 5.3+): the job outlives a killed server

    def watch() -> None:
        select.select([server], [], [])  # readable when the process ends
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="server-watch", daemon=True).start()


class Throttled:
    """A ``lib.training.Progress`` callback passing (fraction, step) on to ``send`` at most
    once every ``PROGRESS_EVERY_S``; ``fraction`` and ``step`` are the latest seen."""

    def __init__(self, send: Callable[[float, str], None]) -> None:
        self._send, self._last = send, 0.0
        self.fraction, self.step = 0.0, ""

    def __call__(self, fraction: float, step: str) -> None:
        self.fraction, self.step = min(max(float(fraction), 0.0), 1.0), step
        now = time.monotonic()
        if now - self._last >= PROGRESS_EVERY_S:
            self._last = now
            self._send(self.fraction, step)


class _Progress(Throttled):
    """Progress written to the record (``record``: as it is now, with the latest step)."""

    def __init__(self, store: JobStore, record: JobRecord) -> None:
        super().__init__(lambda fraction, step: store.write(self.record))
        self.record = record

    def __call__(self, fraction: float, step: str) -> None:
        self.record = self.record.with_(fraction=min(max(float(fraction), 0.0), 1.0), step=step)
        super().__call__(fraction, step)


def _options(params: dict[str, Any]) -> Any:
    from lib.training import Options

    return Options(**params.get("options", {}))


def _train(frame: pd.DataFrame, profiles: Any, params: dict[str, Any],
           progress: Progress) -> Files:  # fmt: skip
    from lib.training import train

    result = train(
        frame, params["target"], features=params.get("features"), task=params.get("task"),
        model=params["model"], options=_options(params), profiles=profiles, progress=progress,
        budget_s=params.get("budget_s"),
    )  # fmt: skip
    return _training_files(result)


def _tune(frame: pd.DataFrame, profiles: Any, params: dict[str, Any],
          progress: Progress) -> Files:  # fmt: skip
    from lib.tuning import tune

    found = tune(
        frame, params["target"], features=params.get("features"), task=params.get("task"),
        model=params["model"], options=_options(params), profiles=profiles,
        budget_s=float(params.get("budget_s", 60.0)), progress=progress,
    )  # fmt: skip
    payload = {
        "board": found.leaderboard.to_dict(orient="split"), "best_params": found.best_params,
        "primary": found.primary, "stopped_early": found.stopped_early, "seconds": found.seconds,
    }  # fmt: skip
    return _training_files(found.result) | {TUNING: json.dumps(payload).encode()}


def _training_files(result: Any) -> Files:
    """A ``lib.training.TrainingResult`` as files: the model, its plain figures, its holdout
    arrays (``.npz`` without pickles)."""
    from lib.persistence import dump_model

    plain_result = {
        name: getattr(result, name)
        for name in ("task", "target", "model_key", "features", "left_out", "metrics",
                     "baseline_metrics", "cv_scores", "warnings", "seconds", "n_rows",
                     "n_dropped_missing_target", "metric_intervals")
    }  # fmt: skip
    files = {
        MODEL: dump_model(result.pipeline, compression="none"),
        RESULT: json.dumps(plain_result).encode(),
    }
    if result.holdout is not None:
        holdout = result.holdout
        arrays = {"y_true": holdout.y_true, "y_pred": holdout.y_pred}
        if holdout.proba is not None and holdout.classes is not None:
            arrays |= {"proba": holdout.proba, "classes": holdout.classes}
        buffer = io.BytesIO()
        np.savez(buffer, allow_pickle=False, **{k: _no_objects(v) for k, v in arrays.items()})
        files[HOLDOUT] = buffer.getvalue()
    return files


def _compare(frame: pd.DataFrame, profiles: Any, params: dict[str, Any],
             progress: Progress) -> Files:  # fmt: skip
    from lib.training import compare_models

    board = compare_models(
        frame, params["target"], features=params.get("features"), task=params.get("task"),
        model_keys=params.get("model_keys"), options=_options(params), profiles=profiles,
        progress=progress, budget_s=params.get("budget_s"),
    )  # fmt: skip
    payload = {"board": board.to_dict(orient="split"), "attrs": dict(board.attrs)}
    return {BOARD: json.dumps(payload).encode()}


# A job's kind -> what it runs: (frame, profiles or None, params, progress) -> result files.
JOB_KINDS: dict[str, Callable[[pd.DataFrame, Any, dict[str, Any], Progress], Files]] = {
    "train": _train,
    "compare": _compare,
    "tune": _tune,
}


def _no_objects(values: np.ndarray) -> np.ndarray:
    """``values`` as an array ``np.load`` reads without pickles (text as fixed-width str)."""
    values = np.asarray(values)
    return values.astype(str) if values.dtype == object else values


def plain(error: BaseException) -> str:
    """Why a job failed, in plain words (never a traceback)."""
    from lib.errors import UserError

    if isinstance(error, UserError):
        return str(error)
    if isinstance(error, MemoryError):
        return "The job ran out of memory. Sample fewer rows, or choose a lighter model."
    return (
        f"The job stopped with an unexpected error ({type(error).__name__}: "
        f"{str(error)[:300]}). Nothing else was affected."
    )
