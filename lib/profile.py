"""What each column of a table is, and whether a model can learn from it.

``profile_table(df)`` returns one ``ColumnProfile`` per column: its kind (numeric, categorical,
boolean, datetime, text, identifier, empty), missing share, distinct count, range or top values,
and, for columns a model should not use as features, the reason in plain words.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import TypedDict

import numpy as np
import pandas as pd

from lib.sampling import shuffled_indices

NUMERIC, CATEGORICAL, BOOLEAN, DATETIME = "numeric", "categorical", "boolean", "datetime"
TEXT, IDENTIFIER, EMPTY = "text", "identifier", "empty"

_ID_NAME = re.compile(r"(^|[_\s-])(id|uuid|guid|key|index)$|^(id|uuid|guid)[_\s-]", re.IGNORECASE)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$")
_BOOL_WORDS = {"true", "false", "yes", "no", "y", "n", "t", "f"}
_PROFILE_SAMPLE = 100_000


@dataclass(frozen=True)
class ColumnProfile:
    """One column's profile.

    ``stats`` holds plain floats for numeric columns (min, max, mean, median, std, q01, q99)
    and ``top_values`` the most frequent values as (value, count) for the others.
    """

    name: str
    kind: str
    dtype: str
    n_rows: int
    n_missing: int
    n_distinct: int
    reason: str | None = None
    stats: dict[str, float] = field(default_factory=dict)
    top_values: list[tuple[str, int]] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        """Whether the column can be a feature (a reason is given when it cannot)."""
        return self.reason is None

    @property
    def missing_share(self) -> float:
        return self.n_missing / self.n_rows if self.n_rows else 0.0

    @property
    def summary(self) -> str:
        """A short human description: the range for numbers, the top values otherwise."""
        if self.stats:
            return f"{_fmt(self.stats['min'])} to {_fmt(self.stats['max'])}"
        return ", ".join(str(value) for value, _ in self.top_values[:3])


def profile_table(df: pd.DataFrame) -> list[ColumnProfile]:
    """Profile every column of ``df`` (n_rows x n_columns); large frames are sampled for speed."""
    sample = df
    if len(df) > _PROFILE_SAMPLE:
        sample = df.iloc[shuffled_indices(len(df), _PROFILE_SAMPLE, seed=0)]
    return [profile_column(sample[column], n_rows=len(df)) for column in df.columns]


def profiles_frame(profiles: list[ColumnProfile]) -> pd.DataFrame:
    """The profiles as a table for display: one row per column."""
    return pd.DataFrame(
        {
            "column": [p.name for p in profiles],
            "kind": [p.kind for p in profiles],
            "missing": [f"{p.missing_share:.0%}" for p in profiles],
            "distinct": [p.n_distinct for p in profiles],
            "range or top values": [p.summary for p in profiles],
            "used as feature": ["yes" if p.usable else f"no: {p.reason}" for p in profiles],
        }
    )


class _Counts(TypedDict):
    """The ``ColumnProfile`` fields every kind of column has."""

    name: str
    dtype: str
    n_rows: int
    n_missing: int
    n_distinct: int


def profile_column(series: pd.Series, n_rows: int | None = None) -> ColumnProfile:
    """Profile one column. ``n_rows`` is the full table's length when ``series`` is a sample."""
    name = str(series.name)
    total = len(series)
    n_rows = n_rows or total
    scale = n_rows / total if total else 1.0
    n_missing = int(series.isna().sum())
    present = series.dropna()
    n_distinct = int(present.nunique())
    base: _Counts = {
        "name": name,
        "dtype": str(series.dtype),
        "n_rows": n_rows,
        "n_missing": round(n_missing * scale),
        "n_distinct": n_distinct,
    }
    if present.empty:
        return ColumnProfile(kind=EMPTY, reason="has no values", **base)

    kind = infer_kind(name, present, n_distinct)
    reason = _reason_to_leave_out(kind, n_distinct)
    if kind == NUMERIC:
        return ColumnProfile(kind=kind, reason=reason, stats=_numeric_stats(present), **base)
    counts = present.astype(str).value_counts().head(10)
    top = [(str(value), int(count)) for value, count in counts.items()]
    return ColumnProfile(kind=kind, reason=reason, top_values=top, **base)


def infer_kind(name: str, present: pd.Series, n_distinct: int) -> str:
    """The kind of a column from its non-missing values."""
    dtype = present.dtype
    n = len(present)
    if pd.api.types.is_bool_dtype(dtype):
        return BOOLEAN
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return DATETIME
    if pd.api.types.is_numeric_dtype(dtype):
        if n_distinct <= 2 and set(np.unique(present.to_numpy())) <= {0, 1}:
            return BOOLEAN
        if _is_integer_identifier(name, present, n_distinct):
            return IDENTIFIER
        return NUMERIC
    text = present.astype(str)
    if n_distinct <= 2 and set(text.str.lower().unique()) <= _BOOL_WORDS:
        return BOOLEAN
    head = text.head(1000)
    if head.str.match(_ISO_DATE).mean() > 0.95:
        return DATETIME
    if n_distinct > 50 and n_distinct >= 0.95 * n:
        long_words = head.str.len().mean() > 30 and head.str.count(" ").mean() >= 3
        return TEXT if long_words else IDENTIFIER
    if n_distinct > 0.5 * n and n > 100:
        mostly_words = head.str.count(" ").mean() >= 3
        return TEXT if mostly_words else IDENTIFIER
    return CATEGORICAL


def _is_integer_identifier(name: str, present: pd.Series, n_distinct: int) -> bool:
    if not pd.api.types.is_integer_dtype(present.dtype) or n_distinct < len(present):
        return False
    if _ID_NAME.search(name):
        return True
    if len(present) < 20:
        return False
    values = np.sort(present.to_numpy())
    return bool(np.all(np.diff(values) == 1))  # a run like 1, 2, 3, ...: a row number


def _reason_to_leave_out(kind: str, n_distinct: int) -> str | None:
    if kind == IDENTIFIER:
        return "looks like an identifier (almost every value is different)"
    if kind == TEXT:
        return "free text (long, mostly unique strings)"
    if n_distinct <= 1:
        return "has the same value in every row"
    return None


def _numeric_stats(present: pd.Series) -> dict[str, float]:
    return numeric_stats(finite_values(present))


def finite_values(present: pd.Series) -> np.ndarray:
    """The finite values of a numeric column as float64, shape (n_finite,).

    A float64 column with nothing to drop comes back as a view, not a copy.
    """
    values = present.to_numpy(dtype="float64", na_value=np.nan)
    finite = np.isfinite(values)
    return values if finite.all() else values[finite]


def numeric_stats(values: np.ndarray, sample: np.ndarray | None = None) -> dict[str, float]:
    """min, max and mean of ``values`` (finite, shape (n,)), exact; median, q01, q99 and std
    from ``sample`` (a subset of ``values``, such as ``even_sample``) when one is given.
    Empty input gives {}."""
    if values.size == 0:
        return {}
    shape = values if sample is None else sample
    q01, median, q99 = np.quantile(shape, [0.01, 0.5, 0.99])
    return {
        "min": float(values.min()),
        "max": float(values.max()),
        "mean": float(values.mean()),
        "median": float(median),
        "std": float(shape.std()),
        "q01": float(q01),
        "q99": float(q99),
    }


def _fmt(value: float) -> str:
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}" if abs(value) >= 10_000 else str(int(value))
    return f"{value:,.4g}"
