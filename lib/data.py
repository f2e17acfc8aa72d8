"""Reading a person's table from uploaded bytes.

``read_table`` turns the bytes of a CSV/TSV/TXT, Excel ``.xlsx``, Parquet or JSON file into a
``pandas.DataFrame``, or raises a ``DataError`` that says what is wrong and what to do. CSV goes
through pandas' C parser; the delimiter, decimal comma and text encoding are detected from a
sample, and rows with too many or too few values are refused with their line number.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import os
import re
import shutil
import tempfile
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterator

import pandas as pd
import pyarrow as pa

from lib.errors import DataError

log = logging.getLogger(__name__)

MAX_TABLE_BYTES = int(os.environ.get("MODEL_STUDIO_MAX_TABLE_MB", "500")) * 1024 * 1024
TABLE_EXTENSIONS = ("csv", "tsv", "txt", "xlsx", "parquet", "json", "jsonl")

_DELIMITERS = (",", ";", "\t", "|")
_SAMPLE_BYTES = 256 * 1024
_UTF8_BOM = b"\xef\xbb\xbf"
_RAM_DISK = "/dev/shm"
_DECIMAL_COMMA = re.compile(r"^-?\d+,\d+$")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


def read_table(data: bytes, filename: str, *, min_columns: int = 1) -> pd.DataFrame:
    """Read an uploaded table.

    Parameters
    ----------
    data : bytes
        The file's contents.
    filename : str
        The name it was uploaded under; its extension picks the reader (content sniffing
        decides when the extension is unknown).
    min_columns : int
        Fewest columns the caller can use (2 to train: a target and a feature).

    Returns
    -------
    pandas.DataFrame
        One row per record, unique string column names, at least one row.
    """
    if len(data) > MAX_TABLE_BYTES:
        raise DataError(
            f"'{filename}' is {len(data) / 1e6:,.0f} MB; the limit is "
            f"{MAX_TABLE_BYTES / 1e6:,.0f} MB. Upload a sample of the rows, or save it as "
            "Parquet, which is much smaller."
        )
    if not data[:_SAMPLE_BYTES].strip() and not data.strip():
        raise DataError(f"'{filename}' is empty. Choose a file that holds a table.")

    kind = _file_kind(data, filename)
    readers = {"csv": _read_text, "xlsx": _read_excel, "parquet": _read_parquet, "json": _read_json}
    frame = readers[kind](data, filename)

    frame = _clean_columns(frame)
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


def _file_kind(data: bytes, filename: str) -> str:
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
    if data.lstrip()[:1] in (b"{", b"["):
        return "json"
    return "csv"


# --- delimited text ---------------------------------------------------------------------------


def _read_text(data: bytes, filename: str) -> pd.DataFrame:
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


# --- other formats ----------------------------------------------------------------------------


# What openpyxl raises on a damaged workbook (SyntaxError covers the XML parser's ParseError,
# zlib.error a corrupt deflate stream).
_EXCEL_FAILURES = (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError, IndexError,
                   SyntaxError, zlib.error)  # fmt: skip


def _read_excel(data: bytes, filename: str) -> pd.DataFrame:
    return _read_binary(
        lambda: pd.read_excel(io.BytesIO(data), sheet_name=0, engine="openpyxl"),
        _EXCEL_FAILURES,
        f"'{filename}' could not be opened as an Excel workbook; it may be damaged or not an "
        ".xlsx file. Open it in Excel and save it again as .xlsx or .csv.",
    )


def _read_parquet(data: bytes, filename: str) -> pd.DataFrame:
    return _read_binary(
        lambda: pd.read_parquet(io.BytesIO(data), engine="pyarrow"),
        (pa.ArrowException, OSError, ValueError),
        f"'{filename}' could not be read as Parquet; it may be damaged or cut short. Export it "
        "again, or upload the table as CSV.",
    )


def _read_binary(
    read: Callable[[], pd.DataFrame], failures: tuple[type[Exception], ...], message: str
) -> pd.DataFrame:
    """``read()``, with any of ``failures`` turned into a ``DataError`` saying ``message``."""
    try:
        return read()
    except failures as error:
        log.info("read failure: %r (%s)", error, message)
        raise DataError(message) from None


def _read_json(data: bytes, filename: str) -> pd.DataFrame:
    text = data.decode("utf-8-sig", errors="replace")
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        return _read_json_lines(text, filename)
    except (RecursionError, ValueError) as error:
        raise _json_beyond_limits(filename, error) from None
    if isinstance(parsed, dict):
        # {"col": [..]} column form, or {"data": [...records...]} wrapping one list of records.
        lists = [value for value in parsed.values() if isinstance(value, list)]
        if len(parsed) == 1 and lists and all(isinstance(row, dict) for row in lists[0]):
            parsed = lists[0]
    try:
        frame = pd.DataFrame(parsed) if isinstance(parsed, (dict, list)) else None
    except ValueError:
        frame = None
    if frame is None or (isinstance(parsed, list) and parsed and not isinstance(parsed[0], dict)):
        raise DataError(
            f"'{filename}' is JSON but not a table. Use a list of records "
            '([{"col": 1, ...}, ...]), one record per line, or {"col": [values]}.'
        )
    return frame


def _json_beyond_limits(filename: str, error: Exception, line_no: int | None = None) -> DataError:
    """The refusal for JSON that nests too deeply or holds a number too long to read."""
    where = f"'{filename}'" + (f" line {line_no}" if line_no else "")
    log.info("JSON beyond limits in %s: %r", where, error)
    if isinstance(error, RecursionError):
        problem = "nests values more deeply than a table can be read from"
    else:
        problem = "holds a number with more than 4,300 digits, which cannot be read as a number"
    return DataError(
        f"{where} {problem}. Flatten the records to one value per column, or export the "
        "table again as CSV."
    )


def _read_json_lines(text: str, filename: str) -> pd.DataFrame:
    records = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            raise DataError(
                f"'{filename}' line {line_no} is not valid JSON. Fix that line, or export the "
                "table again as CSV."
            ) from None
        except (RecursionError, ValueError) as error:
            raise _json_beyond_limits(filename, error, line_no) from None
        if not isinstance(record, dict):
            raise DataError(
                f"'{filename}' line {line_no} is not a record ({{...}}). JSON lines files need "
                "one object per line."
            )
        records.append(record)
    return pd.DataFrame.from_records(records)


# --- tidying ----------------------------------------------------------------------------------


def _clean_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Give every column a unique, non-empty string name (as pandas' own CSV reader does)."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for position, column in enumerate(frame.columns):
        name = str(column).strip() if column is not None else ""
        if not name or name.lower() == "nan":
            name = f"Unnamed: {position}"
        base, count = name, seen.get(name, 0)
        while name in seen:
            count += 1
            name = f"{base}.{count}"
        seen[base] = count
        seen[name] = 0
        names.append(name)
    frame.columns = names
    for column in frame.columns:
        dtype = frame[column].dtype
        if isinstance(dtype, pd.DatetimeTZDtype):
            frame[column] = frame[column].dt.tz_convert("UTC").dt.tz_localize(None)
    return frame
