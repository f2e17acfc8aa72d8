"""The Train page's decision threshold: costs in, a tuned threshold and its cost curve out."""

import json

from app_helpers import by_label, finish_jobs, no_trouble, texts
from sklearn.model_selection import FixedThresholdClassifier

from pages import _state
from pages._train_decision import COST, DEFAULT


def pick_sample(at, key: str):
    at.radio(key=_state.TRAIN_SOURCE).set_value("Use a sample").run()
    by_label(at.selectbox, "Sample table").set_value(key).run()
    return at


def test_costs_tune_the_threshold_and_show_the_cost_curve(at):
    pick_sample(at, "breast_cancer")
    by_label(at.selectbox, "Model").set_value("logistic_regression").run()
    choice = by_label(at.radio, "How the model decides")
    assert choice.value == DEFAULT
    choice.set_value(COST).run()
    assert by_label(at.selectbox, "Positive class").value == "malignant"  # the rarer class
    by_label(at.number_input, "Cost of a false negative").set_value(20.0).run()
    at.button(key=_state.TRAIN_BUTTON).click().run()
    finish_jobs(at)
    no_trouble(at)

    current = at.session_state[_state.MODEL]
    assert isinstance(current.result.pipeline, FixedThresholdClassifier)
    record = current.info.metadata.decision
    assert (record.fp_cost, record.fn_cost, record.positive) == (1.0, 20.0, "malignant")
    assert record.threshold < 0.5
    shown = texts(at.markdown)
    assert f"At **{record.threshold:.3g}** the expected cost is" in shown
    assert f"against {record.cost_at_default:.3g} at the default 0.5" in shown
    charts = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    curve = next(c for c in charts if "against the decision threshold" in str(c["layout"]))
    names = [trace.get("name", "") for trace in curve["data"]]
    assert f"tuned {record.threshold:.3g}" in names and "default 0.5" in names


def test_only_a_yes_no_target_offers_a_threshold(at):
    pick_sample(at, "iris")
    assert not [r for r in at.radio if r.label == "How the model decides"]
