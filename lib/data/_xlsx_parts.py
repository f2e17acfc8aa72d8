"""What reading an ``.xlsx``'s first worksheet needs from its other parts: ``read_book``.

The package relationships lead to the workbook part, whose sheet list and relationships lead to
the first worksheet (chart sheets are skipped, as pandas does), the shared strings and the
styles. Of the styles only the number format of each cell format is kept, to tell dates and
durations from numbers as openpyxl does.
"""

from __future__ import annotations

import datetime
import posixpath
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, WINDOWS_EPOCH

from lib.errors import DataError

from ._limits import TableLimits, over_limit
from ._xlsx_zip import MAX_PARTS, Archive, PartHandler, local_name

_RELATIONSHIP_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_SAVE_AGAIN = "Open it in Excel and save it again as .xlsx, or export the sheet as CSV."


@dataclass
class Book:
    """The parts of a workbook its first worksheet's cells refer to."""

    sheet: zipfile.ZipInfo
    shared_strings: list[str] = field(default_factory=list)
    date_styles: frozenset[int] = frozenset()
    duration_styles: frozenset[int] = frozenset()
    style_count: int = 1  # cell format 0 always exists, even without a styles part
    epoch: datetime.datetime = WINDOWS_EPOCH


def damaged(filename: str, detail: str) -> DataError:
    """The refusal of a workbook whose parts contradict each other."""
    return DataError(f"'{filename}' is damaged: {detail}. {_SAVE_AGAIN}")


def read_book(archive: Archive, filename: str, limits: TableLimits) -> Book:
    """The first worksheet's entry, shared strings, date formats and date system."""
    package = _relationships(archive, "", filename)
    workbook_path = next(
        (target for kind, target in package.values() if kind == "officeDocument"),
        "xl/workbook.xml",
    )
    workbook = _Workbook()
    archive.parse(_entry(archive, workbook_path, filename, "its workbook part"), workbook)
    if not workbook.sheet_ids:
        raise DataError(f"'{filename}' has no sheets. {_SAVE_AGAIN}")

    related = _relationships(archive, workbook_path, filename)
    sheets = [related.get(rid, ("", "")) for rid in workbook.sheet_ids]
    sheet_path = next((target for kind, target in sheets if kind == "worksheet"), None)
    if sheet_path is None:
        raise DataError(
            f"'{filename}' holds only charts, no sheet with a table. Add a sheet that holds the "
            "table, or export the chart's data as CSV."
        )
    book = Book(sheet=_entry(archive, sheet_path, filename, "its first sheet"))
    if workbook.date1904:
        book.epoch = CALENDAR_MAC_1904
    for kind, target in related.values():
        entry = archive.find(target)
        if entry is None:
            continue  # optional parts; a cell that needs one fails on its own
        if kind == "sharedStrings":
            strings = _SharedStrings(filename, limits)
            archive.parse(entry, strings)
            book.shared_strings = strings.strings
        elif kind == "styles":
            styles = _Styles()
            archive.parse(entry, styles)
            book.date_styles, book.duration_styles = styles.date_styles()
            book.style_count = max(1, len(styles.cell_formats))
    return book


def _entry(archive: Archive, path: str, filename: str, what: str) -> zipfile.ZipInfo:
    entry = archive.find(path)
    if entry is None:
        raise damaged(filename, f"{what} ({path}) is missing from the file")
    return entry


def _relationships(archive: Archive, part: str, filename: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type's last word, target part path) of ``part`` ("" = the package)."""
    folder, name = posixpath.split(part)
    entry = archive.find(posixpath.join(folder, "_rels", f"{name}.rels"))
    if entry is None:
        return {}
    handler = _Relationships(filename)
    archive.parse(entry, handler)
    return {
        rid: (kind.rsplit("/", 1)[-1], _resolve(folder, target))
        for rid, (kind, target) in handler.found.items()
    }


def _resolve(folder: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(folder, target))


class _Relationships(PartHandler):
    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.found: dict[str, tuple[str, str]] = {}

    def start(self, tag: str, attrib: Mapping[str, str]) -> None:
        if local_name(tag) == "Relationship" and attrib.get("TargetMode") != "External":
            if len(self.found) >= MAX_PARTS:
                raise damaged(self.filename, "it lists more parts than it can hold")
            self.found[attrib.get("Id", "")] = (attrib.get("Type", ""), attrib.get("Target", ""))


class _Workbook(PartHandler):
    def __init__(self) -> None:
        self.sheet_ids: list[str] = []
        self.date1904 = False

    def start(self, tag: str, attrib: Mapping[str, str]) -> None:
        name = local_name(tag)
        if name == "sheet" and len(self.sheet_ids) < MAX_PARTS:
            self.sheet_ids.append(attrib.get(_RELATIONSHIP_ID, ""))
        elif name == "workbookPr":
            self.date1904 = attrib.get("date1904", "").lower() in ("1", "true")


class TextCollector(PartHandler):
    """Joins the text of rich-text runs (``<t>``, ``<r><t>``), leaving out phonetic guides."""

    def __init__(self) -> None:
        self.pieces: list[str] | None = None  # the current string's runs, when inside one
        self._text: list[str] | None = None  # the current <t>'s character data
        self._phonetic = 0

    def start(self, tag: str, attrib: Mapping[str, str]) -> None:
        name = local_name(tag)
        if name == "t" and self.pieces is not None and not self._phonetic:
            self._text = []
        elif name == "rPh":
            self._phonetic += 1

    def end(self, tag: str) -> None:
        name = local_name(tag)
        if name == "t" and self._text is not None and self.pieces is not None:
            self.pieces.append("".join(self._text))
            self._text = None
        elif name == "rPh":
            self._phonetic -= 1

    def data(self, text: str) -> None:
        if self._text is not None:
            self._text.append(text)


class _SharedStrings(TextCollector):
    def __init__(self, filename: str, limits: TableLimits) -> None:
        super().__init__()
        self.filename, self.limits = filename, limits
        self.strings: list[str] = []

    def start(self, tag: str, attrib: Mapping[str, str]) -> None:
        if local_name(tag) == "si":
            self.pieces = []
        else:
            super().start(tag, attrib)

    def end(self, tag: str) -> None:
        if local_name(tag) == "si" and self.pieces is not None:
            # A table cannot use more distinct texts than it has cells.
            if len(self.strings) >= self.limits.max_cells:
                raise over_limit(
                    self.filename, "lists more distinct texts than a table may have cells",
                    f"over {self.limits.max_cells:,}", "max_cells",
                    f"{self.limits.max_cells:,} cells",
                )  # fmt: skip
            self.strings.append("".join(self.pieces))
            self.pieces = None
        else:
            super().end(tag)


class _Styles(PartHandler):
    """Number format ids of the cell formats (``cellXfs``) and the workbook's custom formats."""

    def __init__(self) -> None:
        self.custom: dict[int, str] = {}
        self.cell_formats: list[int] = []
        self._in_cell_formats = False

    def start(self, tag: str, attrib: Mapping[str, str]) -> None:
        name = local_name(tag)
        if name == "numFmt":
            self.custom[int(attrib.get("numFmtId", "0"))] = attrib.get("formatCode", "")
        elif name == "cellXfs":
            self._in_cell_formats = True
        elif name == "xf" and self._in_cell_formats:
            self.cell_formats.append(int(attrib.get("numFmtId", "0")))

    def end(self, tag: str) -> None:
        if local_name(tag) == "cellXfs":
            self._in_cell_formats = False

    def date_styles(self) -> tuple[frozenset[int], frozenset[int]]:
        """(cell formats that show dates, those that show durations), as openpyxl decides."""
        dates, durations = set(), set()
        for index, format_id in enumerate(self.cell_formats):
            code = self.custom.get(format_id) or BUILTIN_FORMATS.get(format_id)
            if is_date_format(code):
                dates.add(index)
            if is_timedelta_format(code):
                durations.add(index)
        return frozenset(dates), frozenset(durations)
