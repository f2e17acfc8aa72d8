"""The Train page: tables in, a trained model out, without refits on reruns."""

import pytest
from app_helpers import APP, TIMEOUT, by_label, finish_jobs, no_trouble, texts
from streamlit.testing.v1 import AppTest

from pages import _state


def upload_tips(at, tips_csv):
    at.file_uploader(key=_state.TRAIN_UPLOAD).set_value(("tips.csv", tips_csv, "text/csv")).run()
    return at


def test_opens_on_train_with_an_empty_state(at):
    no_trouble(at)
    assert at.title[0].value == "Train a model"
    assert "Upload a table above" in texts(at.info)
    assert "table" not in at.session_state


def test_upload_profile_and_train_makes_the_current_model(at, tips_csv):
    upload_tips(at, tips_csv)
    no_trouble(at)
    target = by_label(at.selectbox, "Target column")
    assert target.value == "size"  # no sample target: the last column
    target.set_value("tip").run()
    assert by_label(at.radio, "Task").value == "regression"
    features = by_label(at.multiselect, "Feature columns")
    assert set(features.value) == {"total_bill", "sex", "smoker", "day", "time", "size"}

    by_label(at.selectbox, "Model").set_value("ridge").run()
    at.button(key=_state.TRAIN_BUTTON).click().run()
    no_trouble(at)
    assert "Train Ridge" in texts(at.markdown)  # the job, shown while it runs
    finish_jobs(at)
    no_trouble(at)
    current = at.session_state[_state.MODEL]
    assert current.info.target == "tip" and current.info.task == "regression"
    assert current.name == "tips ridge"
    assert {m.label for m in at.metric} >= {"R²", "MAE", "RMSE"}
    interval = current.result.metric_intervals["r2"]
    caption = f"R² {interval[0]:.3f}–{interval[1]:.3f}"
    assert "95 % interval over the held-out rows (bootstrap):" in texts(at.caption)
    assert caption in texts(at.caption)
    r2 = next(m for m in at.metric if m.label == "R²")
    assert caption.removeprefix("R² ") in r2.proto.help
    assert len(at.get("plotly_chart")) == 2  # cross-validation spread + predicted vs actual


def test_rerun_after_training_neither_refits_nor_reparses(at, tips_csv):
    upload_tips(at, tips_csv)
    table = at.session_state[_state.TABLE]
    by_label(at.selectbox, "Target column").set_value("tip").run()
    by_label(at.selectbox, "Model").set_value("ridge").run()
    finish_jobs(at.button(key=_state.TRAIN_BUTTON).click().run())
    model_id = at.session_state[_state.MODEL].id
    by_label(at.slider, "Test share").set_value(0.3).run()
    by_label(at.multiselect, "Feature columns").set_value(["total_bill"]).run()
    no_trouble(at)
    assert at.session_state[_state.MODEL].id == model_id
    assert at.session_state[_state.TABLE].sha == table.sha
    assert at.session_state[_state.TABLE].df is table.df  # same parsed frame, not a re-parse


def test_broken_csv_is_an_error_not_a_traceback(at):
    broken = b"a,b,c\n1,2,3\n4,5\n6,7,8\n"
    at.file_uploader(key=_state.TRAIN_UPLOAD).set_value(("broken.csv", broken, "text/csv")).run()
    no_trouble(at)
    assert "line 3" in texts(at.error)
    assert "table" not in at.session_state


def test_sample_classification_shows_a_confusion_matrix(at):
    at.radio(key=_state.TRAIN_SOURCE).set_value("Use a sample").run()
    by_label(at.selectbox, "Sample table").set_value("iris").run()
    assert by_label(at.selectbox, "Target column").value == "species"
    assert by_label(at.radio, "Task").value == "classification"
    by_label(at.selectbox, "Model").set_value("logistic_regression").run()
    finish_jobs(at.button(key=_state.TRAIN_BUTTON).click().run())
    no_trouble(at)
    figures = [chart.proto.spec for chart in at.get("plotly_chart")]
    assert any("Confusion matrix" in spec for spec in figures)
    assert at.session_state[_state.MODEL].info.classes == ["setosa", "versicolor", "virginica"]


def test_training_problem_is_a_user_error(at):
    at.radio(key=_state.TRAIN_SOURCE).set_value("Use a sample").run()
    by_label(at.selectbox, "Sample table").set_value("iris").run()
    by_label(at.radio, "Task").set_value("regression").run()
    finish_jobs(at.button(key=_state.TRAIN_BUTTON).click().run())
    no_trouble(at)
    assert "Failed" in texts(at.markdown)
    assert "Regression needs a numeric target" in texts(at.caption)
    assert "current_model" not in at.session_state


@pytest.mark.slow
def test_compare_models_then_train_the_best(at):
    at.radio(key=_state.TRAIN_SOURCE).set_value("Use a sample").run()
    by_label(at.selectbox, "Sample table").set_value("iris").run()
    by_label(at.number_input, "Cross-validation folds").set_value(2).run()
    finish_jobs(at.button(key=_state.COMPARE_BUTTON).click().run())
    no_trouble(at)
    board = at.dataframe[-1].value
    assert list(board["rank"])[:2] == [1, 2] and len(board) >= 5
    best = board["model"].iloc[0]
    finish_jobs(at.button(key=_state.TRAIN_BEST).click().run())
    no_trouble(at)
    assert at.session_state[_state.MODEL].result.model_key
    assert best in at.success[0].value


def test_model_survives_a_page_switch(at):
    at.radio(key=_state.TRAIN_SOURCE).set_value("Use a sample").run()
    by_label(at.selectbox, "Model").set_value("ridge").run()
    finish_jobs(at.button(key=_state.TRAIN_BUTTON).click().run())
    model_id = at.session_state[_state.MODEL].id
    at.switch_page("pages/predict.py").run()
    no_trouble(at)
    assert at.title[0].value == "Predict & plot"
    assert at.session_state[_state.MODEL].id == model_id
    at.switch_page("pages/train.py").run()
    assert at.header[-1].value == "Results"  # the result is still shown on return


def test_sidebar_shows_the_current_model_and_table(tips_model):
    # AppTest keeps sidebar elements of the first run only, so start a session with a model.
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state[_state.MODEL] = tips_model
    at.run()
    no_trouble(at)
    sidebar = texts(at.sidebar.caption)
    assert "tips ridge" in sidebar and "Target: tip" in sidebar and "R²" in sidebar


@pytest.mark.slow
def test_every_model_draws_its_hyperparameter_widgets(at):
    from lib.catalog import models_for

    at.radio(key=_state.TRAIN_SOURCE).set_value("Use a sample").run()
    for sample, task in (("tips", "regression"), ("iris", "classification")):
        by_label(at.selectbox, "Sample table").set_value(sample).run()
        assert by_label(at.radio, "Task").value == task
        for spec in models_for(task):
            by_label(at.selectbox, "Model").set_value(spec.key).run()
            no_trouble(at)
            labels = {
                w.label for kind in ("slider", "number_input", "selectbox") for w in at.get(kind)
            }
            assert {p.label for p in spec.params} <= labels, spec.key
