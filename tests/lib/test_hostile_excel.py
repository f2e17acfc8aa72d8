"""Hostile and genuine .xlsx files through lib.data.read_table.

Every hostile workbook is built here (tests/hostile_xlsx.py) and must give a DataError a person
can act on while this process's resident memory stays far below what the attack would take.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest

from lib.data import TableLimits, read_table
from lib.data._xlsx_zip import MAX_PARTS
from lib.errors import DataError
from tests import hostile_xlsx as hx
from tests.memory_watch import resident_growth

# Each attack below would allocate gigabytes unbounded (a far cell 7 GB, a reused shared
# string 4.4 GB, inflated XML 2 GB); reading or refusing it here keeps a few MB. 100 MB leaves
# room for the interpreter's and pandas' own noise and still fails loudly on any padding.
BOUND_MB = 100
SMALL = TableLimits(max_unpacked_mb=1, max_rows=1_000, max_columns=100, max_cells=10_000)
DAMAGED = ("Excel", "save it again")


def _letters(column: int) -> str:
    letters = ""
    while column:
        column, remainder = divmod(column - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _refused(data: bytes, limits: TableLimits | None = None) -> str:
    with resident_growth() as growth, pytest.raises(DataError) as caught:
        read_table(data, "hostile.xlsx", limits=limits)
    assert growth.peak_mb < BOUND_MB, growth.peak_mb
    message = str(caught.value)
    assert "hostile.xlsx" in message
    return message


def _read(data: bytes, limits: TableLimits | None = None) -> pd.DataFrame:
    with resident_growth() as growth:
        frame = read_table(data, "book.xlsx", limits=limits)
    assert growth.peak_mb < BOUND_MB, growth.peak_mb
    return frame


def _says(message: str, *words: str) -> None:
    for word in words:
        assert word in message, (word, message)


# --- far cells and lying dimensions: one stray value costs one row or column ------------------


@pytest.mark.parametrize("ref", ["XFD1048576", "A1048576", "XFD1"])
def test_a_lone_far_cell_is_a_header_without_rows(ref):
    row_number = int("".join(filter(str.isdigit, ref)))
    message = _refused(hx.with_sheet(hx.row(row_number, hx.number(ref, 1))))
    _says(message, "header but no rows")


@pytest.mark.parametrize("ref", ["XFD1048576", "A1048576", "XFD1"])
def test_a_far_cell_beside_a_table_adds_one_row_or_column(ref):
    row_number = int("".join(filter(str.isdigit, ref)))
    rows = hx.TABLE + hx.row(row_number, hx.text(ref, "note"))
    if row_number == 1:  # XFD1 belongs in the header row
        rows = hx.TABLE.replace("</row>", hx.text(ref, "note") + "</row>", 1)
    frame = _read(hx.with_sheet(rows))
    assert frame["name"].tolist()[:2] == ["a", "b"]
    assert frame["count"].tolist()[:2] == [1, 2]
    assert len(frame) == (2 if row_number == 1 else 3)
    assert frame.shape[1] == (2 if ref.startswith("A") else 3)


def test_a_dimension_that_lies_is_ignored():
    frame = _read(hx.with_sheet(hx.TABLE, head='<dimension ref="A1:XFD1048576"/>'))
    assert frame.to_dict("list") == {"name": ["a", "b"], "count": [1, 2]}


def test_a_diagonal_over_the_cell_cap_is_refused_as_it_streams():
    rows = "".join(hx.row(i, hx.number(f"{_letters(i)}{i}", i)) for i in range(1, 3_001))
    message = _refused(hx.with_sheet(rows), TableLimits(max_cells=1_000_000))
    _says(message, "MODEL_STUDIO_MAX_TABLE_CELLS", "rows x", "Remove stray values")


@pytest.mark.parametrize(
    ("rows", "variable"),
    [
        ("".join(hx.row(i, hx.number(f"A{i}", i)) for i in range(1, 1_100)),
         "MODEL_STUDIO_MAX_TABLE_ROWS"),
        (hx.row(1, *(hx.number(f"{_letters(i)}1", i) for i in range(1, 201))),
         "MODEL_STUDIO_MAX_TABLE_COLUMNS"),
        (hx.row(1, *(hx.number("A1", 1) for _ in range(10_001))),
         "MODEL_STUDIO_MAX_TABLE_CELLS"),
    ],
    ids=["rows", "columns", "cells"],
)  # fmt: skip
def test_rows_columns_and_cells_over_their_caps(rows, variable):
    _says(_refused(hx.with_sheet(rows), SMALL), variable, "over this app's limit")


# --- inflation -------------------------------------------------------------------------------


def test_a_shared_string_reused_in_100k_cells_is_refused():
    # Rows and cells without r= are numbered in order; identical, they compress to nearly nothing.
    rows = hx.row(1, hx.text("A1", "notes")) + '<row><c t="s"><v>0</v></c></row>' * 100_000
    data = hx.with_shared_strings(hx.shared_strings(f"<t>{'x' * 30_000}</t>"), rows)
    assert len(data) < 60_000
    # 100k x 30 KB = 3 GB of text: over the default cap too, and refused long before.
    for limits in (TableLimits(max_unpacked_mb=50), None):
        message = _refused(data, limits)
        _says(message, "MODEL_STUDIO_MAX_TABLE_UNPACKED_MB", "characters")


@pytest.mark.parametrize(
    "filler",
    [" " * 3_000_000, hx.row(1, hx.text("A1", "y" * 3_000_000))],
    ids=["whitespace", "long-text"],
)
def test_inflated_sheet_xml_is_refused_before_it_is_read(filler):
    data = hx.with_sheet(hx.TABLE + filler)
    assert len(data) < 50_000
    _says(_refused(data, SMALL), "unpacks to", "MODEL_STUDIO_MAX_TABLE_UNPACKED_MB")


def test_declared_size_over_the_cap_is_refused():
    data = hx.declared_size(hx.genuine(), hx.SHEET, 3_000_000_000)
    _says(_refused(data), "unpacks to", "2,861 MB", "MODEL_STUDIO_MAX_TABLE_UNPACKED_MB")


def test_a_size_that_lies_low_cannot_inflate():
    # 50 MB of spaces compress to ~50 KB; the directory claims 1,000 bytes. zipfile stops at
    # the declared size and the CRC then fails: the 50 MB are never produced.
    data = hx.declared_size(hx.with_sheet(hx.TABLE + " " * 50_000_000), hx.SHEET, 1_000)
    _says(_refused(data), *DAMAGED)


def test_too_many_parts_are_refused():
    junk = {f"junk/{i}": b"" for i in range(MAX_PARTS + 1)}
    data = hx.with_parts(junk, compression=zipfile.ZIP_STORED)
    _says(_refused(data), "parts", "10,000")


# --- XML that is not what Excel writes -------------------------------------------------------


@pytest.mark.parametrize(
    ("part", "content"),
    [
        (hx.SHEET, hx.sheet(hx.row(1, hx.text("A1", "&j;")), prolog=hx.BILLION_LAUGHS)),
        (hx.SHARED_STRINGS, (f'<?xml version="1.0"?>{hx.BILLION_LAUGHS}'
                             '<sst><si><t>&j;</t></si></sst>').encode()),
        (hx.PACKAGE_RELS, f'<?xml version="1.0"?>{hx.BILLION_LAUGHS}<Relationships/>'.encode()),
        (hx.SHEET, hx.sheet("", prolog='<!DOCTYPE worksheet SYSTEM "file:///etc/passwd">')),
    ],
    ids=["billion-laughs-sheet", "billion-laughs-strings", "billion-laughs-rels", "doctype"],
)  # fmt: skip
def test_dtds_and_entity_declarations_are_refused(part, content):
    if part == hx.SHARED_STRINGS:
        data = hx.with_shared_strings(content, hx.TABLE)
    else:
        data = hx.with_parts({part: content})
    _says(_refused(data), "DOCTYPE or entities", "save it again")


@pytest.mark.parametrize(
    "rows",
    [
        hx.row(1, hx.text("A1", "&undefined;")),
        '<row r="1"><c r="A1"><v>1</v></row>',
        hx.TABLE + hx.row(4, hx.text("A4", "x"), hx.number("B4", 1, s="99999")),
        hx.TABLE + hx.row(4, hx.text("A4", "x"), hx.number("B4", 99999, t="s")),
        hx.TABLE + hx.row(4, hx.text("A4", "x"), hx.number("B4", -1, t="s")),
        hx.TABLE + hx.row(4, hx.number("B4", "abc")),
        hx.TABLE + hx.row(4, hx.number("B4", "1e999")),
        hx.TABLE + hx.row(4, hx.number("B4", "2", t="b")),
        hx.TABLE + hx.row(4, hx.number("B4", "1", t="zz")),
        hx.TABLE + hx.row(4, hx.number("AAAA4", "1")),
        hx.TABLE + hx.row(4, hx.number("B0", "1")),
        hx.TABLE + '<row r="x"/>',
    ],
    ids=["undefined-entity", "malformed", "bad-style", "bad-shared-string", "negative-string",
         "not-a-number", "infinite", "bad-bool", "unknown-type", "bad-reference", "row-zero",
         "bad-row"],
)  # fmt: skip
def test_damaged_sheet_xml_is_a_plain_refusal(rows):
    _says(_refused(hx.with_sheet(rows)), *DAMAGED)


# --- damaged or unusual zips ------------------------------------------------------------------


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: hx.corrupt_deflate(data, hx.SHEET),
        lambda data: data[: len(data) // 2],
        lambda data: data[:-30],
        lambda data: hx.declared_size(data, hx.SHEET, 10),
        lambda data: b"PK\x03\x04" + b"\x00" * 200,
    ],
    ids=["corrupt-deflate", "truncated-half", "truncated-directory", "size-lies", "bare-magic"],
)
def test_damaged_zips_are_plain_refusals(damage):
    _says(_refused(damage(hx.genuine())), *DAMAGED)


def test_encrypted_entries_are_refused():
    _says(_refused(hx.encrypted(hx.genuine(), hx.SHEET)), "encrypted", "Remove the protection")


def test_password_protected_workbooks_are_named():
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2_000)
    _says(_refused(data), "password-protected", "Remove the password")


def test_compression_excel_does_not_use_is_refused():
    data = hx.with_parts({hx.SHEET: hx.sheet(hx.TABLE)}, compression=zipfile.ZIP_BZIP2)
    _says(_refused(data), "compression Excel does not use", "method 12")


def test_a_workbook_without_sheets():
    workbook = (
        b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets/>'
        b"</workbook>"
    )
    _says(_refused(hx.with_parts({hx.WORKBOOK: workbook})), "has no sheets")


def test_a_workbook_of_charts_only():
    base = hx.genuine()
    rels = zipfile.ZipFile(io.BytesIO(base)).read(hx.WORKBOOK_RELS)
    rels = rels.replace(b"relationships/worksheet", b"relationships/chartsheet")
    _says(_refused(hx.with_parts({hx.WORKBOOK_RELS: rels}, base=base)), "only charts")


def test_a_missing_sheet_part():
    _says(_refused(hx.with_parts({hx.SHEET: None})), "is damaged", "first sheet", "missing")


# --- genuine workbooks read as pandas reads them ---------------------------------------------


def _excel(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False, engine="openpyxl")
    return buffer.getvalue()


def _workbook(cells: dict[str, object], *, date1904: bool = False) -> bytes:
    book = openpyxl.Workbook()
    if date1904:
        book.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    for ref, value in cells.items():
        book.active[ref] = value
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_mixed_types_dates_and_missing_cells_match_pandas():
    frame = pd.DataFrame(
        {
            "id": [1, 2, 3, 4],
            "score": [1.5, np.nan, 2.0, -0.25],
            "label": ["x", None, "z", "NA"],
            "when": pd.to_datetime(
                ["2024-01-01", None, "2024-03-01 10:30", "1999-12-31"], format="ISO8601"
            ),
            "flag": [True, False, True, True],
            "mixed": [1, "two", 3.5, None],
            "digits": ["1", "2", "3", "4"],
            "error": ["#N/A", "#DIV/0!", None, None],
        }
    )
    data = _excel(frame)
    ours = _read(data)
    pd.testing.assert_frame_equal(ours, pd.read_excel(io.BytesIO(data)))
    assert ours["id"].dtype == np.int64 and ours["flag"].dtype == bool
    assert ours["when"].dtype.kind == "M" and pd.isna(ours["when"][1])
    assert ours["label"].isna().tolist() == [False, True, False, True]


def test_empty_rows_and_columns_inside_the_table_are_left_out():
    cells = {"A1": "x", "C1": "y", "A2": 1, "C2": "a", "A4": 2, "C4": "b", "A5": 3}
    frame = _read(_workbook(cells))
    # pandas keeps row 3 (all missing) and column B ("Unnamed: 1"); they carry nothing.
    assert frame.to_dict("list") == {"x": [1, 2, 3], "y": ["a", "b", np.nan]}
    assert frame["x"].dtype == np.int64


def test_a_small_table_far_from_a1():
    cells = {"AA50000": "when", "AB50000": "n", "AA50001": dt.datetime(2024, 5, 6), "AB50001": 7}
    frame = _read(_workbook(cells))
    assert frame.to_dict("list") == {"when": [pd.Timestamp("2024-05-06")], "n": [7]}


def test_a_stray_note_cell_adds_one_column():
    cells = {"A1": "x", "B1": "y", "A2": 1.5, "B2": "a", "A3": 2.5, "B3": "b", "J40": "note"}
    frame = _read(_workbook(cells))
    assert list(frame.columns) == ["x", "y", "Unnamed: 2"]
    assert frame["Unnamed: 2"].tolist()[-1] == "note" and len(frame) == 3


def test_dates_in_the_1904_system():
    data = _workbook({"A1": "d", "B1": "v", "A2": dt.datetime(2020, 5, 6, 7, 8), "B2": 1},
                     date1904=True)  # fmt: skip
    assert _read(data)["d"].tolist() == [pd.Timestamp("2020-05-06 07:08")]


def test_rich_text_and_phonetic_runs_in_shared_strings():
    strings = hx.shared_strings(
        "<t>head</t>", "<r><t>Hel</t></r><r><t>lo</t></r><rPh><t>x</t></rPh>"
    )
    rows = hx.row(1, hx.number("A1", 0, t="s"), hx.text("B1", "n"))
    rows += hx.row(2, hx.number("A2", 1, t="s"), hx.number("B2", 5))
    frame = _read(hx.with_shared_strings(strings, rows))
    assert frame.to_dict("list") == {"head": ["Hello"], "n": [5]}


def test_a_cell_written_twice_keeps_the_later_value():
    rows = hx.TABLE + hx.row(3, hx.number("B3", 9))
    assert _read(hx.with_sheet(rows))["count"].tolist() == [1, 9]
