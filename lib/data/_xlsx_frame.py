"""A DataFrame from a worksheet's occupied cells: ``build_frame``.

The table spans the occupied rows and columns only: a row or column with no value anywhere is
left out, where pandas' ``read_excel`` keeps an empty row inside the table and empty columns
as all-missing "Unnamed" columns (they carry nothing a model can use). The first occupied row
is the header. Column types follow pandas' ``read_excel``: whole numbers with nothing missing
are int64, other numbers float64, bools bool (float64 once one is missing, as pandas does),
dates datetime64, durations timedelta64, text the string dtype (text that all reads as numbers
becomes numbers), anything mixed object.
"""

from __future__ import annotations

import datetime
from typing import Any

import numpy as np
import pandas as pd

from ._xlsx_sheet import Column, SheetCells


def build_frame(cells: SheetCells) -> pd.DataFrame:
    """The table the occupied ``cells`` make, the first occupied row giving the names."""
    if not cells.rows:
        return pd.DataFrame()
    rows = np.fromiter(sorted(cells.rows), dtype=np.int64, count=len(cells.rows))
    names: list[Any] = []
    data: dict[int, Any] = {}
    for position, number in enumerate(sorted(cells.columns)):
        values = _place(cells.columns[number], rows)
        names.append(values[0])
        data[position] = _typed(values[1:])
    frame = pd.DataFrame(data, index=pd.RangeIndex(len(rows) - 1))
    frame.columns = pd.Index(names, dtype=object)
    return frame


def _place(column: Column, rows: np.ndarray) -> np.ndarray:
    """The column's values at the positions of their rows among ``rows``; None elsewhere."""
    positions = np.searchsorted(rows, np.frombuffer(column.rows, dtype=np.int64))
    values = np.empty(len(column.values), dtype=object)
    values[:] = column.values
    if len(positions) > 1 and not (np.diff(positions) > 0).all():
        # A cell written twice: the later one wins, as in openpyxl.
        _, last_from_end = np.unique(positions[::-1], return_index=True)
        keep = len(positions) - 1 - last_from_end
        positions, values = positions[keep], values[keep]
    placed = np.full(len(rows), None, dtype=object)
    placed[positions] = values
    return placed


def _typed(values: np.ndarray) -> Any:
    """One column's values (None = missing) as the array pandas' read_excel would give."""
    missing = pd.isna(values)
    kinds = set(map(type, values[~missing]))
    if not kinds or kinds <= {bool, int, float}:
        if kinds <= {bool, int} and kinds and not missing.any():
            return values.astype(bool if kinds == {bool} else np.int64)
        return _with_nan(values, missing).astype(np.float64)
    if kinds == {datetime.datetime}:
        return pd.to_datetime(values)
    if kinds == {datetime.timedelta}:
        return pd.to_timedelta(values)
    if str in kinds and kinds <= {str, int, float}:
        try:
            return pd.to_numeric(values)
        except (ValueError, TypeError):
            pass
        if kinds == {str}:
            return pd.array(_with_nan(values, missing), dtype="str")
    return _with_nan(values, missing)


def _with_nan(values: np.ndarray, missing: np.ndarray) -> np.ndarray:
    values[missing] = np.nan
    return values
