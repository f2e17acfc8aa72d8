"""Predict & plot: the prediction interval (or set) level, its columns, band and coverage."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from app_helpers import no_trouble, texts, with_model

from lib import training
from lib.display import predictions_csv
from lib.model_info import describe_model
from lib.records import CurrentModel
from lib.samples import load_sample
from pages import _state


def open_with_rows(at, current, name, data):
    with_model(at, current)
    at.switch_page("pages/predict.py").run()
    at.file_uploader(key=_state.PREDICT_UPLOAD).set_value((name, data, "text/csv")).run()
    no_trouble(at)
    return at


def level_select(at):
    found = [s for s in at.selectbox if (s.key or "").startswith(_state.INTERVAL_LEVEL)]
    return found[0] if found else None


def test_regression_intervals_level_columns_band_and_coverage(at, tips_model, tips_csv):
    open_with_rows(at, tips_model, "tips.csv", tips_csv)
    select = level_select(at)
    assert select is not None and select.label == "Prediction interval level"
    assert select.value == 0.9 and "50 %" in select.options
    frame = at.dataframe[0].value
    assert {"lower tip", "upper tip"} <= set(frame.columns)
    assert (frame["lower tip"] <= frame["predicted tip"]).all()
    # The CSV is built from the same frame (AppTest cannot read download bytes).
    exploration = at.session_state[_state.EXPLORATION]
    result = exploration.predictions_at(0.9)
    csv = pd.read_csv(io.BytesIO(predictions_csv(result.frame)))
    assert {"lower tip", "upper tip"} <= set(csv.columns) and len(csv) == 244
    lines = texts(at.markdown)
    assert "90 % intervals held the true value for" in lines and "of these 244 rows" in lines
    specs = " ".join(chart.proto.spec for chart in at.get("plotly_chart"))
    assert "90 % prediction interval" in specs
    select.set_value(0.5).run()
    no_trouble(at)
    narrower = at.dataframe[0].value
    assert (narrower["upper tip"] - narrower["lower tip"]).mean() < (
        frame["upper tip"] - frame["lower tip"]
    ).mean()
    assert "50 % intervals held the true value" in texts(at.markdown)


def test_classifier_gets_prediction_sets(at, iris_model):
    rows = load_sample("iris")
    open_with_rows(at, iris_model, "iris.csv", rows.to_csv(index=False).encode())
    select = level_select(at)
    assert select is not None and select.label == "Prediction set level"
    frame = at.dataframe[0].value
    assert {"prediction set", "set size"} <= set(frame.columns)
    assert "prediction sets held the true class for" in texts(at.markdown)


@pytest.fixture(scope="module")
def uncalibrated_model() -> CurrentModel:
    result = training.train(load_sample("tips"), "tip", model="ridge",
                            options=training.Options(test_size=0.0, cv_folds=0))  # fmt: skip
    return CurrentModel(
        model=result.pipeline, info=describe_model(result.pipeline), source="test",
        name="tips ridge, no validation", result=result,
    )  # fmt: skip


def test_a_model_without_calibration_says_why(at, uncalibrated_model, tips_csv):
    open_with_rows(at, uncalibrated_model, "tips.csv", tips_csv)
    assert level_select(at) is None
    assert "No prediction intervals: this model was trained with neither" in texts(at.caption)
    frame = at.dataframe[0].value
    assert "lower tip" not in frame.columns
