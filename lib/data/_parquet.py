"""Parquet files: ``read_parquet(data, filename, limits)``.

The footer is checked first (``_parquet_footer``). String and binary columns are then read as
dictionaries, so a value repeated over millions of rows costs its distinct values plus 4-byte
indices; their text is measured and checked against ``max_unpacked_mb`` before it is decoded
to plain strings. Columns the writer stored as categoricals stay categoricals.
"""

from __future__ import annotations

import json
import logging

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ._limits import TableLimits
from ._parquet_footer import PARQUET_FAILURES, damaged, open_footer, too_large_decoded

log = logging.getLogger(__name__)

# What pandas' metadata handling raises on a b"pandas" key of the wrong shape.
_METADATA_FAILURES = (TypeError, ValueError, KeyError, IndexError, AttributeError,
                      pa.ArrowException)  # fmt: skip


def read_parquet(data: bytes, filename: str, limits: TableLimits) -> pd.DataFrame:
    """The table in the Parquet file ``data`` (see the module docstring)."""
    footer = open_footer(data, filename, limits)
    try:
        parquet = pq.ParquetFile(pa.BufferReader(data), metadata=footer.metadata,
                                 read_dictionary=footer.text_leaves)  # fmt: skip
        table = parquet.read(use_threads=True)
    except PARQUET_FAILURES as error:
        log.info("Parquet read failure in %s: %r", filename, error)
        raise damaged(filename) from None
    target = _target_schema(footer.schema, table.schema)
    # Columns to decode; categoricals stay dictionaries, so their text is not counted.
    decoded = [
        i for i, (want, got) in enumerate(zip(target, table.schema, strict=True))
        if want.type != got.type and not pa.types.is_dictionary(want.type)
    ]  # fmt: skip
    size = footer.fixed_bytes + sum(_text_bytes(table.column(i)) for i in decoded)
    if size > limits.max_unpacked_bytes:
        raise too_large_decoded(filename, size, limits)
    try:
        table = table.cast(target) if decoded else table
    except PARQUET_FAILURES as error:
        log.info("Parquet decode failure in %s: %r", filename, error)
        raise damaged(filename) from None
    return _to_pandas(table, filename)


def _target_schema(written: pa.Schema, read: pa.Schema) -> pa.Schema:
    """The schema the columns decode to: as written, with pandas categoricals as dictionaries
    (pyarrow stores them so in the schema; another writer may say so only in pandas' own
    metadata)."""
    categoricals = _pandas_categoricals(written.metadata or {})
    fields = [
        got if want.name in categoricals else want for want, got in zip(written, read, strict=True)
    ]
    return pa.schema(fields, metadata=written.metadata)


def _pandas_categoricals(metadata: dict[bytes, bytes]) -> set[str]:
    """Columns the b"pandas" metadata calls categorical; none when it is malformed."""
    try:
        columns = json.loads(metadata.get(b"pandas", b"{}")).get("columns", [])
        return {
            str(column.get("field_name", column.get("name")))
            for column in columns
            if column.get("pandas_type") == "categorical"
        }
    except (ValueError, TypeError, AttributeError):
        return set()


def _text_bytes(column: pa.ChunkedArray) -> int:
    """Bytes the dictionary leaves of ``column`` hold once decoded: each value's text plus
    its offset, computed from the dictionary and indices without decoding."""
    return sum(_array_text_bytes(chunk) for chunk in column.chunks)


def _array_text_bytes(array: pa.Array) -> int:
    kind = array.type
    if pa.types.is_dictionary(kind):
        if not (pa.types.is_string(kind.value_type) or pa.types.is_binary(kind.value_type)):
            return 0
        lengths = pc.binary_length(array.dictionary)
        text = pc.sum(pc.take(lengths, array.indices)).as_py() or 0
        return int(text) + 4 * len(array)
    if isinstance(array, pa.StructArray):
        return sum(_array_text_bytes(array.field(i)) for i in range(kind.num_fields))
    if isinstance(array, pa.ListArray | pa.LargeListArray | pa.FixedSizeListArray):
        return _array_text_bytes(array.values)  # a map's values are its key/value structs
    return 0


def _to_pandas(table: pa.Table, filename: str) -> pd.DataFrame:
    """``table.to_pandas()``; when the writer's pandas metadata is malformed, the data is
    still good, so it is converted again without that metadata (dropped, as pyarrow parses
    it even when told to ignore it)."""
    try:
        return table.to_pandas()
    except _METADATA_FAILURES as error:
        log.info("Parquet pandas metadata ignored in %s: %r", filename, error)
    metadata = {k: v for k, v in (table.schema.metadata or {}).items() if k != b"pandas"}
    try:
        return table.replace_schema_metadata(metadata).to_pandas(ignore_metadata=True)
    except PARQUET_FAILURES as error:
        log.info("Parquet conversion failure in %s: %r", filename, error)
        raise damaged(filename) from None
