"""A finished job's results, read back in the web process: ``training_result``, ``leaderboard``.

Nothing here unpickles: the model goes through the safe loader (it is the app's own file, so
in process), figures are JSON and ``.npz`` read with ``allow_pickle=False``.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from ._record import DONE, JobRecord
from ._store import JobStore
from ._work import BOARD, HOLDOUT, MODEL, PROFILES, RESULT, TABLE, TUNING


def training_result(store: JobStore, record: JobRecord):  # -> lib.training.TrainingResult
    """The ``TrainingResult`` of a finished train job (its pipeline loaded safely)."""
    from lib.metadata import read_metadata
    from lib.safe_load import load_model
    from lib.training import Holdout, TrainingResult

    folder = _done(store, record)
    pipeline = load_model((folder / MODEL).read_bytes(), sandbox=False).model
    plain = json.loads((folder / RESULT).read_text())
    holdout = None
    if (folder / HOLDOUT).exists():
        with np.load(folder / HOLDOUT, allow_pickle=False) as arrays:
            holdout = Holdout(
                y_true=arrays["y_true"], y_pred=arrays["y_pred"],
                proba=arrays.get("proba"), classes=arrays.get("classes"),
            )  # fmt: skip
    metadata = read_metadata(pipeline).metadata
    if metadata is None:  # the job wrote it: only a damaged folder lacks it
        raise ValueError(f"job {record.id}'s model has no training record")
    return TrainingResult(pipeline=pipeline, holdout=holdout, metadata=metadata, **plain)


def leaderboard(store: JobStore, record: JobRecord) -> pd.DataFrame:
    """The leaderboard of a finished compare job, best first (``compare_models``'s frame)."""
    payload = json.loads((_done(store, record) / BOARD).read_text())
    board = pd.DataFrame(**payload["board"])
    board.attrs.update(payload["attrs"])
    return board


def tuning_leaderboard(store: JobStore, record: JobRecord) -> tuple[pd.DataFrame, dict]:
    """A finished tune job's candidates (best first: settings, round, rows, the primary
    metric's mean and std) and what else it found (best_params, primary, stopped_early,
    seconds). Its final model is ``training_result``."""
    payload = json.loads((_done(store, record) / TUNING).read_text())
    board = pd.DataFrame(**payload.pop("board"))
    board.attrs["primary"] = payload["primary"]
    return board, payload


def job_table(store: JobStore, record: JobRecord) -> tuple[pd.DataFrame, list] | None:
    """The table a job was given (n_rows x n_columns) and its column profiles, or None when
    its files are gone."""
    from lib.profile import ColumnProfile

    folder = store.folder(record)
    try:
        frame = pd.read_feather(folder / TABLE)
        profiles = [ColumnProfile.from_json(p) for p in json.loads((folder / PROFILES).read_text())]
    except (OSError, ValueError):
        return None
    return frame, profiles


def _done(store: JobStore, record: JobRecord):
    if record.status != DONE:
        raise ValueError(f"job {record.id} is {record.status}, not done")
    return store.folder(record)
