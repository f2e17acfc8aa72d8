"""Tests for lib/predict.py: predicting on a person's new rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression

from lib.errors import PredictionError, UserError
from lib.predict import predict


@pytest.fixture
def tips_model(trained):
    return trained("tips", "hist_gradient_boosting").pipeline


@pytest.fixture
def tips_rows(sample):
    return sample("tips").drop(columns=["tip"]).head(20)


def _error(model, rows) -> str:
    with pytest.raises(PredictionError) as caught:
        predict(model, rows)
    assert isinstance(caught.value, UserError)
    return str(caught.value)


def test_regression_output_is_input_plus_prediction(tips_model, tips_rows):
    result = predict(tips_model, tips_rows)
    assert result.prediction_column == "predicted tip"
    assert list(result.frame.columns) == [*tips_rows.columns, "predicted tip"]
    pd.testing.assert_frame_equal(result.frame[tips_rows.columns], tips_rows)
    np.testing.assert_array_equal(result.frame["predicted tip"], tips_model.predict(tips_rows))
    assert result.probability_columns == [] and result.notices == []


def test_columns_are_aligned_by_name(tips_model, tips_rows):
    expected = tips_model.predict(tips_rows)
    reordered = tips_rows[list(reversed(tips_rows.columns))]
    result = predict(tips_model, reordered)
    np.testing.assert_array_equal(result.frame["predicted tip"], expected)
    assert result.notices == []


def test_case_and_space_insensitive_match_with_a_notice(tips_model, tips_rows):
    renamed = tips_rows.rename(columns={"total_bill": " Total_Bill ", "day": "DAY"})
    result = predict(tips_model, renamed)
    np.testing.assert_array_equal(result.frame["predicted tip"], tips_model.predict(tips_rows))
    assert len(result.notices) == 1
    assert "' Total_Bill ' as 'total_bill'" in result.notices[0]
    assert "'DAY' as 'day'" in result.notices[0]


def test_missing_columns_are_named(tips_model, tips_rows):
    message = _error(tips_model, tips_rows.drop(columns=["day", "size"]))
    assert "2 column(s)" in message and "'day'" in message and "'size'" in message
    assert "'total_bill'" not in message


def test_extra_columns_are_ignored_with_a_notice(tips_model, tips_rows):
    extra = tips_rows.assign(waiter="Sam", table_no=range(len(tips_rows)))
    result = predict(tips_model, extra)
    np.testing.assert_array_equal(result.frame["predicted tip"], tips_model.predict(tips_rows))
    assert result.notices == ["Columns the model does not use were ignored: waiter, table_no."]
    assert list(result.frame.columns)[:-1] == list(extra.columns)  # kept in the output


def test_numbers_written_as_text_are_coerced(tips_model, tips_rows):
    as_text = tips_rows.assign(
        total_bill=[f"{v:.2f}".replace(".", ",") for v in tips_rows["total_bill"]],
        size=[f" {v} " for v in tips_rows["size"]],
    )
    as_text.loc[as_text.index[2], "total_bill"] = ""
    expected_rows = tips_rows.astype({"total_bill": "float64"})
    expected_rows.loc[expected_rows.index[2], "total_bill"] = np.nan
    result = predict(tips_model, as_text)
    np.testing.assert_array_equal(result.frame["predicted tip"], tips_model.predict(expected_rows))
    assert result.frame["total_bill"].iloc[0] == "16,99"  # the person's input is left as is


def test_bad_numbers_are_named_with_rows(tips_model, tips_rows):
    bad = tips_rows.astype({"total_bill": object, "size": object})
    bad.iloc[1, bad.columns.get_loc("total_bill")] = "twelve"
    bad.iloc[4, bad.columns.get_loc("total_bill")] = "n/a?"
    bad.iloc[3, bad.columns.get_loc("size")] = "3 people"
    message = _error(tips_model, bad)
    assert "'total_bill' should hold numbers but has 'twelve', 'n/a?' (row 2, 5)" in message
    assert "'size' should hold numbers but has '3 people' (row 4)" in message


def test_no_rows(tips_model, tips_rows):
    assert "no rows" in _error(tips_model, tips_rows.head(0))


def test_classifier_adds_probability_columns(trained, sample):
    model = trained("iris", "logistic_regression").pipeline
    rows = sample("iris").drop(columns=["species"]).iloc[[0, 60, 120]]
    result = predict(model, rows)
    probabilities = ["P(setosa)", "P(versicolor)", "P(virginica)"]
    assert result.probability_columns == probabilities
    assert list(result.frame.columns) == [*rows.columns, "predicted species", *probabilities]
    assert result.frame["predicted species"].tolist() == ["setosa", "versicolor", "virginica"]
    np.testing.assert_allclose(result.frame[probabilities].sum(axis=1), 1.0)
    np.testing.assert_array_equal(result.frame[probabilities], model.predict_proba(rows))


def test_output_names_do_not_clash_with_input_columns(trained, sample):
    model = trained("iris", "gaussian_nb").pipeline
    rows = sample("iris").head(3)  # still holds 'species'
    rows["predicted species"] = "mine"
    result = predict(model, rows)
    assert result.prediction_column == "predicted species (2)"
    assert result.frame["predicted species"].tolist() == ["mine"] * 3


def test_missing_values_in_a_model_without_imputation(trained, sample):
    # HistGradientBoosting handles gaps natively; the other models impute.
    for key in ("hist_gradient_boosting", "k_neighbors"):
        model = trained("diabetes", key).pipeline
        rows = sample("diabetes").drop(columns=["progression"]).head(5)
        rows.iloc[0, 2] = np.nan
        assert np.isfinite(predict(model, rows).frame["predicted progression"]).all()


# --- a bare estimator fitted on an array: the classic joblib tutorial --------------------------


@pytest.fixture(scope="module")
def bare_model():
    X, y = load_diabetes(return_X_y=True)
    return LinearRegression().fit(X, y), X


def test_bare_estimator_predicts_by_position(bare_model):
    model, X = bare_model
    rows = pd.DataFrame(X[:5], columns=[f"col {i}" for i in range(10)])
    rows["comment"] = "extra"
    result = predict(model, rows)
    # (the frame's column-major copy may change BLAS summation order in the last bit)
    np.testing.assert_allclose(result.frame["predicted target"], model.predict(X[:5]), rtol=1e-12)
    assert "first 10 columns were used in order" in result.notices[0]
    assert result.notices[1] == "Ignored: comment."


def test_bare_estimator_coerces_text_numbers(bare_model):
    model, X = bare_model
    rows = pd.DataFrame(X[:3]).astype(str)
    result = predict(model, rows)
    np.testing.assert_allclose(result.frame["predicted target"], model.predict(X[:3]))


def test_bare_estimator_with_too_few_columns(bare_model):
    model, X = bare_model
    message = _error(model, pd.DataFrame(X[:3, :7]))
    assert "expects 10 unnamed numeric features" in message and "only 7 column(s)" in message


def test_the_target_column_is_not_reported_as_ignored(sample_frames):
    from lib.training import Options, train

    tips = sample_frames["tips"]
    result = train(tips, "tip", model="ridge", options=Options(cv_folds=0))
    assert predict(result.pipeline, tips.assign(extra=1)).notices == [
        "Columns the model does not use were ignored: extra."
    ]
