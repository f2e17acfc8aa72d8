"""Shared fixtures for the AppTest suite: a private model library and ready-made models."""

from __future__ import annotations

import io
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import plotly.express as px
import pytest
from app_helpers import APP, TIMEOUT
from sklearn.linear_model import LinearRegression
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest, app_test

from lib import training
from lib.model_info import describe_model
from lib.records import CurrentModel


@pytest.fixture(autouse=True)
def library_dir(tmp_path, monkeypatch) -> Path:
    """Every test gets its own empty model library."""
    root = tmp_path / "library"
    monkeypatch.setenv("MODEL_STUDIO_LIBRARY", str(root))
    return root


@pytest.fixture(autouse=True)
def jobs_dir(tmp_path, monkeypatch) -> Path:
    """Every test gets its own folder of training jobs."""
    root = tmp_path / "jobs"
    monkeypatch.setenv("MODEL_STUDIO_JOBS_DIR", str(root))
    return root


@pytest.fixture
def at() -> AppTest:
    """The app, run once (it opens on the Train page)."""
    return AppTest.from_file(APP, default_timeout=TIMEOUT).run()


@pytest.fixture(scope="session")
def tips() -> pd.DataFrame:
    return px.data.tips()


@pytest.fixture(scope="session")
def tips_csv(tips) -> bytes:
    return tips.to_csv(index=False).encode()


@pytest.fixture(scope="session")
def tips_model(tips) -> CurrentModel:
    """A regression pipeline trained by lib on tips (quick settings)."""
    result = training.train(
        tips, "tip", model="ridge", options=training.Options(cv_folds=0, source_name="tips.csv")
    )
    return CurrentModel(
        model=result.pipeline, info=describe_model(result.pipeline), source="test",
        name="tips ridge", result=result,
    )  # fmt: skip


@pytest.fixture(scope="session")
def iris_model() -> CurrentModel:
    from lib.samples import load_sample

    result = training.train(
        load_sample("iris"), "species", model="logistic_regression",
        options=training.Options(cv_folds=0),
    )  # fmt: skip
    return CurrentModel(
        model=result.pipeline, info=describe_model(result.pipeline), source="test",
        name="iris logistic", result=result,
    )  # fmt: skip


@pytest.fixture(scope="session")
def bare_model_bytes() -> bytes:
    """The classic tutorial: LinearRegression fitted on a plain array, dumped with joblib."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    model = LinearRegression().fit(X, X @ np.array([1.0, 2.0, 3.0]))
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    return buffer.getvalue()


@pytest.fixture
def media_managers(monkeypatch) -> list[MediaFileManager]:
    """The media file manager of each AppTest run, kept so a test can click a download: AppTest
    makes a new one per run and forgets it afterwards (1.67 has no public handle on it; the
    manager's own ``read_file`` then returns the bytes)."""
    made: list[MediaFileManager] = []

    class Kept(MediaFileManager):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(app_test, "MediaFileManager", Kept)
    return made
