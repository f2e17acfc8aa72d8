"""Predict & plot, the exploration tabs: performance, drivers, what-if, drift, distribution.

AppTest runs fragments only as part of a full run and cannot drive plotly selections, so the
selection logic is tested as the pure function the page uses (``rows_from_selection``).
"""

from __future__ import annotations

import io
import json

import joblib
import numpy as np
import pandas as pd
import pytest
from app_helpers import by_label, no_trouble, texts, with_model

from lib import training
from lib.model_info import describe_model
from lib.records import CurrentModel
from lib.rows import top_input_feature
from lib.samples import load_sample
from pages import _state

TABS = ["Performance", "Slices", "Drivers", "What-if", "Drift", "Distribution"]


def explore(at, current, name, data: bytes):
    """Open Predict & plot with ``current`` and upload ``data``."""
    with_model(at, current)
    at.switch_page("pages/predict.py").run()
    at.file_uploader(key=_state.PREDICT_UPLOAD).set_value((name, data, "text/csv")).run()
    no_trouble(at)
    assert not at.error, texts(at.error)
    return at


def open_tab(at, label: str):
    at.session_state[_state.EXPLORE_TAB] = label
    at.run()
    no_trouble(at)
    assert not at.error, texts(at.error)
    return at


def titles(at) -> list[str]:
    found = []
    for element in at.get("plotly_chart"):
        title = json.loads(element.proto.spec)["layout"].get("title") or {}
        found.append(title.get("text", "") if isinstance(title, dict) else str(title))
    return found


def tab_labels(at) -> list[str]:
    return [tab.label for tab in at.tabs]


@pytest.fixture(scope="module")
def binary_model() -> CurrentModel:
    result = training.train(
        load_sample("breast_cancer"), "diagnosis", model="logistic_regression",
        options=training.Options(cv_folds=0),
    )  # fmt: skip
    return CurrentModel(
        model=result.pipeline, info=describe_model(result.pipeline), source="test",
        name="cancer logistic",
    )  # fmt: skip


# --- labelled rows ----------------------------------------------------------------------------


def test_regression_tabs_open_on_performance(at, tips_model, tips_csv):
    explore(at, tips_model, "tips.csv", tips_csv)
    assert tab_labels(at) == TABS
    shown = titles(at)
    assert shown[:2] == ["Predicted vs actual", "Residuals vs predicted"]
    assert any(t.startswith("Residuals, actual − predicted") for t in shown)
    # Error by defaults to the model's own most important column; opening Performance does
    # not start a permutation ranking (that waits for the Drivers tab).
    top = by_label(at.selectbox, "Error by").value
    kept = at.session_state[_state.EXPLORATION]
    assert not kept.has_importance
    assert top == top_input_feature(kept.own_importance.table["feature"], kept.input_names)
    assert any(t.startswith(f"Mean absolute error by {top} (244 rows") for t in shown)
    assert "Drag a box or a lasso" in texts(at.caption)


def test_slices_tab_lists_groups_worst_first_with_the_chart(at, tips_model, tips_csv):
    explore(at, tips_model, "tips.csv", tips_csv)
    open_tab(at, "Slices")
    by_label(at.selectbox, "Slice by").set_value("day").run()
    no_trouble(at)
    table = at.dataframe[-1].value
    assert list(table.columns[:3]) == ["group", "rows", "MAE"]
    assert sorted(table["group"]) == ["Fri", "Sat", "Sun", "Thur"] and table["rows"].sum() == 244
    assert "fewer than 30 rows" in " ".join(table["note"])  # Friday: 19 rows
    assert table["group"].iloc[-1] == "Fri"  # too few to judge: after the judged days
    assert any(t.startswith("MAE by day, worst at the top") for t in titles(at))
    assert "too few to judge" in texts(at.caption)
    by_label(at.selectbox, "Slice by").set_value("total_bill").run()  # a number: quantile bins
    by_label(at.number_input, "Bins").set_value(4).run()
    no_trouble(at)
    table = at.dataframe[-1].value
    assert len(table) == 4 and all(" – " in group for group in table["group"])


@pytest.mark.slow
def test_every_tab_draws_on_labelled_rows(at, tips_model, tips_csv):
    explore(at, tips_model, "tips.csv", tips_csv)
    open_tab(at, "Drivers")
    shown = titles(at)
    assert shown[0].startswith("Permutation importance")
    assert shown[1].startswith("Partial dependence on")
    by_label(at.selectbox, "How the prediction moves with").set_value("day").run()  # categorical
    no_trouble(at)
    assert "Partial dependence on day" in titles(at)

    open_tab(at, "Drift")
    assert "columns** differ from training" in texts(at.markdown)
    table = at.dataframe[-1].value
    assert list(table.columns[:3]) == ["column", "status", "kind"]
    assert any(t.startswith("total_bill: training vs 244 new values") for t in titles(at))

    open_tab(at, "Distribution")
    assert any(t.startswith("Distribution of predictions") for t in titles(at))


@pytest.mark.slow  # the browser journey opens What-if too
def test_what_if_starts_from_the_row_and_follows_changes(at, tips_model, tips, tips_csv):
    explore(at, tips_model, "tips.csv", tips_csv)
    open_tab(at, "What-if")
    assert not at.get("plotly_chart")
    row = by_label(at.number_input, "Row (1 to 244)")
    assert row.value == 1
    bill = by_label(at.number_input, "total_bill")
    assert bill.value == tips["total_bill"].iloc[0]
    assert by_label(at.selectbox, "day").value == tips["day"].iloc[0]
    first = at.metric[-1]
    assert first.label == "predicted tip" and not first.delta

    bill.set_value(45.0).run()
    no_trouble(at)
    changed = tips.iloc[[0]].drop(columns=["tip"]).assign(total_bill=45.0)
    expected = tips_model.model.predict(changed)[0]
    assert at.metric[-1].value == f"{expected:.4g}" and "from" in at.metric[-1].delta

    by_label(at.number_input, "Row (1 to 244)").set_value(3).run()
    assert by_label(at.number_input, "total_bill").value == tips["total_bill"].iloc[2]


@pytest.mark.slow
def test_multiclass_performance_and_class_choice(at, iris_model):
    iris = load_sample("iris")
    explore(at, iris_model, "iris.csv", iris.to_csv(index=False).encode())
    shown = titles(at)
    assert shown[0].startswith("Confusion matrix, rows")
    for start in ("ROC curve", "Precision-recall curve", "Calibration", "Predicted probability"):
        assert any(t.startswith(start) for t in shown), (start, shown)
    assert not at.slider  # the threshold is for binary models only
    by_label(at.toggle, "Shares per actual class").set_value(True).run()
    assert titles(at)[0].startswith("Confusion matrix, share of each actual class")

    open_tab(at, "Drivers")
    assert by_label(at.selectbox, "Probability of class").options == ["setosa", "versicolor",
                                                                       "virginica"]  # fmt: skip
    open_tab(at, "What-if")
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")  # class probabilities


def test_binary_threshold_panel(at, binary_model):
    cancer = load_sample("breast_cancer")
    explore(at, binary_model, "cancer.csv", cancer.to_csv(index=False).encode())
    slider = at.slider[0]
    assert slider.value == 0.5 and "P(" in slider.label
    assert any(t.startswith("Precision, recall and F1") or "threshold" in t for t in titles(at))
    before = {m.label: m.value for m in at.metric}
    slider.set_value(0.95).run()
    no_trouble(at)
    after = {m.label: m.value for m in at.metric}
    assert {"Precision", "Recall", "F1"} <= set(after)
    assert after["Recall"] <= before["Recall"]


# --- unlabelled rows and bare models ----------------------------------------------------------


def test_unlabelled_rows_have_no_performance_or_slices_tab(at, tips_model, tips):
    explore(at, tips_model, "new.csv", tips.drop(columns=["tip"]).to_csv(index=False).encode())
    assert tab_labels(at) == TABS[2:]
    shown = titles(at)  # Drivers opens first: the model's own weights, then partial dependence
    assert len(shown) == 2 and shown[1].startswith("Partial dependence on")
    assert "Include the 'tip' column" in texts(at.caption)


def test_bare_model_says_drift_is_not_available(at, bare_model_bytes):
    model = joblib.load(io.BytesIO(bare_model_bytes))  # made by this test suite, safe to load
    bare = CurrentModel(model=model, info=describe_model(model), source="test", name="bare")
    rows = pd.DataFrame(np.random.default_rng(1).normal(size=(30, 3)), columns=["a", "b", "c"])
    explore(at, bare, "rows.csv", rows.to_csv(index=False).encode())
    assert "unusual inputs" not in at.dataframe[0].value.columns
    open_tab(at, "Drift")
    assert "Drift is not available for this model" in texts(at.info)
    open_tab(at, "Drivers")
    assert titles(at)[-1] == "Partial dependence on x2"  # the largest weight
    open_tab(at, "What-if")
    assert [w.label for w in at.number_input][1:] == ["x0", "x1", "x2"]


def test_unusual_rows_are_counted_and_can_be_filtered(at, tips_model, tips):
    odd = tips.copy()
    odd.loc[[1, 5], "total_bill"] = 500.0
    odd.loc[5, "day"] = "Mon"
    explore(at, tips_model, "odd.csv", odd.to_csv(index=False).encode())
    table = at.dataframe[0].value
    assert table["unusual inputs"].tolist()[:6] == [0, 1, 0, 0, 0, 2]
    at.toggle(key=_state.ONLY_UNUSUAL).set_value(True).run()
    assert len(at.dataframe[0].value) == 2


def test_reruns_reuse_what_was_computed(at, tips_model, tips_csv):
    explore(at, tips_model, "tips.csv", tips_csv)
    kept = at.session_state[_state.EXPLORATION]
    key = ("pred_vs_actual", 0.9)  # with the band of the default 90 % prediction intervals
    figure = kept.figure(key, lambda: None)
    assert figure is not None  # drawn by the first run
    at.run()
    assert at.session_state[_state.EXPLORATION] is kept
    assert kept.figure(key, lambda: None) is figure
