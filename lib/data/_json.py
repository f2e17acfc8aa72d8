"""JSON tables: a list of records, ``{"col": [values]}``, one wrapped list of records, or JSON
lines (one record per line): ``read_json(data, filename, limits)``."""

from __future__ import annotations

import json
import logging

import pandas as pd

from lib.errors import DataError

from ._limits import TableLimits

log = logging.getLogger(__name__)


def read_json(data: bytes, filename: str, limits: TableLimits) -> pd.DataFrame:
    """The table in the JSON file ``data`` (see the module docstring)."""
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
