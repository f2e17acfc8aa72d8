"""Slices: how a model does on each group of the labelled rows, worst first.

``groups_for`` turns one column into group labels (its most frequent categories, or quantile
bins of a number, with missing values as a group of their own); ``slice_table`` scores the
model on each group, with a 95 % bootstrap interval (``lib.uncertainty.metric_intervals``,
fewer resamples per group than for a headline figure) and the gap to the figure on all rows.

A group with fewer than ``MIN_SLICE_ROWS`` rows, or whose figure or interval is undefined (one
class only, say), is flagged ``too_small``: its figure is shown but not judged, and it sorts
after the judged groups, so a handful of unlucky rows cannot top the list.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from lib.metrics import LOWER_IS_BETTER, score
from lib.schema import CLASSIFICATION, SliceFinding, SliceScan
from lib.uncertainty import metric_intervals

MIN_SLICE_ROWS = 30
SLICE_BOOT = 400  # resamples per group: intervals to two digits, a twelfth of the cost x 12
MAX_GROUPS = 12
BINS = 5
OTHER, MISSING = "other", "missing"
PROBA_METRICS = frozenset({"roc_auc", "log_loss"})
# The figures a slice table shows, per task: the chosen one first, then up to two of these.
HEADLINE: dict[str, tuple[str, ...]] = {
    CLASSIFICATION: ("accuracy", "balanced_accuracy", "f1_macro"),
    "regression": ("mae", "rmse", "r2"),
}
# The default figure to compare slices on: one that means the same on a group as on all rows
# (R² and balanced accuracy are relative to the group's own spread or class mix).
SLICE_METRIC: dict[str, str] = {CLASSIFICATION: "accuracy", "regression": "mae"}


def number_label(value: float) -> str:
    """A short label for a number: 4 significant digits, thousands separated, no exponent."""
    if 1e4 <= abs(value) < 1e15:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def groups_for(column: pd.Series, max_groups: int = MAX_GROUPS, bins: int = BINS) -> pd.Series:
    """The group of each value of ``column``, as an ordered categorical Series (same length,
    a fresh 0..n-1 index).

    Numbers: ``bins`` quantile bins labelled "12.3 – 45.6" (one group per value when there are
    at most ``bins`` distinct values). Anything else (text, categories, booleans): the
    ``max_groups - 1`` most frequent values, the rest as "other". Missing values: "missing".
    """
    values = pd.Series(column).reset_index(drop=True)
    kind = values.dtype
    order: list[str]
    if pd.api.types.is_numeric_dtype(kind) and not pd.api.types.is_bool_dtype(kind):
        numbers = values.astype("float64")
        distinct = np.unique(numbers[np.isfinite(numbers)])
        if len(distinct) <= bins:
            order = [number_label(v) for v in distinct]
            codes = np.searchsorted(distinct, numbers)
            labels = pd.Series(np.asarray([*order, MISSING], dtype=object)[codes], dtype=object)
        else:
            cut, edges = pd.qcut(numbers, q=bins, duplicates="drop", retbins=True)
            order = [
                f"{number_label(float(a))} – {number_label(float(b))}"
                for a, b in itertools.pairwise(edges)
            ]
            labels = pd.Series(np.asarray(order, dtype=object)[cut.cat.codes], dtype=object)
    else:
        text = values.astype(str)
        counts = text[values.notna()].value_counts()
        order = counts.index[: max(1, max_groups - 1)].tolist()
        labels = text.where(text.isin(order), OTHER).astype(object)
        if len(counts) > len(order):
            order.append(OTHER)
    missing = values.isna().to_numpy()
    if missing.any():
        labels = labels.where(~missing, MISSING)
        order = [*order, MISSING]
    return pd.Series(pd.Categorical(labels, categories=order, ordered=True))


def slice_table(
    task: str,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    proba: np.ndarray | None,
    classes: Sequence[Any] | np.ndarray | None,
    groups: pd.Series,
    *,
    primary: str,
    min_rows: int = MIN_SLICE_ROWS,
    seed: int = 0,
    n_boot: int = SLICE_BOOT,
) -> pd.DataFrame:
    """The model's figures on each group of the rows, worst first.

    Parameters
    ----------
    y_true, y_pred : array of shape (n_samples,)
    proba : array of shape (n_samples, n_classes), optional
        Class probabilities, columns in the order of ``classes``.
    groups : Series of shape (n_samples,)
        The group of each row, by position (e.g. ``groups_for``).
    primary : str
        The figure the groups are compared and sorted on (a key of ``lib.metrics.score``).

    Returns
    -------
    DataFrame
        One row per group: ``group``, ``rows``, ``primary`` and up to two other headline
        figures (columns named by metric key), ``low`` and ``high`` (the primary figure's 95 %
        interval, NaN without one), ``gap`` (group minus all rows, signed so that positive is
        worse), ``too_small`` (bool) and ``note``. Judged groups come first, largest gap first.
        ``attrs`` holds ``primary``, ``metrics`` (the figure columns, in order), ``overall``
        (the primary figure on all rows) and ``min_rows``. The same ``seed`` gives the same
        table.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    keys = pd.Series(groups).reset_index(drop=True)
    if len(keys) != len(y_true):
        raise ValueError(f"groups has {len(keys)} entries for {len(y_true)} rows.")
    metrics = [primary, *[m for m in HEADLINE.get(task, ()) if m != primary][:2]]
    # Probabilities only when a shown figure needs them: their figures (ROC AUC, log loss) are
    # most of the cost of a group's score and interval.
    proba = proba if proba is not None and PROBA_METRICS & set(metrics) else None
    overall = score(task, y_true, y_pred, proba, classes).get(primary, math.nan)
    sign = 1.0 if primary in LOWER_IS_BETTER else -1.0
    codes, labels = pd.factorize(keys, sort=True)  # categorical: in category order
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(labels) + 1))
    records = []
    for code, label in enumerate(labels):
        rows = order[bounds[code] : bounds[code + 1]]
        part_proba = proba[rows] if proba is not None else None
        figures = score(task, y_true[rows], y_pred[rows], part_proba, classes)
        value = figures.get(primary, math.nan)
        interval: tuple[float, float] | None = None
        if len(rows) >= min_rows and math.isfinite(value):
            found = metric_intervals(task, y_true[rows], y_pred[rows], part_proba, classes,
                                     n_boot=n_boot, seed=seed, point=figures)  # fmt: skip
            interval = found.get(primary)
        note = _note(len(rows), min_rows, value, interval)
        records.append(
            {
                "group": str(label),
                "rows": len(rows),
                **{name: figures.get(name, math.nan) for name in metrics},
                "low": interval[0] if interval else math.nan,
                "high": interval[1] if interval else math.nan,
                "gap": sign * (value - overall),
                "too_small": bool(note),
                "note": note,
            }
        )
    columns = ["group", "rows", *metrics, "low", "high", "gap", "too_small", "note"]
    table = pd.DataFrame(records, columns=columns)
    if len(table):
        ranked = table.assign(_unknown=table["gap"].isna())
        ranked = ranked.sort_values(["too_small", "_unknown", "gap"],
                                    ascending=[True, True, False], kind="stable")  # fmt: skip
        table = ranked.drop(columns="_unknown").reset_index(drop=True)
    table.attrs.update(primary=primary, metrics=metrics, overall=overall, min_rows=min_rows)
    return table


def _note(n: int, min_rows: int, value: float, interval: tuple[float, float] | None) -> str:
    """Why a group is not judged, or "" when it is."""
    if n < min_rows:
        return f"fewer than {min_rows} rows: too few to judge"
    if not math.isfinite(value):
        return "the figure is undefined on these rows"
    if interval is None:
        return "no interval on these rows (one class only, or too uneven)"
    return ""


# --- the scan training records for the model card -----------------------------------------------

SCAN_ROWS = 20_000  # held-out rows scanned at most (a random sample beyond that)
SCAN_COLUMNS = 20
SCAN_BOOT = 200
SCAN_KEEP = 5


def scan(
    task: str,
    X: pd.DataFrame,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    classes: Sequence[Any] | np.ndarray | None = None,
    *,
    seed: int = 0,
) -> SliceScan | None:
    """The groups where the model does worst on held-out rows, over every input column.

    ``X`` (n_rows x n_features) are the held-out rows, ``y_true``/``y_pred`` (n_rows,) their
    truth and predictions. Each of the first ``SCAN_COLUMNS`` columns is grouped by
    ``groups_for`` and scored on ``SLICE_METRIC`` (accuracy, or mean absolute error: figures that
    mean the same on a group as on all rows); the ``SCAN_KEEP`` judged groups furthest below the
    figure on all rows are kept, worst first. None when no group could be judged.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if len(y_true) > SCAN_ROWS:
        rows = np.sort(np.random.default_rng(seed).choice(len(y_true), SCAN_ROWS, replace=False))
        X, y_true, y_pred = X.iloc[rows], y_true[rows], y_pred[rows]
    metric = SLICE_METRIC[task]
    columns = [str(name) for name in X.columns[:SCAN_COLUMNS]]
    found: list[SliceFinding] = []
    overall = math.nan
    for name in columns:
        table = slice_table(task, y_true, y_pred, None, classes, groups_for(X[name]),
                            primary=metric, seed=seed, n_boot=SCAN_BOOT)  # fmt: skip
        overall = float(table.attrs["overall"])
        judged = table[~table["too_small"] & (table["gap"] > 0)]
        for row in judged.to_dict("records"):
            figures = (float(row[metric]), float(row["low"]), float(row["high"]))
            found.append(SliceFinding(name, str(row["group"]), int(row["rows"]), *figures))
    if not math.isfinite(overall):
        return None
    sign = 1.0 if metric in LOWER_IS_BETTER else -1.0
    found.sort(key=lambda f: sign * (f.value - overall), reverse=True)
    return SliceScan(metric=metric, overall=overall, rows=len(y_true), columns=columns,
                     worst=found[:SCAN_KEEP])  # fmt: skip
