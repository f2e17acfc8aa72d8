"""What each column of a table is, and whether a model can learn from it.

``profile_table(df)`` returns one ``ColumnProfile`` per column: its kind (numeric, categorical,
boolean, datetime, text, identifier, empty, nested, binary), missing share, distinct count,
range or top values, and, for columns a model should not use as features, the reason in plain
words. Any column is profiled, whatever it holds; none raises.

Columns are grouped by dtype: NumPy numbers and booleans are profiled a block of columns at a
time (``_numbers``), other columns one at a time by what they hold (``_values``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from lib.sampling import shuffled_indices

from ._kinds import (
    BINARY,
    BOOLEAN,
    CATEGORICAL,
    DATETIME,
    EMPTY,
    IDENTIFIER,
    KINDS,
    NESTED,
    NUMERIC,
    TEXT,
)
from ._numbers import finite_values, numeric_stats, profile_bool_block, profile_number_block
from ._record import ColumnProfile
from ._values import profile_arrow_text, profile_objects, profile_with_pandas

__all__ = [
    "BINARY",
    "BOOLEAN",
    "CATEGORICAL",
    "DATETIME",
    "EMPTY",
    "IDENTIFIER",
    "KINDS",
    "NESTED",
    "NUMERIC",
    "TEXT",
    "ColumnProfile",
    "finite_values",
    "infer_kind",
    "numeric_stats",
    "profile_column",
    "profile_table",
    "profiles_frame",
]

_PROFILE_SAMPLE = 100_000
_BLOCK_CELLS = 2_000_000  # numeric columns are profiled in blocks of about this many values


def profile_table(df: pd.DataFrame) -> list[ColumnProfile]:
    """Profile every column of ``df`` (n_rows x n_columns); large frames are sampled for speed."""
    sample = df
    if len(df) > _PROFILE_SAMPLE:
        sample = df.iloc[shuffled_indices(len(df), _PROFILE_SAMPLE, seed=0)]
    return _profile_frame(sample, [str(column) for column in df.columns], len(df))


def profile_column(series: pd.Series, n_rows: int | None = None) -> ColumnProfile:
    """Profile one column. ``n_rows`` is the full table's length when ``series`` is a sample."""
    return _profile_frame(series.to_frame(), [str(series.name)], n_rows or len(series))[0]


def infer_kind(name: str, present: pd.Series, n_distinct: int) -> str:
    """The kind of a column from its non-missing values ``present``.

    ``n_distinct`` is ``present.nunique()``, kept for callers; the values are counted again.
    """
    return profile_column(present.rename(name)).kind


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


def _profile_frame(sample: pd.DataFrame, names: Sequence[str], n_rows: int) -> list[ColumnProfile]:
    """Profiles of the columns of ``sample`` (a table of ``n_rows`` rows, or rows drawn from it),
    named ``names`` (one per column, by position)."""
    n = len(sample)
    scale = n_rows / n if n else 1.0
    profiles: list[ColumnProfile | None] = [None] * len(names)
    blocks: dict[np.dtype, list[int]] = {}
    singles: list[int] = []
    for position, dtype in enumerate(sample.dtypes.tolist()):
        if isinstance(dtype, np.dtype) and dtype.kind in "iufb":
            blocks.setdefault(dtype, []).append(position)
        else:
            singles.append(position)

    width = max(1, _BLOCK_CELLS // max(n, 1))
    for dtype, positions in blocks.items():
        for start in range(0, len(positions), width):
            chunk = positions[start : start + width]
            block = sample.iloc[:, chunk].to_numpy(dtype=dtype)
            chunk_names = [names[p] for p in chunk]
            if dtype.kind == "b":
                done = profile_bool_block(block, chunk_names, str(dtype), n_rows)
            else:
                done = profile_number_block(block, chunk_names, str(dtype), n_rows, scale)
            for position, profile in zip(chunk, done, strict=True):
                profiles[position] = profile

    for position, series in _columns(sample, singles):
        profiles[position] = _profile_series(series, names[position], n_rows, scale)
    return [profile for profile in profiles if profile is not None]


def _columns(frame: pd.DataFrame, positions: list[int]) -> Iterator[tuple[int, pd.Series]]:
    """The columns of ``frame`` at ``positions`` (increasing), with their positions."""
    if len(positions) < len(frame.columns) // 2:
        for position in positions:
            yield position, frame.iloc[:, position]
        return
    wanted = set(positions)
    for position, (_, series) in enumerate(frame.items()):  # cheaper per column than iloc
        if position in wanted:
            yield position, series


def _profile_series(series: pd.Series, name: str, n_rows: int, scale: float) -> ColumnProfile:
    """One column whose dtype is not a NumPy number or bool."""
    dtype = series.dtype
    label = str(dtype)
    if isinstance(dtype, pd.SparseDtype):
        series = pd.Series(series.to_numpy(), index=series.index, name=series.name)
        dtype = series.dtype
    arrow = dtype.pyarrow_dtype if isinstance(dtype, pd.ArrowDtype) else None
    if isinstance(dtype, np.dtype) and dtype.kind in "iufb":  # a sparse column made dense
        column = series.to_numpy().reshape(-1, 1)
        if dtype.kind == "b":
            return profile_bool_block(column, [name], label, n_rows)[0]
        return profile_number_block(column, [name], label, n_rows, scale)[0]
    if _is_arrow_text(dtype, arrow):
        return profile_arrow_text(_arrow(series), name, label, n_rows, scale)
    if _is_numeric_extension(dtype, arrow):
        missing = series.isna()
        present = series[~missing]
        values = present.to_numpy()
        if values.dtype.kind not in "iuf":
            values = present.to_numpy(dtype="float64", na_value=np.nan)
        column = values.reshape(-1, 1)
        return profile_number_block(column, [name], label, n_rows, scale, int(missing.sum()))[0]
    if _has_scalar_values(series, dtype, arrow):
        return profile_with_pandas(series, name, n_rows, scale)
    if arrow is not None and pa.types.is_string_view(arrow):
        return profile_arrow_text(
            _arrow(series).cast(pa.large_string()), name, label, n_rows, scale
        )
    if arrow is not None:  # Arrow's own conversion: pandas' fails on some types
        chunked = _arrow(series)
        values = np.fromiter(chunked.to_pylist(), dtype=object, count=len(chunked))
    else:
        values = series.to_numpy(dtype=object)
    return profile_objects(values, name, label, n_rows, scale)


def _is_arrow_text(dtype: object, arrow: pa.DataType | None) -> bool:
    if isinstance(dtype, pd.StringDtype):
        return dtype.storage == "pyarrow"
    return arrow is not None and arrow in (pa.string(), pa.large_string())


def _is_numeric_extension(dtype: object, arrow: pa.DataType | None) -> bool:
    """Nullable or Arrow integers, floats and decimals (not booleans, not complex numbers)."""
    if arrow is not None:
        return (
            pa.types.is_integer(arrow) or pa.types.is_floating(arrow) or pa.types.is_decimal(arrow)
        )
    return (
        isinstance(dtype, pd.api.extensions.ExtensionDtype)
        and pd.api.types.is_numeric_dtype(dtype)
        and not pd.api.types.is_bool_dtype(dtype)
        and not pd.api.types.is_complex_dtype(dtype)
    )


def _has_scalar_values(series: pd.Series, dtype: object, arrow: pa.DataType | None) -> bool:
    """Whether pandas' own counting and text suit the column: dates, times, periods,
    intervals, nullable booleans and categories of plain values."""
    if arrow is not None:
        return pa.types.is_temporal(arrow) or pa.types.is_boolean(arrow)
    if isinstance(dtype, pd.CategoricalDtype):
        categories = dtype.categories.to_numpy(dtype=object)
        return not any(isinstance(value, (bytes, tuple, frozenset)) for value in categories)
    if isinstance(dtype, np.dtype):
        return dtype.kind in "mM"
    return isinstance(
        dtype, pd.DatetimeTZDtype | pd.PeriodDtype | pd.IntervalDtype | pd.BooleanDtype
    )


def _arrow(series: pd.Series) -> pa.ChunkedArray:
    """The Arrow data behind an Arrow-backed column, without copying it."""
    data = series.array.__arrow_array__()
    return data if isinstance(data, pa.ChunkedArray) else pa.chunked_array([data])
