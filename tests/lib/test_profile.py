"""Tests for lib/profile.py: column kinds and whether a column can be a feature."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import pytest
from sklearn import datasets

from lib import profile as profile_mod
from lib.profile import (
    BOOLEAN,
    CATEGORICAL,
    DATETIME,
    EMPTY,
    IDENTIFIER,
    NUMERIC,
    TEXT,
    profile_column,
    profile_table,
    profiles_frame,
)


def _kinds(frame: pd.DataFrame) -> dict[str, str]:
    return {p.name: p.kind for p in profile_table(frame)}


def test_tips_kinds():
    assert _kinds(px.data.tips()) == {
        "total_bill": NUMERIC,
        "tip": NUMERIC,
        "sex": CATEGORICAL,
        "smoker": BOOLEAN,  # Yes / No strings
        "day": CATEGORICAL,
        "time": CATEGORICAL,
        "size": NUMERIC,
    }


def test_gapminder_kinds_and_every_column_usable():
    profiles = profile_table(px.data.gapminder())
    kinds = {p.name: p.kind for p in profiles}
    assert kinds["country"] == CATEGORICAL  # 142 countries repeated over 12 years
    assert kinds["continent"] == CATEGORICAL
    assert kinds["year"] == NUMERIC
    # Every value different, but large, unsorted numbers are measurements, not row ids.
    assert kinds["pop"] == NUMERIC
    assert kinds["gdpPercap"] == NUMERIC
    assert all(p.usable and p.reason is None for p in profiles)


def test_election_identifiers_are_left_out():
    by_name = {p.name: p for p in profile_table(px.data.election())}
    for name in ("district_id", "district"):  # unique ints named *_id; unique string codes
        assert by_name[name].kind == IDENTIFIER
        assert not by_name[name].usable
        assert "identifier" in by_name[name].reason
    assert by_name["winner"].kind == CATEGORICAL and by_name["winner"].usable
    assert by_name["total"].kind == NUMERIC


def test_sklearn_frames():
    cancer = datasets.load_breast_cancer(as_frame=True).frame
    kinds = _kinds(cancer)
    assert kinds["target"] == BOOLEAN  # 0/1 integers
    assert {kinds[c] for c in cancer.columns if c != "target"} == {NUMERIC}
    iris = datasets.load_iris(as_frame=True).frame
    assert _kinds(iris)["target"] == NUMERIC  # 0/1/2 codes are numbers


def test_datetime64_and_iso_strings():
    stocks = px.data.stocks()
    assert _kinds(stocks)["date"] == DATETIME  # ISO date strings
    stocks["date"] = pd.to_datetime(stocks["date"])
    assert _kinds(stocks)["date"] == DATETIME
    stamps = pd.Series(["2024-03-01 12:30:00", "2024-03-02T08:00", "2024-03-03 09:15:30.5"] * 10)
    assert profile_column(stamps.rename("when")).kind == DATETIME


def test_booleans():
    frame = pd.DataFrame(
        {
            "flag": [True, False] * 10,
            "yes_no": ["Yes", "No"] * 10,
            "true_false": ["TRUE", "false"] * 10,
            "zero_one": [0, 1] * 10,
            "zero_one_float": [0.0, 1.0, np.nan, 1.0] * 5,
            "one_two": [1, 2] * 10,
        }
    )
    kinds = _kinds(frame)
    assert kinds == {
        "flag": BOOLEAN,
        "yes_no": BOOLEAN,
        "true_false": BOOLEAN,
        "zero_one": BOOLEAN,
        "zero_one_float": BOOLEAN,
        "one_two": NUMERIC,
    }


def test_identifiers():
    n = 300
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "id": rng.permutation(n) * 7 + 1000,  # unique ints named id
            "customer_id": rng.permutation(n),
            "row": np.arange(1, n + 1),  # sequential row numbers
            "code": [f"C{i:05d}" for i in rng.permutation(n)],  # unique codes
            "amount": rng.normal(size=n),
        }
    )
    profiles = {p.name: p for p in profile_table(frame)}
    for name in ("id", "customer_id", "row", "code"):
        assert profiles[name].kind == IDENTIFIER, name
        assert not profiles[name].usable
    assert profiles["amount"].kind == NUMERIC and profiles["amount"].usable


def test_a_few_unique_small_ints_are_not_identifiers():
    # 10 distinct sizes in 10 rows: too few rows to call a run of numbers a row id.
    assert profile_column(pd.Series(range(1, 11), name="size")).kind == NUMERIC


def test_free_text():
    rng = np.random.default_rng(1)
    words = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "while", "rains"]
    reviews = [" ".join(rng.choice(words, 12)) + f" number {i}" for i in range(200)]
    column = profile_column(pd.Series(reviews, name="review"))
    assert column.kind == TEXT
    assert not column.usable and "free text" in column.reason


def test_empty_and_constant_columns():
    frame = pd.DataFrame(
        {"blank": [np.nan] * 6, "none": [None] * 6, "same": ["x"] * 6, "zero": [5] * 6}
    )
    profiles = {p.name: p for p in profile_table(frame)}
    for name in ("blank", "none"):
        assert profiles[name].kind == EMPTY
        assert profiles[name].missing_share == 1.0
        assert not profiles[name].usable and "no values" in profiles[name].reason
    for name in ("same", "zero"):
        assert not profiles[name].usable
        assert "same value" in profiles[name].reason


def test_missing_share_and_stats():
    column = profile_column(pd.Series([1.0, np.nan, 3.0, np.nan, 5.0, 7.0, np.nan, 9.0], name="v"))
    assert column.n_rows == 8 and column.n_missing == 3
    assert column.missing_share == pytest.approx(3 / 8)
    assert column.n_distinct == 5
    assert column.stats["min"] == 1.0 and column.stats["max"] == 9.0
    assert column.stats["mean"] == pytest.approx(5.0)
    assert column.summary == "1 to 9"


def test_top_values_for_categories():
    column = profile_column(pd.Series(["b", "a", "b", "c", "b", "a"], name="letter"))
    assert column.kind == CATEGORICAL
    assert column.top_values[:2] == [("b", 3), ("a", 2)]
    assert column.summary.startswith("b, a")


def test_large_frames_are_sampled_but_counts_are_scaled(monkeypatch):
    monkeypatch.setattr(profile_mod, "_PROFILE_SAMPLE", 1000)
    values = np.arange(10_000, dtype="float64") * 0.5
    values[::4] = np.nan  # a quarter missing
    column = profile_table(pd.DataFrame({"v": values, "w": values}))[0]
    assert column.n_rows == 10_000
    assert column.missing_share == pytest.approx(0.25, abs=0.05)


def test_profiles_frame_explains_left_out_columns():
    frame = pd.DataFrame({"id": range(100), "x": [1.5, 2.5] * 50, "c": ["k"] * 100})
    table = profiles_frame(profile_table(frame))
    used = dict(zip(table["column"], table["used as feature"], strict=True))
    assert used["x"] == "yes"
    assert used["id"].startswith("no: ") and "identifier" in used["id"]
    assert used["c"].startswith("no: ") and "same value" in used["c"]
