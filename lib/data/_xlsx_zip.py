"""The zip container of an ``.xlsx``, checked before any part is read, and its parts parsed safely.

``open_archive`` refuses a container that declares more unpacked bytes than
``limits.max_unpacked_bytes``, more than ``MAX_PARTS`` entries, encrypted entries or a
compression Excel does not use. After that check, reading a part cannot yield more than the
size the zip's directory declares for it: CPython's ``ZipExtFile`` (3.11 ``zipfile._read1``)
inflates at most a few KB beyond each read, cuts its output at the declared ``file_size`` and
checks the CRC at the end, so a size that lies becomes ``BadZipFile``, not memory. Only stored
and deflated entries are allowed because ``ZipExtFile`` bounds each inflate call only for those
(bzip2 and lzma decompress a whole chunk at once).

``Archive.parse`` feeds a part, a chunk at a time, to defusedxml's parser with DTDs forbidden:
entity declarations (billion laughs), external entities and DOCTYPEs raise
``defusedxml.DefusedXmlException``; an undefined entity is an XML ``ParseError``.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping

from defusedxml.ElementTree import DefusedXMLParser

from lib.errors import DataError

from ._limits import MIB, TableLimits, over_limit

# A workbook holds a few parts per sheet (sheet, its relationships, drawings, comments); even
# a workbook of a thousand sheets stays far below this. It bounds the zip directory parsed into
# memory (a 500 MB upload could list millions of empty entries) and is not a table size, so it
# is a constant rather than a TableLimits field.
MAX_PARTS = 10_000

_CENTRAL_ENTRY = b"PK\x01\x02"  # starts every entry of the zip's central directory
_OLE_FILE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # password-protected workbooks and .xls
_CHUNK = 64 * 1024
_SAVE_AGAIN = "Open it in Excel and save it again as .xlsx, or export the sheet as CSV."


class PartHandler:
    """Receives one XML part's events (the ``target`` interface of ElementTree's parser)."""

    def start(self, tag: str, attrib: Mapping[str, str]) -> None:
        """An element opens; ``tag`` is ``{namespace}name``."""

    def end(self, tag: str) -> None:
        """An element closes."""

    def data(self, text: str) -> None:
        """A piece of character data."""

    def close(self) -> None:
        """The part has ended."""


def local_name(tag: str) -> str:
    """``tag`` without its ``{namespace}``."""
    return tag[tag.rfind("}") + 1 :]


class Archive:
    """An ``.xlsx`` zip that passed ``open_archive``'s checks."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self._zip = archive
        # Part names are case-insensitive in the Open Packaging Conventions.
        self._parts = {info.filename.lower(): info for info in archive.infolist()}

    def find(self, name: str) -> zipfile.ZipInfo | None:
        """The entry for part ``name`` (without a leading slash), or None."""
        return self._parts.get(name.lstrip("/").lower())

    def parse(self, entry: zipfile.ZipInfo, handler: PartHandler) -> None:
        """Stream the XML of ``entry`` through ``handler`` (see the module docstring)."""
        parser = DefusedXMLParser(target=handler, forbid_dtd=True)
        with self._zip.open(entry) as stream:
            while chunk := stream.read(_CHUNK):
                parser.feed(chunk)
        parser.close()


def open_archive(data: bytes, filename: str, limits: TableLimits) -> Archive:
    """The zip in ``data`` once its directory is within the caps (see the module docstring)."""
    if data.startswith(_OLE_FILE):
        raise DataError(
            f"'{filename}' is password-protected or an old .xls workbook, which this app cannot "
            f"read. Remove the password if it has one (File > Info > Protect Workbook). "
            f"{_SAVE_AGAIN}"
        )
    # Counted in the bytes before zipfile parses the directory: it cannot list more entries.
    if data.count(_CENTRAL_ENTRY) > MAX_PARTS:
        raise _too_many_parts(filename)
    archive = zipfile.ZipFile(io.BytesIO(data))
    entries = archive.infolist()
    if len(entries) > MAX_PARTS:
        raise _too_many_parts(filename)
    declared = sum(entry.file_size for entry in entries)
    if declared > limits.max_unpacked_bytes:
        raise over_limit(
            filename, "unpacks to more data than it may", f"{declared / MIB:,.0f} MB",
            "max_unpacked_mb", f"{limits.max_unpacked_mb:,} MB",
            "Save only the sheet you need, or export it as CSV or Parquet.",
        )  # fmt: skip
    for entry in entries:
        if entry.flag_bits & 0x1:
            raise DataError(
                f"'{filename}' is password-protected or encrypted. Remove the protection in "
                "Excel and save it again as .xlsx, or export the sheet as CSV."
            )
        if entry.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise DataError(
                f"'{filename}' is packed with a compression Excel does not use (method "
                f"{entry.compress_type}), so it was not read. {_SAVE_AGAIN}"
            )
    return Archive(archive)


def _too_many_parts(filename: str) -> DataError:
    return DataError(
        f"'{filename}' holds more than {MAX_PARTS:,} parts, far more than a workbook has, so "
        f"it was not read. {_SAVE_AGAIN}"
    )
