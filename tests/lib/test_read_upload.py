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
    ],
)
def test_a_reader_that_dies_hangs_or_lies_costs_only_its_process(fault, says):
    limits = TableLimits(reader_memory_mb=300, reader_seconds=3)
    with resident_growth() as growth:
        with pytest.raises(DataError, match=says.replace("(", r"\(").replace(")", r"\)")):
            read_upload(b"a,b\n1,2\n", "f.csv", limits=limits, _test_fault=fault)
    assert growth.peak_mb < 50  # nothing of what the reader allocated reached this process
    assert read_upload(b"a,b\n1,2\n", "after.csv").frame.shape == (1, 2)


def test_a_table_beyond_the_readers_memory_is_stopped_there():
    # 2,000,000 rows of 8 text columns: far more than 150 MB once parsed; under every cap
    # the readers check, so only the reading process's memory cap stops it.
    row = b"alpha,beta,gamma,delta,epsilon,zeta,eta,theta\n"
    data = row + row.replace(b"a", b"o") * 2_000_000
    with resident_growth() as growth:
        with pytest.raises(DataError, match="MODEL_STUDIO_READER_MEMORY_MB"):
            read_upload(data, "wide.csv", limits=TableLimits(reader_memory_mb=150))
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
