"""Excel workbooks (.xlsx): ``read_excel(data, filename, limits)``."""

from __future__ import annotations

import io
import logging
import zipfile
import zlib

import pandas as pd

from lib.errors import DataError

from ._limits import TableLimits

log = logging.getLogger(__name__)

# What openpyxl raises on a damaged workbook (SyntaxError covers the XML parser's ParseError,
# zlib.error a corrupt deflate stream).
_EXCEL_FAILURES = (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError, IndexError,
                   SyntaxError, zlib.error)  # fmt: skip


def read_excel(data: bytes, filename: str, limits: TableLimits) -> pd.DataFrame:
    """The first sheet of the workbook in ``data`` as a table."""
    try:
        return pd.read_excel(io.BytesIO(data), sheet_name=0, engine="openpyxl")
    except _EXCEL_FAILURES as error:
        log.info("Excel read failure in %s: %r", filename, error)
        raise DataError(
            f"'{filename}' could not be opened as an Excel workbook; it may be damaged or not "
            "an .xlsx file. Open it in Excel and save it again as .xlsx or .csv."
        ) from None
