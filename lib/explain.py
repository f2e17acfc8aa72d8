"""What drives a model's predictions, with scikit-learn's own inspection tools (run by
``lib.model_ops`` wherever the model lives; this module samples rows and words the results)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lib.errors import PredictionError
from lib.metrics import LABELS
from lib.runners import ModelRunner, as_runner
from lib.sampling import sample_indices
from lib.schema import CLASSIFICATION

IMPORTANCE_MAX_ROWS = 2_000
PDP_MAX_ROWS = 1_000
PDP_MIN_ROWS = 3
ICE_LINES = 50


@dataclass(frozen=True)
class Importance:
    """Feature importance: ``table`` has columns feature, importance, std (best first)."""

    table: pd.DataFrame
    method: str  # "permutation" or "model"
    note: str


@dataclass(frozen=True)
class PartialDependence:
    """Average prediction over ``grid`` (n_grid,) and ICE lines ``individual`` (n_lines, n_grid).

    For classifiers the values are the probability of ``class_label``.
    """

    feature: str
    grid: np.ndarray
    average: np.ndarray
    individual: np.ndarray
    categorical: bool
    class_label: object | None


def feature_importance(
    model: object,
    X: pd.DataFrame | np.ndarray,
    y: np.ndarray | None = None,
    task: str | None = None,
    random_state: int = 0,
) -> Importance | None:
    """Permutation importance on labelled rows, else the model's own importances or weights.

    ``model`` is a fitted estimator or a ``lib.runners.ModelRunner``. Returns None when
    neither is available (no labels and a model without importances).
    """
    runner = as_runner(model)
    if y is None:
        return _model_importance(runner)
    rows = sample_indices(len(X), IMPORTANCE_MAX_ROWS, random_state)
    X_s = X.iloc[rows] if isinstance(X, pd.DataFrame) else X[rows]
    y_s = np.asarray(y)[rows]
    scoring = "balanced_accuracy" if task == CLASSIFICATION else "r2"
    result = runner.run("permutation", X=X_s, y=y_s, scoring=scoring, n_repeats=5,
                        random_state=random_state)  # fmt: skip
    names = _input_names(X)
    table = pd.DataFrame({"feature": names, "importance": result["mean"], "std": result["std"]})
    note = (
        f"How much {LABELS[scoring]} drops when one column "
        "is shuffled, on "
        f"{len(rows):,} labelled rows{' (a random sample)' if len(rows) < len(X) else ''}."
    )
    return Importance(_ranked(table), "permutation", note)


_OWN_NOTES = {
    "impurity": "The model's own impurity-based importances (of the columns after preprocessing).",
    "weights": "The size of the model's weights on the columns after preprocessing (comparable "
    "when the columns are scaled).",
}


def _model_importance(runner: ModelRunner) -> Importance | None:
    result = runner.run("own_importance")
    if not result:
        return None
    values = result["values"]
    table = pd.DataFrame({"feature": result["names"], "importance": values, "std": 0.0})
    return Importance(_ranked(table), "model", _OWN_NOTES[result["method"]])


def partial_dependence_data(
    model: object,
    X: pd.DataFrame,
    feature: str,
    categorical: bool = False,
    class_label: object | None = None,
    random_state: int = 0,
) -> PartialDependence:
    """Partial dependence and ICE lines of ``model`` (an estimator or a runner) on ``feature``
    over rows of ``X``."""
    if feature not in X.columns:
        raise PredictionError(f"There is no column '{feature}' in these rows.")
    rows = sample_indices(len(X), PDP_MAX_ROWS, random_state)
    X_s = X.iloc[rows]
    if X_s[feature].notna().sum() == 0:
        raise PredictionError(f"'{feature}' has no values in these rows to vary.")
    X_s = X_s[X_s[feature].notna()]
    if not categorical and not pd.api.types.is_numeric_dtype(X_s[feature].dtype):
        raise PredictionError(
            f"Partial dependence varies one column over a range of numbers or categories, and "
            f"'{feature}' holds neither (dates or text). Pick another column."
        )
    if len(X_s) < PDP_MIN_ROWS:  # scikit-learn's reshape fails on two rows (1.9)
        raise PredictionError(
            f"Partial dependence needs at least {PDP_MIN_ROWS} rows with a value in "
            f"'{feature}'; these rows have {len(X_s)}. Upload more rows to see it."
        )
    try:
        result = as_runner(model).run("partial_dependence", X=X_s, feature=feature,
                                      categorical=categorical, class_label=class_label)  # fmt: skip
    except (ValueError, TypeError) as error:
        text = str(error).splitlines()[0][:300] if str(error) else type(error).__name__
        message = f"Partial dependence on '{feature}' failed on these rows: {text}."
        raise PredictionError(message) from None
    lines = result["individual"]
    pick = sample_indices(len(lines), ICE_LINES, random_state)
    return PartialDependence(
        feature=feature,
        grid=np.asarray(result["grid"]),
        average=result["average"],
        individual=lines[pick],
        categorical=categorical,
        class_label=result["class_label"] if result["class_label"] is not None else class_label,
    )


def _input_names(X: pd.DataFrame | np.ndarray) -> list[str]:
    if isinstance(X, pd.DataFrame):
        return [str(c) for c in X.columns]
    return [f"x{i}" for i in range(X.shape[1])]


def _ranked(table: pd.DataFrame) -> pd.DataFrame:
    return table.sort_values("importance", ascending=False, ignore_index=True)
