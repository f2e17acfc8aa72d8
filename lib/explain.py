"""What drives a model's predictions, with scikit-learn's own inspection tools."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.inspection import partial_dependence, permutation_importance
from sklearn.pipeline import Pipeline

from lib.errors import PredictionError
from lib.metrics import LABELS
from lib.sampling import sample_indices
from lib.schema import CLASSIFICATION

IMPORTANCE_MAX_ROWS = 2_000
PDP_MAX_ROWS = 1_000
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

    Returns None when neither is available (no labels and a model without importances).
    """
    if y is not None:
        rows = sample_indices(len(X), IMPORTANCE_MAX_ROWS, random_state)
        X_s = X.iloc[rows] if isinstance(X, pd.DataFrame) else X[rows]
        y_s = np.asarray(y)[rows]
        scoring = "balanced_accuracy" if task == CLASSIFICATION else "r2"
        result = permutation_importance(
            model, _model_input(model, X_s), y_s, scoring=scoring, n_repeats=5,
            random_state=random_state,
        )  # fmt: skip
        names = _input_names(model, X)
        table = pd.DataFrame(
            {"feature": names, "importance": result.importances_mean, "std": result.importances_std}
        )
        note = (
            f"How much {LABELS[scoring]} drops when one column "
            "is shuffled, on "
            f"{len(rows):,} labelled rows{' (a random sample)' if len(rows) < len(X) else ''}."
        )
        return Importance(_ranked(table), "permutation", note)
    return _model_importance(model)


def _model_importance(model: object) -> Importance | None:
    estimator = model.steps[-1][1] if isinstance(model, Pipeline) else model
    values = getattr(estimator, "feature_importances_", None)
    note = "The model's own impurity-based importances (of the columns after preprocessing)."
    coef = getattr(estimator, "coef_", None) if values is None else None
    if coef is not None:
        values = np.abs(np.atleast_2d(np.asarray(coef, dtype=float))).mean(axis=0)
        note = (
            "The size of the model's weights on the columns after preprocessing (comparable "
            "when the columns are scaled)."
        )
    if values is None:
        return None
    names = _transformed_names(model, len(values))
    table = pd.DataFrame({"feature": names, "importance": values, "std": 0.0})
    return Importance(_ranked(table), "model", note)


def partial_dependence_data(
    model: object,
    X: pd.DataFrame,
    feature: str,
    categorical: bool = False,
    class_label: object | None = None,
    random_state: int = 0,
) -> PartialDependence:
    """Partial dependence and ICE lines of ``model`` on ``feature`` over rows of ``X``."""
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
    named = getattr(model, "feature_names_in_", None) is not None
    result = partial_dependence(
        model,
        _model_input(model, X_s),
        [feature if named else list(X_s.columns).index(feature)],
        categorical_features=[feature if named else list(X_s.columns).index(feature)]
        if categorical
        else None,
        kind="both",
        grid_resolution=30,
        percentiles=(0.02, 0.98),
    )
    average, individual = result["average"], result["individual"]
    class_index = 0
    classes = getattr(model, "classes_", None)
    if classes is not None and average.shape[0] > 1:
        class_index = list(classes).index(class_label) if class_label in list(classes) else 0
    if classes is not None:
        class_label = classes[class_index] if average.shape[0] > 1 else classes[-1]
    lines = individual[class_index]
    pick = sample_indices(len(lines), ICE_LINES, random_state)
    return PartialDependence(
        feature=feature,
        grid=np.asarray(result["grid_values"][0]),
        average=average[class_index],
        individual=lines[pick],
        categorical=categorical,
        class_label=class_label,
    )


def _model_input(model: object, X: pd.DataFrame | np.ndarray) -> pd.DataFrame | np.ndarray:
    """``X`` as the model was fitted: an array for models fitted without column names."""
    if isinstance(X, pd.DataFrame) and getattr(model, "feature_names_in_", None) is None:
        return X.to_numpy()
    return X


def _input_names(model: object, X: pd.DataFrame | np.ndarray) -> list[str]:
    if isinstance(X, pd.DataFrame):
        return [str(c) for c in X.columns]
    names = getattr(model, "feature_names_in_", None)
    return [str(n) for n in names] if names is not None else [f"x{i}" for i in range(X.shape[1])]


def _transformed_names(model: object, n: int) -> list[str]:
    if isinstance(model, Pipeline) and len(model.steps) > 1:
        try:
            return [str(name) for name in model[:-1].get_feature_names_out()]
        except (AttributeError, ValueError):
            pass
    names = getattr(model, "feature_names_in_", None)
    if names is not None and len(names) == n:
        return [str(name) for name in names]
    return [f"x{i}" for i in range(n)]


def _ranked(table: pd.DataFrame) -> pd.DataFrame:
    return table.sort_values("importance", ascending=False, ignore_index=True)
