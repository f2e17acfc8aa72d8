"""What a loaded model is and what it expects, for models from this app and from anywhere else.

Models trained here carry their metadata; for a model saved elsewhere with ``joblib.dump``,
what can be known comes from scikit-learn's own attributes: ``feature_names_in_``,
``n_features_in_``, ``classes_``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sklearn
from sklearn.base import is_classifier, is_regressor
from sklearn.pipeline import Pipeline

from lib.metadata import get_metadata


@dataclass(frozen=True)
class Feature:
    """One expected input column. ``kind`` is numeric, categorical, datetime or unknown."""

    name: str
    kind: str = "numeric"
    spec: dict = field(default_factory=dict)  # the training profile entry, when known


@dataclass(frozen=True)
class ModelInfo:
    """A summary of a model for people.

    ``features`` is None when the model does not say what it expects; ``named_features`` is
    False for models fitted on plain arrays (columns are then taken in order).
    """

    estimator: str
    steps: list[str]
    task: str | None
    target: str | None
    features: list[Feature] | None
    named_features: bool
    classes: list | None
    has_proba: bool
    metadata: dict | None
    file_sklearn_version: str | None
    running_sklearn_version: str = sklearn.__version__

    @property
    def n_features(self) -> int | None:
        return None if self.features is None else len(self.features)

    @property
    def version_warning(self) -> str | None:
        """A plain warning when the file was written by another scikit-learn version."""
        file_version = self.file_sklearn_version
        if not file_version or file_version == self.running_sklearn_version:
            return None
        return (
            f"This model was saved with scikit-learn {file_version}; this app runs "
            f"{self.running_sklearn_version}. Models can behave differently across versions: "
            f"check its predictions, and re-train or re-save it with "
            f"{self.running_sklearn_version} if you can."
        )

    @property
    def expectation(self) -> str:
        """One sentence on the input the model wants."""
        if self.features is None:
            return "The model does not say which columns it expects."
        if not self.named_features:
            return (
                f"This model expects {self.n_features} unnamed numeric features, taken in order "
                "(it was fitted on an array without column names)."
            )
        names = ", ".join(f.name for f in self.features[:12])
        more = f" and {self.n_features - 12} more" if self.n_features > 12 else ""
        return f"This model expects {self.n_features} columns: {names}{more}."


def describe_model(model: object, file_sklearn_version: str | None = None) -> ModelInfo:
    """Summarise ``model``; ``file_sklearn_version`` is the version recorded in its file."""
    meta = get_metadata(model)
    estimator = model.steps[-1][1] if isinstance(model, Pipeline) else model
    steps = (
        [f"{name}: {type(step).__name__}" for name, step in model.steps]
        if isinstance(model, Pipeline)
        else [type(model).__name__]
    )
    classes = getattr(model, "classes_", None)
    task = meta["task"] if meta else _task_of(model)
    features, named = _features(model, meta)
    version = file_sklearn_version or (meta or {}).get("versions", {}).get("sklearn")
    return ModelInfo(
        estimator=type(estimator).__name__,
        steps=steps,
        task=task,
        target=meta["target"] if meta else None,
        features=features,
        named_features=named,
        classes=[_plain(c) for c in classes] if classes is not None else None,
        has_proba=hasattr(model, "predict_proba") and task == "classification",
        metadata=meta,
        file_sklearn_version=version,
    )


def _task_of(model: object) -> str | None:
    if is_classifier(model):
        return "classification"
    if is_regressor(model):
        return "regression"
    return None


def _features(model: object, meta: dict | None) -> tuple[list[Feature] | None, bool]:
    if meta and meta.get("features"):
        return [Feature(f["name"], f.get("kind", "numeric"), f) for f in meta["features"]], True
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        return [Feature(str(name), "unknown") for name in names], True
    count = getattr(model, "n_features_in_", None)
    if isinstance(count, int):
        return [Feature(f"x{i}", "numeric") for i in range(count)], False
    return None, False


def _plain(value: object) -> object:
    return value.item() if hasattr(value, "item") else value
