"""The cells of an ``.xlsx`` worksheet, streamed with the table's caps checked on the way.

``read_cells`` keeps each cell that holds a value as (row, column, value), column by column,
and no XML tree: nothing is padded, so a lone cell at XFD1048576 costs one value. As it streams
it refuses, before keeping more, a sheet with more ``<c>`` elements than ``max_cells``, a table
of more occupied rows than ``max_rows``, occupied columns than ``max_columns`` or occupied rows
x columns than ``max_cells``, and cells whose text adds up to more characters than
``max_unpacked_bytes`` (a shared string counts each time a cell uses it: that is what a table
built from the cells holds).

Values are converted as pandas' openpyxl reader converts them (data only, formulas' cached
results): integral numbers become ints, date-formatted numbers datetimes (durations
timedeltas), ``t="b"`` bools, error cells and pandas' missing-value texts (``#N/A``, ``NA``,
...) None, which still occupies its row and column. Empty text is no value.
"""

from __future__ import annotations

import math
import re
from array import array
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from openpyxl.utils.datetime import from_excel, from_ISO8601
from pandas._libs.parsers import STR_NA_VALUES

from ._limits import TableLimits, over_limit
from ._xlsx_parts import Book, TextCollector, damaged
from ._xlsx_zip import Archive, local_name

_MAX_ROW, _MAX_COLUMN = 1_048_576, 16_384  # Excel's grid
_REFERENCE = re.compile(r"([A-Z]{1,3})([0-9]{1,7})")
_EXCEL_ERRORS = frozenset(
    {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
     "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!"}
)  # fmt: skip
MISSING_TEXTS = frozenset(STR_NA_VALUES) | _EXCEL_ERRORS
_MAX_INT = 2**63


@dataclass
class Column:
    """The occupied cells of one sheet column: row numbers and values, in sheet order."""

    rows: array = field(default_factory=lambda: array("q"))
    values: list[Any] = field(default_factory=list)


@dataclass
class SheetCells:
    """The occupied cells of a sheet, by column number."""

    columns: dict[int, Column] = field(default_factory=dict)
    rows: set[int] = field(default_factory=set)


def read_cells(archive: Archive, book: Book, filename: str, limits: TableLimits) -> SheetCells:
    """Stream the first worksheet's cells (see the module docstring)."""
    reader = _SheetReader(book, filename, limits)
    archive.parse(book.sheet, reader)
    return reader.cells


def cell_name(row: int, column: int) -> str:
    """``(2, 28)`` -> ``"AB2"``."""
    letters = ""
    while column > 0:
        column, remainder = divmod(column - 1, 26)
        letters = chr(65 + remainder) + letters
    return f"{letters}{row}"


class _SheetReader(TextCollector):
    def __init__(self, book: Book, filename: str, limits: TableLimits) -> None:
        super().__init__()
        self.book, self.filename, self.limits = book, filename, limits
        self.cells = SheetCells()
        self.cell_count = 0
        self.characters = 0
        self._row = self._column = 0
        self._last_row = -1
        self._kind: str | None = None  # the open <c>'s t="..."; None outside a cell
        self._style = 0
        self._value: list[str] | None = None  # character data of the open <v>

    def start(self, tag: str, attrib: Mapping[str, str]) -> None:
        name = local_name(tag)
        if name == "c":
            self._open_cell(attrib)
        elif name == "row":
            self._row = _integer(attrib["r"]) if "r" in attrib else self._row + 1
            self._column = 0
            if not 1 <= self._row <= _MAX_ROW:
                raise damaged(self.filename, f"it has a row numbered {self._row}")
        elif self._kind is not None:
            if name == "v":
                self._value = []
            elif name == "is":
                self.pieces = []
            else:
                super().start(tag, attrib)

    def data(self, text: str) -> None:
        if self._value is not None:
            self._value.append(text)
        else:
            super().data(text)

    def end(self, tag: str) -> None:
        name = local_name(tag)
        if self._kind is None:
            return
        if name == "c":
            self._close_cell()
        elif name == "v" and self._value is not None:
            self._value = ["".join(self._value)]
        else:
            super().end(tag)

    def _open_cell(self, attrib: Mapping[str, str]) -> None:
        self.cell_count += 1
        if self.cell_count > self.limits.max_cells:
            cap = self.limits.max_cells
            raise over_limit(
                self.filename, "holds more cells than a table may have", f"over {cap:,}",
                "max_cells", f"{cap:,} cells", "Save only the rows and columns you need.",
            )  # fmt: skip
        reference = attrib.get("r")
        if reference:
            match = _REFERENCE.fullmatch(reference)
            if match is None:
                raise damaged(self.filename, f"it names a cell '{reference[:20]}'")
            self._row, self._column = int(match[2]), _column_number(match[1])
        else:
            self._column += 1
        if not (1 <= self._row <= _MAX_ROW and 1 <= self._column <= _MAX_COLUMN):
            raise damaged(self.filename, f"it has a cell outside Excel's grid ({reference})")
        self._kind = attrib.get("t", "n")
        self._style = _integer(attrib.get("s", "0"))
        if not 0 <= self._style < self.book.style_count:
            raise damaged(
                self.filename,
                f"cell {self._here()} uses cell format {self._style}, which it does not define",
            )
        self._value, self.pieces = None, None

    def _close_cell(self) -> None:
        kind, text = self._kind, "".join(self._value) if self._value else ""
        self._kind, self._value = None, None
        if kind == "inlineStr":
            text, self.pieces = "".join(self.pieces or ()), None
        if not text:
            return
        value: Any = text
        if kind == "n":
            value = self._number(text)
        elif kind == "s":
            index = _integer(text)
            if not 0 <= index < len(self.book.shared_strings):
                raise damaged(self.filename, f"cell {self._here()} refers to text it does not hold")
            value = self.book.shared_strings[index]
            if not value:
                return
        elif kind == "b":
            if text not in ("0", "1"):
                raise damaged(self.filename, f"cell {self._here()} holds '{text[:20]}' as a bool")
            value = text == "1"
        elif kind == "e":
            value = None
        elif kind == "d":
            try:
                value = from_ISO8601(text)
            except ValueError:
                raise damaged(
                    self.filename, f"cell {self._here()} holds a date it cannot read"
                ) from None
        elif kind not in ("str", "inlineStr"):
            raise damaged(self.filename, f"cell {self._here()} has an unknown type '{kind}'")
        if isinstance(value, str):
            self._count_text(value)
            if value in MISSING_TEXTS:
                value = None
        self._keep(value)

    def _number(self, text: str) -> Any:
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise damaged(self.filename, f"cell {self._here()} holds '{text[:20]}' as a number")
        if self._style in self.book.date_styles:
            try:
                return from_excel(
                    number, self.book.epoch, timedelta=self._style in self.book.duration_styles
                )
            except (OverflowError, ValueError):
                return None  # openpyxl makes it an error cell, which pandas reads as missing
        if number.is_integer() and -_MAX_INT <= number < _MAX_INT:
            return int(number)
        return number

    def _count_text(self, value: str) -> None:
        self.characters += len(value)
        if self.characters > self.limits.max_unpacked_bytes:
            cap = self.limits.max_unpacked_bytes
            raise over_limit(
                self.filename, "repeats text across its cells to more characters than it may",
                f"over {cap:,} characters", "max_unpacked_mb",
                f"{cap:,} characters ({self.limits.max_unpacked_mb:,} MB)",
                "Shorten the long texts, or keep them in fewer cells.",
            )  # fmt: skip

    def _keep(self, value: Any) -> None:
        cells, limits = self.cells, self.limits
        row, column = self._row, self._column
        if row != self._last_row and row not in cells.rows:
            # The header is one of the occupied rows, so a table of max_rows rows fits.
            if len(cells.rows) > limits.max_rows:
                raise self._table_too_large("rows", len(cells.rows), limits.max_rows, "max_rows")
            self._check_area(len(cells.rows) + 1, len(cells.columns))
            cells.rows.add(row)
        self._last_row = row
        kept = cells.columns.get(column)
        if kept is None:
            if len(cells.columns) >= limits.max_columns:
                raise self._table_too_large(
                    "columns", len(cells.columns) + 1, limits.max_columns, "max_columns"
                )
            self._check_area(len(cells.rows), len(cells.columns) + 1)
            kept = cells.columns[column] = Column()
        kept.rows.append(row)
        kept.values.append(value)

    def _check_area(self, rows: int, columns: int) -> None:
        if rows * columns > self.limits.max_cells:
            raise over_limit(
                self.filename, f"spreads its values over at least {rows:,} rows x {columns:,} "
                "columns", f"{rows * columns:,} cells", "max_cells",
                f"{self.limits.max_cells:,} cells",
                "Remove stray values far from the table, or save only the part you need.",
            )  # fmt: skip

    def _table_too_large(self, what: str, found: int, cap: int, field: str) -> Exception:
        return over_limit(
            self.filename, f"has more {what} than a table may", f"over {cap:,}", field,
            f"{cap:,} {what}", "Save only the part you need, or export it as CSV or Parquet.",
        )  # fmt: skip

    def _here(self) -> str:
        return cell_name(self._row, self._column)


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


def _integer(text: str) -> int:
    """An XML integer attribute; "3.0" is accepted as openpyxl does."""
    try:
        return int(text)
    except ValueError:
        number = float(text)  # raises ValueError in turn when it is no number at all
    if not number.is_integer():
        raise ValueError(f"{text!r} is not an integer")
    return int(number)
