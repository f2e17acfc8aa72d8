"""Excel workbooks (.xlsx): ``read_excel(data, filename, limits)``.

Uploaded workbooks are hostile input, so pandas' ``read_excel`` is not used: it pads every
skipped row to the widest column, and openpyxl bounds neither the unpacked size nor the
declared rows and columns. Instead ``_xlsx_zip`` checks the zip before any part is read and
parses every part with defusedxml, ``_xlsx_parts`` finds the first worksheet and what its
cells refer to, ``_xlsx_sheet`` streams that sheet's cells with the table's caps checked on the
way, and ``_xlsx_frame`` builds the table from the occupied rows and columns only.
"""

from __future__ import annotations

import logging
import struct
import zipfile
import zlib

import pandas as pd
from defusedxml import DefusedXmlException

from lib.errors import DataError

from ._limits import TableLimits
from ._xlsx_frame import build_frame
from ._xlsx_parts import read_book
from ._xlsx_sheet import read_cells
from ._xlsx_zip import open_archive

log = logging.getLogger(__name__)

# What a damaged zip or XML part raises: SyntaxError covers the XML parser's ParseError,
# zlib.error a corrupt deflate stream, EOFError a cut one, LookupError (KeyError among them) an
# unknown encoding or a missing entry. MemoryError is left to the capped process that reads.
_WORKBOOK_FAILURES = (zipfile.BadZipFile, LookupError, ValueError, OSError, TypeError,
                      IndexError, SyntaxError, zlib.error, EOFError, AttributeError,
                      NotImplementedError, OverflowError, struct.error)  # fmt: skip


def read_excel(data: bytes, filename: str, limits: TableLimits) -> pd.DataFrame:
    """The first worksheet of the workbook in ``data`` as a table (see the module docstring)."""
    try:
        archive = open_archive(data, filename, limits)
        book = read_book(archive, filename, limits)
        return build_frame(read_cells(archive, book, filename, limits))
    except DataError:
        raise
    except DefusedXmlException as error:
        log.info("Excel XML with a DTD or entities in %s: %r", filename, error)
        raise DataError(
            f"'{filename}' holds XML declarations (a DOCTYPE or entities) that Excel never "
            "writes, so it was not read. Open it in Excel and save it again as .xlsx, or export "
            "the sheet as CSV."
        ) from None
    except _WORKBOOK_FAILURES as error:
        log.info("Excel read failure in %s: %r", filename, error)
        raise DataError(
            f"'{filename}' could not be opened as an Excel workbook; it may be damaged or not "
            "an .xlsx file. Open it in Excel and save it again as .xlsx or .csv."
        ) from None
