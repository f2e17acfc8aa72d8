"""Caps on reading one uploaded table (:class:`TableLimits`), and the refusal that names one.

Every reader checks what a file declares (its size, the unpacked size of an ``.xlsx``, the
rows, columns and cells it will produce, Parquet's row groups, JSON's depth and number length)
against these caps before it allocates for it. A file over a cap is refused with
``over_limit``, which names the cap and the environment variable that raises it.
"""

from __future__ import annotations

import logging
import mmap
import os
from dataclasses import dataclass, fields
from typing import Any

from lib.errors import DataError

MIB = 1024 * 1024
# An upload's bytes: a bytes object, or (in the reading process) the spooled file mapped.
Bytes = bytes | mmap.mmap

# Environment variable -> TableLimits field.
ENV_VARS: dict[str, str] = {
    "MODEL_STUDIO_MAX_TABLE_MB": "max_upload_mb",
    "MODEL_STUDIO_MAX_TABLE_UNPACKED_MB": "max_unpacked_mb",
    "MODEL_STUDIO_MAX_TABLE_ROWS": "max_rows",
    "MODEL_STUDIO_MAX_TABLE_COLUMNS": "max_columns",
    "MODEL_STUDIO_MAX_TABLE_CELLS": "max_cells",
    "MODEL_STUDIO_MAX_PARQUET_ROW_GROUPS": "max_row_groups",
    "MODEL_STUDIO_MAX_JSON_DEPTH": "max_json_depth",
    "MODEL_STUDIO_MAX_JSON_NUMBER_DIGITS": "max_number_digits",
    "MODEL_STUDIO_MAX_VALUE_CHARS": "max_field_chars",
    "MODEL_STUDIO_READER_MEMORY_MB": "reader_memory_mb",
    "MODEL_STUDIO_READER_SECONDS": "reader_seconds",
}
_FLOATS = {"reader_seconds"}


@dataclass(frozen=True)
class TableLimits:
    """Caps applied while reading one uploaded table.

    max_upload_mb: size of the uploaded file as given (MB of 2**20 bytes).
    max_unpacked_mb: bytes the file may unpack or decode to: an ``.xlsx``'s parts as its zip
        directory declares them, its cells' text, a Parquet file's columns once decoded.
    max_rows, max_columns: rows and columns of the table the file declares or holds.
    max_cells: rows x columns, counting the empty cells a reader would pad with.
    max_row_groups: Parquet row groups (each costs a fixed amount to read, however small).
    max_json_depth: nesting of JSON arrays and objects ({"a": [1]} is depth 2).
    max_number_digits: characters in one JSON number.
    max_field_chars: characters in one value (a CSV field, a text cell of any format).
    reader_memory_mb: extra address space the reading process may map (RLIMIT_AS).
    reader_seconds: wall time for the reading process to read and profile the table.
    """

    max_upload_mb: int = 500
    max_unpacked_mb: int = 2_000
    max_rows: int = 20_000_000
    max_columns: int = 30_000
    max_cells: int = 50_000_000
    max_row_groups: int = 2_000
    max_json_depth: int = 64
    max_number_digits: int = 100
    max_field_chars: int = 131_072
    reader_memory_mb: int = 6_000
    reader_seconds: float = 180.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"TableLimits.{f.name} must be a positive number, got {value!r}")

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * MIB

    @property
    def max_unpacked_bytes(self) -> int:
        return self.max_unpacked_mb * MIB

    @property
    def reader_memory_bytes(self) -> int:
        return self.reader_memory_mb * MIB

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> TableLimits:
        """The defaults overridden by ``MODEL_STUDIO_*`` variables (see ``ENV_VARS``); a
        malformed variable is logged and ignored."""
        env = os.environ if environ is None else environ
        kwargs: dict[str, Any] = {}
        for var, name in ENV_VARS.items():
            raw = env.get(var, "").strip()
            if not raw:
                continue
            try:
                value = float(raw) if name in _FLOATS else int(raw)
                if value <= 0:
                    raise ValueError
            except ValueError:
                logging.getLogger(__name__).warning("ignoring malformed %s=%r", var, raw)
                continue
            kwargs[name] = value
        return cls(**kwargs)


_VARIABLE = {name: var for var, name in ENV_VARS.items()}


def over_limit(filename: str, what: str, found: str, field: str, limit: str,
               advice: str = "") -> DataError:  # fmt: skip
    """The refusal of a file over one cap.

    ``what`` says what was counted ("declares 1,048,576 rows x 16,384 columns"), ``found`` is
    that amount written for a person, ``field`` the ``TableLimits`` field and ``limit`` its
    value written for a person. ``advice`` says what to do besides raising the cap.
    """
    variable = _VARIABLE[field]
    advice = f" {advice}" if advice else ""
    return DataError(
        f"'{filename}' {what} ({found}), over this app's limit of {limit}, so it was not "
        f"read.{advice} If the file is genuine and the server has the memory, whoever runs "
        f"the app can raise the limit with the {variable} setting."
    )


def refuse_oversized(size: int, filename: str, limits: TableLimits) -> None:
    """Raise the refusal of an upload of ``size`` bytes when it is over the upload cap."""
    if size > limits.max_upload_bytes:
        raise over_limit(
            filename, "is too large to upload", f"{size / 1e6:,.0f} MB", "max_upload_mb",
            f"{limits.max_upload_bytes / 1e6:,.0f} MB",
            "Upload a sample of the rows, or save it as Parquet, which is much smaller.",
        )  # fmt: skip
