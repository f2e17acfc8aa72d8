"""Everything the app asks of a live model, with plain results: the only code that runs a
model's methods on data.

For the app's own models these run in the web process; for a model from outside they run
inside its sandboxed worker (``lib.worker``), which sends the result back as data. Either way a
result is a ``dict`` of numpy arrays and JSON values (str, int, float, bool, None, lists and
dicts of them), so the code that uses it does not depend on where it ran.

``OPS`` maps an operation's name to its function ``f(model, **kwargs) -> dict``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import is_classifier, is_regressor
from sklearn.inspection import partial_dependence as sk_partial_dependence
from sklearn.inspection import permutation_importance as sk_permutation_importance
from sklearn.pipeline import Pipeline

from lib.metadata import METADATA_ATTR, to_plain
from lib.threshold import inner_pipeline, threshold_step

MAX_REPR_CHARS = 20_000
Result = dict[str, Any]


def describe(model: object, file_sklearn_version: str | None = None) -> Result:
    """What the model says about itself, as plain facts (``lib.model_info.info_from_facts``
    checks and reads them).

    Keys: estimator (str), steps (list of str), kind ("classifier", "regressor" or None),
    classes (list or None), has_predict_proba (bool), feature_names (list of str or None),
    n_features (int or None), metadata (the file's plain record or None), metadata_error (str
    or None), file_sklearn_version (str or None), text (the model's printed form).
    """
    inner = inner_pipeline(model)  # a thresholded classifier is described by its pipeline
    estimator = inner.steps[-1][1] if isinstance(inner, Pipeline) else inner
    steps = (
        [f"{name}: {type(step).__name__}" for name, step in inner.steps]
        if isinstance(inner, Pipeline)
        else [type(inner).__name__]
    )
    if inner is not model:
        steps.append(threshold_step(model))
    classes = getattr(model, "classes_", None)
    names = getattr(model, "feature_names_in_", None)
    count = getattr(model, "n_features_in_", None)
    metadata, metadata_error = _plain_record(getattr(model, METADATA_ATTR, None))
    kind = "classifier" if is_classifier(model) else "regressor" if is_regressor(model) else None
    return {
        "estimator": type(estimator).__name__,
        "steps": steps,
        "kind": kind,
        "classes": [_json_value(c) for c in classes] if classes is not None else None,
        "has_predict_proba": hasattr(model, "predict_proba"),
        "feature_names": [str(n) for n in names] if names is not None else None,
        "n_features": int(count) if isinstance(count, int | np.integer) else None,
        "metadata": metadata,
        "metadata_error": metadata_error,
        "file_sklearn_version": file_sklearn_version,
        "text": _text(model),
    }


def predict(model: Any, X: pd.DataFrame | np.ndarray, proba: bool = False) -> Result:
    """``y`` (n,) or (n, k) from ``model.predict(X)``; ``proba`` (n, n_classes) or None."""
    y = np.asarray(model.predict(X))
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    probabilities = np.asarray(model.predict_proba(X), dtype=float) if proba else None
    if probabilities is not None and probabilities.ndim != 2:
        raise ValueError(
            "this model gives probabilities for several targets at once, and the app shows "
            "models with one target"
        )
    return {"y": y, "proba": probabilities}


def permutation(model: Any, X: pd.DataFrame | np.ndarray, y: np.ndarray, scoring: str,
                n_repeats: int = 5, random_state: int = 0) -> Result:  # fmt: skip
    """Permutation importance of each input column: ``mean`` and ``std`` (n_features,)."""
    result = sk_permutation_importance(
        model, _as_fitted(model, X), y, scoring=scoring, n_repeats=n_repeats,
        random_state=random_state,
    )  # fmt: skip
    return {"mean": result.importances_mean, "std": result.importances_std}


def own_importance(model: Any) -> Result:
    """The model's own importances or weights over the columns after preprocessing:
    ``values`` (n,), ``names`` (n strings) and ``method`` ("impurity" or "weights"); empty
    when it has none."""
    model = inner_pipeline(model)
    estimator = model.steps[-1][1] if isinstance(model, Pipeline) else model
    values = getattr(estimator, "feature_importances_", None)
    method = "impurity"
    if values is None and getattr(estimator, "coef_", None) is not None:
        values = np.abs(np.atleast_2d(np.asarray(estimator.coef_, dtype=float))).mean(axis=0)
        method = "weights"
    if values is None:
        return {}
    values = np.asarray(values, dtype=float).ravel()
    return {"values": values, "names": _transformed_names(model, len(values)), "method": method}


def partial_dependence(model: Any, X: pd.DataFrame, feature: str, categorical: bool,
                       class_label: Any = None) -> Result:  # fmt: skip
    """How the prediction (a classifier: ``class_label``'s probability) moves with ``feature``
    over the rows ``X``: ``grid`` (n_grid,), ``average`` (n_grid,), ``individual`` (n_rows,
    n_grid) and the ``class_label`` shown (None for a regressor)."""
    named = getattr(model, "feature_names_in_", None) is not None
    which = feature if named else list(X.columns).index(feature)
    result = sk_partial_dependence(
        model,
        _as_fitted(model, X),
        [which],
        categorical_features=[which] if categorical else None,
        kind="both",
        grid_resolution=30,
        percentiles=(0.02, 0.98),
    )
    average, individual = result["average"], result["individual"]
    classes = getattr(model, "classes_", None)
    index, shown = 0, None
    if classes is not None:
        known = [_json_value(c) for c in classes]
        if average.shape[0] > 1:
            index = known.index(class_label) if class_label in known else 0
            shown = known[index]
        else:
            shown = known[-1]
    return {
        "grid": np.asarray(result["grid_values"][0]),
        "average": np.asarray(average[index], dtype=float),
        "individual": np.asarray(individual[index], dtype=float),
        "class_label": shown,
    }


OPS: dict[str, Callable[..., Result]] = {
    "predict": predict,
    "permutation": permutation,
    "own_importance": own_importance,
    "partial_dependence": partial_dependence,
}


# --- helpers ------------------------------------------------------------------------------------


def _as_fitted(model: object, X: pd.DataFrame | np.ndarray) -> pd.DataFrame | np.ndarray:
    """``X`` as the model was fitted: an array for models fitted without column names."""
    if isinstance(X, pd.DataFrame) and getattr(model, "feature_names_in_", None) is None:
        return X.to_numpy()
    return X


def _transformed_names(model: object, n: int) -> list[str]:
    model = inner_pipeline(model)
    if isinstance(model, Pipeline) and len(model.steps) > 1:
        try:
            return [str(name) for name in model[:-1].get_feature_names_out()]
        except (AttributeError, ValueError, TypeError):
            pass
    names = getattr(model, "feature_names_in_", None)
    if names is not None and len(names) == n:
        return [str(name) for name in names]
    return [f"x{i}" for i in range(n)]


def _json_value(value: Any) -> Any:
    """A class label as a JSON value (numpy scalars become Python ones)."""
    value = to_plain(value)
    if isinstance(value, str | bool | int) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return str(value)


def _plain_record(record: Any) -> tuple[Any, str | None]:
    """The file's metadata as JSON-able data, or None and why not."""
    if record is None:
        return None, None
    try:
        return json.loads(json.dumps(to_plain(record), allow_nan=True)), None
    except (TypeError, ValueError, RecursionError) as error:
        return None, f"it is not plain data ({type(error).__name__})"


def _text(model: object) -> str:
    try:
        text = repr(model)
    except Exception as error:  # a repr is a courtesy; a broken one must not stop the model
        text = f"{type(model).__name__} (its description failed: {type(error).__name__})"
    return text[:MAX_REPR_CHARS]
