"""The pure helpers behind Predict & plot: plot selections, input columns, actual values and
the drift table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lib.display import drift_table, with_flag_column
from lib.model_info import Feature
from lib.rows import actual_values, row_values, rows_from_selection, top_input_feature


def test_rows_from_selection():
    selection = {
        "points": [
            {"customdata": 7, "x": 1.0},
            {"customdata": [3, "extra"]},
            {"customdata": 7.0},
            {"x": 0.0},  # a point of the reference line
            {"customdata": 99},
            {"customdata": "x"},
        ],
        "point_indices": [0, 1, 2],
    }
    assert rows_from_selection(selection, n_rows=50) == [3, 7]
    assert rows_from_selection(selection) == [3, 7, 99]
    assert rows_from_selection(None) == [] and rows_from_selection({"points": []}) == []


def test_top_input_feature_traces_transformed_names():
    inputs = ["day", "day_part", "size"]
    assert top_input_feature(["size", "day"], inputs) == "size"
    assert top_input_feature(["cat__day_part_lunch", "num__size"], inputs) == "day_part"
    assert top_input_feature(["cat__day_Sun"], inputs) == "day"
    assert top_input_feature([], inputs) == "day" and top_input_feature([], []) is None


def test_drift_table_and_flag_column():
    columns = pd.DataFrame(
        {
            "feature": ["a", "b"], "kind": ["numeric", "categorical"], "out_of_range": [0, 0],
            "unseen": [0, 3], "missing_train": [0.0, 0.0], "missing_new": [0.0, 0.1],
            "psi": [0.01, np.nan], "flagged": [False, True], "note": ["", "3 unseen"],
        }
    )  # fmt: skip
    table = drift_table(columns)
    assert table["column"].tolist() == ["b", "a"]
    assert table["status"].tolist() == ["differs", "as in training"]
    assert table["PSI"].tolist() == ["–", "0.01"]  # not computed reads as a dash
    shown = pd.DataFrame({"v": [1, 2]}, index=[10, 11])
    flags = pd.Series([0, 2, 1], index=[9, 10, 11])
    assert with_flag_column(shown, flags, "n")["n"].tolist() == [2, 1]


def test_row_values_are_plain_and_missing_is_none():
    row = pd.Series({"a": np.float64(1.5), "b": np.nan, "c": "x"})
    features = [Feature("a"), Feature("b"), Feature("c", "categorical"), Feature("d")]
    assert row_values(row, features) == {"a": 1.5, "b": None, "c": "x", "d": None}
    assert type(row_values(row, features)["a"]) is float


def test_actual_values_leave_out_labels_the_model_does_not_know():
    column = pd.Series(["benign", "MALIGNANT", None, "malignant"])
    _, usable, unknown = actual_values(column, "classification", ["benign", "malignant"])
    assert usable.tolist() == [True, False, False, True]
    assert unknown == ["MALIGNANT"]
    numbers, usable, unknown = actual_values(pd.Series(["1.5", "x", None]), "regression", None)
    assert usable.tolist() == [True, False, False] and numbers[0] == 1.5 and unknown == []
