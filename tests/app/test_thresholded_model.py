"""A model with a tuned decision threshold on the other pages: Save & download (summary,
library, loading it back through the safe loader) and Predict & plot (performance, drivers)."""

from __future__ import annotations

import pytest
from app_helpers import by_label, no_trouble, texts, with_model
from test_explore_page import explore, open_tab, titles

from lib import training
from lib.model_info import describe_model
from lib.records import CurrentModel
from lib.samples import load_sample
from pages import _state

COSTS = {"goal": "cost", "fp_cost": 1.0, "fn_cost": 10.0, "positive": "malignant"}


@pytest.fixture(scope="module")
def thresholded() -> CurrentModel:
    result = training.train(
        load_sample("breast_cancer"), "diagnosis", model="logistic_regression",
        options=training.Options(cv_folds=0, check_leakage=False, decision=COSTS),
    )  # fmt: skip
    return CurrentModel(
        model=result.pipeline, info=describe_model(result.pipeline), source="test",
        name="cancer costly", result=result,
    )  # fmt: skip


def test_save_shows_the_threshold_step_and_the_library_loads_it_back(at, thresholded):
    with_model(at, thresholded)
    at.switch_page("pages/save.py").run()
    no_trouble(at)
    threshold = thresholded.info.metadata.decision.threshold
    assert "threshold: FixedThresholdClassifier" in texts(at.markdown)
    assert "## Decision threshold" in texts(at.markdown)  # the model card
    by_label(at.text_input, "Model name").set_value("costly")
    at.button(key=_state.SAVE_BUTTON).click().run()
    no_trouble(at)
    at.button(key=_state.LIBRARY_LOAD).click().run()
    no_trouble(at)
    loaded = at.session_state[_state.MODEL]
    assert loaded.source == "model library: costly, version 1"
    assert loaded.info.metadata.decision.threshold == threshold


def test_predict_and_plot_start_from_the_models_threshold(at, thresholded):
    rows = load_sample("breast_cancer").to_csv(index=False).encode()
    explore(at, thresholded, "cancer.csv", rows)
    threshold = thresholded.info.metadata.decision.threshold
    assert "The model itself says 'malignant' when P(malignant) is at least" in texts(at.caption)
    slider = next(s for s in at.slider if s.label.startswith("Call a row 'malignant'"))
    assert slider.value == round(threshold, 2)
    open_tab(at, "Drivers")
    shown = titles(at)
    assert shown[0].startswith("Permutation importance")
    assert shown[1].startswith("Partial dependence on")
