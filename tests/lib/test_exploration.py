"""The seam between the pages and a model: one (model, rows[, target]) pair, computed once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

from lib.errors import PredictionError
from lib.exploration import Exploration, exploration_for
from lib.model_info import describe_model
from lib.records import CurrentModel, TableData, sha256


def current_model(pipeline, name: str = "m") -> CurrentModel:
    return CurrentModel(model=pipeline, info=describe_model(pipeline), source="test", name=name)


def rows(df: pd.DataFrame, name: str = "rows.csv") -> TableData:
    return TableData(name, df, sha256(df.to_csv().encode()))


class CountingModel:
    """Wraps a fitted pipeline and counts its predict calls."""

    def __init__(self, pipeline):
        self.pipeline, self.calls = pipeline, 0

    def __getattr__(self, name):
        return getattr(self.pipeline, name)

    def predict(self, X):
        self.calls += 1
        return self.pipeline.predict(X)


def test_predictions_are_the_models_own_and_computed_once(trained, sample_frames):
    result = trained("tips", "ridge")
    tips = sample_frames["tips"]
    counting = CountingModel(result.pipeline)
    ex = Exploration(CurrentModel(counting, describe_model(result.pipeline), "t", "m"), rows(tips))
    frame = ex.predictions.frame
    np.testing.assert_allclose(frame["predicted tip"], result.pipeline.predict(tips))
    assert ex.predictions is ex.predictions and counting.calls == 1
    ex.scores, ex.labelled, ex.drift  # noqa: B018 - derived from the same predictions
    assert counting.calls == 1


def test_labelled_rows_scores_and_training_rows(trained, sample_frames):
    result = trained("iris", "logistic_regression")
    iris = sample_frames["iris"]
    ex = Exploration(current_model(result.pipeline), rows(iris))
    labelled = ex.labelled
    assert labelled is not None and len(labelled) == len(iris)
    assert labelled.proba.shape == (len(iris), 3)
    assert 0.9 < ex.scores["accuracy"] <= 1.0
    assert ex.are_training_rows  # these are the rows it was fitted on
    assert not Exploration(current_model(result.pipeline), rows(iris.head(50))).are_training_rows


def test_unknown_labels_are_left_out_and_named(trained, sample_frames):
    result = trained("iris", "logistic_regression")
    iris = sample_frames["iris"].copy()
    target = result.target
    iris[target] = iris[target].astype(object)
    iris.loc[:4, target] = "SETOSA"
    labelled = Exploration(current_model(result.pipeline), rows(iris)).labelled
    assert labelled is not None and len(labelled) == len(iris) - 5
    assert labelled.unknown_labels == ["SETOSA"]


def test_rows_without_the_target_have_no_scores(trained, sample_frames):
    result = trained("tips", "ridge")
    ex = Exploration(
        current_model(result.pipeline), rows(sample_frames["tips"].drop(columns="tip"))
    )
    assert ex.labelled is None and not ex.has_labels
    with pytest.raises(Exception, match="no usable values in 'tip'"):
        _ = ex.scores


def test_a_refusal_is_kept_not_recomputed(trained, sample_frames):
    result = trained("tips", "ridge")
    counting = CountingModel(result.pipeline)
    info = describe_model(result.pipeline)
    ex = Exploration(CurrentModel(counting, info, "t", "m"), rows(sample_frames["tips"][["tip"]]))
    for _ in range(2):
        with pytest.raises(PredictionError, match="lack"):
            _ = ex.predictions
    memo_calls = []
    for _ in range(2):
        with pytest.raises(PredictionError):
            ex.memo(
                "bad", lambda: memo_calls.append(1) or (_ for _ in ()).throw(PredictionError("x"))
            )
    assert memo_calls == [1]


def test_a_model_fitted_on_an_array_takes_columns_in_order():
    X = np.arange(30, dtype=float).reshape(10, 3)
    model = LinearRegression().fit(X, X @ [1.0, 2.0, 3.0])
    df = pd.DataFrame(X, columns=["a", "b", "c"]).assign(extra="x")
    ex = Exploration(current_model(model), rows(df))
    assert isinstance(ex.model_input, np.ndarray) and ex.model_input.shape == (10, 3)
    assert list(ex.model_frame.columns) == ["x0", "x1", "x2"]
    np.testing.assert_allclose(ex.predictions.frame["predicted target"], model.predict(X))
    assert any("in order" in notice for notice in ex.predictions.notices)


def test_what_if_predicts_a_changed_row(trained, sample_frames):
    result = trained("tips", "ridge")
    tips = sample_frames["tips"]
    ex = Exploration(current_model(result.pipeline), rows(tips))
    values = tips.drop(columns="tip").iloc[0].to_dict()
    same = ex.what_if(values).frame["predicted tip"].iloc[0]
    assert same == pytest.approx(ex.predictions.frame["predicted tip"].iloc[0])
    bigger = ex.what_if({**values, "total_bill": values["total_bill"] + 50})
    assert bigger.frame["predicted tip"].iloc[0] > same  # a bigger bill, a bigger tip
    assert ex.what_if(values) is ex.what_if(dict(values))


def test_explanations_come_from_the_same_rows(trained, sample_frames):
    result = trained("tips", "hist_gradient_boosting")
    ex = Exploration(current_model(result.pipeline), rows(sample_frames["tips"]))
    importance = ex.importance
    assert importance is not None and importance.method == "permutation"
    assert set(importance.table["feature"]) == set(ex.input_names)
    dependence = ex.partial_dependence("total_bill", None)
    assert dependence.feature == "total_bill" and len(dependence.grid) > 5
    assert ex.partial_dependence("total_bill", None) is dependence


def test_threshold_figures_on_a_binary_model(trained, sample_frames):
    result = trained("breast_cancer", "logistic_regression")
    ex = Exploration(current_model(result.pipeline), rows(sample_frames["breast_cancer"]))
    low, high = ex.at_threshold(0.1), ex.at_threshold(0.9)
    assert low["recall"] >= high["recall"] and low["tp"] + low["fn"] == high["tp"] + high["fn"]
    assert ex.at_threshold(0.1) is low


def test_one_exploration_per_pair(trained, sample_frames):
    current = current_model(trained("tips", "ridge").pipeline)
    tips = rows(sample_frames["tips"])
    first = exploration_for(None, current, tips, None)
    assert exploration_for(first, current, tips, None) is first
    assert exploration_for(first, current, tips, "total_bill") is not first
    assert exploration_for(first, current, rows(sample_frames["tips"].head(9)), None) is not first
    assert exploration_for(first, current_model(current.model), tips, None) is not first
