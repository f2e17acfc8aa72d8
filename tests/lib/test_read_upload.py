"""Reading uploads in the separate, capped reading process (lib.data.read_upload)."""

from __future__ import annotations

import io
import json
import threading

import numpy as np
import pandas as pd
import pytest

from lib.data import TableLimits, read_table, read_upload
from lib.errors import DataError
from lib.profile import profile_table
from tests.memory_watch import resident_growth


def _mixed_frame(rows: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "age": rng.integers(18, 90, rows),
            "income": rng.normal(50_000, 10_000, rows).round(2),
            "city": rng.choice(["Lyon", "Oslo", "Porto"], rows),
            "signed_up": pd.date_range("2024-01-01", periods=rows, freq="D"),
            "member": rng.choice([True, False], rows),
        }
    )


def _as(frame: pd.DataFrame, kind: str) -> tuple[bytes, str]:
    buffer = io.BytesIO()
    if kind == "csv":
        frame.to_csv(buffer, index=False)
    elif kind == "parquet":
        frame.to_parquet(buffer, index=False)
    elif kind == "xlsx":
        frame.to_excel(buffer, index=False, engine="openpyxl")
    else:
        frame.to_json(buffer, orient="records", date_format="iso")
    return buffer.getvalue(), f"table.{kind}"


@pytest.mark.parametrize("kind", ["csv", "parquet", "xlsx", "json"])
def test_the_table_and_profiles_are_those_read_in_process(kind):
    data, name = _as(_mixed_frame(), kind)
    expected = read_table(data, name)
    upload = read_upload(data, name)
    pd.testing.assert_frame_equal(upload.frame, expected)
    assert upload.profiles == profile_table(expected)


def test_refusals_are_the_readers_own_words():
    data = b"a,b\n1,2\n3\n"
    with pytest.raises(DataError) as in_process:
        read_table(data, "ragged.csv")
    with pytest.raises(DataError) as isolated:
        read_upload(data, "ragged.csv")
    assert str(isolated.value) == str(in_process.value)
    assert "line 3" in str(isolated.value)


def test_min_columns_and_profile_flag_reach_the_reader():
    with pytest.raises(DataError, match="only one column"):
        read_upload(b"only\n1\n2\n", "one.csv", min_columns=2)
    assert read_upload(b"a,b\n1,2\n", "two.csv", profile=False).profiles == []


def test_nested_and_mixed_values_arrive_as_text_with_their_profiles():
    records = [{"id": i, "tags": ["a", "b"][: i % 3], "meta": {"k": i}, "mixed": [1, "x"][i % 2]}
               for i in range(40)]  # fmt: skip
    upload = read_upload(json.dumps(records).encode(), "nested.json")
    frame = upload.frame
    assert json.loads(frame.loc[1, "meta"]) == {"k": 1}
    assert json.loads(frame.loc[2, "tags"]) == ["a", "b"]
    assert set(frame["mixed"]) == {"1", "x"}
    by_name = {p.name: p for p in upload.profiles}
    assert not by_name["meta"].usable and not by_name["tags"].usable


@pytest.mark.parametrize(
    ("fault", "says"),
    [
        ("crash", "crashed the separate process that reads uploads (a memory fault, SIGSEGV)"),
        ("memory", "needed more than the 300 MB of memory"),
        ("hang", "took longer than 3 seconds"),
        ("garbage", "sent back something that is not a table"),
        ("unsealable", "sent back something that is not a table"),
    ],
)
def test_a_reader_that_dies_hangs_or_lies_costs_only_its_process(fault, says):
    limits = TableLimits(reader_memory_mb=300, reader_seconds=3)
    pattern = says.replace("(", r"\(").replace(")", r"\)")
    with resident_growth() as growth, pytest.raises(DataError, match=pattern):
        read_upload(b"a,b\n1,2\n", "f.csv", limits=limits, _test_fault=fault)
    assert growth.peak_mb < 50  # nothing of what the reader allocated reached this process
    assert read_upload(b"a,b\n1,2\n", "after.csv").frame.shape == (1, 2)


def test_a_table_beyond_the_readers_memory_is_stopped_there():
    # 2,000,000 rows of 8 text columns: far more than 150 MB once parsed; under every cap
    # the readers check, so only the reading process's memory cap stops it.
    row = b"alpha,beta,gamma,delta,epsilon,zeta,eta,theta\n"
    data = row + row.replace(b"a", b"o") * 2_000_000
    limits = TableLimits(reader_memory_mb=150)
    with resident_growth() as growth, pytest.raises(DataError, match="READER_MEMORY_MB"):
        read_upload(data, "wide.csv", limits=limits)
    # The spooled copy of the upload is in /dev/shm or a temporary file, not this process.
    assert growth.peak_mb < 100


def test_two_uploads_read_at_once():
    data, name = _as(_mixed_frame(2_000), "csv")
    results: list[pd.DataFrame] = []

    def read() -> None:
        results.append(read_upload(data, name).frame)

    threads = [threading.Thread(target=read) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(results) == 3 and all(frame.shape == (2_000, 5) for frame in results)


def _far_cell_workbook() -> bytes:
    from tests import hostile_xlsx as hx

    return hx.with_sheet(hx.TABLE + hx.row(1_048_576, hx.number("XFD1048576", 1)))


def _billion_laughs() -> bytes:
    from tests import hostile_xlsx as hx

    entities = '<!ENTITY a0 "ha">' + "".join(
        f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10)
    )
    return hx.with_sheet(hx.row(1, hx.text("A1", "&a9;")), prolog=f"<!DOCTYPE x [{entities}]>")


def _hostile_files() -> list[tuple[str, bytes, str]]:
    from tests import hostile_tables as ht

    return [
        ("far.xlsx", _far_cell_workbook(), "Using"),
        ("laughs.xlsx", _billion_laughs(), "DOCTYPE"),
        ("words.parquet", ht.repeated_long_string(rows=50_000, value_chars=50_000),
         "MODEL_STUDIO_MAX_TABLE_UNPACKED_MB"),
        ("groups.parquet", ht.tiny_row_groups(2_500), "MODEL_STUDIO_MAX_PARQUET_ROW_GROUPS"),
        ("deep.json", ht.deep_records(100_000), "MODEL_STUDIO_MAX_JSON_DEPTH"),
        ("keys.jsonl", ht.many_keys_line(100_000), "MODEL_STUDIO_MAX_TABLE_COLUMNS"),
        ("wide.csv", b",".join(b"c%d" % i for i in range(100_000)) + b"\n" + b"1," * 99_999
         + b"1\n", "MODEL_STUDIO_MAX_TABLE_COLUMNS"),
    ]  # fmt: skip


@pytest.mark.parametrize("name", [name for name, _, _ in _hostile_files()])
def test_each_hostile_family_ends_within_the_readers_time_limit(name):
    # Under the default caps, through the reading process with a 60 s limit: each ends in a
    # refusal (or, for the far cell, the small table it really holds), never a stop for time.
    data, says = next((data, says) for n, data, says in _hostile_files() if n == name)
    limits = TableLimits(reader_seconds=60)
    with resident_growth() as growth:
        try:
            upload = read_upload(data, name, limits=limits)
            outcome = f"Using {upload.frame.shape}"
        except DataError as error:
            outcome = str(error)
    assert says in outcome and "took longer" not in outcome
    assert growth.peak_mb < 60


def test_a_20000_column_table_reads_and_profiles_within_the_time_limit():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.integers(0, 100, size=(50, 20_000)))
    frame.columns = [f"c{i}" for i in range(20_000)]
    data = frame.to_csv(index=False).encode()
    upload = read_upload(data, "wide.csv", limits=TableLimits(reader_seconds=120))
    assert upload.frame.shape == (50, 20_000) and len(upload.profiles) == 20_000
    assert {p.kind for p in upload.profiles} <= {"numeric", "boolean", "identifier"}


def test_a_table_the_reader_could_still_change_is_not_used(caplog):
    # A reading process taken over could keep the table's memory mapped for writing, to change
    # it after the web process checked it: sealing the memory fails, and nothing is used.
    with pytest.raises(DataError, match="not a table"):
        read_upload(b"a,b\n1,2\n", "f.csv", _test_fault="unsealable")
    assert "could not be sealed" in caplog.text
