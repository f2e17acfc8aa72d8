"""What a Parquet file declares in its footer, checked against ``TableLimits`` before any column
is read: ``open_footer(data, filename, limits) -> Footer``.

The footer gives the row groups, rows and columns, and for every column chunk its number of
values and its uncompressed size. From those, ``Footer.fixed_bytes`` estimates what the
columns decode to, except the text of string and binary columns, which the footer does not
tell: those are read as dictionaries (``Footer.text_leaves``) and measured afterwards.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq

from lib.errors import DataError

from ._limits import MIB, TableLimits, over_limit

log = logging.getLogger(__name__)

# What pyarrow raises on a damaged footer (its Thrift decoder and schema conversion).
PARQUET_FAILURES = (pa.ArrowException, OSError, ValueError, TypeError, KeyError, IndexError,
                    NotImplementedError, EOFError)  # fmt: skip
_MAGIC = b"PAR1"
# A parsed footer takes about 8x its bytes in memory (measured: 10.8 MB -> 88 MB).
_FOOTER_INFLATION = 8
_FIXED_WIDTH = {"BOOLEAN": 1, "INT32": 4, "INT64": 8, "INT96": 8, "FLOAT": 4, "DOUBLE": 8}
_INDEX_WIDTH = 4  # a dictionary index, or one offset of a string or list
# Encodings under which a text chunk stores every value's bytes (levels are RLE/BIT_PACKED).
_STORED_AS_IS = frozenset({"PLAIN", "DELTA_LENGTH_BYTE_ARRAY", "RLE", "BIT_PACKED"})


@dataclass(frozen=True)
class Footer:
    """A parsed footer that passed the declared-size checks.

    metadata: pyarrow.parquet.FileMetaData. schema: pyarrow.Schema the columns read back to.
    text_leaves: list[str], paths of string/binary leaves to read as dictionaries (those that
        may decode to more than they store).
    fixed_bytes: int, estimated decoded bytes of everything but those leaves' text.
    """

    metadata: pq.FileMetaData
    schema: pa.Schema
    text_leaves: list[str]
    fixed_bytes: int


def damaged(filename: str) -> DataError:
    """The refusal of a file that is not readable Parquet."""
    return DataError(
        f"'{filename}' could not be read as Parquet; it may be damaged or cut short. Export "
        "it again, or upload the table as CSV."
    )


def open_footer(data: bytes, filename: str, limits: TableLimits) -> Footer:
    """Parse the footer of Parquet ``data`` and check what it declares (module docstring)."""
    footer_len = _footer_length(data, filename)
    if footer_len * _FOOTER_INFLATION > limits.max_unpacked_bytes:
        raise over_limit(
            filename, "has a table description (footer) that would take about "
            f"{footer_len * _FOOTER_INFLATION / MIB:,.0f} MB to read",
            f"{footer_len / MIB:,.1f} MB as stored", "max_unpacked_mb",
            f"{limits.max_unpacked_bytes / MIB:,.0f} MB",
            "Write it again with fewer, larger row groups.",
        )  # fmt: skip
    try:
        parquet = pq.ParquetFile(pa.BufferReader(data))
        metadata, schema = parquet.metadata, parquet.schema_arrow
        leaves = [parquet.schema.column(j) for j in range(metadata.num_columns)]
    except PARQUET_FAILURES as error:
        log.info("Parquet footer failure in %s: %r", filename, error)
        raise damaged(filename) from None
    _check_shape(metadata, len(schema), filename, limits)
    fixed, expanding, values = _fixed_bytes(metadata, leaves)
    if values > limits.max_cells:
        raise over_limit(
            filename, "holds more values than the app reads, counting every item of its lists",
            f"{values:,} values", "max_cells", f"{limits.max_cells:,} cells",
            "Upload a sample of the rows, or flatten the lists.",
        )  # fmt: skip
    text_leaves = [leaves[j].path for j in sorted(expanding)]
    if fixed > limits.max_unpacked_bytes:
        raise too_large_decoded(filename, fixed, limits)
    return Footer(metadata, schema, text_leaves, fixed)


def too_large_decoded(filename: str, size: int, limits: TableLimits) -> DataError:
    """The refusal of a file whose columns decode to more than ``max_unpacked_mb``."""
    return over_limit(
        filename, "decodes to more data than it stores", f"at least {size / MIB:,.0f} MB",
        "max_unpacked_mb", f"{limits.max_unpacked_bytes / MIB:,.0f} MB",
        "Upload a sample of the rows, or fewer columns.",
    )  # fmt: skip


def _footer_length(data: bytes, filename: str) -> int:
    """The footer's length from the file's last 8 bytes; damaged when it cannot fit."""
    if len(data) < 12 or data[:4] != _MAGIC or data[-4:] != _MAGIC:
        raise damaged(filename)
    footer_len = int.from_bytes(data[-8:-4], "little")
    if footer_len > len(data) - 12:
        raise damaged(filename)
    return footer_len


def _check_shape(metadata: pq.FileMetaData, columns: int, filename: str,
                 limits: TableLimits) -> None:  # fmt: skip
    row_groups = metadata.num_row_groups
    if row_groups > limits.max_row_groups:
        raise over_limit(
            filename, "is split into more row groups than the app reads", f"{row_groups:,}",
            "max_row_groups", f"{limits.max_row_groups:,}",
            "Write it again with larger row groups (pandas and pyarrow do by default).",
        )  # fmt: skip
    # A footer may declare a total that disagrees with its row groups; the reader reads
    # the row groups' rows, so the larger of the two counts.
    rows = max(metadata.num_rows, sum(metadata.row_group(i).num_rows for i in range(row_groups)))
    if rows > limits.max_rows:
        raise over_limit(
            filename, "declares more rows than the app reads", f"{rows:,} rows", "max_rows",
            f"{limits.max_rows:,} rows", "Upload a sample of the rows.",
        )  # fmt: skip
    if columns > limits.max_columns:
        raise over_limit(
            filename, "declares more columns than the app reads", f"{columns:,} columns",
            "max_columns", f"{limits.max_columns:,} columns", "Upload fewer columns.",
        )  # fmt: skip
    if rows * columns > limits.max_cells:
        raise over_limit(
            filename, f"declares {rows:,} rows x {columns:,} columns", f"{rows * columns:,} cells",
            "max_cells", f"{limits.max_cells:,} cells", "Upload a sample of the rows.",
        )  # fmt: skip


def _is_text(leaf: pq.ColumnSchema) -> bool:
    """A BYTE_ARRAY leaf whose decoded size the footer does not give (decimals are fixed)."""
    return leaf.physical_type == "BYTE_ARRAY" and leaf.logical_type.type != "DECIMAL"


def _value_width(leaf: pq.ColumnSchema) -> float:
    """Decoded bytes per value of ``leaf``: its width, validity bits, list offsets."""
    kind = leaf.physical_type
    if leaf.logical_type.type == "DECIMAL":
        width = 16 if leaf.precision <= 38 else 32
    elif kind == "FIXED_LEN_BYTE_ARRAY":
        width = leaf.length
    elif kind == "BYTE_ARRAY":
        width = _INDEX_WIDTH  # the text itself is measured once read as a dictionary
    else:
        width = _FIXED_WIDTH.get(kind, 8)
    validity = 1 / 8 if leaf.max_definition_level > 0 else 0
    return width + validity + _INDEX_WIDTH * leaf.max_repetition_level


def _fixed_bytes(metadata: pq.FileMetaData,
                 leaves: list[pq.ColumnSchema]) -> tuple[int, set[int], int]:  # fmt: skip
    """Estimated decoded bytes, the leaves whose text may decode to more than it stores, and
    the values of all leaves (each item of a list counted, as each costs a cell's work).

    Per column chunk: its values x their width, or its declared uncompressed size when larger
    (one page of that is decompressed at a time, whatever the encoding). A text chunk without
    a dictionary page or prefix encoding stores each value's bytes, so its uncompressed size
    already bounds its text; any other may repeat one long value over many rows.
    """
    widths = [_value_width(leaf) for leaf in leaves]
    repeated = [leaf.max_repetition_level > 0 for leaf in leaves]
    text = {j for j, leaf in enumerate(leaves) if _is_text(leaf)}
    expanding: set[int] = set()
    total = 0.0
    cells = 0
    for i in range(metadata.num_row_groups):
        group = metadata.row_group(i)
        rows = group.num_rows
        for j, width in enumerate(widths):
            chunk = group.column(j)
            # A flat leaf holds one value per row; a list's leaf counts every element.
            values = max(chunk.num_values, 0 if repeated[j] else rows)
            total += max(values * width, chunk.total_uncompressed_size)
            cells += values
            if (
                j in text
                and j not in expanding
                and (chunk.has_dictionary_page or not _STORED_AS_IS.issuperset(chunk.encodings))
            ):
                expanding.add(j)
    return int(total), expanding, cells
