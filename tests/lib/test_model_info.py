"""Tests for lib/model_info.py: what a loaded model is and what input it expects."""

from __future__ import annotations

import pytest
from sklearn.compose import make_column_transformer
from sklearn.datasets import load_diabetes, load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from lib.model_info import describe_model


def test_app_model_uses_its_metadata(trained):
    info = describe_model(trained("tips", "hist_gradient_boosting").pipeline)
    assert info.task == "regression" and info.target == "tip"
    assert info.estimator == "HistGradientBoostingRegressor"
    assert info.steps == ["preprocess: ColumnTransformer", "model: HistGradientBoostingRegressor"]
    assert [f.name for f in info.features] == ["total_bill", "sex", "smoker", "day", "time", "size"]
    kinds = {f.name: f.kind for f in info.features}
    assert kinds["total_bill"] == "numeric" and kinds["day"] == "categorical"
    assert info.features[0].summary.min == 3.07
    assert info.named_features and info.n_features == 6 and not info.has_proba
    assert info.metadata.target == "tip"
    assert info.file_sklearn_version == info.running_sklearn_version
    assert info.version_warning is None
    assert info.expectation.startswith("This model expects 6 columns: total_bill, sex")


def test_app_classifier(trained):
    info = describe_model(trained("iris", "svc").pipeline)
    assert info.task == "classification" and info.has_proba
    assert info.classes == ["setosa", "versicolor", "virginica"]
    assert all(type(c) is str for c in info.classes)


def test_bare_estimator_on_an_array():
    X, y = load_diabetes(return_X_y=True)
    info = describe_model(LinearRegression().fit(X, y))
    assert info.estimator == "LinearRegression" and info.steps == ["LinearRegression"]
    assert info.task == "regression" and info.target is None and info.metadata is None
    assert info.n_features == 10 and not info.named_features
    assert "10 unnamed numeric features" in info.expectation
    assert info.file_sklearn_version is None and info.version_warning is None


def test_pipeline_fitted_on_a_dataframe_without_app_metadata():
    iris = load_iris(as_frame=True)
    frame = iris.data.assign(colour=["red", "blue"] * 75)
    pipeline = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(), ["colour"]),
            remainder=StandardScaler(),
            verbose_feature_names_out=False,
        ),
        LogisticRegression(max_iter=500),
    ).fit(frame, iris.target)
    info = describe_model(pipeline)
    assert info.metadata is None and info.task == "classification" and info.has_proba
    assert [f.name for f in info.features] == [*iris.data.columns, "colour"]
    assert {f.kind for f in info.features} == {"unknown"}
    assert info.named_features and info.classes == [0, 1, 2]
    assert all(type(c) is int for c in info.classes)
    assert info.steps[-1] == "logisticregression: LogisticRegression"


def test_a_model_without_any_feature_information():
    info = describe_model(LinearRegression())  # never fitted
    assert info.features is None and info.n_features is None
    assert "does not say" in info.expectation


@pytest.mark.parametrize("file_version", ["1.5.2", "0.24.0"])
def test_version_warning_when_the_file_comes_from_another_sklearn(file_version, trained):
    info = describe_model(
        trained("iris", "k_neighbors").pipeline, file_sklearn_version=file_version
    )
    assert info.file_sklearn_version == file_version
    warning = info.version_warning
    assert warning and f"scikit-learn {file_version}" in warning
    assert info.running_sklearn_version in warning


def test_version_recorded_in_the_metadata_is_used(trained):
    pipeline = trained("iris", "gaussian_nb").pipeline
    meta = dict(pipeline.studio_metadata_, versions={"sklearn": "1.0.0"})
    original = pipeline.studio_metadata_
    try:
        pipeline.studio_metadata_ = meta
        assert "scikit-learn 1.0.0" in describe_model(pipeline).version_warning
    finally:
        pipeline.studio_metadata_ = original
