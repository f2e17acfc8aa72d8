"""Builders of hostile (and genuine) Parquet and JSON files for the reader tests. Each is
generated in the test and kept small on disk; what it would decode to is in its docstring."""

from __future__ import annotations

import io
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def parquet_bytes(table: pa.Table, **options) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer, **options)
    return buffer.getvalue()


def repeated_long_string(rows: int = 20_000, value_chars: int = 50_000) -> bytes:
    """One string column: a single ``value_chars`` value over ``rows`` rows, dictionary
    encoded (~1 GB decoded from a file of a few KB). No stored Arrow schema, so the reader
    cannot know it as a categorical."""
    value = "x" * value_chars
    column = pa.DictionaryArray.from_arrays(np.zeros(rows, dtype=np.int32), [value])
    table = pa.table({"text": column})
    return parquet_bytes(table, store_schema=False, compression="zstd")


def constant_ints(row_groups: int = 20, rows_per_group: int = 1_000_000) -> bytes:
    """One int64 column of zeros: ``row_groups`` x ``rows_per_group`` rows run-length encoded
    (160 MB decoded by default, a few KB stored)."""
    table = pa.table({"zero": np.zeros(rows_per_group, dtype=np.int64)})
    buffer = io.BytesIO()
    with pq.ParquetWriter(buffer, table.schema, compression="zstd") as writer:
        for _ in range(row_groups):
            writer.write_table(table)
    return buffer.getvalue()


def tiny_row_groups(row_groups: int) -> bytes:
    """``row_groups`` row groups of one row each."""
    table = pa.table({"a": [1], "b": ["x"]})
    buffer = io.BytesIO()
    with pq.ParquetWriter(buffer, table.schema) as writer:
        for _ in range(row_groups):
            writer.write_table(table)
    return buffer.getvalue()


def many_columns(columns: int, rows: int = 2) -> bytes:
    return parquet_bytes(pa.table({f"c{i}": np.arange(rows) for i in range(columns)}))


def nested_and_binary() -> bytes:
    """A struct, a list, a map and a non-UTF-8 binary column (a genuine file)."""
    table = pa.table(
        {
            "id": [1, 2, 3],
            "point": pa.array([{"x": 1.0, "tag": "a"}, {"x": 2.0, "tag": "b"}, None]),
            "tags": pa.array([["a", "b"], [], None]),
            "attrs": pa.array([[("k", "v")], [], None], type=pa.map_(pa.string(), pa.string())),
            "blob": pa.array([b"\xff\xfe\x00", b"ok", None]),
        }
    )
    return parquet_bytes(table)


def with_pandas_metadata(raw: bytes) -> bytes:
    """A small genuine table whose b"pandas" schema metadata is replaced by ``raw``."""
    table = pa.table({"name": ["a", "b"], "count": [1, 2]})
    return parquet_bytes(table.replace_schema_metadata({b"pandas": raw}))


def lying_footer(size: int = 4096, seed: int = 0) -> bytes:
    """Random bytes between the magic numbers, declaring a footer of random bytes."""
    body = np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes()
    return b"PAR1" + body + (size // 2).to_bytes(4, "little") + b"PAR1"


def deep_records(depth: int, rows: int = 3) -> bytes:
    """Records whose last row holds a value nested ``depth`` levels (the record adds 2)."""
    records = [json.dumps({"a": i, "b": [i]}) for i in range(rows - 1)]
    records.append('{"a": 0, "b": ' + "[" * depth + "]" * depth + "}")
    return ("[" + ", ".join(records) + "]").encode()


def deep_lines(depth: int, line: int) -> bytes:
    """JSON lines where line ``line`` nests ``depth`` levels."""
    lines = [json.dumps({"a": i}) for i in range(line - 1)]
    lines.append('{"a": ' + "[" * depth + "]" * depth + "}")
    lines.append(json.dumps({"a": 99}))
    return "\n".join(lines).encode()


def many_keys_line(keys: int = 100_000) -> bytes:
    """JSON lines whose second line has ``keys`` distinct keys."""
    wide = ", ".join(f'"k{i}": {i}' for i in range(keys))
    return b'{"a": 1}\n{' + wide.encode() + b"}\n"
