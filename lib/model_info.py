"""What a loaded model is and what it expects, for models from this app and from anywhere else.

Models trained here carry their metadata; for a model saved elsewhere with ``joblib.dump``,
what can be known comes from scikit-learn's own attributes: ``feature_names_in_``,
``n_features_in_``, ``classes_``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sklearn

from lib.metadata import read_metadata_plain
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
    text: str = ""  # the model's printed form (scikit-learn's repr), shown as text

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
    from lib.model_ops import describe

    return info_from_facts(describe(model, file_sklearn_version))


def info_from_facts(facts: object) -> ModelInfo:
    """Check and read what a model said about itself (``lib.model_ops.describe``); for a model
    from outside these come from its sandboxed worker, so every field is checked.

    Raises ``MalformedFacts`` when a field has the wrong type or an absurd size.
    """
    if not isinstance(facts, dict):
        raise MalformedFacts("the description is not a record")
    estimator = _text_field(facts, "estimator", 300)
    steps = _list_field(facts, "steps", MAX_STEPS, lambda v: _short_text(v, 500))
    kind = facts.get("kind")
    if kind not in ("classifier", "regressor", None):
        raise MalformedFacts("the model's kind is unknown")
    classes = _optional_list(facts, "classes", MAX_CLASSES, _label)
    names = _optional_list(facts, "feature_names", MAX_FEATURES, lambda v: _short_text(v, 10_000))
    count = facts.get("n_features")
    if count is not None and not (_is_int(count) and 0 <= count <= MAX_FEATURES):
        raise MalformedFacts("the model's feature count is not a number of columns")
    has_predict_proba = facts.get("has_predict_proba")
    if not isinstance(has_predict_proba, bool):
        raise MalformedFacts("whether the model gives probabilities is not yes or no")
    version = facts.get("file_sklearn_version")
    if version is not None:
        version = _short_text(version, 100)
    text = facts.get("text", "")
    text = _short_text(text, MAX_TEXT) if text else ""

    read = read_metadata_plain(facts.get("metadata"))
    notes = list(read.warnings)
    if facts.get("metadata_error") is not None:
        notes.append(
            f"The file's Model Studio record is damaged "
            f"({_short_text(facts['metadata_error'], 300)}), so it is ignored."
        )
    meta = read.metadata
    task = meta.task if meta else _TASK_OF_KIND[kind]
    features, named = _features(names, count, meta)
    return ModelInfo(
        estimator=estimator,
        steps=steps,
        task=task,
        target=meta.target if meta else None,
        features=features,
        named_features=named,
        classes=classes,
        has_proba=has_predict_proba and task == CLASSIFICATION,
        metadata=meta,
        file_sklearn_version=version or (meta.versions.get("sklearn") if meta else None),
        notes=notes,
        text=text,
    )


class MalformedFacts(ValueError):
    """A model's description (from its worker) is not what ``describe`` produces."""


MAX_STEPS = 1_000
MAX_CLASSES = 100_000
MAX_FEATURES = 1_000_000
MAX_TEXT = 20_000
_TASK_OF_KIND: dict[str | None, Task | None] = {
    "classifier": CLASSIFICATION,
    "regressor": REGRESSION,
    None: None,
}


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _short_text(value: object, limit: int) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise MalformedFacts(f"a text field is not text of at most {limit:,} characters")
    return value


def _text_field(facts: dict, key: str, limit: int) -> str:
    return _short_text(facts.get(key), limit)


def _label(value: object) -> Any:
    if isinstance(value, str):
        return _short_text(value, 10_000)
    if value is None or isinstance(value, bool | int | float):
        return value
    raise MalformedFacts("a class label is not a plain value")


def _list_field(facts: dict, key: str, limit: int, check: Any) -> list:
    value = facts.get(key)
    if not isinstance(value, list) or len(value) > limit:
        raise MalformedFacts(f"'{key}' is not a list of at most {limit:,} items")
    return [check(item) for item in value]


def _optional_list(facts: dict, key: str, limit: int, check: Any) -> list | None:
    return None if facts.get(key) is None else _list_field(facts, key, limit, check)


def _features(
    names: list[str] | None, count: int | None, meta: ModelMetadata | None
) -> tuple[list[Feature] | None, bool]:
    if meta and meta.features:
        return [Feature(s.name, s.kind, s) for s in meta.features], True
    if names is not None:
        return [Feature(name, "unknown") for name in names], True
    if count is not None:
        return [Feature(f"x{i}", "numeric") for i in range(count)], False
    return None, False
