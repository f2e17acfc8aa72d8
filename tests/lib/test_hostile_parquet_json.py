"""Hostile Parquet and JSON uploads are refused with a plain DataError before the reader
allocates for them; genuine files still read right.

Memory bounds: each hostile file would decode to hundreds of MB or more (stated per test);
the bound asserted is far below that and well above the few MB the checks themselves use
(numpy chunks, a parsed footer, Python's allocator noise).
"""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lib.data import TableLimits, read_table
from lib.errors import DataError
from tests import hostile_tables as hostile
from tests.memory_watch import resident_growth

SMALL = TableLimits(max_unpacked_mb=50, max_row_groups=100, max_columns=100, max_json_depth=10,
                    max_number_digits=20)  # fmt: skip
FEW_ROWS = TableLimits(max_rows=1_000)


def _refused(data: bytes, filename: str, limits: TableLimits = SMALL,
             bound_mb: float = 60) -> str:  # fmt: skip
    with resident_growth() as growth, pytest.raises(DataError) as caught:
        read_table(data, filename, limits=limits)
    assert growth.peak_mb < bound_mb, growth.peak_mb
    return str(caught.value)


# --- Parquet: refused ---------------------------------------------------------------------


def test_a_long_value_repeated_by_a_dictionary_is_measured_before_decoding():
    data = hostile.repeated_long_string(rows=20_000, value_chars=50_000)  # 1 GB decoded
    assert len(data) < 100_000
    message = _refused(data, "words.parquet")  # 60 MB: far below 1 GB
    assert "decodes to more data" in message and "MODEL_STUDIO_MAX_TABLE_UNPACKED_MB" in message


def test_run_length_encoded_ints_are_estimated_from_the_footer():
    data = hostile.constant_ints(row_groups=20, rows_per_group=1_000_000)  # 160 MB decoded
    assert len(data) < 200_000
    message = _refused(data, "zeros.parquet", bound_mb=40)  # decoding would take 160 MB
    assert "MODEL_STUDIO_MAX_TABLE_UNPACKED_MB" in message


def test_every_item_of_a_list_counts_as_a_cell():
    # One row whose list holds 3,000,000 zeros: a file of about a kilobyte, each item of which
    # would cost a cell's work (and JSON text) once read.
    buffer = io.BytesIO()
    items = pa.array([[0] * 3_000_000], type=pa.list_(pa.int8()))
    pq.write_table(pa.table({"id": [1], "items": items}), buffer, compression="zstd")
    assert len(buffer.getvalue()) < 5_000
    message = _refused(buffer.getvalue(), "list.parquet", TableLimits(max_cells=1_000_000), 30)
    assert "3,000,001 values" in message and "MODEL_STUDIO_MAX_TABLE_CELLS" in message


def test_thousands_of_tiny_row_groups():
    message = _refused(hostile.tiny_row_groups(2_000), "groups.parquet", bound_mb=30)
    assert "2,000" in message and "row groups" in message
    assert "MODEL_STUDIO_MAX_PARQUET_ROW_GROUPS" in message


def test_too_many_columns():
    message = _refused(hostile.many_columns(150), "wide.parquet", bound_mb=30)
    assert "150 columns" in message and "MODEL_STUDIO_MAX_TABLE_COLUMNS" in message


def test_too_many_rows_and_cells():
    data = hostile.constant_ints(row_groups=1, rows_per_group=5_000)
    assert "MODEL_STUDIO_MAX_TABLE_ROWS" in _refused(data, "rows.parquet", FEW_ROWS)
    cells = TableLimits(max_cells=1_000)
    assert "MODEL_STUDIO_MAX_TABLE_CELLS" in _refused(hostile.many_columns(20, rows=100),
                                                      "cells.parquet", cells)  # fmt: skip


def test_a_footer_over_the_limit_is_refused_before_it_is_parsed():
    data = hostile.tiny_row_groups(2_000)  # a footer of ~0.5 MB parses to ~4 MB
    message = _refused(data, "groups.parquet", TableLimits(max_unpacked_mb=1), bound_mb=30)
    assert "footer" in message and "MODEL_STUDIO_MAX_TABLE_UNPACKED_MB" in message


@pytest.mark.parametrize(
    "data",
    [
        hostile.nested_and_binary()[:-100],
        hostile.nested_and_binary()[:200],
        hostile.lying_footer(),
        hostile.lying_footer(seed=1)[:-8] + (10**9).to_bytes(4, "little") + b"PAR1",
        b"PAR1PAR1",
    ],
    ids=["truncated-end", "truncated-start", "lying-footer", "footer-longer-than-file", "magic"],
)
def test_damaged_files_are_plain_refusals(data):
    message = _refused(data, "broken.parquet", bound_mb=30)
    assert "could not be read as Parquet" in message and "CSV" in message


# --- Parquet: genuine ---------------------------------------------------------------------


def test_nested_and_binary_columns_come_back_as_python_values():
    frame = read_table(hostile.nested_and_binary(), "nested.parquet", limits=SMALL)
    assert frame["id"].tolist() == [1, 2, 3]
    assert frame["point"].iloc[0] == {"x": 1.0, "tag": "a"}
    assert list(frame["tags"].iloc[0]) == ["a", "b"] and len(frame["tags"].iloc[1]) == 0
    assert list(frame["attrs"].iloc[0]) == [("k", "v")]
    assert frame["blob"].iloc[0] == b"\xff\xfe\x00"
    assert all(frame[c].dtype == object for c in ("point", "tags", "attrs", "blob"))


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"[1, 2, 3]", b'{"columns": 5}',
     json.dumps({"index_columns": ["missing"], "columns": []}).encode()],
    ids=["garbage", "wrong-shape", "columns-not-a-list", "missing-index-column"],
)  # fmt: skip
def test_odd_pandas_metadata_is_ignored_and_the_data_read(raw):
    frame = read_table(hostile.with_pandas_metadata(raw), "odd.parquet", limits=SMALL)
    assert frame["name"].tolist() == ["a", "b"]
    assert frame["count"].tolist() == [1, 2]


def test_genuine_parquet_keeps_values_dtypes_categoricals_and_dates():
    n = 500
    expected = pd.DataFrame(
        {
            "x": np.linspace(0, 1, n),
            "k": np.arange(n),
            "city": np.where(np.arange(n) % 2 == 0, "Paris", "Lyon"),
            "id": [f"id-{i}" for i in range(n)],
            "level": pd.Categorical(np.where(np.arange(n) % 3 == 0, "low", "high")),
            "when": pd.date_range("2024-01-01", periods=n, freq="h"),
            "flag": np.arange(n) % 2 == 0,
        }
    )
    buffer = io.BytesIO()
    expected.to_parquet(buffer, index=False)
    frame = read_table(buffer.getvalue(), "t.parquet", limits=SMALL)
    pd.testing.assert_frame_equal(frame, expected)
    assert frame["level"].dtype == "category"
    assert pd.read_parquet(io.BytesIO(buffer.getvalue())).dtypes.equals(frame.dtypes)


def test_a_repeated_short_value_is_genuine():
    data = hostile.repeated_long_string(rows=20_000, value_chars=10)  # 200 KB decoded
    frame = read_table(data, "words.parquet", limits=SMALL)
    assert frame["text"].nunique() == 1 and len(frame) == 20_000
    assert pd.api.types.is_string_dtype(frame["text"].dtype)
    assert frame["text"].dtype != "category"


# --- JSON: refused ------------------------------------------------------------------------


def test_deep_records_are_refused_before_parsing():
    message = _refused(hostile.deep_records(depth=200_000), "deep.json", bound_mb=40)
    assert "nests values more deeply" in message and "MODEL_STUDIO_MAX_JSON_DEPTH" in message


def test_a_deep_json_line_names_its_line():
    message = _refused(hostile.deep_lines(depth=50, line=4), "deep.jsonl", bound_mb=30)
    assert "line 4" in message and "MODEL_STUDIO_MAX_JSON_DEPTH" in message


def test_a_long_number_is_refused_under_the_configured_limit():
    data = b'[{"a": 1}, {"a": ' + b"1" * 25 + b"}]"
    message = _refused(data, "long.json", bound_mb=30)
    assert "25 characters" in message and "MODEL_STUDIO_MAX_JSON_NUMBER_DIGITS" in message


def test_brackets_and_escaped_quotes_inside_strings_do_not_count():
    text = 'x \\" [[[[[[[[[[[[ {{{{{{{{{{{{ \\\\" 1234567890123456789012345'
    raw = json.dumps([{"note": text + '"[[[', "n": 1}, {"note": "]]]", "n": 2}]).encode()
    frame = read_table(raw, "strings.json", limits=SMALL)
    assert frame["note"].tolist() == [text + '"[[[', "]]]"]


def test_a_json_line_with_100000_keys_is_refused_by_the_column_count():
    # pandas would build 100,000 columns (~2 minutes); the count stops at 30,001 keys.
    message = _refused(hostile.many_keys_line(100_000), "wide.jsonl", TableLimits(),
                       bound_mb=60)  # fmt: skip
    assert "columns" in message and "MODEL_STUDIO_MAX_TABLE_COLUMNS" in message


def test_json_rows_over_the_limit():
    records = b"[" + b",".join(b'{"a": 1}' for _ in range(1_500)) + b"]"
    assert "MODEL_STUDIO_MAX_TABLE_ROWS" in _refused(records, "rows.json", FEW_ROWS)
    lines = b"\n".join(b'{"a": 1}' for _ in range(1_500))
    assert "MODEL_STUDIO_MAX_TABLE_ROWS" in _refused(lines, "rows.jsonl", FEW_ROWS)


def test_json_column_form_too_wide_or_too_many_cells():
    wide = json.dumps({f"c{i}": [1, 2] for i in range(150)}).encode()
    assert "MODEL_STUDIO_MAX_TABLE_COLUMNS" in _refused(wide, "wide.json")
    tall = json.dumps({"a": list(range(600)), "b": [1]}).encode()
    limits = TableLimits(max_cells=1_000)
    assert "MODEL_STUDIO_MAX_TABLE_CELLS" in _refused(tall, "tall.json", limits)


# --- JSON: genuine ------------------------------------------------------------------------


def test_nested_records_are_returned_as_dicts_and_lists():
    raw = json.dumps([{"id": 1, "who": {"name": "a"}, "tags": ["x"]},
                      {"id": 2, "who": {"name": "b"}, "tags": []}]).encode()  # fmt: skip
    frame = read_table(raw, "nested.json", limits=SMALL)
    assert frame["who"].tolist() == [{"name": "a"}, {"name": "b"}]
    assert frame["tags"].tolist() == [["x"], []]
    assert frame["id"].tolist() == [1, 2]
