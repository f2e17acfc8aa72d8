"""The app's vocabulary for what it knows about a model, as typed records.

A model trained here carries its metadata as plain data (``lib.metadata``); this module is the
one place that data is given types and checked. The words used everywhere:

- ``Task``: "classification" or "regression".
- ``FeatureKind``: how an input column is treated: "numeric", "categorical", "datetime", or
  "unknown" (a model saved elsewhere names its columns but not their kinds).
- ``TrainingSummary``: what one input column looked like in the rows the model was fitted on
  (range, quantiles, histogram, categories with counts, date span, missing share).
- ``ModelMetadata``: everything the file says about the model.

``ModelMetadata.from_plain`` validates what a file holds: a part that is required and malformed
(task, target, the training summaries) refuses the whole record, an optional part that is
malformed (figures, their intervals, versions, the training data's size) is dropped; both with a
warning. Nothing unknown is silently turned into a default (an unknown task does not become
"regression").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeGuard, get_args

from lib.conformal import Calibration, calibration_from_plain
from lib.decision_record import DecisionRecord, parse_decision
from lib.schema_self_check import SelfCheck

Task = Literal["classification", "regression"]
FeatureKind = Literal["numeric", "categorical", "datetime", "unknown"]
CLASSIFICATION: Task = "classification"
REGRESSION: Task = "regression"
TASKS: tuple[Task, ...] = get_args(Task)
FEATURE_KINDS: tuple[FeatureKind, ...] = get_args(FeatureKind)
FORMAT = "model-studio/1"
MAX_SLICE_FINDINGS = 50  # a file listing more is refused (training keeps five)


class MalformedMetadata(ValueError):
    """A required part of a file's metadata is missing or of the wrong type."""


def is_task(value: object) -> TypeGuard[Task]:
    return value in TASKS


def is_feature_kind(value: object) -> TypeGuard[FeatureKind]:
    return value in FEATURE_KINDS


@dataclass(frozen=True)
class Histogram:
    """A numeric column's training distribution: ``edges`` (n_bins + 1,), ``counts`` (n_bins,)."""

    edges: list[float]
    counts: list[int]

    def __post_init__(self) -> None:
        if len(self.edges) != len(self.counts) + 1 or not self.counts:
            raise MalformedMetadata("a histogram needs one more edge than counts")


@dataclass(frozen=True)
class TrainingSummary:
    """What one input column looked like in the training rows.

    Numeric columns fill ``min``..``q99`` (floats), ``integer`` and ``histogram``; categorical
    ones ``categories`` ((value, count) pairs, most frequent first, at most 50) and
    ``n_distinct``; datetime ones ``first`` and ``last`` (ISO strings). ``missing_share`` is in
    [0, 1].
    """

    name: str
    kind: FeatureKind
    dtype: str = ""
    missing_share: float = 0.0
    min: float | None = None
    max: float | None = None
    mean: float | None = None
    median: float | None = None
    std: float | None = None
    q01: float | None = None
    q99: float | None = None
    integer: bool = False
    histogram: Histogram | None = None
    categories: list[tuple[str, int]] = field(default_factory=list)
    n_distinct: int = 0
    first: str | None = None
    last: str | None = None

    @property
    def has_range(self) -> bool:
        """Whether the numeric range and typical value are known."""
        return self.min is not None and self.max is not None and self.median is not None

    def category_values(self) -> list[str]:
        return [value for value, _ in self.categories]

    def to_plain(self) -> dict[str, Any]:
        """The file's form: datetime columns keep their span under "min"/"max"."""
        plain: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "dtype": self.dtype,
            "missing_share": self.missing_share,
        }
        if self.kind == "numeric" and self.min is not None:
            for key in ("min", "max", "mean", "median", "std", "q01", "q99"):
                plain[key] = getattr(self, key)
            plain["integer"] = self.integer
            if self.histogram is not None:
                plain["histogram"] = {
                    "edges": list(self.histogram.edges),
                    "counts": list(self.histogram.counts),
                }
        elif self.kind == "categorical":
            plain["n_distinct"] = self.n_distinct
            plain["categories"] = [[value, count] for value, count in self.categories]
        elif self.kind == "datetime":
            plain["min"], plain["max"] = self.first, self.last
        return plain

    @classmethod
    def from_plain(cls, plain: object) -> TrainingSummary:
        """Parse one entry of the file's "features" list; raises ``MalformedMetadata``."""
        entry = _mapping(plain, "a feature")
        name = _text(entry.get("name"), "a feature's name")
        kind = entry.get("kind")
        if not is_feature_kind(kind):
            raise MalformedMetadata(f"feature {name!r} has an unknown kind {kind!r}")
        common: dict[str, Any] = {
            "name": name,
            "kind": kind,
            "dtype": str(entry.get("dtype") or ""),
            "missing_share": _share(entry.get("missing_share", 0.0), name),
        }
        if kind == "numeric":
            return cls(**common, **_numeric_parts(entry, name))
        if kind == "categorical":
            pairs = [_category(pair, name) for pair in _list(entry.get("categories", []), name)]
            n_distinct = _count(entry.get("n_distinct", len(pairs)), f"{name}'s n_distinct")
            return cls(**common, categories=pairs, n_distinct=max(n_distinct, len(pairs)))
        if kind == "datetime":
            first, last = entry.get("min"), entry.get("max")
            return cls(**common, first=_optional_text(first), last=_optional_text(last))
        return cls(**common)


@dataclass(frozen=True)
class CvFigure:
    """One metric over the cross-validation folds."""

    mean: float
    std: float
    folds: list[float]


@dataclass(frozen=True)
class Figures:
    """Validation figures: holdout and baseline metric -> value, CV per metric; ``primary`` is
    the headline metric's key ("r2", "balanced_accuracy"). ``intervals``: metric -> 95 %
    interval (low, high) around the figure ``headline`` uses, the holdout's (a bootstrap over
    its rows) or, with no holdout, the CV mean's (``lib.uncertainty``); files saved before
    intervals existed have none."""

    primary: str
    holdout: dict[str, float] = field(default_factory=dict)
    baseline: dict[str, float] = field(default_factory=dict)
    cv: dict[str, CvFigure] = field(default_factory=dict)
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)

    def headline(self) -> tuple[float, Literal["holdout", "cv"]] | None:
        """The primary metric's holdout value, else its CV mean, with where it came from."""
        if self.primary in self.holdout:
            return self.holdout[self.primary], "holdout"
        if self.primary in self.cv:
            return self.cv[self.primary].mean, "cv"
        return None


@dataclass(frozen=True)
class TrainingData:
    """Which rows the model was fitted on: a name, a count and a content fingerprint."""

    name: str
    rows: int
    fingerprint: str
    rows_dropped_missing_target: int = 0


@dataclass(frozen=True)
class SliceFinding:
    """One group of one input column and the model's figure on its held-out rows, with the
    figure's 95 % interval (``low``, ``high``)."""

    column: str
    group: str
    rows: int
    value: float
    low: float
    high: float


@dataclass(frozen=True)
class SliceScan:
    """Where the model does worst on held-out rows (``lib.slices.scan``): ``metric`` on every
    group of the ``columns`` scanned, against ``overall`` on all ``rows``; ``worst`` holds the
    judged groups below ``overall``, worst first (empty when none is)."""

    metric: str
    overall: float
    rows: int
    columns: list[str]
    worst: list[SliceFinding] = field(default_factory=list)

    def to_plain(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "overall": self.overall,
            "rows": self.rows,
            "columns": list(self.columns),
            "worst": [dict(vars(finding)) for finding in self.worst],
        }


@dataclass(frozen=True)
class EstimatorRecord:
    """Which catalog model was trained, with its settings as text."""

    estimator: str
    key: str = ""
    label: str = ""
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelMetadata:
    """What a model file made by this app says about the model (see ``lib.metadata``)."""

    task: Task
    target: str
    features: list[TrainingSummary]
    model: EstimatorRecord
    classes: list[Any] | None = None
    left_out: dict[str, str] = field(default_factory=dict)
    figures: Figures | None = None
    validation: dict[str, float | int] = field(default_factory=dict)
    training_data: TrainingData | None = None
    slices: SliceScan | None = None
    versions: dict[str, str] = field(default_factory=dict)
    created_at: str = ""
    warnings: list[str] = field(default_factory=list)
    self_check: SelfCheck | None = None  # check rows and predictions (``lib.self_check``)
    # A binary classifier's tuned decision threshold (lib.threshold); None: the default 0.5.
    decision: DecisionRecord | None = None
    # Conformal prediction intervals (regression) or sets (classification), ``lib.conformal``.
    prediction_intervals: Calibration | None = None

    def feature(self, name: str) -> TrainingSummary | None:
        return next((summary for summary in self.features if summary.name == name), None)

    def to_plain(self) -> dict[str, Any]:
        """The plain data stored in the model file (str, numbers, bools, None, lists, dicts)."""
        plain: dict[str, Any] = {
            "format": FORMAT,
            "task": self.task,
            "target": self.target,
            "classes": self.classes,
            "features": [summary.to_plain() for summary in self.features],
            "left_out": dict(self.left_out),
            "model": {
                "key": self.model.key,
                "label": self.model.label,
                "estimator": self.model.estimator,
                "params": dict(self.model.params),
            },
            "validation": dict(self.validation),
            "versions": dict(self.versions),
            "created_at": self.created_at,
            "warnings": list(self.warnings),
        }
        if self.figures is not None:
            plain["metrics"] = {
                "holdout": dict(self.figures.holdout),
                "baseline": dict(self.figures.baseline),
                "cv": {
                    name: {"mean": cv.mean, "std": cv.std, "folds": list(cv.folds)}
                    for name, cv in self.figures.cv.items()
                },
                "primary": self.figures.primary,
            }
            if self.figures.intervals:
                plain["metrics"]["intervals"] = {
                    name: [low, high] for name, (low, high) in self.figures.intervals.items()
                }
        if self.slices is not None:
            plain["slices"] = self.slices.to_plain()
        if self.prediction_intervals is not None:
            plain["prediction_intervals"] = self.prediction_intervals.to_plain()
        if self.training_data is not None:
            data = self.training_data
            plain["training_data"] = {
                "name": data.name,
                "rows": data.rows,
                "rows_dropped_missing_target": data.rows_dropped_missing_target,
                "fingerprint": data.fingerprint,
            }
        if self.self_check is not None:
            plain["self_check"] = self.self_check.to_plain()
        if self.decision is not None:
            plain["decision"] = self.decision.to_plain()
        return plain

    @classmethod
    def from_plain(cls, plain: object) -> tuple[ModelMetadata, list[str]]:
        """Parse a file's metadata; returns the record and warnings about dropped parts.

        Raises ``MalformedMetadata`` when a required part (task, target, features) is wrong.
        """
        meta = _mapping(plain, "the metadata")
        if meta.get("format") != FORMAT:
            raise MalformedMetadata(f"unknown format {meta.get('format')!r}")
        task = meta.get("task")
        if not is_task(task):
            raise MalformedMetadata(f"unknown task {task!r}")
        target = _text(meta.get("target"), "the target")
        features = [TrainingSummary.from_plain(f) for f in _list(meta.get("features"), "features")]
        names = [summary.name for summary in features]
        if len(set(names)) != len(names):
            raise MalformedMetadata("a feature is listed twice")
        warnings: list[str] = []
        optional = {
            "figures": lambda: _figures(meta["metrics"]),
            "training_data": lambda: _training_data(meta["training_data"]),
            "slices": lambda: _slices(meta["slices"]),
            "classes": lambda: _classes(meta["classes"], task),
            "model": lambda: _estimator(meta["model"]),
            "versions": lambda: _str_dict(meta["versions"], "versions"),
            "left_out": lambda: _str_dict(meta["left_out"], "left_out"),
            "validation": lambda: _number_dict(meta["validation"]),
            "created_at": lambda: _text(meta["created_at"], "created_at"),
            "warnings": lambda: [_text(w, "a warning") for w in _list(meta["warnings"], "w")],
            "self_check": lambda: SelfCheck.from_plain(meta["self_check"]),
            "decision": lambda: parse_decision(meta["decision"]),
            "prediction_intervals": lambda: calibration_from_plain(
                meta["prediction_intervals"], task, parts.get("classes")
            ),
        }
        source_key = {"figures": "metrics"}
        # How a warning names a part: "The file's <name> were ignored".
        part_names = {"self_check": "self-check rows", "decision": "decision threshold details"}
        parts: dict[str, Any] = {}
        for part, parse in optional.items():
            if meta.get(source_key.get(part, part)) is None:
                continue
            try:
                parts[part] = parse()
            except (MalformedMetadata, KeyError, TypeError, ValueError) as error:
                name = part_names.get(part, part.replace("_", " "))
                warnings.append(f"The file's {name} were ignored: {error}.")
        if parts.get("figures") is not None and meta["metrics"].get("intervals") is not None:
            # Checked apart from the figures: a bad interval loses the intervals, not the figures.
            try:
                intervals = _intervals(meta["metrics"]["intervals"])
                parts["figures"] = replace(parts["figures"], intervals=intervals)
            except MalformedMetadata as error:
                warnings.append(f"The file's intervals were ignored: {error}.")
        model = parts.pop("model", None) or EstimatorRecord(estimator="")
        record = cls(task=task, target=target, features=features, model=model, **parts)
        return record, warnings


# --- parsing helpers: each raises MalformedMetadata with what was wrong -------------------------


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MalformedMetadata(f"{what} is not a mapping")
    return value


def _list(value: object, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise MalformedMetadata(f"{what} is not a list")
    return value


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise MalformedMetadata(f"{what} is not text")
    return value


def _optional_text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MalformedMetadata(f"{what} is not a number")
    return float(value)


def _count(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MalformedMetadata(f"{what} is not a count")
    return value


def _share(value: object, name: str) -> float:
    share = _number(value, f"{name}'s missing share")
    if not 0.0 <= share <= 1.0:
        raise MalformedMetadata(f"{name}'s missing share is outside 0..1")
    return share


def _numeric_parts(entry: Mapping[str, Any], name: str) -> dict[str, Any]:
    if entry.get("min") is None:  # a column with no finite value has no range
        return {}
    parts: dict[str, Any] = {
        key: _number(entry.get(key), f"{name}'s {key}")
        for key in ("min", "max", "mean", "median", "std", "q01", "q99")
    }
    if not all(math.isfinite(v) for v in parts.values()) or parts["min"] > parts["max"]:
        raise MalformedMetadata(f"{name}'s range is not a finite interval")
    parts["integer"] = entry.get("integer") is True
    if entry.get("histogram") is not None:
        histogram = _mapping(entry["histogram"], f"{name}'s histogram")
        parts["histogram"] = Histogram(
            edges=[_number(v, f"{name}'s histogram") for v in _list(histogram.get("edges"), name)],
            counts=[_count(v, f"{name}'s histogram") for v in _list(histogram.get("counts"), name)],
        )
    return parts


def _category(pair: object, name: str) -> tuple[str, int]:
    if not isinstance(pair, list) or len(pair) != 2:
        raise MalformedMetadata(f"{name}'s categories are not (value, count) pairs")
    return _text(pair[0], f"{name}'s category"), _count(pair[1], f"{name}'s category count")


def _figures(value: object) -> Figures:
    metrics = _mapping(value, "metrics")
    cv = {}
    for metric, spread in _mapping(metrics.get("cv", {}), "cv").items():
        spread = _mapping(spread, "cv")
        folds = [_number(v, "a fold") for v in _list(spread.get("folds", []), "folds")]
        cv[str(metric)] = CvFigure(_number(spread.get("mean"), "mean"),
                                   _number(spread.get("std"), "std"), folds)  # fmt: skip
    return Figures(
        primary=_text(metrics.get("primary"), "the primary metric"),
        holdout=_number_dict(metrics.get("holdout", {})),
        baseline=_number_dict(metrics.get("baseline", {})),
        cv=cv,
    )


def _intervals(value: object) -> dict[str, tuple[float, float]]:
    """Metric -> (low, high): two finite numbers each, low <= high."""
    intervals = {}
    for metric, bounds in _mapping(value, "intervals").items():
        pair = _list(bounds, f"{metric}'s interval")
        if len(pair) != 2:
            raise MalformedMetadata(f"{metric}'s interval is not two numbers")
        low, high = (_number(v, f"{metric}'s interval") for v in pair)
        if not (math.isfinite(low) and math.isfinite(high) and low <= high):
            raise MalformedMetadata(f"{metric}'s interval is not a finite low..high")
        intervals[str(metric)] = (low, high)
    return intervals


def _slices(value: object) -> SliceScan:
    bounds = ("value", "low", "high")
    scan = _mapping(value, "slices")
    worst = _list(scan.get("worst", []), "the slices found")
    if len(worst) > MAX_SLICE_FINDINGS:
        raise MalformedMetadata(f"more than {MAX_SLICE_FINDINGS} slices")
    findings = []
    for entry in worst:
        found = _mapping(entry, "a slice")
        findings.append(
            SliceFinding(
                column=_text(found.get("column"), "a slice's column"),
                group=_text(found.get("group"), "a slice's group"),
                rows=_count(found.get("rows"), "a slice's rows"),
                **{key: _number(found.get(key), f"a slice's {key}") for key in bounds},
            )
        )
    return SliceScan(
        metric=_text(scan.get("metric"), "the slices' metric"),
        overall=_number(scan.get("overall"), "the slices' overall figure"),
        rows=_count(scan.get("rows"), "the slices' rows"),
        columns=[_text(c, "a sliced column") for c in _list(scan.get("columns", []), "columns")],
        worst=findings,
    )


def _training_data(value: object) -> TrainingData:
    data = _mapping(value, "training data")
    return TrainingData(
        name=str(data.get("name") or ""),
        rows=_count(data.get("rows"), "rows"),
        fingerprint=_text(data.get("fingerprint"), "the fingerprint"),
        rows_dropped_missing_target=_count(data.get("rows_dropped_missing_target", 0), "rows"),
    )


def _classes(value: object, task: Task) -> list[Any] | None:
    if task != CLASSIFICATION:
        return None
    classes = _list(value, "classes")
    if not classes or not all(isinstance(c, (str, int, float, bool)) for c in classes):
        raise MalformedMetadata("classes are not a list of labels")
    return classes


def _estimator(value: object) -> EstimatorRecord:
    model = _mapping(value, "model")
    return EstimatorRecord(
        estimator=str(model.get("estimator") or ""),
        key=str(model.get("key") or ""),
        label=str(model.get("label") or ""),
        params=_str_dict(model.get("params", {}), "params"),
    )


def _str_dict(value: object, what: str) -> dict[str, str]:
    return {str(k): str(v) for k, v in _mapping(value, what).items()}


def _number_dict(value: object) -> dict[str, Any]:
    """Metric or setting -> number; ints stay ints, a missing figure (None) reads as NaN."""
    numbers: dict[str, Any] = {}
    for key, number in _mapping(value, "figures").items():
        if number is None:
            numbers[str(key)] = math.nan
        else:
            checked = _number(number, str(key))
            numbers[str(key)] = number if isinstance(number, int) else checked
    return numbers
