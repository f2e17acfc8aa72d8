"""Tests for lib/profile: any column profiles without raising, wide tables profile the same as
one column at a time, and profiles cross a process boundary as checked JSON."""

from __future__ import annotations

import datetime
import decimal
import io
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lib.profile import (
    BINARY,
    BOOLEAN,
    CATEGORICAL,
    DATETIME,
    EMPTY,
    IDENTIFIER,
    NESTED,
    NUMERIC,
    ColumnProfile,
    numeric_stats,
    profile_column,
    profile_table,
)
from lib.profile._numbers import _sorted_quantiles, profile_number_block
from lib.profile._record import MAX_VALUE_CHARS

NESTED_REASON = "holds lists or records (nested values)"


def _profile(values, dtype=None, name="col") -> ColumnProfile:
    return profile_column(pd.Series(values, dtype=dtype, name=name))


def _check_plain(profile: ColumnProfile) -> None:
    """Every profile is plain data that survives JSON both ways."""
    assert all(type(v) is float for v in profile.stats.values())
    assert all(type(v) is str and type(c) is int for v, c in profile.top_values)
    assert ColumnProfile.from_json(json.loads(json.dumps(profile.to_json()))) == profile


@pytest.mark.parametrize(
    "values",
    [
        [{"a": {"b": 1}}, {"a": [1, 2]}, None] * 5,
        [[1, 2], [3], None, []] * 5,
        [np.array([1, 2]), np.array([3.5])] * 5,
        [(1, [2]), (3,)] * 5,
        [{1, 2}, {3}] * 5,
        [1, "a", 2.5, {"x": 1}, None] * 5,  # one record among scalars makes it nested
    ],
    ids=["records", "lists", "arrays", "tuples", "sets", "mixed-with-record"],
)
def test_nested_values_are_left_out_with_the_reason(values):
    column = _profile(values)
    assert column.kind == NESTED
    assert not column.usable and NESTED_REASON in column.reason
    assert column.n_distinct >= 2
    assert all(len(value) <= 60 for value, _ in column.top_values)
    _check_plain(column)


def test_nested_values_show_as_short_json():
    long_record = {"text": "x" * 500}
    column = _profile([{"a": 1}, {"a": 1}, long_record, None])
    assert column.top_values[0] == ('{"a": 1}', 2)
    assert column.top_values[1][0].endswith("…") and len(column.top_values[1][0]) == 60
    assert column.n_missing == 1 and column.n_distinct == 2


def test_deeply_nested_and_odd_keys_do_not_raise():
    deep: list = []
    for _ in range(5_000):  # deeper than Python's recursion limit
        deep = [deep]
    column = _profile([deep, {(1, 2): "tuple key"}, [b"\xff"]])
    assert column.kind == NESTED and column.n_distinct == 3


@pytest.mark.parametrize(
    "values",
    [
        [b"\xff\x00\xfe", b"plain", None] * 5,  # not UTF-8
        [bytearray(b"\x80"), b"\x81", memoryview(b"\x82")] * 5,
        [b"\xff", "text", 3] * 5,
    ],
    ids=["bytes", "bytearray-memoryview", "bytes-among-scalars"],
)
def test_binary_values_are_left_out(values):
    column = _profile(values)
    assert column.kind == BINARY
    assert column.reason == "holds binary data, not numbers or text"
    assert column.top_values[0][0].startswith("b'") or column.top_values[0][0] == "text"
    _check_plain(column)


def test_mixed_scalars_are_text_like():
    rng = np.random.default_rng(0)
    column = _profile(rng.choice(np.array([1, "a", 2.5, "b", None], dtype=object), 200))
    assert column.kind == CATEGORICAL and column.usable
    assert {value for value, _ in column.top_values} == {"1", "a", "2.5", "b"}
    # Every value different: an identifier, as for strings.
    codes = [i if i % 2 else f"c{i}" for i in range(300)]
    assert _profile(codes).kind == IDENTIFIER
    # 1, 1.0 and True are one value to pandas (and Python), though their text differs.
    assert _profile([1, 1.0, True, "x"] * 5).n_distinct == 2


def test_all_none_object_column_is_empty():
    column = _profile([None, np.nan, pd.NA, pd.NaT] * 3, dtype=object)
    assert column.kind == EMPTY and column.reason == "has no values"
    assert column.n_missing == 12


@pytest.mark.parametrize(
    ("values", "dtype", "kind"),
    [
        (["a", "b", "a", None] * 5, "category", CATEGORICAL),
        ([b"\xff", b"b"] * 5, "category", BINARY),
        (["a", "b", None] * 5, "str", CATEGORICAL),
        (["a", "b", None] * 5, pd.ArrowDtype(pa.string()), CATEGORICAL),
        (["a", "b", None] * 5, pd.ArrowDtype(pa.string_view()), CATEGORICAL),
        (["yes", "no", None] * 5, pd.StringDtype("python"), BOOLEAN),
        ([1, 2, 3, None] * 5, pd.ArrowDtype(pa.int64()), NUMERIC),
        ([1.5, None, 2.5] * 5, pd.ArrowDtype(pa.float32()), NUMERIC),
        (
            [decimal.Decimal("1.5"), decimal.Decimal("2.25"), None] * 5,
            pd.ArrowDtype(pa.decimal128(6, 2)),
            NUMERIC,
        ),
        ([True, False, None] * 5, pd.ArrowDtype(pa.bool_()), BOOLEAN),
        ([datetime.date(2024, 1, d) for d in range(1, 16)], pd.ArrowDtype(pa.date32()), DATETIME),
        ([b"\xff", None] * 5, pd.ArrowDtype(pa.binary()), BINARY),
        ([[1], [2, 3], None] * 5, pd.ArrowDtype(pa.list_(pa.int64())), NESTED),
        ([{"a": 1}, {"a": 2}] * 5, pd.ArrowDtype(pa.struct([("a", pa.int64())])), NESTED),
        ([None] * 5, pd.ArrowDtype(pa.null()), EMPTY),
        ([b"\xff", None] * 5, pd.ArrowDtype(pa.binary_view()), BINARY),
        ([[1], None] * 5, pd.ArrowDtype(pa.large_list(pa.int8())), NESTED),
        ([1, 2, 3, None] * 5, "Int64", NUMERIC),
        ([1.5, 2.5, None] * 5, "Float64", NUMERIC),
        ([True, False, None] * 5, "boolean", BOOLEAN),
        (pd.to_timedelta([1, 2, 3] * 5, unit="s"), None, CATEGORICAL),
        (pd.date_range("2024-01-01", periods=15, tz="UTC"), None, DATETIME),
        (pd.period_range("2024-01", periods=15, freq="M"), None, CATEGORICAL),
        (pd.interval_range(0, 15), None, CATEGORICAL),
        (pd.arrays.SparseArray([0, 1, 0] * 5), None, BOOLEAN),
        ([decimal.Decimal("1.5"), decimal.Decimal("2"), None] * 5, object, CATEGORICAL),
        ([1 + 2j, 3j, 0j] * 5, None, CATEGORICAL),  # not real numbers: their text
        ([10**5000, 1, 2] * 5, object, CATEGORICAL),  # an int too long to print
        (np.array([1, 2, 3] * 5, dtype="float16"), None, NUMERIC),
        (np.array([2**64 - 1, 0, 5] * 5, dtype="uint64"), None, NUMERIC),
        ([1.0, np.inf, -np.inf, np.nan] * 5, None, NUMERIC),
        ([np.inf, -np.inf, np.nan] * 5, None, NUMERIC),  # no finite values: no stats
    ],
)
def test_every_dtype_profiles(values, dtype, kind):
    column = _profile(values, dtype)
    assert column.kind == kind
    _check_plain(column)


@pytest.mark.parametrize("dtype", ["Int64", "Float64", pd.ArrowDtype(pa.int64()), "float64"])
def test_all_missing_numbers_are_empty(dtype):
    column = _profile([None] * 6, dtype)
    assert column.kind == EMPTY and column.n_missing == 6 and column.n_distinct == 0


@pytest.mark.parametrize("dtype", ["float64", "int64", "bool", object, "str", "category"])
def test_no_rows(dtype):
    assert _profile([], dtype).kind == EMPTY
    assert profile_table(pd.DataFrame({"a": []}, dtype=dtype))[0].kind == EMPTY


def test_integer_identifiers_of_extension_dtypes():
    assert _profile(range(30), "Int64", name="row_id").kind == IDENTIFIER
    assert _profile(range(1, 31), pd.ArrowDtype(pa.int32()), name="n").kind == IDENTIFIER


def test_json_records_frame():
    records = [
        {"id": i, "name": f"n{i % 7}", "meta": {"a": {"b": i}}, "tags": ["x", "y"][: i % 3]}
        for i in range(50)
    ]
    by_name = {p.name: p for p in profile_table(pd.DataFrame.from_records(records))}
    assert by_name["meta"].kind == NESTED and by_name["tags"].kind == NESTED
    assert by_name["name"].kind == CATEGORICAL and by_name["name"].usable
    assert by_name["id"].kind == IDENTIFIER


def test_parquet_nested_and_binary_columns():
    table = pa.table(
        {
            "list": pa.array([[1, 2], None, [3]] * 10, pa.list_(pa.int64())),
            "struct": pa.array([{"a": 1, "b": "x"}, None, {"a": 2, "b": "y"}] * 10),
            "map": pa.array(
                [[("k", 1)], [("k", 2), ("j", 3)], None] * 10, pa.map_(pa.string(), pa.int64())
            ),
            "binary": pa.array([b"\xff\xfe", b"\x00", None] * 10, pa.binary()),
            "number": pa.array(np.arange(30) * 1.5),
        }
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    buffer.seek(0)
    frame = pd.read_parquet(buffer)
    for read in (frame, pd.read_parquet(io.BytesIO(buffer.getvalue()), dtype_backend="pyarrow")):
        by_name = {p.name: p for p in profile_table(read)}
        assert [by_name[n].kind for n in ("list", "struct", "map")] == [NESTED] * 3
        assert by_name["binary"].kind == BINARY and by_name["binary"].n_missing == 10
        assert by_name["number"].kind == NUMERIC and by_name["number"].usable
        for profile in by_name.values():
            _check_plain(profile)


@pytest.mark.parametrize("dtype", ["str", object])
def test_dates_rule_reads_the_first_thousand_values(dtype):
    def kind(n_dates: int, n_other: int, tail: int = 0) -> str:
        values = ["2024-01-02"] * n_dates + ["soon"] * n_other + ["later"] * tail
        return _profile(values, dtype).kind

    assert kind(951, 49) == DATETIME  # more than 95% of the head
    assert kind(950, 50) == CATEGORICAL
    assert kind(1000, 0, tail=5000) == DATETIME  # only the first 1,000 values count
    assert kind(39, 1) == DATETIME and kind(19, 1) == CATEGORICAL  # 95% is not more


def test_duplicate_and_odd_column_names():
    frame = pd.DataFrame([[1.5, "a", 2], [2.5, "b", 3]], columns=["x", "x", None])
    assert [p.name for p in profile_table(frame)] == [str(c) for c in frame.columns]
    assert [p.kind for p in profile_table(frame)][:2] == [NUMERIC, CATEGORICAL]


def test_long_top_values_are_cut():
    column = _profile(["y" * 5_000, "short"] * 5)
    assert len(column.top_values[0][0]) == MAX_VALUE_CHARS
    assert column.top_values[1] == ("short", 5)


# Wide tables: the block profiler gives what one column alone gives.


def _wide_numbers(rows: int, columns: int) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    values = rng.normal(size=(rows, columns)).round(2)
    values[rng.random(size=values.shape) < 0.03] = np.nan
    values[:, 1::7] = np.inf  # some columns with infinities among the numbers
    values[::5, 1::7] = 1.0
    values[:, 2::7] = rng.integers(0, 2, size=(rows, len(range(2, columns, 7))))  # 0/1
    values[:, 3::7] = 7.0  # constant
    values[:, 4::7] = np.nan  # empty
    frame = pd.DataFrame(values, columns=[f"x{i}" for i in range(columns)])
    ints = rng.integers(-5, 100, size=(rows, columns // 10))
    ints[:, 0] = rng.permutation(rows) + 1  # a shuffled run of row numbers
    ints[:, 1] = rng.permutation(rows) * 3  # unique, but not a run
    frame = frame.join(pd.DataFrame(ints, columns=[f"i{i}" for i in range(ints.shape[1])]))
    frame["row_id"] = rng.permutation(rows) * 11
    frame["flag"] = rng.random(rows) < 0.3
    return frame


def test_wide_numeric_frame_profiles_as_columns_alone():
    frame = _wide_numbers(300, 20_000)
    profiles = profile_table(frame)
    assert len(profiles) == frame.shape[1]
    rng = np.random.default_rng(4)
    picks = set(rng.choice(frame.shape[1], 300, replace=False).tolist())
    picks |= set(range(10)) | {20_000, 20_001, frame.shape[1] - 2, frame.shape[1] - 1}
    for position in sorted(picks):
        assert profiles[position] == profile_column(frame.iloc[:, position]), position
    kinds = {p.name: p.kind for p in profiles}
    assert [kinds[f"x{i}"] for i in range(5)] == [NUMERIC, NUMERIC, BOOLEAN, NUMERIC, EMPTY]
    assert (kinds["i0"], kinds["i1"], kinds["row_id"], kinds["flag"]) == (
        IDENTIFIER, NUMERIC, IDENTIFIER, BOOLEAN,
    )  # fmt: skip


@pytest.mark.slow
def test_wide_string_frame_profiles_as_columns_alone():
    rng = np.random.default_rng(5)
    rows, columns = 300, 20_000
    words = np.array(["red", "green", "blue", "Yes", "no", "2024-01-02", "a b c d e", None])
    frame = pd.DataFrame(words[rng.integers(0, len(words), size=(rows, columns))])
    frame.columns = [f"s{i}" for i in range(columns)]
    frame["code"] = [f"C{i:05d}" for i in rng.permutation(rows)]
    frame["yes_no"] = rng.choice(["Yes", "No"], rows)
    frame["when"] = [f"2024-02-{d:02d}" for d in rng.integers(1, 29, rows)]
    frame = frame.astype("str")
    profiles = profile_table(frame)
    picks = set(rng.choice(columns, 300, replace=False).tolist()) | {columns, columns + 1}
    for position in sorted(picks | {columns + 2}):
        assert profiles[position] == profile_column(frame.iloc[:, position]), position
    kinds = [p.kind for p in profiles[-3:]]
    assert kinds == [IDENTIFIER, BOOLEAN, DATETIME]


def test_block_stats_equal_numeric_stats_of_each_column():
    rng = np.random.default_rng(6)
    for rows in (1, 2, 3, 7, 64, 129, 1000, 4097):
        block = rng.normal(size=(rows, 12)) * rng.uniform(1, 1e6, size=12)
        block[rng.random(size=block.shape) < 0.2] = np.nan
        block[:, [0, 4, 5]] = rng.normal(size=(rows, 3)) * 1e3  # all finite
        if rows > 3:
            block[1, 1], block[2, 1] = np.inf, -np.inf
        names = [f"c{j}" for j in range(12)]
        profiles = profile_number_block(np.asfortranarray(block), names, "float64", rows, 1.0)
        for j, profile in enumerate(profiles):
            finite = block[:, j][np.isfinite(block[:, j])]
            assert profile.stats == numeric_stats(finite), (rows, j)


def test_sorted_quantiles_equal_numpy_quantile():
    rng = np.random.default_rng(7)
    sizes = np.array([1, 2, 3, 4, 5, 10, 99, 100, 101, 1000, 12345])
    columns = [np.sort(rng.standard_cauchy(size=n)) for n in sizes]
    ordered = np.full((sizes.max(), len(sizes)), np.nan)
    for j, values in enumerate(columns):
        ordered[: len(values), j] = values
    cols = np.arange(len(sizes))
    quantiles = _sorted_quantiles(lambda rows: ordered[rows, cols], np.zeros_like(sizes), sizes)
    for j, values in enumerate(columns):
        expected = np.quantile(values, [0.01, 0.5, 0.99])
        assert [q[j] for q in quantiles] == expected.tolist()


# JSON between processes.


def _plain() -> dict:
    frame = pd.DataFrame({"v": [1.5, 2.5, None, 4.0] * 5, "c": ["a", "b", "a", None] * 5})
    return profile_table(frame)[0].to_json()


def test_json_round_trip():
    frame = pd.DataFrame({"v": [1.5, 2.5, None, 4.0] * 5, "c": ["a", "b", "a", None] * 5})
    for profile in profile_table(frame):
        plain = profile.to_json()
        assert json.loads(json.dumps(plain)) == plain
        assert ColumnProfile.from_json(json.loads(json.dumps(plain))) == profile


@pytest.mark.parametrize(
    "change",
    [
        {"kind": "spreadsheet"},
        {"kind": 3},
        {"name": 5},
        {"name": "n" * 10_000_000},
        {"dtype": "d" * 5_000},
        {"reason": ["list"]},
        {"reason": "r" * 5_000},
        {"n_rows": -1},
        {"n_rows": 2.0},
        {"n_rows": True},
        {"n_missing": -3},
        {"n_missing": 10**9},  # more than the rows
        {"n_distinct": "7"},
        {"stats": {"min": "1"}},
        {"stats": {"minimum": 1.0}},
        {"stats": {"min": True}},
        {"stats": [1.0]},
        {"top_values": [["a", 1]] * 11},
        {"top_values": [["a", -1]]},
        {"top_values": [["a", 1, 2]]},
        {"top_values": [[1, 1]]},
        {"top_values": [["x" * 10_000, 1]]},
        {"top_values": "a"},
    ],
)
def test_from_json_refuses_malformed(change):
    plain = {**_plain(), **change}
    with pytest.raises(ValueError):
        ColumnProfile.from_json(plain)


@pytest.mark.parametrize("plain", [None, [], "profile", {}, "extra key"])
def test_from_json_refuses_wrong_shapes(plain):
    if plain == "extra key":
        plain = {**_plain(), "extra": 1}
    with pytest.raises(ValueError):
        ColumnProfile.from_json(plain)


def test_from_json_refuses_missing_keys():
    plain = _plain()
    del plain["stats"]
    with pytest.raises(ValueError):
        ColumnProfile.from_json(plain)
