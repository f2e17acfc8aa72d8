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
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Iterator

import pandas as pd

from lib.errors import DataError

from ._limits import TableLimits

log = logging.getLogger(__name__)

_DELIMITERS = (",", ";", "\t", "|")
_SAMPLE_BYTES = 256 * 1024
_UTF8_BOM = b"\xef\xbb\xbf"
_RAM_DISK = "/dev/shm"
_DECIMAL_COMMA = re.compile(r"^-?\d+,\d+$")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


def read_text(data: bytes, filename: str, limits: TableLimits) -> pd.DataFrame:
    """The table in delimited text ``data`` (see the module docstring)."""
    sample = data[:_SAMPLE_BYTES]
    if b"\x00" in sample:
        raise DataError(
            f"'{filename}' does not look like text (it holds binary data). Upload a CSV, "
            "Excel (.xlsx), Parquet or JSON file."
        )
    body = data[len(_UTF8_BOM) :] if data.startswith(_UTF8_BOM) else data
    sample_text = body[:_SAMPLE_BYTES].decode("utf-8", errors="replace")
    if _looks_binary(sample_text):
        # Accented cp1252/latin-1 text is full of invalid UTF-8; judge it in that encoding.
        sample_text = body[:_SAMPLE_BYTES].decode("cp1252", errors="replace")
    if _looks_binary(sample_text):
        raise DataError(
            f"'{filename}' does not look like a text table. Upload a CSV, Excel (.xlsx), "
            "Parquet or JSON file."
        )
    delimiter = sniff_delimiter(sample_text)
    decimal = "," if delimiter != "," and _has_decimal_commas(sample_text, delimiter) else "."

    frame, encoding = _parse_csv(body, delimiter, decimal, filename)
    if frame.shape[1] and frame.iloc[:, -1].isna().any():
        # pandas pads a row that has too few values with empty cells. Only when some row ends
        # in an empty cell is the file itself checked (line by line, so slower).
        _refuse_ragged_rows(body, delimiter, encoding, filename)
    return frame


def _parse_csv(
    body: bytes, delimiter: str, decimal: str, filename: str
) -> tuple[pd.DataFrame, str]:
    """Parse with pandas' C parser in the first encoding that decodes: (frame, encoding)."""
    with _spooled_to_disk(body) as path:
        for encoding in ("utf-8", "cp1252", "latin-1"):  # latin-1 decodes any byte
            try:
                return _read_csv_file(path, delimiter, decimal, encoding), encoding
            except UnicodeDecodeError:
                continue
            except pd.errors.EmptyDataError:
                raise DataError(f"'{filename}' holds no table. Choose another file.") from None
            except pd.errors.ParserError as error:
                _refuse_ragged_rows(body, delimiter, encoding, filename)
                raise _unreadable(filename, error) from None
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


@contextlib.contextmanager
def _spooled_to_disk(body: bytes) -> Iterator[str]:
    """The bytes in a temporary file, removed afterwards.

    pandas' C parser reads a file path about twice as fast as an in-memory buffer (which it
    decodes and re-encodes through a text wrapper), and faster than pyarrow on two cores. The
    file goes to memory-backed /dev/shm when it has room: a disk's write-back can stall a write
    of a few hundred MB for longer than the parse takes.
    """
    folder = _RAM_DISK if _has_room(_RAM_DISK, 2 * len(body)) else None
    handle, path = tempfile.mkstemp(prefix="model-studio-", suffix=".csv", dir=folder)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(body)
        yield path
    finally:
        os.unlink(path)


def _has_room(folder: str, size: int) -> bool:
    try:
        return shutil.disk_usage(folder).free > size
    except OSError:
        return False


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


def _refuse_ragged_rows(body: bytes, delimiter: str, encoding: str, filename: str) -> None:
    """Raise a DataError naming the first line whose number of values differs from the header."""
    try:
        line_no, expected, got = _first_ragged_line(body, delimiter, encoding)
    except csv.Error as error:  # "field larger than field limit (131072)"
        log.info("CSV line check failed in %s: %s", filename, error)
        raise DataError(
            f"'{filename}' has a value longer than {csv.field_size_limit():,} characters, more "
            "than a table cell can hold here. Shorten or remove it and try again."
        ) from None
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


def _first_ragged_line(body: bytes, delimiter: str, encoding: str) -> tuple[int, int, int]:
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
