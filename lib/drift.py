"""How new rows differ from the rows a model was trained on.

The model file carries a training summary of each input column (``lib.schema.TrainingSummary``:
ranges, categories, missing shares, histograms). ``drift_report`` compares new rows against it,
cell by cell and column by column, so a person sees which predictions rest on unfamiliar inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lib.schema import Histogram, TrainingSummary

# Flag a column when its missing share moves by more than this many percentage points.
MISSING_SHIFT = 0.10
# Population stability index above which a numeric distribution counts as shifted.
PSI_SHIFT = 0.2
# The stored category list is complete only when training saw at most this many categories.
MAX_STORED_CATEGORIES = 50
# PSI on a handful of rows is noise; below this many values it is not computed.
MIN_ROWS_FOR_PSI = 100
# Flag a numeric column whose average moved by more than this many training standard
# deviations (checked from MIN_ROWS_FOR_MEAN values: a few rows say little about a shift).
MEAN_SHIFT = 0.5
MIN_ROWS_FOR_MEAN = 20


@dataclass(frozen=True)
class DriftReport:
    """Drift of new rows against the training summaries.

    ``columns`` has one row per feature: feature, kind, out_of_range (count), unseen (count),
    missing_train and missing_new (shares), psi (numeric only), flagged (bool) and note (str).
    ``cells`` is a boolean frame (n_rows x n_features), True where a value is out of the
    training range or an unseen category; ``row_flags`` counts those per row.
    """

    columns: pd.DataFrame
    cells: pd.DataFrame
    row_flags: pd.Series

    @property
    def n_flagged_rows(self) -> int:
        return int((self.row_flags > 0).sum())


def drift_report(summaries: list[TrainingSummary], df: pd.DataFrame) -> DriftReport:
    """Compare ``df`` (new rows, any extra columns ignored) with the training ``summaries``."""
    rows, cells = [], {}
    for summary in summaries:
        name = summary.name
        if name not in df.columns:
            continue
        column = df[name]
        flags, row = _column_drift(summary, column)
        cells[name] = flags
        rows.append(row)
    cell_frame = pd.DataFrame(cells, index=df.index)
    if cell_frame.empty:
        cell_frame = pd.DataFrame(index=df.index)
    columns = pd.DataFrame(rows, columns=_COLUMNS)
    return DriftReport(columns, cell_frame, cell_frame.sum(axis=1).astype(int))


_COLUMNS = [
    "feature",
    "kind",
    "out_of_range",
    "unseen",
    "missing_train",
    "missing_new",
    "psi",
    "flagged",
    "note",
]


def _column_drift(summary: TrainingSummary, column: pd.Series) -> tuple[pd.Series, dict]:
    kind = summary.kind
    missing_train = summary.missing_share
    missing_new = float(column.isna().mean()) if len(column) else 0.0
    flags = pd.Series(False, index=column.index)
    out_of_range = unseen = 0
    psi = np.nan
    notes = []
    if kind == "numeric" and summary.min is not None and summary.max is not None:
        values = pd.to_numeric(column, errors="coerce")
        flags = (values < summary.min) | (values > summary.max)
        out_of_range = int(flags.sum())
        if out_of_range:
            notes.append(
                f"{out_of_range} value(s) outside the training range "
                f"{summary.min:g} to {summary.max:g}"
            )
        shift = mean_shift(summary, values)
        if abs(shift) > MEAN_SHIFT:
            notes.append(
                f"average moved by {shift:+.1f} training standard deviations "
                f"(training average {summary.mean:.4g})"
            )
        if summary.histogram is not None and values.notna().sum() >= MIN_ROWS_FOR_PSI:
            psi = population_stability(summary.histogram, values.dropna().to_numpy())
            if psi > PSI_SHIFT:
                notes.append(f"distribution shifted (PSI {psi:.2f})")
    elif kind == "categorical" and summary.n_distinct <= MAX_STORED_CATEGORIES:
        # The stored list is complete only up to MAX_STORED_CATEGORIES distinct values.
        known = set(summary.category_values())
        text = column.astype(str)
        flags = column.notna() & ~text.isin(known)
        unseen = int(flags.sum())
        if unseen:
            examples = ", ".join(repr(v) for v in text[flags].unique()[:3])
            notes.append(f"{unseen} value(s) never seen in training, e.g. {examples}")
    if abs(missing_new - missing_train) > MISSING_SHIFT:
        notes.append(f"missing share {missing_train:.0%} in training, {missing_new:.0%} here")
    row = {
        "feature": summary.name,
        "kind": kind,
        "out_of_range": out_of_range,
        "unseen": unseen,
        "missing_train": missing_train,
        "missing_new": missing_new,
        "psi": psi,
        "flagged": bool(notes),
        "note": "; ".join(notes),
    }
    return flags.fillna(False).astype(bool), row


def mean_shift(summary: TrainingSummary, values: pd.Series) -> float:
    """How far the average of ``values`` is from training, in training standard deviations.

    0.0 when it cannot be told: too few values, or no spread in training.
    """
    present = values.dropna()
    std = summary.std or 0.0
    if len(present) < MIN_ROWS_FOR_MEAN or std <= 0 or summary.mean is None:
        return 0.0
    return float((present.mean() - summary.mean) / std)


def population_stability(histogram: Histogram, values: np.ndarray) -> float:
    """PSI between the training histogram (``edges``, ``counts``) and ``values``.

    Values outside the training edges count in the outer bins. 0 means the same shape;
    above 0.2 is commonly read as a real shift.
    """
    edges = np.asarray(histogram.edges, dtype=float)
    expected = np.asarray(histogram.counts, dtype=float)
    if values.size == 0 or expected.sum() == 0:
        return float("nan")
    clipped = np.clip(values, edges[0], edges[-1])
    actual, _ = np.histogram(clipped, bins=edges)
    p = np.clip(expected / expected.sum(), 1e-4, None)
    q = np.clip(actual / actual.sum(), 1e-4, None)
    return float(np.sum((q - p) * np.log(q / p)))
