"""Rows between the person and the model: typed-in values, actual values, input columns and
rows picked on a plot."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from lib.model_info import Feature, ModelInfo
from lib.schema import FeatureKind


def one_row_frame(values: dict[str, Any], kinds: dict[str, FeatureKind]) -> pd.DataFrame:
    """A one-row table from form ``values``; datetime features become timestamps."""
    row = {}
    for name, value in values.items():
        if kinds.get(name) == "datetime" and value is not None:
            value = pd.Timestamp(value)
        row[name] = [value]
    return pd.DataFrame(row)


def row_values(row: pd.Series, features: Sequence[Feature]) -> dict[str, Any]:
    """The model's input values of one row, None if absent or missing, as plain Python values
    for form widgets."""
    values = {}
    for feature in features:
        value = row.get(feature.name) if feature.name in row.index else None
        if value is not None and not isinstance(value, str) and pd.isna(value):
            value = None
        values[feature.name] = (
            value.item() if value is not None and hasattr(value, "item") else value
        )
    return values


def actual_values(
    column: pd.Series, task: str, classes: Sequence[Any] | None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The target column's values that can score predictions.

    Returns the values (n_rows,), a boolean mask of the usable rows (numbers for regression;
    for classification, values among the model's ``classes``), and up to five values that are
    not classes the model knows (differently spelt or cased labels, say).
    """
    if task == "regression":
        numbers = pd.to_numeric(column, errors="coerce")
        return numbers.to_numpy(), numbers.notna().to_numpy(), []
    present = column.notna().to_numpy()
    if not classes:
        return column.to_numpy(), present, []
    known = present & column.isin(list(classes)).to_numpy()
    unknown = sorted({str(value) for value in column[present & ~known]})[:5]
    return column.to_numpy(), known, unknown


def unused_columns(df: pd.DataFrame, info: ModelInfo) -> list[str]:
    """Columns of ``df`` the model does not take as input: candidates for the actual values."""
    if info.features is None:
        return []
    if not info.named_features:
        return [str(c) for c in df.columns[len(info.features) :]]
    used = {feature.name for feature in info.features}
    return [str(c) for c in df.columns if str(c) not in used]


def top_input_feature(ranked: Iterable[str], inputs: Sequence[str]) -> str | None:
    """The input column behind the first of ``ranked`` importance names, or None.

    Names after preprocessing ("num__age", "cat__day_Sun") are traced back to the input column
    they come from (the longest input name they start with, after the ``step__`` prefix).
    """
    inputs = [str(name) for name in inputs]
    for name in ranked:
        name = str(name)
        if name in inputs:
            return name
        bare = name.split("__", 1)[1] if "__" in name else name
        matches = [i for i in inputs if bare == i or bare.startswith(f"{i}_")]
        if matches:
            return max(matches, key=len)
    return inputs[0] if inputs else None


def rows_from_selection(selection: dict[str, Any] | None, n_rows: int | None = None) -> list[int]:
    """Row positions of the points selected on a plot whose points carry them as ``customdata``.

    ``selection`` is a Streamlit plotly selection (``{"points": [{"customdata": 12, ...}]}``;
    customdata may also be a list whose first item is the row). Points without customdata (the
    reference lines) are skipped; positions are unique, sorted and, with ``n_rows``, in range.
    """
    rows = set()
    for point in (selection or {}).get("points") or []:
        value = point.get("customdata") if isinstance(point, dict) else None
        if isinstance(value, (list, tuple)):
            value = value[0] if value else None
        if value is None or isinstance(value, bool):
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if not math.isfinite(number) or number != int(number):
            continue
        row = int(number)
        if row >= 0 and (n_rows is None or row < n_rows):
            rows.add(row)
    return sorted(rows)
