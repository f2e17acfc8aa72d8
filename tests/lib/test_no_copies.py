"""Large tables reach the model without copies of every value (memory and time on big uploads)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lib.model_info import describe_model
from lib.predict import align, predict
from lib.training import Options, train


@pytest.fixture(scope="module")
def numeric_table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(20_000, 6)), columns=[f"x{i}" for i in range(6)])
    frame["y"] = frame["x0"] * 2 + rng.normal(size=len(frame))
    return frame


@pytest.fixture(scope="module")
def gradient_boosting(numeric_table):
    options = Options(test_size=0, cv_folds=0, params={"max_iter": 5})
    return train(numeric_table, "y", model="hist_gradient_boosting", options=options).pipeline


def _shares(result: pd.DataFrame | np.ndarray, source: pd.DataFrame) -> bool:
    return np.shares_memory(np.asarray(result), source["x0"].to_numpy())


def test_numbers_pass_into_the_estimator_as_the_tables_own_columns(
    gradient_boosting, numeric_table
):
    features = numeric_table.drop(columns="y")
    assert _shares(gradient_boosting[:-1].transform(features), numeric_table)


def test_aligned_rows_are_views_and_the_input_is_left_unchanged(gradient_boosting, numeric_table):
    before = numeric_table.copy()
    X, _ = align(numeric_table, describe_model(gradient_boosting))
    assert _shares(X, numeric_table)

    result = predict(gradient_boosting, numeric_table)
    assert result.prediction_column in result.frame
    pd.testing.assert_frame_equal(numeric_table, before)  # no column added, no value changed


def test_a_preprocessor_that_changes_values_still_copies(numeric_table):
    ridge = train(numeric_table, "y", model="ridge", options=Options(test_size=0, cv_folds=0))
    transformed = ridge.pipeline[:-1].transform(numeric_table.drop(columns="y"))
    assert not _shares(transformed, numeric_table)  # the check above can fail
