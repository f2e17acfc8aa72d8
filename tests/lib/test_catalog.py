"""Tests for lib/catalog.py: task inference and the models a person can pick."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import pytest
from sklearn import (
    datasets,
    ensemble,
    linear_model,
    naive_bayes,
    neighbors,
    neural_network,
    svm,
    tree,
)
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.calibration import CalibratedClassifierCV

from lib import catalog
from lib.catalog import get_model, infer_task, models_for
from lib.errors import TrainingError, UserError
from lib.schema import CLASSIFICATION, REGRESSION

ALL_SPECS = [*catalog.REGRESSORS, *catalog.CLASSIFIERS]


def _iris_species() -> pd.Series:
    bunch = datasets.load_iris(as_frame=True)
    return pd.Series(bunch.target_names[bunch.target.to_numpy()])


@pytest.mark.parametrize(
    ("make_target", "expected"),
    [
        (_iris_species, CLASSIFICATION),
        (lambda: datasets.load_iris(as_frame=True).target, CLASSIFICATION),  # 0/1/2 codes
        (lambda: datasets.load_diabetes(as_frame=True).target, REGRESSION),
        (lambda: datasets.load_breast_cancer(as_frame=True).target, CLASSIFICATION),
        (lambda: px.data.tips()["day"], CLASSIFICATION),
        (lambda: px.data.tips()["tip"], REGRESSION),
        (lambda: px.data.tips()["smoker"], CLASSIFICATION),
        (lambda: px.data.gapminder()["lifeExp"], REGRESSION),
        (lambda: px.data.gapminder()["pop"], REGRESSION),  # integer counts, many values
        (lambda: pd.Series(np.random.default_rng(0).poisson(40, 500)), REGRESSION),
        (lambda: pd.Series([True, False, True, None] * 10), CLASSIFICATION),
        (lambda: pd.Series([True, False] * 10, dtype=bool), CLASSIFICATION),
        (lambda: pd.Series([1.0, 2.0, 3.0, np.nan] * 30), CLASSIFICATION),  # whole floats
        (lambda: pd.Series([0.5, 1.5] * 30), CLASSIFICATION),  # two values only
    ],
    ids=[
        "iris-species",
        "iris-codes",
        "diabetes",
        "cancer-0-1",
        "tips-day",
        "tips-tip",
        "tips-smoker",
        "gapminder-lifeExp",
        "gapminder-pop",
        "poisson-counts",
        "bool-with-missing",
        "bool",
        "whole-floats",
        "two-floats",
    ],
)
def test_infer_task(make_target, expected):
    assert infer_task(make_target()) == expected


@pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda s: f"{s.task}-{s.key}")
def test_every_spec_builds_with_defaults(spec):
    estimator = spec.build()
    if spec.task == CLASSIFICATION:
        assert is_classifier(estimator)
    else:
        assert is_regressor(estimator)
    clone(estimator)  # a well-formed scikit-learn estimator
    for param in spec.params:
        if param.name in estimator.get_params():
            value = estimator.get_params()[param.name]
            assert value == (None if param.default == "None" else param.default)
        if param.kind in ("int", "float"):
            assert param.low <= param.default <= param.high, param.name
        if param.kind == "choice":
            assert param.default in param.choices, param.name


@pytest.mark.parametrize("spec", [s for s in ALL_SPECS if s.seeded], ids=lambda s: s.key)
def test_seeded_specs_take_the_random_state(spec):
    params = spec.build(random_state=123).get_params()
    seeds = [v for k, v in params.items() if k == "random_state" or k.endswith("__random_state")]
    assert 123 in seeds


def test_params_override_defaults_and_none_string_means_none():
    forest = get_model(REGRESSION, "random_forest").build(n_estimators=7, max_depth="None")
    assert forest.n_estimators == 7 and forest.max_depth is None
    assert get_model(REGRESSION, "random_forest").build(max_depth=5).max_depth == 5


@pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda s: f"{s.task}-{s.key}")
def test_unknown_param_is_refused(spec):
    with pytest.raises(TrainingError) as caught:
        spec.build(not_a_setting=1)
    message = str(caught.value)
    assert "not_a_setting" in message and spec.label in message
    assert isinstance(caught.value, UserError)


REQUIRED = {
    REGRESSION: [
        linear_model.LinearRegression,
        linear_model.Ridge,
        linear_model.Lasso,
        linear_model.ElasticNet,
        ensemble.RandomForestRegressor,
        ensemble.HistGradientBoostingRegressor,
        svm.SVR,
        neighbors.KNeighborsRegressor,
        tree.DecisionTreeRegressor,
        neural_network.MLPRegressor,
    ],
    CLASSIFICATION: [
        linear_model.LogisticRegression,
        ensemble.RandomForestClassifier,
        ensemble.HistGradientBoostingClassifier,
        svm.SVC,
        neighbors.KNeighborsClassifier,
        tree.DecisionTreeClassifier,
        naive_bayes.GaussianNB,
        neural_network.MLPClassifier,
    ],
}


def _core(estimator):
    return estimator.estimator if isinstance(estimator, CalibratedClassifierCV) else estimator


@pytest.mark.parametrize("task", [REGRESSION, CLASSIFICATION])
def test_catalog_has_the_required_models(task):
    built = [_core(spec.build()) for spec in models_for(task)]
    for cls in REQUIRED[task]:
        assert any(type(e) is cls for e in built), cls.__name__
    keys = [spec.key for spec in models_for(task)]
    assert len(keys) == len(set(keys))
    assert catalog.DEFAULT_MODEL in keys


def test_svc_gives_probabilities():
    svc = get_model(CLASSIFICATION, "svc").build()
    X, y = datasets.load_iris(return_X_y=True)
    proba = svc.fit(X, y).predict_proba(X[:5])
    assert proba.shape == (5, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize("spec", catalog.CLASSIFIERS, ids=lambda s: s.key)
def test_every_classifier_has_predict_proba(spec):
    assert hasattr(spec.build(), "predict_proba")


def test_unknown_task_and_model():
    with pytest.raises(TrainingError, match="Unknown task 'clustering'"):
        models_for("clustering")
    with pytest.raises(TrainingError) as caught:
        get_model(REGRESSION, "xgboost")
    assert "'xgboost'" in str(caught.value) and "ridge" in str(caught.value)
