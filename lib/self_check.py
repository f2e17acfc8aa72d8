"""Self-checking model files: a few training rows travel in the file with the model's answers.

At training, ``build`` picks up to ``N_ROWS`` check rows (``check_rows``: every class, some
missing values, free text blanked out) and records what the fitted pipeline predicts on them
(``record``). Wherever the file is opened later, ``verify`` predicts the same rows again through
the model's runner (the sandboxed worker for an upload) and says in plain words whether the
model behaves as it did where it was saved, and if not, how far off and the likely reason.

The rows are stored as plain data and rebuilt by ``rows_frame``; the predictions are made on the
rebuilt rows, so the check is exact. A notebook does the same in a few lines (README, "Check a
model file in a notebook"), with the same rules and tolerances as here.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lib.errors import PredictionError
from lib.metadata import library_versions, to_plain
from lib.model_info import ModelInfo
from lib.runners import as_runner
from lib.schema import CLASSIFICATION, Task
from lib.schema_self_check import SelfCheck

log = logging.getLogger(__name__)
N_ROWS = 20
N_MISSING_ROWS = 3  # rows with missing values, when the data has them
TEXT_SAMPLE = 1_000  # rows looked at to tell free text from categories
MISSING_SAMPLE = 10_000  # rows looked at for missing values
# Tolerances: labels must be equal; numbers and probabilities within these.
RTOL = 1e-7
ATOL = 1e-9
PROBA_ATOL = 1e-6
LIBRARY_NAMES = {
    "sklearn": "scikit-learn",
    "numpy": "numpy",
    "pandas": "pandas",
    "python": "Python",
    "joblib": "joblib",
}
CHANGED = "the file was changed after it was saved, or it was made by different code"


@dataclass(frozen=True)
class Verdict:
    """What re-predicting the check rows showed.

    ``status``: "passed", "failed", "unavailable" (the file has no usable check rows) or
    "error" (the model refused to predict its own rows). ``message`` is one sentence;
    ``details`` the figures and the likely reason, as sentences.
    """

    status: str
    message: str
    details: list[str] = field(default_factory=list)
    n_rows: int = 0
    n_agree: int = 0
    n_class_changes: int = 0
    max_prediction_difference: float | None = None
    max_probability_difference: float | None = None
    version_differences: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.status == "passed"


# --- at training ------------------------------------------------------------------------------


def build(
    pipeline: Any, X: pd.DataFrame, y: pd.Series, task: Task, groups: dict[str, list[str]],
    seed: int,
) -> SelfCheck | None:  # fmt: skip
    """The self-check record for a just-fitted ``pipeline``, or None (logged) when it cannot be
    made: a failed check must never fail training."""
    try:
        check = record(pipeline, check_rows(X, y, task, groups, seed))
        return SelfCheck.from_plain(check.to_plain())  # what a reader will accept
    except Exception as error:  # the check is a courtesy: whatever fails, training does not
        log.warning("no self-check rows recorded: %s: %s", type(error).__name__, error)
        return None


def check_rows(
    X: pd.DataFrame, y: pd.Series, task: Task, groups: dict[str, list[str]], seed: int
) -> pd.DataFrame:
    """Up to ``N_ROWS`` rows of ``X`` (n_rows x n_features) for the self-check, deterministic
    for ``seed`` (``check_positions``). Free-text or identifier-like categorical columns hold
    their most frequent value instead, so no person's text is copied into the file. Returns a
    frame with a fresh 0..n-1 index."""
    order = np.random.default_rng(seed).permutation(len(X))
    rows = X.iloc[check_positions(X, y, task, seed)].reset_index(drop=True)
    for name in _text_like(X, groups.get("categorical", []), order):
        value = _most_frequent(X[name], order)
        rows[name] = pd.Series([value] * len(rows), dtype=X[name].dtype)
    return rows


def check_positions(X: pd.DataFrame, y: pd.Series, task: Task, seed: int) -> list[int]:
    """Sorted positions of up to ``N_ROWS`` rows: one of every class where possible
    (classification; the first ``N_ROWS`` classes in sorted order when there are more), up to
    ``N_MISSING_ROWS`` with missing values when a sample of the rows has some, the rest at
    random. Reads the target once and a sample of the rows, never copies the whole frame."""
    n = len(X)
    if n == 0:
        raise ValueError("there are no rows to check")
    order = np.random.default_rng(seed).permutation(n)  # "first in order" is a random pick
    chosen: list[int] = []

    def take(positions: np.ndarray) -> None:
        for position in positions:
            if len(chosen) >= N_ROWS:
                return
            if int(position) not in chosen:
                chosen.append(int(position))

    if task == CLASSIFICATION:
        codes, _ = pd.factorize(y.to_numpy()[order], sort=True)
        _, first = np.unique(codes, return_index=True)  # each class's first row in ``order``
        take(order[first])
    sample = order[:MISSING_SAMPLE]
    gaps = X.iloc[sample].isna().to_numpy()
    with_gaps = [p for p in chosen if X.iloc[p].isna().any()]
    for column in range(gaps.shape[1]):  # a row missing each column with gaps, a few at most
        if len(with_gaps) >= N_MISSING_ROWS or len(chosen) >= N_ROWS:
            break
        if not any(gaps[sample == p, column].any() for p in with_gaps) and gaps[:, column].any():
            position = int(sample[np.argmax(gaps[:, column])])
            take(np.array([position]))
            with_gaps.append(position)
    take(order[: N_ROWS * 2])
    return sorted(chosen)


def _text_like(X: pd.DataFrame, categorical: list[str], order: np.ndarray) -> list[str]:
    """Categorical columns whose values look like free text or identifiers, judged on a
    sample: mostly distinct (half or more of at least 10 values), or long (over 30
    characters on average, or any over 100)."""
    sample = order[:TEXT_SAMPLE]
    names = []
    for name in categorical:
        values = X[name].iloc[sample].dropna()
        if values.empty:
            continue
        distinct = values.nunique()
        lengths = values.astype(str).str.len()
        if (distinct >= 10 and distinct >= 0.5 * len(values)) or (
            lengths.mean() > 30 or lengths.max() > 100
        ):
            names.append(name)
    return names


def _most_frequent(column: pd.Series, order: np.ndarray) -> Any:
    """The most frequent value in a sample of ``column`` (the first in sorted order on a tie),
    or NaN when the sample has none."""
    counts = column.iloc[order[:TEXT_SAMPLE]].value_counts(dropna=True)
    if counts.empty:
        return np.nan
    return sorted(counts.index[counts == counts.max()], key=str)[0]


def record(pipeline: Any, rows: pd.DataFrame) -> SelfCheck:
    """The rows as plain data and what ``pipeline`` predicts on them (probabilities too for a
    classifier that gives them), predicted on the rows rebuilt from that plain data."""
    columns = [str(name) for name in rows.columns]
    dtypes = [str(rows[name].dtype) for name in rows.columns]
    values = [_plain_column(rows[name]) for name in rows.columns]
    stored = rows_frame(SelfCheck(columns, dtypes, values, predictions=[0] * len(rows)))
    predictions = [_plain_scalar(v) for v in np.asarray(pipeline.predict(stored)).ravel()]
    probabilities, classes = None, None
    if hasattr(pipeline, "predict_proba") and hasattr(pipeline, "classes_"):
        probabilities = np.asarray(pipeline.predict_proba(stored), dtype=float).tolist()
        classes = [_plain_scalar(c) for c in pipeline.classes_]
    return SelfCheck(columns, dtypes, values, predictions, probabilities, classes)


def _plain_column(column: pd.Series) -> list[Any]:
    """JSON-plain values: numbers, booleans and text as they are, datetimes as ISO text,
    missing values as None (pandas reads None back as the dtype's missing value)."""
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        return [None if pd.isna(v) else v.isoformat() for v in column]
    return [None if _missing(v) else _plain_scalar(v) for v in column.to_list()]


def _missing(value: Any) -> bool:
    return (
        value is None
        or value is pd.NA
        or value is pd.NaT
        or (isinstance(value, float | np.floating) and math.isnan(value))
    )


def _plain_scalar(value: Any) -> Any:
    value = to_plain(value)
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)


def rows_frame(check: SelfCheck) -> pd.DataFrame:
    """The check rows as a frame (n_rows x n_columns), rebuilt from the plain record."""
    return pd.DataFrame(
        {
            name: _column(values, dtype)
            for name, dtype, values in zip(check.columns, check.dtypes, check.values, strict=True)
        }
    )


def _column(values: list[Any], dtype: str) -> pd.Series:
    # The README's notebook snippet rebuilds columns with these same two lines.
    if dtype.startswith("datetime64"):
        return pd.to_datetime(pd.Series(values, dtype=object), format="ISO8601").astype(
            pd.api.types.pandas_dtype(dtype)
        )
    return pd.Series(values, dtype=dtype)


# --- when a file is opened ----------------------------------------------------------------------


def verify(runner: Any, info: ModelInfo) -> Verdict:
    """Re-predict the file's check rows through ``runner`` (a ``ModelRunner``, or a fitted
    model) and compare with what the file says the model predicted where it was saved.

    Never raises on a hostile record; a worker failure (``lib.worker.ModelStopped``)
    propagates as it does for any prediction.
    """
    check = info.metadata.self_check if info.metadata else None
    if check is None:
        return Verdict(
            "unavailable",
            "No self-check: this file carries no check rows (it was saved elsewhere, or by an "
            "older version of this app), so nothing shows whether it predicts here as where "
            "it was saved.",
        )
    versions = version_differences(info.metadata.versions if info.metadata else {})
    try:
        rows = rows_frame(check)
    except (ValueError, TypeError, OverflowError, KeyError) as error:  # KeyError: unknown zone
        return Verdict("unavailable", f"No self-check: the file's check rows could not be "
                       f"read ({str(error)[:200]}).")  # fmt: skip
    want_proba = check.probabilities is not None and info.has_proba
    try:
        result = as_runner(runner).run("predict", X=rows, proba=want_proba)
    except (ValueError, TypeError, KeyError, IndexError, PredictionError) as error:
        return Verdict(
            "error",
            "Self-check failed: the model refused to predict its own check rows, so it does "
            "not work here as it did where it was saved.",
            [f"The model said: {str(error)[:300]}", _reason(versions)],
            n_rows=check.n_rows,
            version_differences=versions,
        )
    return _compare(check, info.task, result["y"], result.get("proba"), versions)


def version_differences(saved: dict[str, str]) -> dict[str, tuple[str, str]]:
    """Library -> (version in the file, version running here), for each that differs,
    scikit-learn first."""
    running = library_versions()
    return {
        key: (saved[key], running[key])
        for key in LIBRARY_NAMES
        if key in saved and key in running and saved[key] != running[key]
    }


def _compare(
    check: SelfCheck, task: Task | None, y: np.ndarray, proba: np.ndarray | None,
    versions: dict[str, tuple[str, str]],
) -> Verdict:  # fmt: skip
    n = check.n_rows
    now = [_plain_scalar(v) for v in np.asarray(y).ravel()]
    if len(now) != n:
        return _failed(check, versions, n_agree=0, notes=[
            f"It gave {len(now)} predictions for {n} rows."])  # fmt: skip
    stored = check.predictions
    max_diff = None
    if task == CLASSIFICATION or not all(_is_number(v) for v in stored + now):
        agree = np.array([a == b for a, b in zip(now, stored, strict=True)])
    else:
        new, old = np.asarray(now, dtype=float), np.asarray(stored, dtype=float)
        agree = np.isclose(new, old, rtol=RTOL, atol=ATOL, equal_nan=True)
        max_diff = float(np.nanmax(np.abs(new - old))) if n else 0.0
    proba_diff = None
    if check.probabilities is not None and proba is not None:
        old_p = np.asarray(check.probabilities, dtype=float)
        new_p = np.asarray(proba, dtype=float)
        if new_p.shape != old_p.shape:
            return _failed(check, versions, n_agree=int(agree.sum()), notes=[
                f"It gives probabilities for {new_p.shape[-1]} classes; the file recorded "
                f"{old_p.shape[-1]}."])  # fmt: skip
        row_diff = np.abs(new_p - old_p).max(axis=1)
        proba_diff = float(row_diff.max())
        agree = agree & (row_diff <= PROBA_ATOL)
    n_agree = int(agree.sum())
    changes = sum(a != b for a, b in zip(now, stored, strict=True))
    if n_agree == n:
        message = (
            f"Self-check passed: it predicts its {n} check rows here exactly as where it was saved."
        )
        details = []
        if versions:
            details.append(
                f"It was saved with {_versions_text(versions)}; the predictions agree all the same."
            )
        return Verdict("passed", message, details, n, n_agree, 0, max_diff, proba_diff, versions)
    return _failed(check, versions, n_agree, max_diff, proba_diff,
                   changes if task == CLASSIFICATION else 0)  # fmt: skip


def _failed(
    check: SelfCheck, versions: dict[str, tuple[str, str]], n_agree: int,
    max_diff: float | None = None, proba_diff: float | None = None, changes: int = 0,
    notes: list[str] | None = None,
) -> Verdict:  # fmt: skip
    n = check.n_rows
    details = list(notes or [])
    details.append(f"{n_agree} of {n} check rows agree.")
    if changes:
        details.append(f"{changes} of {n} rows change class.")
    if max_diff is not None:
        details.append(f"Largest difference in a prediction: {max_diff:.6g}.")
    if proba_diff is not None:
        details.append(f"Largest difference in a probability: {proba_diff:.6g}.")
    details.append(_reason(versions))
    message = (
        f"Self-check failed: this model does not predict its {n} check rows here as it did "
        f"where it was saved ({n - n_agree} of {n} differ). Check its predictions before "
        "relying on them."
    )
    return Verdict("failed", message, details, n, n_agree, changes, max_diff, proba_diff, versions)


def _reason(versions: dict[str, tuple[str, str]]) -> str:
    if not versions:
        return f"The library versions are the same as where it was saved, so likely {CHANGED}."
    return (
        f"Likely reason: it was saved with {_versions_text(versions)}. Re-train or re-save it "
        "with the versions running here, or run it where it was saved."
    )


def _versions_text(versions: dict[str, tuple[str, str]]) -> str:
    return ", ".join(
        f"{LIBRARY_NAMES[key]} {saved} ({running} here)"
        for key, (saved, running) in versions.items()
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
