"""Delimited text (CSV, TSV, TXT): ``read_text(data, filename, limits)``.

pandas' C parser does the reading; the delimiter, decimal comma and text encoding are detected
from a sample, and rows with too many or too few values are refused with their line number.
Before parsing, the header's column count and the file's line count are checked against the
caps, and no value may be longer than ``limits.max_field_chars``.
"""

from __future__ import annotations

import contextlib
import csv
import io
import logging
import re
import warnings

import numpy as np
import pandas as pd

from lib.errors import DataError

from ._limits import Bytes, TableLimits, over_limit
from ._spool import spooled

log = logging.getLogger(__name__)

_DELIMITERS = (",", ";", "\t", "|")
_SAMPLE_BYTES = 256 * 1024
_UTF8_BOM = b"\xef\xbb\xbf"
_RAM_DISK = "/dev/shm"
_DECIMAL_COMMA = re.compile(r"^-?\d+,\d+$")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


def read_text(data: Bytes, filename: str, limits: TableLimits,
              path: str | None = None) -> pd.DataFrame:  # fmt: skip
    """The table in delimited text ``data`` (see the module docstring); ``path``, when given,
    is a file holding exactly ``data``, which the parser then reads instead of a copy."""
    sample = data[:_SAMPLE_BYTES]
    if b"\x00" in sample:
        raise DataError(
            f"'{filename}' does not look like text (it holds binary data). Upload a CSV, "
            "Excel (.xlsx), Parquet or JSON file."
        )
    body = data[len(_UTF8_BOM) :] if data[: len(_UTF8_BOM)] == _UTF8_BOM else data
    sample_text = body[:_SAMPLE_BYTES].decode("utf-8", errors="replace")
    if _looks_binary(sample_text):
        # Accented cp1252/latin-1 text is full of invalid UTF-8; judge it in that encoding.
        sample_text = body[:_SAMPLE_BYTES].decode("cp1252", errors="replace")
    if _looks_binary(sample_text):
        raise DataError(
            f"'{filename}' does not look like a text table. Upload a CSV, Excel (.xlsx), "
            "Parquet or JSON file."
        )
    csv.field_size_limit(limits.max_field_chars)
    delimiter = sniff_delimiter(sample_text)
    decimal = "," if delimiter != "," and _has_decimal_commas(sample_text, delimiter) else "."
    _refuse_beyond_limits(body, delimiter, filename, limits)

    frame, encoding = _parse_csv(body, delimiter, decimal, filename, path)
    if frame.shape[1] and frame.iloc[:, -1].isna().any():
        # pandas pads a row that has too few values with empty cells. Only when some row ends
        # in an empty cell is the file itself checked (line by line, so slower).
        _refuse_ragged_rows(body, delimiter, encoding, filename)
    return frame


def _refuse_beyond_limits(body: Bytes, delimiter: str, filename: str,
                          limits: TableLimits) -> None:  # fmt: skip
    """Refuse a file whose header has too many columns, or that has too many lines or cells.

    Counted on the bytes before parsing: the header's separators (exactly, with the csv
    module, only when the quick count is over the cap, since quoted values may hold
    separators) and the newlines (an upper bound on the rows).
    """
    end = body.find(b"\n")
    header = body[: end if end >= 0 else len(body)]
    columns = header.count(delimiter.encode()) + 1
    if columns > limits.max_columns:
        text = header.decode("utf-8", errors="replace")
        try:
            columns = len(next(csv.reader([text], delimiter=delimiter), []))
        except csv.Error:
            raise value_too_long(filename, limits.max_field_chars) from None
    if columns > limits.max_columns:
        raise over_limit(filename, "has too many columns", f"{columns:,} in its header",
                         "max_columns", f"{limits.max_columns:,} columns",
                         "Keep the columns a model needs and save it again.")  # fmt: skip
    rows = count_newlines(body) + (body[-1:] != b"\n") - 1
    if rows > limits.max_rows:
        raise over_limit(filename, "has too many rows", f"{rows:,} lines after the header",
                         "max_rows", f"{limits.max_rows:,} rows", _FEWER_ROWS)  # fmt: skip
    if rows * columns > limits.max_cells:
        raise over_limit(filename, "has too many cells",
                         f"{rows:,} lines x {columns:,} columns", "max_cells",
                         f"{limits.max_cells:,} cells", _FEWER_ROWS)  # fmt: skip


_FEWER_ROWS = "Upload a sample of the rows."
_NEWLINE_CHUNK = 1 << 20


def count_newlines(data: Bytes) -> int:
    """The number of b"\\n" in ``data``, a megabyte at a time (three times faster than
    ``bytes.count`` on a few hundred MB, and a megabyte of scratch memory)."""
    values = np.frombuffer(data, dtype=np.uint8)
    return sum(
        int(np.count_nonzero(values[start : start + _NEWLINE_CHUNK] == 10))
        for start in range(0, values.size, _NEWLINE_CHUNK)
    )


def value_too_long(filename: str, limit: int) -> DataError:
    """The refusal of a table with a value longer than ``limit`` characters."""
    return DataError(
        f"'{filename}' has a value longer than {limit:,} characters, more "
        "than a table cell can hold here. Shorten or remove it and try again. Whoever runs "
        "the app can raise the limit with the MODEL_STUDIO_MAX_VALUE_CHARS setting."
    )


def _parse_csv(body: Bytes, delimiter: str, decimal: str, filename: str,
               path: str | None) -> tuple[pd.DataFrame, str]:  # fmt: skip
    """Parse with pandas' C parser in the first encoding that decodes: (frame, encoding).

    ``path`` is a file holding the upload already (pandas skips a byte-order mark), or None
    to write one (see ``spooled``).
    """
    with contextlib.nullcontext(path) if path else spooled(body) as source:
        for encoding in ("utf-8", "cp1252", "latin-1"):  # latin-1 decodes any byte
            try:
                return _read_csv_file(source, delimiter, decimal, encoding), encoding
            except UnicodeDecodeError:
                continue
            except pd.errors.EmptyDataError:
                raise DataError(f"'{filename}' holds no table. Choose another file.") from None
            except pd.errors.ParserError as error:
                _refuse_ragged_rows(body, delimiter, encoding, filename)
                raise _unreadable(filename, error) from None
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def _read_csv_file(path: str, delimiter: str, decimal: str, encoding: str) -> pd.DataFrame:
    # Chunked parsing (low_memory, the default) is twice as fast here as one pass; a column
    # whose chunks disagree on type comes back as mixed objects, which profiling treats as
    # text and lib.predict coerces, so pandas' warning about it is not for the person.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pd.errors.DtypeWarning)
        return pd.read_csv(path, sep=delimiter, decimal=decimal, encoding=encoding, engine="c")


def sniff_delimiter(sample_text: str) -> str:
    """Return the delimiter among ``, ; tab |`` that splits the sample's lines most consistently."""
    lines = [line for line in sample_text.splitlines()[:200] if line.strip()]
    if len(lines) > 1 and not sample_text.endswith("\n"):
        lines = lines[:-1]  # the sample may cut the last line short
    best, best_score = ",", (0, 0)
    for delimiter in _DELIMITERS:
        try:
            counts = [len(row) - 1 for row in csv.reader(lines, delimiter=delimiter)]
        except csv.Error:
            continue
        if not counts or counts[0] == 0:
            continue
        consistent = sum(count == counts[0] for count in counts)
        score = (consistent, counts[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _has_decimal_commas(sample_text: str, delimiter: str) -> bool:
    rows = csv.reader(sample_text.splitlines()[1:50], delimiter=delimiter)
    try:
        return any(_DECIMAL_COMMA.match(field.strip()) for row in rows for field in row)
    except csv.Error:  # a sample line the csv module refuses (a huge value): no evidence
        return False


def _looks_binary(text: str) -> bool:
    if not text:
        return False
    junk = text.count("\ufffd") + sum(ch < " " and ch not in "\t\r\n" for ch in text[:4096])
    return junk / min(len(text), 4096) > 0.1


def _refuse_ragged_rows(body: Bytes, delimiter: str, encoding: str, filename: str) -> None:
    """Raise a DataError naming the first line whose number of values differs from the header."""
    try:
        line_no, expected, got = _first_ragged_line(body, delimiter, encoding)
    except csv.Error as error:  # "field larger than field limit (131072)"
        log.info("CSV line check failed in %s: %s", filename, error)
        raise value_too_long(filename, csv.field_size_limit()) from None
    if line_no:
        raise DataError(
            f"'{filename}' line {line_no} has {got} values but the header has {expected} "
            f"(values are separated by {_DELIMITER_NAMES[delimiter]}s). Fix or remove that "
            "line, or quote values that contain the separator."
        )


def _unreadable(filename: str, error: Exception) -> DataError:
    text = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
    log.info("CSV parse failure in %s: %s", filename, text)
    return DataError(
        f"'{filename}' could not be read as a table ({text}). Check that it is a CSV file with "
        "one header row and that every quote is closed."
    )


def _first_ragged_line(body: Bytes, delimiter: str, encoding: str) -> tuple[int, int, int]:
    text = io.TextIOWrapper(io.BytesIO(body), encoding=encoding, errors="replace", newline="")
    reader = csv.reader(text, delimiter=delimiter)
    expected = None
    for row in reader:
        if not row:
            continue
        if expected is None:
            expected = len(row)
        elif len(row) != expected:
            return reader.line_num, expected, len(row)
    return 0, expected or 0, 0
