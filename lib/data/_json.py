"""JSON tables: a list of records, ``{"col": [values]}``, one wrapped list of records, or JSON
lines (one record per line): ``read_json(data, filename, limits)``.

Before ``json.loads`` builds anything, a byte scan (``_json_scan``) refuses nesting deeper than
``max_json_depth`` and numbers longer than ``max_number_digits``. Before pandas builds the
frame, the rows and distinct keys are counted against ``max_rows``, ``max_columns`` and
``max_cells``. Nested values stay as dicts and lists in their cells.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

import pandas as pd

from lib.errors import DataError

from ._json_scan import Excess, first_excess
from ._limits import TableLimits, over_limit

log = logging.getLogger(__name__)


def read_json(data: bytes, filename: str, limits: TableLimits) -> pd.DataFrame:
    """The table in the JSON file ``data`` (see the module docstring)."""
    excess = first_excess(data, limits.max_json_depth, limits.max_number_digits)
    if excess is not None:
        raise _over_scan_limit(filename, excess, limits)
    text = data.decode("utf-8-sig", errors="replace")
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        return _read_json_lines(text, filename, limits)
    except (RecursionError, ValueError) as error:
        raise _json_beyond_limits(filename, error) from None
    if isinstance(parsed, dict):
        # {"col": [..]} column form, or {"data": [...records...]} wrapping one list of records.
        lists = [value for value in parsed.values() if isinstance(value, list)]
        if len(parsed) == 1 and lists and all(isinstance(row, dict) for row in lists[0]):
            parsed = lists[0]
    if isinstance(parsed, list) and parsed and isinstance(parsed[0], dict):
        _check_records(parsed, filename, limits)
    elif isinstance(parsed, dict):
        longest = max((len(v) for v in parsed.values() if isinstance(v, list)), default=1)
        _check_shape(longest, len(parsed), filename, limits)
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


def _check_records(records: Iterable[Any], filename: str, limits: TableLimits) -> None:
    """Refuse records over the row, column or cell caps, counting distinct keys (and stopping
    as soon as there are too many)."""
    keys: set[str] = set()
    rows = 0
    for record in records:
        rows += 1
        if isinstance(record, dict):
            keys.update(record)
            if len(keys) > limits.max_columns:
                raise _too_many_columns(filename, len(keys), limits, "at least ")
    _check_shape(rows, len(keys), filename, limits)


def _check_shape(rows: int, columns: int, filename: str, limits: TableLimits) -> None:
    if columns > limits.max_columns:
        raise _too_many_columns(filename, columns, limits)
    if rows > limits.max_rows:
        raise over_limit(
            filename, "holds more rows than the app reads", f"{rows:,} rows", "max_rows",
            f"{limits.max_rows:,} rows", "Upload a sample of the rows.",
        )  # fmt: skip
    if rows * columns > limits.max_cells:
        raise over_limit(
            filename, f"holds {rows:,} rows x {columns:,} columns", f"{rows * columns:,} cells",
            "max_cells", f"{limits.max_cells:,} cells", "Upload a sample of the rows.",
        )  # fmt: skip


def _too_many_columns(filename: str, columns: int, limits: TableLimits,
                      at_least: str = "") -> DataError:  # fmt: skip
    return over_limit(
        filename, "holds more columns (distinct keys) than the app reads",
        f"{at_least}{columns:,} columns", "max_columns", f"{limits.max_columns:,} columns",
        "Check that the keys are column names, not values; or upload fewer columns.",
    )  # fmt: skip


def _over_scan_limit(filename: str, excess: Excess, limits: TableLimits) -> DataError:
    where = f"line {excess.line} " if excess.line > 1 else ""
    if excess.what == "depth":
        return over_limit(
            filename, f"{where}nests values more deeply than the app reads",
            f"{excess.found:,} levels", "max_json_depth", f"{limits.max_json_depth:,} levels",
            "Flatten the records to one value per column, or export the table again as CSV.",
        )  # fmt: skip
    return over_limit(
        filename, f"{where}holds a number with more digits than the app reads",
        f"{excess.found:,} characters", "max_number_digits",
        f"{limits.max_number_digits:,} characters",
        "Store such values as text (in quotes), or export the table again as CSV.",
    )  # fmt: skip


def _json_beyond_limits(filename: str, error: Exception, line_no: int | None = None) -> DataError:
    """The refusal for JSON that nests too deeply or holds a number too long to read (a
    backstop: the byte scan refuses such files first under the default limits)."""
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


def _read_json_lines(text: str, filename: str, limits: TableLimits) -> pd.DataFrame:
    records = []
    keys: set[str] = set()
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
        keys.update(record)
        if len(keys) > limits.max_columns:
            raise _too_many_columns(filename, len(keys), limits, "at least ")
        if len(records) > limits.max_rows:
            raise over_limit(
                filename, "holds more rows than the app reads", f"more than {limits.max_rows:,}",
                "max_rows", f"{limits.max_rows:,} rows", "Upload a sample of the rows.",
            )  # fmt: skip
    _check_shape(len(records), len(keys), filename, limits)
    return pd.DataFrame.from_records(records)
