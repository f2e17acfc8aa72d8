"""Reading a person's table from uploaded bytes.

``read_table`` turns the bytes of a CSV/TSV/TXT, Excel ``.xlsx``, Parquet or JSON file into a
``pandas.DataFrame``, or raises a ``DataError`` that says what is wrong and what to do. Each
format has its own module (``_text``, ``_excel``, ``_parquet``, ``_json``); each checks what the
file declares against ``TableLimits`` before it allocates for it (``_limits``).

``read_upload`` is what the pages call: ``read_table`` and the column profile, run in a
separate capped process (``_isolated``), the table sent back as Arrow IPC (``_arrow``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lib.errors import DataError

from ._excel import read_excel
from ._isolated import UploadedTable, read_upload
from ._json import read_json
from ._limits import Bytes, TableLimits, refuse_oversized
from ._parquet import read_parquet
from ._text import read_text, sniff_delimiter, value_too_long
from ._tidy import clean_columns

__all__ = [
    "TABLE_EXTENSIONS",
    "TableLimits",
    "UploadedTable",
    "read_table",
    "read_upload",
    "sniff_delimiter",
]

TABLE_EXTENSIONS = ("csv", "tsv", "txt", "xlsx", "parquet", "json", "jsonl")
_READERS = {"csv": read_text, "xlsx": read_excel, "parquet": read_parquet, "json": read_json}
_SAMPLE_BYTES = 256 * 1024


def read_table(
    data: Bytes,
    filename: str,
    *,
    min_columns: int = 1,
    limits: TableLimits | None = None,
    path: str | None = None,
) -> pd.DataFrame:
    """Read an uploaded table.

    Parameters
    ----------
    data : bytes or mmap.mmap
        The file's contents (a mapped file is read without a copy when it is CSV).
    filename : str
        The name it was uploaded under; its extension picks the reader (content sniffing
        decides when the extension is unknown).
    min_columns : int
        Fewest columns the caller can use (2 to train: a target and a feature).
    limits : TableLimits, optional
        Caps on what the file may declare; ``TableLimits.from_env()`` when not given.
    path : str, optional
        A file holding exactly ``data``, for the CSV parser (which reads a file fastest);
        without it, one is written when needed.

    Returns
    -------
    pandas.DataFrame
        One row per record, unique string column names, at least one row.
    """
    limits = limits or TableLimits.from_env()
    refuse_oversized(len(data), filename, limits)
    if not data[:_SAMPLE_BYTES].strip() and not bytes(data).strip():
        raise DataError(f"'{filename}' is empty. Choose a file that holds a table.")

    kind = _file_kind(data, filename)
    if kind == "csv":
        frame = read_text(data, filename, limits, path)
    else:
        frame = _READERS[kind](bytes(data), filename, limits)

    frame = clean_columns(frame)
    _refuse_long_values(frame, filename, limits)
    if frame.shape[1] == 0:
        raise DataError(f"'{filename}' has no columns. Check that it is a table.")
    if len(frame) == 0:
        raise DataError(f"'{filename}' has a header but no rows. Add at least a few rows of data.")
    if frame.shape[1] < min_columns:
        raise DataError(
            f"'{filename}' has only one column ('{frame.columns[0]}'). To train a model you need "
            "a column to predict and at least one column to predict it from. If your file "
            "separates values with something other than a comma, semicolon, tab or |, save it "
            "again as CSV."
        )
    return frame


def _file_kind(data: Bytes, filename: str) -> str:
    """Pick the reader from the extension, or from magic bytes when the extension says nothing."""
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext in ("csv", "tsv", "txt"):
        return "csv"
    if ext == "xlsx":
        return "xlsx"
    if ext in ("parquet", "pq"):
        return "parquet"
    if ext in ("json", "jsonl", "ndjson"):
        return "json"
    if ext in ("xls", "xlsm", "xlsb", "ods"):
        raise DataError(
            f"'{filename}' is an old or macro Excel format this app cannot read. Open it in "
            "Excel and save it as .xlsx or .csv."
        )
    if data[:4] == b"PAR1":
        return "parquet"
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    if data[:_SAMPLE_BYTES].lstrip()[:1] in (b"{", b"["):
        return "json"
    return "csv"


def _refuse_long_values(frame: pd.DataFrame, filename: str, limits: TableLimits) -> None:
    """Refuse a table with a text value longer than ``limits.max_field_chars``, whatever its
    format: one such value would go to every page that shows the rows.

    Checked on the parsed text columns (in Arrow for pandas' string columns): the value cost
    memory only in proportion to the file, which the other caps bound.
    """
    for column, dtype in zip(frame.columns, frame.dtypes, strict=True):
        if isinstance(dtype, pd.StringDtype):
            longest = frame[column].str.len().max(skipna=True)
        elif dtype == np.dtype(object):  # mixed values: only the text among them counts here
            longest = max((len(v) for v in frame[column] if isinstance(v, str)), default=0)
        else:
            continue
        if longest > limits.max_field_chars:
            raise value_too_long(filename, limits.max_field_chars)
