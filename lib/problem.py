"""The training problem: which columns are features, what the target is, and its preparation.

``prepare`` checks a table, a target and features and returns the ``Prepared`` problem: the
feature rows and the target as the model is fitted on them. ``is_training_data`` prepares a
table the same way to tell whether it is exactly what a model was fitted on.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from lib import catalog, metadata
from lib.errors import TrainingError
from lib.preprocessing import feature_groups
from lib.profile import ColumnProfile, profile_table
from lib.schema import (
    CLASSIFICATION,
    ModelMetadata,
    Task,
    is_task,
)


@dataclass(frozen=True)
class Prepared:
    """A validated training problem: features ``X`` (n_rows x n_features) and target ``y``."""

    X: pd.DataFrame
    y: pd.Series
    task: Task
    target: str
    features: list[str]
    groups: dict[str, list[str]]
    left_out: dict[str, str]
    n_dropped_missing_target: int
    classes: list | None


def prepare(
    df: pd.DataFrame,
    target: str,
    features: list[str] | None = None,
    task: str | None = None,
    profiles: list[ColumnProfile] | None = None,
) -> Prepared:
    """Check the target and features and split ``df`` into ``X`` and ``y``.

    ``features`` defaults to every usable column but the target. Rows whose target is missing
    are dropped and counted.
    """
    if target not in df.columns:
        raise TrainingError(f"There is no column '{target}'. Choose the target from the list.")
    profiles = profiles or profile_table(df)
    by_name = {p.name: p for p in profiles}
    left_out = {p.name: p.reason or "" for p in profiles if not p.usable and p.name != target}
    if features is None:
        features = [p.name for p in profiles if p.usable and p.name != target]
    else:
        missing = [name for name in features if name not in by_name]
        if missing:
            raise TrainingError(f"These feature columns are not in the table: {missing}.")
        features = [name for name in features if name != target]
        for name in features:
            if not by_name[name].usable:
                raise TrainingError(
                    f"'{name}' cannot be a feature: it {by_name[name].reason}. Untick it."
                )
    if not features:
        raise TrainingError(
            f"No usable feature columns are left besides '{target}'. A model needs at least "
            "one column to learn from; check the column profile for why columns were left out."
        )

    X, raw_y, n_dropped = _rows_with_target(df, target, features)
    if raw_y.empty:
        raise TrainingError(f"The target column '{target}' has no values. Pick another target.")
    task = task or catalog.infer_task(raw_y)
    if not is_task(task):
        raise TrainingError(f"Unknown task {task!r}: choose classification or regression.")
    y = _fitted_target(raw_y, task)
    if y is None:
        raise TrainingError(
            f"Regression needs a numeric target, but '{target}' holds text such as "
            f"{raw_y.iloc[0]!r}. Choose classification, or a numeric target."
        )

    classes = None
    if task == CLASSIFICATION:
        classes = sorted(y.unique().tolist(), key=str)
        if len(classes) < 2:
            raise TrainingError(
                f"The target '{target}' has only one value ({classes[0]!r}), so there is "
                "nothing to tell apart. Pick a target with at least two classes."
            )
        if len(classes) > catalog.MAX_CLASSES:
            raise TrainingError(
                f"The target '{target}' has {len(classes)} different values, too many classes "
                f"(the limit is {catalog.MAX_CLASSES}). If it is a number, choose regression."
            )
    elif y.min() == y.max():
        raise TrainingError(
            f"The target '{target}' has the same value in every row; there is nothing to "
            "predict. Pick another target."
        )
    groups = feature_groups(profiles, features)
    return Prepared(X, y, task, target, features, groups, left_out, n_dropped, classes)


def training_frame(X: pd.DataFrame, y: pd.Series, target: str) -> pd.DataFrame:
    """The features and the prepared target side by side: what the fingerprint is taken of."""
    return X.assign(**{target: y})


def is_training_data(df: pd.DataFrame, meta: ModelMetadata | None) -> bool:
    """Whether ``df`` holds exactly the rows (and values) the model in ``meta`` was fitted on.

    Compares the training data fingerprint stored in the model's metadata, after the same
    preparation as in training; a table that differs in any value, row or type says False.
    """
    if meta is None or meta.training_data is None:
        return False
    target = meta.target
    features = [summary.name for summary in meta.features]
    expected = meta.training_data.fingerprint
    if target not in df.columns or not set(features) <= set(df.columns):
        return False
    X, raw_y, _ = _rows_with_target(df, target, features)
    y = _fitted_target(raw_y, meta.task)
    if y is None:
        return False
    return metadata.frame_fingerprint(training_frame(X, y, target)) == expected


def subset(problem: Prepared, rows: np.ndarray) -> Prepared:
    """``problem`` on the rows at positions ``rows`` (in that order), indexed 0..len(rows)-1."""
    return replace(
        problem,
        X=problem.X.iloc[rows].reset_index(drop=True),
        y=problem.y.iloc[rows].reset_index(drop=True),
    )


def _rows_with_target(
    df: pd.DataFrame, target: str, features: list[str]
) -> tuple[pd.DataFrame, pd.Series, int]:
    """The rows that have a target: features ``X`` (n_kept x n_features), the target as it is
    in ``df`` (n_kept,), both indexed 0..n_kept-1, and how many rows were dropped."""
    y = df[target]
    keep = y.notna().to_numpy()
    n_dropped = int((~keep).sum())
    if not n_dropped:  # no mask: pandas' copy-on-write then copies nothing
        return df[features].reset_index(drop=True), y.reset_index(drop=True), 0
    return df.loc[keep, features].reset_index(drop=True), y[keep].reset_index(drop=True), n_dropped


def _fitted_target(y: pd.Series, task: str | None) -> pd.Series | None:
    """``y`` as the model is fitted on it: class labels (see ``_as_labels``) for classification,
    float64 otherwise; None when a regression target is not numeric (or is boolean)."""
    if task == CLASSIFICATION:
        return _as_labels(y)
    if pd.api.types.is_numeric_dtype(y.dtype) and not pd.api.types.is_bool_dtype(y.dtype):
        return y.astype("float64")
    return None


def _as_labels(y: pd.Series) -> pd.Series:
    """Class labels scikit-learn handles: whole floats become ints, others stay as they are."""
    if pd.api.types.is_float_dtype(y.dtype) and bool((y % 1 == 0).all()):
        return y.astype("int64")
    if not pd.api.types.is_numeric_dtype(y.dtype) and not pd.api.types.is_bool_dtype(y.dtype):
        return y.astype(str).astype(object)
    return y
