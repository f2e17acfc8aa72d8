"""Two saved versions of a model side by side.

``compare_records`` reads only the two versions' library records (their training metadata):
figures with their intervals, settings that differ, the training data and how each column's
training values changed. It costs no model loading. ``score_pair`` scores both models on the
same labelled rows (two ``lib.exploration.Exploration``s of one table), with a paired
bootstrap interval for each difference (``lib.uncertainty.difference_intervals``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lib.display import format_interval, format_metric, human_size, metric_label, saved_when
from lib.errors import UserError
from lib.exploration import Exploration
from lib.library import VersionRecord
from lib.metrics import LABELS, LOWER_IS_BETTER, is_better, score
from lib.schema import CLASSIFICATION, MalformedMetadata, ModelMetadata, TrainingSummary
from lib.slices import number_label
from lib.uncertainty import difference_intervals, metric_intervals

SAME, DIFFERS = "same", "differs"
NOT_RECORDED = "not recorded"
PARAMETER = "parameter "


@dataclass(frozen=True)
class RecordComparison:
    """Display tables comparing two versions (columns named by ``version_heading``).

    - ``figures``: one row per validation figure and kind (held out, cross-validated): each
      version's value with its 95 % interval, and the change from the first to the second;
    - ``settings``: only the settings that differ (model, parameters, validation, threshold,
      intervals, library versions); ``same_settings`` counts the others;
    - ``facts``: when and by whom each was saved, file size and hash, training data, with
      "same" / "differs";
    - ``columns``: the input columns whose training values differ, most changed first.
    """

    first: int
    second: int
    figures: pd.DataFrame
    settings: pd.DataFrame
    same_settings: int
    facts: pd.DataFrame
    columns: pd.DataFrame
    same_file: bool
    same_data: bool


def version_heading(version: int) -> str:
    return f"version {version}"


def compare_records(first: VersionRecord, second: VersionRecord) -> RecordComparison:
    """What differs between two versions of a name, from their records alone."""
    meta_a, meta_b = _metadata(first), _metadata(second)
    heads = [version_heading(first.version), version_heading(second.version)]
    settings_a, settings_b = _settings(first, meta_a), _settings(second, meta_b)
    names = list(dict.fromkeys([*settings_a, *settings_b]))
    differing = [n for n in names if settings_a.get(n) != settings_b.get(n)]
    settings = pd.DataFrame(
        [(n, _setting(settings_a, n), _setting(settings_b, n)) for n in differing],
        columns=["setting", *heads],
    )
    facts_a, facts_b = _facts(first, meta_a), _facts(second, meta_b)
    facts = pd.DataFrame(
        [
            (name, facts_a[name], facts_b[name], _same(facts_a[name], facts_b[name]))
            for name in facts_a
        ],
        columns=["", *heads, "same?"],
    )
    fingerprint_a = meta_a.training_data.fingerprint if meta_a and meta_a.training_data else None
    fingerprint_b = meta_b.training_data.fingerprint if meta_b and meta_b.training_data else None
    return RecordComparison(
        first=first.version,
        second=second.version,
        figures=_figures(meta_a, meta_b, heads),
        settings=settings,
        same_settings=len(names) - len(differing),
        facts=facts,
        columns=_columns(meta_a, meta_b, heads),
        same_file=first.sha256 == second.sha256,
        same_data=fingerprint_a is not None and fingerprint_a == fingerprint_b,
    )


def _metadata(record: VersionRecord) -> ModelMetadata | None:
    """The version's training record, or None for a model made elsewhere (or a damaged one)."""
    try:
        meta, _ = ModelMetadata.from_plain(record.metadata)
    except MalformedMetadata:
        return None
    return meta


# --- figures ----------------------------------------------------------------------------------


def _figures(
    meta_a: ModelMetadata | None, meta_b: ModelMetadata | None, heads: list[str]
) -> pd.DataFrame:
    figures_a = meta_a.figures if meta_a else None
    figures_b = meta_b.figures if meta_b else None
    rows = []
    for kind, values_a, values_b in (
        ("held out", _held_out(figures_a), _held_out(figures_b)),
        ("cross-validated", _cross_validated(figures_a), _cross_validated(figures_b)),
    ):
        for metric in _metric_order([*values_a, *values_b]):
            a, b = values_a.get(metric), values_b.get(metric)
            rows.append(
                (
                    metric_label(metric),
                    kind,
                    _value_text(a, metric),
                    _value_text(b, metric),
                    _change_text(a[0] if a else None, b[0] if b else None, metric),
                )
            )
    return pd.DataFrame(rows, columns=["figure", "scored on", *heads, "change"])


_Value = tuple[float, str]  # a figure and the text of its spread ("0.81–0.86" or "± 0.02")


def _held_out(figures: Any) -> dict[str, _Value]:
    if figures is None:
        return {}
    # The intervals belong to the holdout figures when there are any (else to the CV means).
    return {
        name: (value, format_interval(figures.intervals.get(name), name))
        for name, value in figures.holdout.items()
    }


def _cross_validated(figures: Any) -> dict[str, _Value]:
    if figures is None:
        return {}
    by_folds = not figures.holdout
    return {
        name: (
            cv.mean,
            format_interval(figures.intervals.get(name), name)
            if by_folds
            else f"± {format_metric(cv.std, name)} sd",
        )
        for name, cv in figures.cv.items()
    }


def _metric_order(names: list[str]) -> list[str]:
    order = list(LABELS)
    unique = dict.fromkeys(names)
    return sorted(unique, key=lambda n: order.index(n) if n in order else len(order))


def _value_text(value: _Value | None, metric: str) -> str:
    if value is None:
        return NOT_RECORDED
    number, spread = value
    shown = format_metric(number, metric)
    return f"{shown} ({spread})" if spread else shown


def _change_text(a: float | None, b: float | None, metric: str) -> str:
    """ "+0.012, better" from the first to the second version, or ""."""
    if a is None or b is None or not (math.isfinite(a) and math.isfinite(b)):
        return ""
    if a == b:
        return "no change"
    difference = b - a
    sign = "+" if difference > 0 else "−"
    shown = format_metric(abs(difference), metric)
    return f"{sign}{shown}, {'better' if is_better(metric, b, a) else 'worse'}"


# --- settings and facts -------------------------------------------------------------------------


def _settings(record: VersionRecord, meta: ModelMetadata | None) -> dict[str, str]:
    """Every setting of a version as text, by name (a model made elsewhere has few)."""
    if meta is None:
        plain = record.metadata
        model = _mapping(plain.get("model"))
        versions = _mapping(plain.get("versions"))
        found = {
            "task": plain.get("task"),
            "target": plain.get("target"),
            "estimator": model.get("estimator"),
            "inputs": plain.get("n_features"),
            "scikit-learn version": versions.get("sklearn"),
        }
        return {name: str(value) for name, value in found.items() if value is not None}
    settings = {
        "task": meta.task,
        "target": meta.target,
        "model": meta.model.label or meta.model.estimator,
        "estimator": meta.model.estimator,
    }
    settings |= {f"{PARAMETER}{name}": str(value) for name, value in meta.model.params.items()}
    validation = meta.validation
    if "test_size" in validation:
        settings["held-out share"] = f"{float(validation['test_size']):.0%}"
    if "cv_folds" in validation:
        settings["cross-validation folds"] = str(validation["cv_folds"])
    if "random_state" in validation:
        settings["random seed"] = str(validation["random_state"])
    settings["columns left out"] = ", ".join(sorted(meta.left_out)) or "none"
    settings["decision threshold"] = (
        f"{meta.decision.threshold:.3g} on P({meta.decision.positive}), {meta.decision.goal}"
        if meta.decision
        else "default"
    )
    calibration = meta.prediction_intervals
    settings["prediction intervals"] = (
        ", ".join(f"{level.level:.0%}" for level in calibration.levels) if calibration else "none"
    )
    if meta.classes is not None:
        settings["classes"] = ", ".join(map(str, meta.classes))
    names = {"sklearn": "scikit-learn"}
    settings |= {f"{names.get(k, k)} version": v for k, v in sorted(meta.versions.items())}
    return settings


def _setting(settings: dict[str, str], name: str) -> str:
    if name in settings:
        return settings[name]
    return "default" if name.startswith(PARAMETER) else NOT_RECORDED


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _same(a: str, b: str) -> str:
    return SAME if a == b else DIFFERS


def _facts(record: VersionRecord, meta: ModelMetadata | None) -> dict[str, str]:
    data = meta.training_data if meta else None
    return {
        "saved": saved_when(record.created_at),
        "saved by": record.saved_by or "",
        "file size": human_size(record.size_bytes),
        "file SHA-256": record.sha256[:12],
        "training table": data.name if data else NOT_RECORDED,
        "training rows": f"{data.rows:,}" if data else NOT_RECORDED,
        "data fingerprint": data.fingerprint[:12] if data else NOT_RECORDED,
    }


# --- columns ------------------------------------------------------------------------------------


def _columns(
    meta_a: ModelMetadata | None, meta_b: ModelMetadata | None, heads: list[str]
) -> pd.DataFrame:
    """The input columns whose training summaries differ, most changed first."""
    columns = ["column", *heads, "what changed"]
    if meta_a is None or meta_b is None:
        return pd.DataFrame(columns=columns)
    rows: list[tuple[float, tuple[str, str, str, str]]] = []
    names = dict.fromkeys([f.name for f in meta_a.features] + [f.name for f in meta_b.features])
    for name in names:
        a, b = meta_a.feature(name), meta_b.feature(name)
        if a is None or b is None:
            used, absent = (heads[0], heads[1]) if a is not None else (heads[1], heads[0])
            text = f"used only by {used}"
            shown = (_summary_text(a) if a else "", _summary_text(b) if b else "")
            rows.append((math.inf, (name, *shown, f"{text}; {absent} does not take it")))
            continue
        changes = list(_changes(a, b))
        if changes:
            size = sum(amount for amount, _ in changes)
            text = "; ".join(words for _, words in changes)
            rows.append((size, (name, _summary_text(a), _summary_text(b), text)))
    rows.sort(key=lambda row: -row[0])
    return pd.DataFrame([row for _, row in rows], columns=columns)


def _changes(a: TrainingSummary, b: TrainingSummary) -> Iterator[tuple[float, str]]:
    """(how much, what) for each way a column's training values changed."""
    if a.kind != b.kind:
        yield math.inf, f"{a.kind} → {b.kind}"
        return
    if a.missing_share != b.missing_share:
        yield (
            abs(b.missing_share - a.missing_share),
            f"missing {a.missing_share:.1%} → {b.missing_share:.1%}",
        )
    if a.kind == "numeric" and a.mean is not None and b.mean is not None and a.mean != b.mean:
        spread = max(a.std or 0.0, b.std or 0.0)
        shift = abs(b.mean - a.mean) / spread if spread > 0 else math.inf
        shift_text = "" if not math.isfinite(shift) else f" ({max(shift, 0.01):.2f} sd)"
        shift_text = shift_text.replace("(0.01", "(< 0.01") if shift < 0.01 else shift_text
        yield shift, f"mean {number_label(a.mean)} → {number_label(b.mean)}{shift_text}"
    if a.kind == "numeric" and (a.min, a.max) != (b.min, b.max):
        yield 0.0, f"range {_range(a)} → {_range(b)}"
    if a.kind == "categorical":
        share_a, share_b = _shares(a), _shares(b)
        if share_a != share_b:
            values = set(share_a) | set(share_b)
            distance = 0.5 * sum(abs(share_a.get(v, 0) - share_b.get(v, 0)) for v in values)
            new = [v for v in share_b if v not in share_a]
            gone = [v for v in share_a if v not in share_b]
            words = [f"category shares move {distance:.1%}"]
            if new:
                words.append(f"new: {_listed(new)}")
            if gone:
                words.append(f"gone: {_listed(gone)}")
            yield distance, ", ".join(words)
    if a.kind == "datetime" and (a.first, a.last) != (b.first, b.last):
        yield 0.0, f"span {a.first} to {a.last} → {b.first} to {b.last}"


def _summary_text(summary: TrainingSummary) -> str:
    if summary.kind == "numeric" and summary.mean is not None:
        return f"mean {number_label(summary.mean)}, range {_range(summary)}"
    if summary.kind == "categorical":
        return f"{summary.n_distinct:,} categories"
    if summary.kind == "datetime":
        return f"{summary.first} to {summary.last}"
    return summary.kind


def _range(summary: TrainingSummary) -> str:
    if summary.min is None or summary.max is None:
        return "?"
    return f"{number_label(summary.min)}–{number_label(summary.max)}"


def _shares(summary: TrainingSummary) -> dict[str, float]:
    total = sum(count for _, count in summary.categories)
    return {value: count / total for value, count in summary.categories} if total else {}


def _listed(values: list[str], limit: int = 3) -> str:
    shown = ", ".join(map(str, values[:limit]))
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


# --- both versions on the same rows -------------------------------------------------------------


@dataclass(frozen=True)
class PairScore:
    """Two versions scored on the same labelled rows.

    ``figures``: each version's figures with 95 % intervals, the change from the first to the
    second with its paired 95 % interval, and a verdict; ``y_true``, ``pred_a``, ``pred_b``:
    (n_rows,) the actual values and both versions' predictions on the rows scored.
    """

    rows: int
    figures: pd.DataFrame
    agreement: str
    task: str
    y_true: np.ndarray
    pred_a: np.ndarray
    pred_b: np.ndarray
    labels: list[Any] | None
    trained_on: list[str]  # headings of the versions trained on exactly these rows


def score_pair(first: Exploration, second: Exploration, heads: list[str]) -> PairScore:
    """Score both versions on the rows where both know the actual value.

    :param heads: the two versions' column headings (``version_heading``).
    :raises UserError: different tasks or targets, or no labelled rows.
    """
    if first.task != second.task:
        raise UserError(
            f"{heads[0].capitalize()} is a {first.task} model and {heads[1]} a "
            f"{second.task} model: they have no figures in common to compare."
        )
    if first.target != second.target:
        raise UserError(
            f"{heads[0].capitalize()} predicts '{first.target}' and {heads[1]} predicts "
            f"'{second.target}': scoring them on the same rows would compare different things."
        )
    labelled_a, labelled_b = first.labelled, second.labelled
    if labelled_a is None or labelled_b is None:
        raise UserError(
            f"The table has no column '{first.target}' holding the actual values, so the "
            "versions can't be scored on it. Load a table that has it."
        )
    common, in_a, in_b = np.intersect1d(
        labelled_a.row_ids, labelled_b.row_ids, assume_unique=True, return_indices=True
    )
    if len(common) == 0:
        raise UserError(f"No row of the table has a usable value in '{first.target}' to score on.")
    y_true = labelled_a.y_true[in_a]
    pred_a, pred_b = labelled_a.y_pred[in_a], labelled_b.y_pred[in_b]
    classes_a, classes_b = first.info.classes, second.info.classes
    same_classes = classes_a is not None and list(classes_a) == list(classes_b or [])
    proba_a = labelled_a.proba[in_a] if same_classes and labelled_a.proba is not None else None
    proba_b = labelled_b.proba[in_b] if same_classes and labelled_b.proba is not None else None
    classes = classes_a if proba_a is not None and proba_b is not None else None
    task = first.task
    change, change_intervals = difference_intervals(
        task, y_true, pred_a, pred_b, proba_a, proba_b, classes
    )
    figures = _pair_figures(
        task, y_true, (pred_a, proba_a), (pred_b, proba_b), classes, change, change_intervals,
        heads,
    )  # fmt: skip
    labels = None
    if task == CLASSIFICATION:
        labels = list(dict.fromkeys([*(classes_a or []), *(classes_b or [])])) or None
    return PairScore(
        rows=len(common),
        figures=figures,
        agreement=_agreement(task, pred_a, pred_b, heads),
        task=task,
        y_true=y_true,
        pred_a=pred_a,
        pred_b=pred_b,
        labels=labels,
        trained_on=[
            head for head, ex in zip(heads, (first, second), strict=True) if ex.are_training_rows
        ],
    )


def _pair_figures(
    task: str,
    y_true: np.ndarray,
    a: tuple[np.ndarray, np.ndarray | None],
    b: tuple[np.ndarray, np.ndarray | None],
    classes: Any,
    change: dict[str, float],
    change_intervals: dict[str, tuple[float, float]],
    heads: list[str],
) -> pd.DataFrame:
    def scored(pred: np.ndarray, proba: np.ndarray | None) -> Callable[[str], str]:
        values = score(task, y_true, pred, proba, classes)
        intervals = metric_intervals(task, y_true, pred, proba, classes, point=values)

        def text(metric: str) -> str:
            shown = format_metric(values.get(metric), metric)
            spread = format_interval(intervals.get(metric), metric)
            return f"{shown} ({spread})" if spread else shown

        return text

    text_a, text_b = scored(*a), scored(*b)
    rows = []
    for metric in _metric_order(list(change)):
        difference = change[metric]
        bounds = change_intervals.get(metric)
        signed = _signed(difference, metric)
        if bounds:
            signed += f" ({_signed(bounds[0], metric)} to {_signed(bounds[1], metric)})"
        rows.append(
            (metric_label(metric), text_a(metric), text_b(metric), signed,
             _verdict(metric, bounds, heads))
        )  # fmt: skip
    return pd.DataFrame(rows, columns=["figure", *heads, "change (95 % interval)", "verdict"])


def _signed(value: float, metric: str) -> str:
    if not math.isfinite(value):
        return "n/a"
    shown = format_metric(abs(value), metric)
    return f"+{shown}" if value >= 0 else f"−{shown}"


def _verdict(metric: str, bounds: tuple[float, float] | None, heads: list[str]) -> str:
    """Which version is better on this figure when the paired interval excludes no change."""
    if not bounds:
        return "too few rows to tell"
    low, high = bounds
    if low <= 0 <= high:
        return "no clear difference"
    second_higher = low > 0
    second_better = second_higher != (metric in LOWER_IS_BETTER)
    return f"{heads[1] if second_better else heads[0]} better"


def _agreement(task: str, pred_a: np.ndarray, pred_b: np.ndarray, heads: list[str]) -> str:
    n = len(pred_a)
    if task == CLASSIFICATION:
        same = int((pd.Series(pred_a).astype(str) == pd.Series(pred_b).astype(str)).sum())
        return (
            f"The two versions predict the same class for {same:,} of these {n:,} rows "
            f"({same / n:.1%}); {n - same:,} rows change class."
        )
    a, b = pred_a.astype(float), pred_b.astype(float)
    gap = np.abs(b - a)
    text = (
        f"Their predictions differ by {number_label(float(gap.mean()))} on average over these "
        f"{n:,} rows (largest difference {number_label(float(gap.max()))})"
    )
    if n > 2 and np.std(a) > 0 and np.std(b) > 0:
        text += f"; correlation {float(np.corrcoef(a, b)[0, 1]):.3f}"
    return text + "."
