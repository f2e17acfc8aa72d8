"""Predictions on new rows, aligned to what the model expects."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from lib import conformal
from lib.errors import PredictionError
from lib.model_info import ModelInfo, describe_model
from lib.runners import as_runner

log = logging.getLogger(__name__)
MAX_EXAMPLES = 3
NO_ROWS = "There are no rows to predict. Add at least one row."


@dataclass(frozen=True)
class PredictionResult:
    """The input rows plus prediction columns.

    ``frame`` has the input's columns followed by ``prediction_column`` and, for classifiers
    with probabilities, one ``probability_columns`` entry per class. ``notices`` are things the
    person should know (ignored columns, positional alignment). ``interval_columns`` name the
    conformal columns right after the prediction, when asked for (``with_prediction_intervals``).
    """

    frame: pd.DataFrame
    prediction_column: str
    probability_columns: list[str]
    notices: list[str]
    interval_columns: list[str] = field(default_factory=list)
    interval_level: float | None = None


def predict(model: Any, df: pd.DataFrame, info: ModelInfo | None = None) -> PredictionResult:
    """Predict for every row of ``df`` (n_rows x any columns) with ``model`` (a fitted
    estimator or a ``lib.runners.ModelRunner``; ``info`` is required with a runner)."""
    info = info or describe_model(model)
    if len(df) == 0:
        raise PredictionError(NO_ROWS)
    return predict_aligned(model, df, align(df, info), info)


def predict_aligned(
    model: Any,
    df: pd.DataFrame,
    aligned: tuple[pd.DataFrame | np.ndarray, list[str]],
    info: ModelInfo,
) -> PredictionResult:
    """``predict`` with the model input already made from ``df`` by ``align`` (its result)."""
    if len(df) == 0:
        raise PredictionError(NO_ROWS)
    X, notices = aligned
    try:
        result = as_runner(model).run("predict", X=X, proba=info.has_proba)
    except (ValueError, TypeError, KeyError, IndexError) as error:
        log.info("prediction failed: %r", error)
        raise PredictionError(_explain_failure(error, X)) from None
    y_pred, proba = result["y"], result["proba"]

    target = info.target or "target"
    out = df.copy(deep=False)  # copy-on-write: new columns never reach ``df``
    prediction_column = _free_name(f"predicted {target}", out.columns)
    out[prediction_column] = y_pred
    probability_columns = []
    if proba is not None:
        classes = info.classes if info.classes is not None else range(proba.shape[1])
        for i, label in enumerate(classes):
            name = _free_name(f"P({label})", out.columns)
            out[name] = proba[:, i]
            probability_columns.append(name)
    return PredictionResult(out, prediction_column, probability_columns, notices)


SET_JOIN = " | "


def with_prediction_intervals(
    result: PredictionResult,
    calibration: conformal.Calibration,
    level: float,
    classes: list[Any] | None,
    target: str,
) -> PredictionResult:
    """``result`` with conformal columns at ``level`` right after the prediction.

    Regression: "lower <target>" and "upper <target>". Classification: "prediction set" (the
    labels, most probable first, joined with " | "; empty when no class is probable enough at
    this level) and "set size"; ``classes`` name the probability columns in order.
    """
    out = result.frame.copy(deep=False)
    at = list(out.columns).index(result.prediction_column) + 1
    if calibration.task == "regression":
        predicted = out[result.prediction_column].to_numpy(dtype="float64")
        low, high = conformal.intervals(calibration, predicted, level)
        new: dict[str, Any] = {f"lower {target}": low, f"upper {target}": high}
    else:
        proba = out[result.probability_columns].to_numpy(dtype="float64")
        sets = conformal.prediction_sets(calibration, proba, level, classes)
        new = {
            "prediction set": [SET_JOIN.join(map(str, labels)) for labels in sets],
            "set size": [len(labels) for labels in sets],
        }
    names = []
    for offset, (name, values) in enumerate(new.items()):
        names.append(_free_name(name, out.columns))
        out.insert(at + offset, names[-1], values)
    return replace(result, frame=out, interval_columns=names, interval_level=level)


def align(df: pd.DataFrame, info: ModelInfo) -> tuple[pd.DataFrame | np.ndarray, list[str]]:
    """Select and order the model's input columns from ``df``, coercing numeric ones.

    Returns the model input (a DataFrame for named features, an array for positional ones) and
    the notices to show.
    """
    if info.features is None:
        return df, ["The model does not say which columns it expects; all columns were passed."]
    if not info.named_features:
        return _by_position(df, len(info.features))

    columns = {str(c): c for c in df.columns}
    relaxed = {str(c).strip().casefold(): c for c in df.columns}
    picked, renamed, missing = {}, [], []
    for feature in info.features:
        if feature.name in columns:
            picked[feature.name] = columns[feature.name]
        elif feature.name.strip().casefold() in relaxed:
            picked[feature.name] = relaxed[feature.name.strip().casefold()]
            renamed.append(f"'{picked[feature.name]}' as '{feature.name}'")
        else:
            missing.append(feature.name)
    if missing:
        raise PredictionError(
            f"The rows lack {len(missing)} column(s) the model needs: "
            f"{', '.join(repr(m) for m in missing)}. Add them (the names must match the "
            "training data) and try again."
        )
    notices = []
    if renamed:
        notices.append(f"Matched columns ignoring case and spaces: {', '.join(renamed)}.")
    # The target column, when present, is kept for scoring rather than "ignored".
    extra = [str(c) for c in df.columns if c not in set(picked.values()) and c != info.target]
    if extra:
        notices.append(f"Columns the model does not use were ignored: {', '.join(extra)}.")
    # Selecting and renaming are views under copy-on-write: a large table is not copied (and
    # keeps its single block, which the model reads as one array) before the model sees it.
    X = df[list(picked.values())].set_axis(list(picked), axis=1)
    return _coerce(X, info), notices


def _by_position(df: pd.DataFrame, n_features: int) -> tuple[np.ndarray, list[str]]:
    if df.shape[1] < n_features:
        raise PredictionError(
            f"This model expects {n_features} unnamed numeric features, taken in order, but the "
            f"rows have only {df.shape[1]} column(s). Provide {n_features} columns."
        )
    used = df.iloc[:, :n_features]
    notices = [
        f"This model was fitted without column names, so the first {n_features} columns were "
        f"used in order: {', '.join(map(str, used.columns))}."
    ]
    if df.shape[1] > n_features:
        notices.append(f"Ignored: {', '.join(map(str, df.columns[n_features:]))}.")
    numeric = _coerce_numeric(used, list(used.columns))
    return numeric.to_numpy(dtype="float64"), notices


def _coerce(X: pd.DataFrame, info: ModelInfo) -> pd.DataFrame:
    numeric = [f.name for f in info.features or [] if f.kind == "numeric"]
    return _coerce_numeric(X, numeric)


def _coerce_numeric(X: pd.DataFrame, columns: list) -> pd.DataFrame:
    """Turn ``columns`` into numbers; refuse with every bad column and example values named."""
    problems = []
    for name in columns:
        column = X[name]
        if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(
            column.dtype
        ):
            continue
        text = column.astype(str).str.strip().str.replace(",", ".", regex=False)
        converted = pd.to_numeric(text.where(column.notna()), errors="coerce")
        bad = column.notna() & converted.isna() & (text != "")
        if bad.any():
            rows = [int(i) + 1 for i in np.flatnonzero(bad.to_numpy())[:MAX_EXAMPLES]]
            examples = ", ".join(repr(v) for v in column[bad].astype(str).unique()[:MAX_EXAMPLES])
            problems.append(
                f"'{name}' should hold numbers but has {examples} (row {', '.join(map(str, rows))})"
            )
        X[name] = converted
    if problems:
        raise PredictionError(
            "Some values are not numbers: "
            + "; ".join(problems)
            + ". Fix or empty those cells and try again."
        )
    return X


def _explain_failure(error: Exception, X: object) -> str:
    text = str(error).splitlines()[0][:300] if str(error) else type(error).__name__
    if "NaN" in text:
        return (
            "The model cannot handle missing values, and some of the needed cells are empty. "
            "Fill them in and try again."
        )
    return f"The model could not predict on these rows: {text}. Check the columns' values."


def _free_name(name: str, taken: pd.Index) -> str:
    candidate, i = name, 2
    while candidate in taken:
        candidate, i = f"{name} ({i})", i + 1
    return candidate
