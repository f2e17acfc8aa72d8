"""Validation figures, computed with scikit-learn's own metric functions."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn import metrics as skm

from lib.errors import PredictionError
from lib.schema import CLASSIFICATION

# The figure used to rank models and headline a result, per task; higher is better.
PRIMARY_METRIC = {CLASSIFICATION: "balanced_accuracy", "regression": "r2"}
LABELS = {
    "r2": "R²",
    "mae": "MAE",
    "rmse": "RMSE",
    "mape": "MAPE",
    "accuracy": "Accuracy",
    "balanced_accuracy": "Balanced accuracy",
    "f1_macro": "Macro F1",
    "roc_auc": "ROC AUC",
    "log_loss": "Log loss",
}
# For these, lower is better.
LOWER_IS_BETTER = frozenset({"mae", "rmse", "mape", "log_loss"})


def score(
    task: str,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    proba: np.ndarray | None = None,
    classes: Sequence[Any] | np.ndarray | None = None,
) -> dict[str, float]:
    """Every figure that applies to ``task``.

    Parameters
    ----------
    y_true, y_pred : array of shape (n_samples,)
    proba : array of shape (n_samples, n_classes), optional
        Class probabilities, columns in the order of ``classes``.
    classes : array of shape (n_classes,), optional

    Returns
    -------
    dict of str to float
        Regression: r2, mae, rmse, and mape when no true value is 0. Classification: accuracy,
        balanced_accuracy, f1_macro, and roc_auc and log_loss when probabilities are given.
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if task == CLASSIFICATION:
        if classes is not None and not pd.Series(y_true).isin(list(classes)).all():
            known = {str(c) for c in classes}
            unknown = sorted({str(v) for v in y_true} - known)[:5]
            raise PredictionError(
                f"The actual values include classes the model does not know "
                f"({', '.join(unknown)}); it knows {', '.join(sorted(known)[:10])}. Check "
                "their spelling and case."
            )
        with warnings.catch_warnings():
            # e.g. "y_pred contains classes not in y_true" on a few rows: expected, not news.
            warnings.simplefilter("ignore", UserWarning)
            return _classification(y_true, y_pred, proba, classes)
    return _regression(y_true.astype(float), y_pred.astype(float))


def _regression(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    columns = regression_columns(y_true[:, None], y_pred[:, None])
    return {name: float(values[0]) for name, values in columns.items()}


def regression_columns(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, np.ndarray]:
    """The regression figures of each column, e.g. of many resamples at once.

    Parameters
    ----------
    y_true, y_pred : array of shape (n_samples, n_columns)

    Returns
    -------
    dict of str to array of shape (n_columns,)
        r2 (NaN with one row), mae, rmse, and mape when no true value is 0.
    """
    each = {"multioutput": "raw_values"}
    result = {
        "r2": skm.r2_score(y_true, y_pred, **each)
        if len(y_true) > 1
        else np.full(y_true.shape[1], math.nan),
        "mae": skm.mean_absolute_error(y_true, y_pred, **each),
        "rmse": skm.root_mean_squared_error(y_true, y_pred, **each),
    }
    if np.all(y_true != 0):
        result["mape"] = skm.mean_absolute_percentage_error(y_true, y_pred, **each)
    return {name: np.asarray(values, dtype=float) for name, values in result.items()}


def _classification(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    proba: np.ndarray | None,
    classes: Sequence[Any] | np.ndarray | None,
) -> dict[str, float]:
    # scikit-learn's metrics sort the labels again and again; on text labels (object arrays)
    # that is most of the time on large tables (4 s at 300,000 rows). The figures do not
    # depend on what the labels are called, so they are computed on integer codes.
    labels = (
        list(classes) if classes is not None else list(pd.unique(np.concatenate([y_true, y_pred])))
    )
    y_true = pd.Categorical(y_true, categories=labels).codes
    y_pred = pd.Categorical(y_pred, categories=labels).codes
    codes = np.arange(len(labels))
    result = {
        "accuracy": skm.accuracy_score(y_true, y_pred),
        "balanced_accuracy": skm.balanced_accuracy_score(y_true, y_pred),
        "f1_macro": skm.f1_score(y_true, y_pred, average="macro", zero_division=0),
    }
    if proba is not None and classes is not None:
        present = np.isin(codes, y_true)
        if present.all() and len(codes) == 2:
            result["roc_auc"] = skm.roc_auc_score(y_true == 1, proba[:, 1])
        elif present.all() and len(codes) > 2:
            result["roc_auc"] = skm.roc_auc_score(
                y_true, proba, multi_class="ovr", average="macro", labels=codes
            )
        result["log_loss"] = skm.log_loss(y_true, proba, labels=codes)
    return {name: float(value) for name, value in result.items()}


def is_better(metric: str, a: float, b: float) -> bool:
    """Whether value ``a`` of ``metric`` is better than ``b``."""
    return a < b if metric in LOWER_IS_BETTER else a > b


def at_threshold(
    y_true: ArrayLike, proba_pos: ArrayLike, pos_label: object, threshold: float
) -> dict[str, float]:
    """Precision, recall, F1 and the confusion counts when predicting ``pos_label`` at
    ``proba_pos >= threshold``.

    Parameters
    ----------
    y_true : array of shape (n_samples,)
        Actual labels.
    proba_pos : array of shape (n_samples,)
        Predicted probability of ``pos_label``.

    Returns
    -------
    dict
        precision, recall, f1 (float; 0.0 when undefined, as scikit-learn's
        ``zero_division=0``) and tp, fp, fn, tn (int).
    """
    actual = np.asarray(y_true) == pos_label
    predicted = np.asarray(proba_pos, dtype=float) >= threshold
    # Plain counting: scikit-learn's scorers re-validate the labels on every call, which costs
    # 0.1 s per threshold on 300,000 rows; these are the same definitions.
    tp = int(np.count_nonzero(actual & predicted))
    fp = int(np.count_nonzero(~actual & predicted))
    fn = int(np.count_nonzero(actual & ~predicted))
    tn = int(actual.size - tp - fp - fn)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return {
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "tp": int(tp),
        "fp": int(fp),
        "fn": int(fn),
        "tn": int(tn),
    }
