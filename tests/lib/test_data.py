"""Tests for lib/data.py: reading an uploaded table from bytes."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from lib.data import read_table
from lib.errors import DataError, UserError

ROWS = [("a", 1, 1.5), ("b", 2, 2.5), ("c", 3, -0.25)]


def _delimited(delimiter: str) -> bytes:
    lines = [delimiter.join(["name", "count", "value"])]
    lines += [delimiter.join(str(v) for v in row) for row in ROWS]
    return ("\n".join(lines) + "\n").encode()


def _assert_rows(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == ["name", "count", "value"]
    assert frame["name"].tolist() == ["a", "b", "c"]
    assert frame["count"].tolist() == [1, 2, 3]
    assert pd.api.types.is_integer_dtype(frame["count"].dtype)
    assert pd.api.types.is_float_dtype(frame["value"].dtype)
    assert frame["value"].tolist() == [1.5, 2.5, -0.25]


def _error(data_bytes: bytes, filename: str, **kwargs) -> str:
    with pytest.raises(DataError) as caught:
        read_table(data_bytes, filename, **kwargs)
    assert isinstance(caught.value, UserError)
    return str(caught.value)


# --- delimited text ---------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"], ids=["comma", "semi", "tab", "pipe"])
def test_delimiter_is_sniffed(delimiter):
    _assert_rows(read_table(_delimited(delimiter), "table.csv"))


@pytest.mark.parametrize("filename", ["table.tsv", "table.txt", "TABLE.TSV", "no_extension"])
def test_tsv_txt_and_unknown_extensions_read_as_text(filename):
    _assert_rows(read_table(_delimited("\t"), filename))


def test_decimal_commas_with_semicolons_give_floats():
    raw = b"city;temp;rain\nParis;12,5;0,3\nLyon;-3,25;1,0\nNice;20,0;0,0\n"
    frame = read_table(raw, "weather.csv")
    assert pd.api.types.is_float_dtype(frame["temp"].dtype)
    assert frame["temp"].tolist() == [12.5, -3.25, 20.0]
    assert frame["rain"].tolist() == [0.3, 1.0, 0.0]
    assert frame["city"].tolist() == ["Paris", "Lyon", "Nice"]


def test_commas_stay_delimiters_when_the_delimiter_is_a_comma():
    frame = read_table(b"a,b\n1,2\n3,4\n", "t.csv")
    assert frame["a"].tolist() == [1, 3]
    assert frame["b"].tolist() == [2, 4]


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["plain", "bom"])
def test_utf8_with_and_without_bom(bom):
    raw = bom + "prénom,ville,montant\nJosé,Zürich,3\nZoë,Kraków,4\n".encode()
    frame = read_table(raw, "people.csv")
    assert list(frame.columns) == ["prénom", "ville", "montant"]  # BOM not glued to the name
    assert frame["prénom"].tolist() == ["José", "Zoë"]
    assert frame["ville"].tolist() == ["Zürich", "Kraków"]


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
def test_legacy_encodings_fall_back_and_decode(encoding):
    text = "produit;prix;note\ncafé;2,5;très bon\ncrème brûlée;4,0;à revoir\n"
    if encoding == "cp1252":
        text = text.replace("très bon", "10 €")
    raw = text.encode(encoding)
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # the point of the test: this is not UTF-8
    frame = read_table(raw, "prices.csv")
    assert frame["produit"].tolist() == ["café", "crème brûlée"]
    assert frame["prix"].tolist() == [2.5, 4.0]
    expected_note = "10 €" if encoding == "cp1252" else "très bon"
    assert frame["note"].tolist() == [expected_note, "à revoir"]


def test_quoted_fields_with_embedded_delimiters_and_newlines():
    raw = b'id,comment,amount\n1,"Hello, world",3\n2,"line one\nline two",4\n3,"say ""hi""",5\n'
    frame = read_table(raw, "quotes.csv")
    assert frame.shape == (3, 3)
    assert frame["comment"].tolist() == ["Hello, world", "line one\nline two", 'say "hi"']
    assert frame["amount"].tolist() == [3, 4, 5]


def test_missing_cells_become_missing_values():
    frame = read_table(b"a,b\n1,x\n,y\n3,\n", "t.csv")
    assert frame["a"].isna().tolist() == [False, True, False]
    assert frame["b"].isna().tolist() == [False, False, True]


def test_duplicate_and_empty_header_names_become_unique():
    frame = read_table(b"x,x,,x,y\n1,2,3,4,5\n", "dupes.csv")
    names = list(frame.columns)
    assert len(set(names)) == 5
    assert names[0] == "x" and names[4] == "y"
    assert all(isinstance(name, str) and name.strip() for name in names)
    assert frame.iloc[0].tolist() == [1, 2, 3, 4, 5]  # no value was lost or moved


@pytest.mark.slow
def test_a_large_csv_reads_exactly():
    n = 200_000
    rng = np.random.default_rng(0)
    expected = pd.DataFrame({f"f{i}": rng.normal(size=n).round(6) for i in range(18)})
    expected.insert(0, "row", np.arange(n))
    expected["label"] = np.where(np.arange(n) % 3 == 0, "yes", "no")
    raw = expected.to_csv(index=False).encode()
    frame = read_table(raw, "big.csv")
    assert frame.shape == (n, 20)
    assert frame["row"].tolist() == list(range(n))
    np.testing.assert_array_equal(frame["f7"].to_numpy(), expected["f7"].to_numpy())
    assert (frame["label"] == expected["label"]).all()


# --- other formats ----------------------------------------------------------------------------


def _expected_frame() -> pd.DataFrame:
    return pd.DataFrame({"name": ["a", "b", "c"], "count": [1, 2, 3], "value": [1.5, 2.5, -0.25]})


def test_xlsx():
    buffer = io.BytesIO()
    _expected_frame().to_excel(buffer, index=False, engine="openpyxl")
    _assert_rows(read_table(buffer.getvalue(), "book.xlsx"))


def test_xlsx_without_extension_is_recognised():
    buffer = io.BytesIO()
    _expected_frame().to_excel(buffer, index=False, engine="openpyxl")
    _assert_rows(read_table(buffer.getvalue(), "download"))


@pytest.mark.parametrize("filename", ["table.parquet", "table.pq", "no_extension"])
def test_parquet(filename):
    buffer = io.BytesIO()
    _expected_frame().to_parquet(buffer, index=False)
    _assert_rows(read_table(buffer.getvalue(), filename))


def test_parquet_timezone_aware_dates_become_naive_utc():
    frame = pd.DataFrame(
        {"when": pd.to_datetime(["2024-01-01 12:00"]).tz_localize("Europe/Paris"), "x": [1]}
    )
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    read = read_table(buffer.getvalue(), "t.parquet")
    assert read["when"].dt.tz is None
    assert read["when"].iloc[0] == pd.Timestamp("2024-01-01 11:00")


def test_json_records():
    raw = json.dumps(_expected_frame().to_dict(orient="records")).encode()
    _assert_rows(read_table(raw, "t.json"))


def test_json_lines():
    raw = "\n".join(json.dumps(r) for r in _expected_frame().to_dict(orient="records")).encode()
    _assert_rows(read_table(raw, "t.jsonl"))
    _assert_rows(read_table(raw + b"\n\n", "t.json"))  # blank lines are skipped


def test_json_column_form():
    raw = json.dumps(_expected_frame().to_dict(orient="list")).encode()
    _assert_rows(read_table(raw, "t.json"))


def test_json_wrapped_records():
    raw = json.dumps({"data": _expected_frame().to_dict(orient="records")}).encode()
    _assert_rows(read_table(raw, "t.json"))


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [b"", b"   \n\t\r\n  "], ids=["empty", "whitespace"])
@pytest.mark.parametrize("filename", ["t.csv", "t.xlsx", "t.json"])
def test_empty_files(raw, filename):
    message = _error(raw, filename)
    assert "empty" in message and filename in message


@pytest.mark.parametrize("with_nul", [True, False], ids=["with-nul", "no-nul"])
def test_random_bytes_are_refused(with_nul):
    raw = np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes()
    if not with_nul:
        raw = raw.replace(b"\x00", b"")
    message = _error(raw, "data.csv")
    assert "text" in message and "CSV" in message


def test_png_is_refused():
    raw = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
    message = _error(raw, "photo.csv")
    assert "photo.csv" in message and "Upload a CSV" in message


def test_header_only():
    message = _error(b"a,b,c\n", "t.csv")
    assert "no rows" in message


def test_ragged_rows_name_the_line():
    raw = b"a,b,c\n1,2,3\n4,5,6\n7,8,9,10\n11,12,13\n"
    message = _error(raw, "ragged.csv")
    assert "line 4" in message
    assert "4 values" in message and "3" in message
    assert "comma" in message


def test_ragged_rows_after_a_quoted_newline_count_physical_lines():
    raw = b'a,b\n1,"x\ny"\n2,3,4\n'
    assert "line 4" in _error(raw, "t.csv")


def test_one_column_when_two_are_needed():
    raw = b"only\n1\n2\n3\n"
    message = _error(raw, "single.csv", min_columns=2)
    assert "only one column" in message and "'only'" in message
    assert read_table(raw, "single.csv").shape == (3, 1)  # fine when one column is enough


def test_too_large(monkeypatch):
    monkeypatch.setenv("MODEL_STUDIO_MAX_TABLE_MB", "1")
    message = _error(b"a,b\n" + b"1,2\n" * 300_000, "huge.csv")
    assert "limit" in message and "Parquet" in message
    assert read_table(b"a,b\n1,2\n", "small.csv").shape == (1, 2)


def test_broken_xlsx():
    buffer = io.BytesIO()
    _expected_frame().to_excel(buffer, index=False, engine="openpyxl")
    message = _error(buffer.getvalue()[:300], "cut.xlsx")
    assert "Excel" in message and ".xlsx" in message
    message = _error(b"this is not a workbook at all", "fake.xlsx")
    assert "Excel" in message


def test_broken_parquet():
    buffer = io.BytesIO()
    _expected_frame().to_parquet(buffer)
    message = _error(buffer.getvalue()[:100], "cut.parquet")
    assert "Parquet" in message and "CSV" in message


@pytest.mark.parametrize("raw", [b"42", b'"text"', b"[1, 2, 3]", b"[[1, 2], [3, 4]]", b"null"])
def test_json_that_is_not_a_table(raw):
    message = _error(raw, "t.json")
    assert "not a table" in message


def test_bad_json_line_names_the_line():
    raw = b'{"a": 1}\n{"a": 2}\n{"a": 3,,}\n'
    message = _error(raw, "t.jsonl")
    assert "line 3" in message and "not valid JSON" in message


def test_json_line_that_is_not_a_record():
    message = _error(b'{"a": 1}\n[1, 2]\n', "t.jsonl")
    assert "line 2" in message


@pytest.mark.parametrize("filename", ["old.xls", "macro.xlsm", "sheet.ods"])
def test_old_excel_formats_are_refused(filename):
    message = _error(b"\xd0\xcf\x11\xe0 whatever", filename)
    assert ".xlsx" in message and filename in message


@pytest.mark.parametrize(
    ("body", "line"),
    [(b"a,b,c\n1,2,3\n4,5\n6,7,8\n", 3), (b"a,b,c\n1,2,3\n4,5,6\n7,8,9,10\n", 4)],
    ids=["too-few-values", "too-many-values"],
)
def test_rows_with_too_few_or_too_many_values_name_the_line(body, line):
    # A short row must not be padded with empty cells silently: it usually means a broken line.
    with pytest.raises(DataError, match=f"line {line} "):
        read_table(body, "ragged.csv")


# --- files beyond what the readers take: a plain DataError, never a library exception -------


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("deep.json", b"[" * 100_000 + b"]" * 100_000, "nests values more deeply"),
        ("long.json", b'[{"a": ' + b"9" * 5_000 + b"}]", "holds a number with more digits"),
        ("long_lines.json", b'{"a": 1}\n{"a": ' + b"9" * 5_000 + b"}\n", "line 2 holds a number"),
        ("deep_lines.json", b'{"a": 1}\n{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n",
         "line 2 nests values"),
        ("field.csv", b"a,b,c\n" + b"x" * 200_000 + b",1,\n2,3,4\n", "longer than 131,072"),
    ],
)  # fmt: skip
def test_files_beyond_the_readers_limits_are_plain_refusals(name, data, says):
    with pytest.raises(DataError, match=says) as caught:
        read_table(data, name)
    if name.endswith(".json"):  # the setting that raises the limit is named
        assert "MODEL_STUDIO_MAX_JSON_" in str(caught.value)
