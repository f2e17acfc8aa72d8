"""Feature importance and partial dependence, checked against scikit-learn's own tools."""

import numpy as np
import pandas as pd
import pytest
from sklearn.inspection import partial_dependence, permutation_importance
from sklearn.linear_model import LinearRegression

from lib.errors import PredictionError
from lib.explain import ICE_LINES, feature_importance, partial_dependence_data
from lib.training import Options, train


@pytest.fixture(scope="module")
def tips_forest(sample_frames):
    tips = sample_frames["tips"]
    result = train(
        tips, "tip", model="random_forest", options=Options(cv_folds=0, params={"n_estimators": 20})
    )
    return result.pipeline, tips.drop(columns="tip"), tips["tip"].to_numpy()


def test_permutation_importance_matches_scikit_learn(tips_forest):
    model, X, y = tips_forest
    importance = feature_importance(model, X, y, task="regression")
    expected = permutation_importance(model, X, y, scoring="r2", n_repeats=5, random_state=0)
    table = importance.table.set_index("feature")
    for i, name in enumerate(X.columns):
        assert table.loc[name, "importance"] == pytest.approx(expected.importances_mean[i])
    assert importance.method == "permutation"
    assert importance.table["feature"].iloc[0] == "total_bill"  # what drives tips
    assert importance.table["importance"].is_monotonic_decreasing


def test_without_labels_the_models_own_importances_are_used(tips_forest):
    model, X, _ = tips_forest
    importance = feature_importance(model, X)
    assert importance.method == "model"
    forest = model.named_steps["model"]
    assert importance.table["importance"].sum() == pytest.approx(forest.feature_importances_.sum())
    assert importance.table["feature"].iloc[0] == "numeric__total_bill"


def test_linear_models_fall_back_to_weights():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3))
    model = LinearRegression().fit(X, X @ np.array([5.0, 0.0, -1.0]))
    table = feature_importance(model, X).table
    assert table["feature"].tolist() == ["x0", "x2", "x1"]


def test_partial_dependence_matches_scikit_learn(tips_forest):
    model, X, _ = tips_forest
    result = partial_dependence_data(model, X, "total_bill")
    expected = partial_dependence(
        model, X, ["total_bill"], kind="average", grid_resolution=30, percentiles=(0.02, 0.98)
    )
    np.testing.assert_allclose(result.grid, expected["grid_values"][0])
    np.testing.assert_allclose(result.average, expected["average"][0])
    assert result.individual.shape == (ICE_LINES, len(result.grid))


def test_partial_dependence_of_a_category_per_class(sample_frames):
    tips = sample_frames["tips"]
    model = train(tips, "time", model="logistic_regression", options=Options(cv_folds=0))
    result = partial_dependence_data(
        model.pipeline, tips.drop(columns="time"), "day", categorical=True
    )
    assert sorted(result.grid.tolist()) == ["Fri", "Sat", "Sun", "Thur"]
    assert result.class_label == "Lunch"  # the positive class of a binary model
    assert np.all((result.average >= 0) & (result.average <= 1))


def test_partial_dependence_on_an_unknown_column_is_a_user_error(tips_forest):
    model, X, _ = tips_forest
    with pytest.raises(PredictionError, match="no column 'nope'"):
        partial_dependence_data(model, X, "nope")


def test_partial_dependence_on_a_date_column_is_a_user_error():
    rows = pd.DataFrame(
        {"day": pd.date_range("2024-01-01", periods=60).astype(str), "x": np.arange(60.0)}
    )
    result = train(rows.assign(y=np.arange(60.0)), "y", model="ridge", options=Options(cv_folds=0))
    with pytest.raises(PredictionError, match="numbers or categories"):
        partial_dependence_data(result.pipeline, rows, "day")


def test_partial_dependence_on_too_few_rows_says_so():
    from sklearn.linear_model import LogisticRegression

    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    model = LogisticRegression().fit(X, [0, 1, 0, 1])
    with pytest.raises(PredictionError, match="needs at least 3 rows with a value in 'a'"):
        partial_dependence_data(model, X.head(2), "a")
    assert len(partial_dependence_data(model, X.head(3), "a").grid) == 3
