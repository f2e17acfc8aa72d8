"""Every file this app writes loads through the safe loader and predicts identically."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.covariance import EllipticEnvelope
from sklearn.ensemble import IsolationForest
from sklearn.neighbors import LocalOutlierFactor
from sklearn.svm import OneClassSVM

from lib import catalog
from lib.persistence import COMPRESSIONS, dump_model
from lib.safe_load import load_model
from lib.samples import load_sample
from lib.training import Options, train

pytestmark = pytest.mark.slow  # trains every catalog model

FAST = {"n_estimators": 10, "max_iter": 30}


@pytest.fixture(scope="module")
def mixed_table() -> pd.DataFrame:
    """Tips with an ISO date column: numeric, categorical, boolean-like and date features."""
    tips = load_sample("tips")
    return tips.assign(date=pd.date_range("2024-01-01", periods=len(tips)).astype(str))


@pytest.mark.parametrize(
    ("task", "target", "key"),
    [(t, target, spec.key) for t, target in [("regression", "tip"), ("classification", "day")]
     for spec in catalog.models_for(t)],
)  # fmt: skip
def test_every_catalog_model_from_the_app_loads_safely(task, target, key, mixed_table):
    spec = catalog.get_model(task, key)
    params = {name: value for name, value in FAST.items() if name in {p.name for p in spec.params}}
    result = train(mixed_table, target, model=key, options=Options(cv_folds=0, params=params))
    loaded = load_model(dump_model(result.pipeline), sandbox=False)
    rows = mixed_table.drop(columns=target)
    np.testing.assert_array_equal(loaded.model.predict(rows), result.pipeline.predict(rows))
    assert loaded.model.studio_metadata_ == result.metadata.to_plain()
    assert loaded.file_sklearn_version == result.metadata.versions["sklearn"]
    assert loaded.warnings == []


@pytest.mark.parametrize("compression", list(COMPRESSIONS))
def test_every_compression_the_app_offers_loads_safely(compression, mixed_table):
    result = train(mixed_table, "tip", model="ridge", options=Options(cv_folds=0))
    loaded = load_model(dump_model(result.pipeline, compression=compression), sandbox=False)
    assert loaded.compression == compression
    np.testing.assert_array_equal(
        loaded.model.predict(mixed_table), result.pipeline.predict(mixed_table)
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda: IsolationForest(random_state=0),
        OneClassSVM,
        lambda: LocalOutlierFactor(novelty=True),
        lambda: EllipticEnvelope(random_state=0),
    ],
    ids=["IsolationForest", "OneClassSVM", "LocalOutlierFactor", "EllipticEnvelope"],
)
def test_outlier_detectors_load_safely(make, dump):
    X = np.random.default_rng(0).normal(size=(200, 4))
    model = make().fit(X)
    loaded = load_model(dump(model), sandbox=False)
    np.testing.assert_array_equal(loaded.model.predict(X), model.predict(X))
