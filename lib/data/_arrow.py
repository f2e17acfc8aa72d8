"""A table as Arrow IPC bytes and back: how a table leaves the reading process without pickle.

In the reading process, ``arrow_table(frame)`` gives the table to send (a column Arrow cannot
hold as it is, with mixed types or nested lists and records, travels as text: each value's
JSON, or its ``str`` for mixed scalars, missing values kept missing), ``ipc_size`` its size
and ``write_ipc`` writes it into shared memory. In the web process, ``from_ipc`` reads it
back, validating every buffer first, and raises ``ValueError`` on anything malformed.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

MAX_NESTED_TEXT = 10_000  # characters of a nested value's JSON kept as its text


def arrow_table(frame: pd.DataFrame) -> pa.Table:
    """``frame`` (n_rows x n_columns, unique string names) as an Arrow table, each column as
    itself when Arrow can hold it, as text otherwise (see the module docstring)."""
    try:
        schema = pa.Schema.from_pandas(frame, preserve_index=False)
        if not any(_nested(field.type) for field in schema):
            arrays = [_as_arrow(frame[field.name], field.type) for field in schema]
            return pa.Table.from_arrays(arrays, schema=schema)
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        pass
    return pa.table({name: _column(frame[name]) for name in frame.columns})


def _as_arrow(series: pd.Series, kind: pa.DataType) -> pa.Array:
    """One column as ``kind``: a NumPy number or boolean column without a copy (a float NaN
    stays a NaN value, which pandas reads back as missing all the same), any other through
    pandas' conversion."""
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "fiub":
        return pa.array(series.to_numpy(), type=kind)
    return pa.array(series, type=kind, from_pandas=True)


def ipc_size(table: pa.Table) -> int:
    """Bytes of ``table``'s IPC stream, counted without writing it."""
    sink = pa.MockOutputStream()
    _write(table, sink)
    return int(sink.size())


def write_ipc(table: pa.Table, buffer: pa.Buffer) -> None:
    """Write ``table``'s IPC stream into the mutable ``buffer`` of ``ipc_size(table)`` bytes.

    Written once at the exact size: a growing stream reallocates and copies (ten times
    slower on a table of a few hundred MB).
    """
    _write(table, pa.FixedSizeBufferWriter(buffer))


def _write(table: pa.Table, sink: pa.NativeFile) -> None:
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)


def from_ipc(data: pa.Buffer) -> pd.DataFrame:
    """The frame in the Arrow IPC stream ``data`` (unique column names).

    Columns that pandas can hold as they are point into ``data`` rather than copy it (one
    block per column), so ``data`` must not change while the frame lives. Raises
    ``ValueError`` when the stream is malformed, its buffers are inconsistent or its pandas
    metadata cannot be honoured.
    """
    try:
        table = pa.ipc.open_stream(data).read_all()
        table.validate(full=True)
        if len(set(table.column_names)) != table.num_columns:
            raise ValueError("the table's column names are not unique")
        return table.to_pandas(split_blocks=True)
    except (pa.ArrowException, TypeError, KeyError, IndexError) as error:
        raise ValueError(f"malformed table: {type(error).__name__}") from None


def _nested(kind: pa.DataType) -> bool:
    return bool(pa.types.is_nested(kind) or pa.types.is_union(kind))


def _column(series: pd.Series) -> pa.Array:
    """One column as an Arrow array, as text when Arrow cannot hold its values as they are."""
    try:
        array = pa.array(series, from_pandas=True)
        if not _nested(array.type):
            return array
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        pass
    values = series.to_numpy(dtype=object)
    return pa.array([_as_text(value) for value in values], type=pa.large_string())


def _as_text(value: Any) -> str | None:
    if pd.api.types.is_scalar(value) and pd.isna(value):
        return None
    if isinstance(value, np.ndarray | list):  # the items past the cut are never shown
        value = value[:MAX_NESTED_TEXT]
        value = value.tolist() if isinstance(value, np.ndarray) else value
    if isinstance(value, dict | list | tuple):
        # Shown, never learned from (the profile leaves nested columns out): a long one is cut.
        text = json.dumps(value, default=str, ensure_ascii=False)
        return text if len(text) <= MAX_NESTED_TEXT else text[:MAX_NESTED_TEXT] + "…"
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)
