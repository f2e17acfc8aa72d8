"""What a loaded model is and what it expects, for models from this app and from anywhere else.

Models trained here carry their metadata; for a model saved elsewhere with ``joblib.dump``,
what can be known comes from scikit-learn's own attributes: ``feature_names_in_``,
``n_features_in_``, ``classes_``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sklearn
from sklearn.base import is_classifier, is_regressor
from sklearn.pipeline import Pipeline

from lib.metadata import read_metadata, to_plain
from lib.schema import CLASSIFICATION, REGRESSION, FeatureKind, ModelMetadata, Task, TrainingSummary


@dataclass(frozen=True)
class Feature:
    """One expected input column, with its training summary when the file has one."""

    name: str
    kind: FeatureKind = "numeric"
    summary: TrainingSummary | None = None


@dataclass(frozen=True)
class ModelInfo:
    """A summary of a model for people.

    ``features`` is None when the model does not say what it expects; ``named_features`` is
    False for models fitted on plain arrays (columns are then taken in order).
    """

    estimator: str
    steps: list[str]
    task: Task | None
    target: str | None
    features: list[Feature] | None
    named_features: bool
    classes: list[Any] | None
    has_proba: bool
    metadata: ModelMetadata | None
    file_sklearn_version: str | None
    running_sklearn_version: str = sklearn.__version__
    notes: list[str] = field(default_factory=list)  # what was wrong with the file's record

    @property
    def summaries(self) -> list[TrainingSummary]:
        """The training summaries of the input columns (empty for a model made elsewhere)."""
        return self.metadata.features if self.metadata else []

    def kinds(self) -> dict[str, FeatureKind]:
        """Input column name -> kind."""
        return {feature.name: feature.kind for feature in self.features or []}

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
        n = len(self.features)
        more = f" and {n - 12} more" if n > 12 else ""
        return f"This model expects {n} columns: {names}{more}."


def describe_model(model: object, file_sklearn_version: str | None = None) -> ModelInfo:
    """Summarise ``model``; ``file_sklearn_version`` is the version recorded in its file."""
    read = read_metadata(model)
    meta = read.metadata
    estimator = model.steps[-1][1] if isinstance(model, Pipeline) else model
    steps = (
        [f"{name}: {type(step).__name__}" for name, step in model.steps]
        if isinstance(model, Pipeline)
        else [type(model).__name__]
    )
    classes = getattr(model, "classes_", None)
    task = meta.task if meta else _task_of(model)
    version = file_sklearn_version or (meta.versions.get("sklearn") if meta else None)
    features, named = _features(model, meta)
    return ModelInfo(
        estimator=type(estimator).__name__,
        steps=steps,
        task=task,
        target=meta.target if meta else None,
        features=features,
        named_features=named,
        classes=[to_plain(c) for c in classes] if classes is not None else None,
        has_proba=hasattr(model, "predict_proba") and task == CLASSIFICATION,
        metadata=meta,
        file_sklearn_version=version,
        notes=read.warnings,
    )


def _task_of(model: object) -> Task | None:
    if is_classifier(model):
        return CLASSIFICATION
    if is_regressor(model):
        return REGRESSION
    return None


def _features(model: object, meta: ModelMetadata | None) -> tuple[list[Feature] | None, bool]:
    if meta and meta.features:
        return [Feature(s.name, s.kind, s) for s in meta.features], True
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        return [Feature(str(name), "unknown") for name in names], True
    count = getattr(model, "n_features_in_", None)
    if isinstance(count, int):
        return [Feature(f"x{i}", "numeric") for i in range(count)], False
    return None, False
