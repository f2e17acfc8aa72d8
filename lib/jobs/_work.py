"""What runs in a job's own process: ``run_job(root, workspace, job_id)``.

It reads the job's inputs from its folder, runs it with progress written to its record (at
most a few times a second), writes the results beside them and marks the record done, or
failed with the reason in plain words. Results are plain files: the model as ``model.joblib``
(``lib.persistence.dump_model``), figures as JSON and ``.npz`` without pickles.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._record import DONE, FAILED, RUNNING, JobRecord
from ._store import JobStore

TABLE, PROFILES = "table.arrow", "profiles.json"
MODEL, RESULT, HOLDOUT, BOARD = "model.joblib", "result.json", "holdout.npz", "board.json"
TUNING = "tuning.json"
_PROGRESS_EVERY_S = 0.25


def run_job(root: str, workspace: str, job_id: str) -> None:
    """Run the job; every outcome ends in its record (see the module docstring)."""
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
        profiles = _profiles(folder)
        _KINDS[record.kind](folder, frame, profiles, record.params, progress)
    except Exception as error:
        store.write(progress.record.with_(status=FAILED, error=_plain(error), finished=time.time()))
        return
    store.write(progress.record.with_(status=DONE, fraction=1.0, step="Done", finished=time.time()))


class _Progress:
    """A ``lib.training.Progress`` callback that writes to the record, throttled."""

    def __init__(self, store: JobStore, record: JobRecord) -> None:
        self.store, self.record, self._last = store, record, 0.0

    def __call__(self, fraction: float, step: str) -> None:
        self.record = self.record.with_(fraction=min(max(float(fraction), 0.0), 1.0), step=step)
        now = time.monotonic()
        if now - self._last >= _PROGRESS_EVERY_S:
            self._last = now
            self.store.write(self.record)


def _profiles(folder: Path) -> list[Any] | None:
    from lib.profile import ColumnProfile

    path = folder / PROFILES
    if not path.exists():
        return None
    return [ColumnProfile.from_json(item) for item in json.loads(path.read_text())]


def _options(params: dict[str, Any]) -> Any:
    from lib.training import Options

    return Options(**params.get("options", {}))


def _train(folder: Path, frame: pd.DataFrame, profiles: Any, params: dict[str, Any],
           progress: _Progress) -> None:  # fmt: skip
    from lib.training import train

    result = train(
        frame, params["target"], features=params.get("features"), task=params.get("task"),
        model=params["model"], options=_options(params), profiles=profiles, progress=progress,
    )  # fmt: skip
    _write_training(folder, result)


def _tune(folder: Path, frame: pd.DataFrame, profiles: Any, params: dict[str, Any],
          progress: _Progress) -> None:  # fmt: skip
    from lib.tuning import tune

    found = tune(
        frame, params["target"], features=params.get("features"), task=params.get("task"),
        model=params["model"], options=_options(params), profiles=profiles,
        budget_s=float(params.get("budget_s", 60.0)), progress=progress,
    )  # fmt: skip
    _write_training(folder, found.result)
    board = found.leaderboard
    payload = {
        "board": board.to_dict(orient="split"), "best_params": found.best_params,
        "primary": found.primary, "stopped_early": found.stopped_early, "seconds": found.seconds,
    }  # fmt: skip
    (folder / TUNING).write_text(json.dumps(payload))


def _write_training(folder: Path, result: Any) -> None:
    """A ``TrainingResult`` as files: the model, its plain figures, its holdout arrays."""
    from lib.persistence import dump_model

    (folder / MODEL).write_bytes(dump_model(result.pipeline, compression="none"))
    plain = {
        name: getattr(result, name)
        for name in ("task", "target", "model_key", "features", "left_out", "metrics",
                     "baseline_metrics", "cv_scores", "warnings", "seconds", "n_rows",
                     "n_dropped_missing_target")
    }  # fmt: skip
    (folder / RESULT).write_text(json.dumps(plain))
    if result.holdout is not None:
        holdout = result.holdout
        arrays = {"y_true": holdout.y_true, "y_pred": holdout.y_pred}
        if holdout.proba is not None and holdout.classes is not None:
            arrays |= {"proba": holdout.proba, "classes": holdout.classes}
        plain_arrays = {key: _no_objects(value) for key, value in arrays.items()}
        np.savez(str(folder / HOLDOUT), allow_pickle=False, **plain_arrays)


def _compare(folder: Path, frame: pd.DataFrame, profiles: Any, params: dict[str, Any],
             progress: _Progress) -> None:  # fmt: skip
    from lib.training import compare_models

    board = compare_models(
        frame, params["target"], features=params.get("features"), task=params.get("task"),
        model_keys=params.get("model_keys"), options=_options(params), profiles=profiles,
        progress=progress,
    )  # fmt: skip
    payload = {"board": board.to_dict(orient="split"), "attrs": dict(board.attrs)}
    (folder / BOARD).write_text(json.dumps(payload))


_KINDS = {"train": _train, "compare": _compare, "tune": _tune}


def _no_objects(values: np.ndarray) -> np.ndarray:
    """``values`` as an array ``np.load`` reads without pickles (text as fixed-width str)."""
    values = np.asarray(values)
    return values.astype(str) if values.dtype == object else values


def _plain(error: Exception) -> str:
    from lib.errors import UserError

    if isinstance(error, UserError):
        return str(error)
    if isinstance(error, MemoryError):
        return "The job ran out of memory. Sample fewer rows, or choose a lighter model."
    return (
        f"The job stopped with an unexpected error ({type(error).__name__}: "
        f"{str(error)[:300]}). Nothing else was affected."
    )
