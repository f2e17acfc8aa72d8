"""Parquet files: ``read_parquet(data, filename, limits)``."""

from __future__ import annotations

import io
import logging

import pandas as pd
import pyarrow as pa

from lib.errors import DataError

from ._limits import TableLimits

log = logging.getLogger(__name__)


def read_parquet(data: bytes, filename: str, limits: TableLimits) -> pd.DataFrame:
    """The table in the Parquet file ``data``."""
    try:
        return pd.read_parquet(io.BytesIO(data), engine="pyarrow")
    except (pa.ArrowException, OSError, ValueError) as error:
        log.info("Parquet read failure in %s: %r", filename, error)
        raise DataError(
            f"'{filename}' could not be read as Parquet; it may be damaged or cut short. Export "
            "it again, or upload the table as CSV."
        ) from None
