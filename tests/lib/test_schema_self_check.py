"""Tests for lib/schema_self_check.py: the self-check part of a file's metadata, as a hostile
file may hold it. A malformed part is dropped with a warning; the rest of the record stays."""

from __future__ import annotations

import copy
import math

import pytest

from lib.metadata import read_metadata_plain
from lib.schema_self_check import MAX_COLUMNS, MAX_ROWS, SelfCheck

GOOD = {
    "columns": ["when", "shop", "amount"],
    "dtypes": ["datetime64[us]", "str", "float64"],
    "values": [["2024-01-01T00:00:00", None], ["north", "south"], [1.5, None]],
    "predictions": ["yes", "no"],
    "probabilities": [[0.25, 0.75], [0.5, 0.5]],
    "classes": ["no", "yes"],
}


def _record(self_check: object) -> dict:
    return {
        "format": "model-studio/1",
        "task": "classification",
        "target": "big",
        "classes": ["no", "yes"],
        "features": [{"name": "shop", "kind": "categorical", "categories": [["north", 3]]}],
        "versions": {"sklearn": "1.9.1"},
        "self_check": self_check,
    }


def test_a_good_record_round_trips():
    check = SelfCheck.from_plain(copy.deepcopy(GOOD))
    assert check.n_rows == 2 and check.classes == ["no", "yes"]
    again = check.to_plain()
    assert again["columns"] == GOOD["columns"] and again["probabilities"] == GOOD["probabilities"]
    read = read_metadata_plain(_record(copy.deepcopy(GOOD)))
    assert read.metadata.self_check == check and read.warnings == []
    assert read.metadata.to_plain()["self_check"]["predictions"] == ["yes", "no"]


def test_a_file_without_one_has_none():
    record = _record(None)
    del record["self_check"]
    read = read_metadata_plain(record)
    assert read.metadata.self_check is None and read.warnings == []
    assert "self_check" not in read.metadata.to_plain()


def _with(**changes) -> dict:
    plain = copy.deepcopy(GOOD)
    plain.update(changes)
    return plain


MALFORMED = {
    "not a mapping": ["rows"],
    "no rows": _with(predictions=[], values=[[], [], []]),
    "too many rows": _with(
        predictions=["no"] * (MAX_ROWS + 1),
        values=[[1.0] * (MAX_ROWS + 1)] * 3,
        probabilities=None,
    ),
    "too many columns": _with(
        columns=[f"c{i}" for i in range(MAX_COLUMNS + 1)],
        dtypes=["float64"] * (MAX_COLUMNS + 1),
        values=[[1.0, 2.0]] * (MAX_COLUMNS + 1),
    ),
    "unknown dtype": _with(dtypes=["datetime64[us]", "str", "os.system"]),
    "dtype with code": _with(dtypes=["datetime64[us]", "str", "float64; rm -rf /"]),
    "a column too short": _with(values=[["2024-01-01"], ["north", "south"], [1.5, 2.0]]),
    "one list too few": _with(values=[["north", "south"], [1.5, 2.0]]),
    "a nested value": _with(values=[["2024-01-01", None], ["north", ["x"]], [1.5, 2.0]]),
    "a missing prediction": _with(predictions=[None, "no"]),
    "a date as a number": _with(values=[[1.5, None], ["north", "south"], [1.5, None]]),
    "a huge number": _with(predictions=[10**30, 1], probabilities=None, classes=None),
    "a mapping as value": _with(predictions=[{"a": 1}, "no"]),
    "a very long text": _with(values=[["2024-01-01", "x"], ["north", "y" * 5000], [1.0, 2.0]]),
    "a column twice": _with(columns=["when", "shop", "shop"]),
    "a name that is a number": _with(columns=["when", 7, "amount"]),
    "ragged probabilities": _with(probabilities=[[0.25, 0.75], [1.0]]),
    "probabilities of text": _with(probabilities=[["a", "b"], ["c", "d"]]),
    "infinite probability": _with(probabilities=[[math.inf, 0.0], [0.5, 0.5]]),
    "classes do not match": _with(classes=["no", "yes", "maybe"]),
    "values not lists": _with(values="rows"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_self_check_is_dropped_with_a_warning(case):
    with pytest.raises(ValueError):
        SelfCheck.from_plain(MALFORMED[case])
    read = read_metadata_plain(_record(MALFORMED[case]))
    assert read.metadata is not None and read.metadata.self_check is None
    assert read.metadata.target == "big" and read.metadata.versions == {"sklearn": "1.9.1"}
    assert len(read.warnings) == 1 and read.warnings[0].startswith(
        "The file's self-check rows were ignored"
    )
