"""Predict & plot: predictions for uploaded and typed rows, metrics with actuals, plots."""

import io

import joblib
from app_helpers import by_label, no_trouble, texts, with_model

from lib.model_info import describe_model
from lib.records import CurrentModel
from pages import _state


def open_predict(at, current):
    with_model(at, current)
    at.switch_page("pages/predict.py").run()
    no_trouble(at)
    return at


def upload_rows(at, name, data):
    at.file_uploader(key=_state.PREDICT_UPLOAD).set_value((name, data, "text/csv")).run()
    no_trouble(at)


def chart_titles(at):
    return " ".join(chart.proto.spec for chart in at.get("plotly_chart"))


def test_without_a_model(at):
    at.switch_page("pages/predict.py").run()
    no_trouble(at)
    assert "No model yet" in texts(at.info)


def test_uploaded_rows_with_actuals(at, tips_model, tips_csv):
    open_predict(at, tips_model)
    upload_rows(at, "tips.csv", tips_csv)
    frame = at.dataframe[0].value
    assert "predicted tip" in frame.columns and len(frame) == 244
    assert {m.label for m in at.metric} >= {"R²", "MAE"}
    titles = chart_titles(at)  # the Performance tab is open by default
    assert "Predicted vs actual" in titles and "Residuals vs predicted" in titles
    assert at.download_button(key=_state.DOWNLOAD_PREDICTIONS).label == "Download predictions (CSV)"
    assert not any("ignored" in text for text in texts(at.info))  # the target is used for scores


def test_rows_without_target_and_rerun_reuses_predictions(at, tips_model, tips):
    open_predict(at, tips_model)
    upload_rows(at, "new.csv", tips.drop(columns=["tip"]).to_csv(index=False).encode())
    assert not at.metric
    first = at.session_state[_state.EXPLORATION].predictions
    at.run()
    assert at.session_state[_state.EXPLORATION].predictions is first


def test_missing_and_mistyped_columns_are_explained(at, tips_model, tips):
    open_predict(at, tips_model)
    upload_rows(at, "short.csv", tips.drop(columns=["day", "time"]).to_csv(index=False).encode())
    assert "lack 2 column(s)" in texts(at.error) and "'day'" in texts(at.error)
    bad = tips.astype({"total_bill": object})
    bad.loc[3, "total_bill"] = "lots"
    upload_rows(at, "bad.csv", bad.to_csv(index=False).encode())
    assert "'total_bill' should hold numbers but has 'lots'" in texts(at.error)


def test_one_row_form_starts_at_the_training_median(at, tips_model):
    open_predict(at, tips_model)
    at.radio(key=_state.PREDICT_MODE).set_value("Type one row").run()
    bill = by_label(at.number_input, "total_bill")
    assert bill.value == 17.795  # median of the training bills
    assert "In training: 3.07 to 50.81" in bill.help
    assert by_label(at.selectbox, "day").options
    at.button[-1].click().run()  # the form's submit button
    no_trouble(at)
    frame = at.dataframe[0].value
    assert len(frame) == 1 and "predicted tip" in frame.columns


def test_classifier_with_actuals_shows_a_confusion_matrix(at, iris_model):
    from lib.samples import load_sample

    open_predict(at, iris_model)
    upload_rows(at, "iris.csv", load_sample("iris").to_csv(index=False).encode())
    frame = at.dataframe[0].value
    assert {"predicted species", "P(setosa)"} <= set(frame.columns)
    assert "Confusion matrix" in chart_titles(at)
    assert "Balanced accuracy" in {m.label for m in at.metric}


def test_bare_model_gets_numbered_inputs(at, bare_model_bytes):
    model = joblib.load(io.BytesIO(bare_model_bytes))  # made by this test, safe to load
    bare = CurrentModel(model=model, info=describe_model(model), source="test", name="bare")
    open_predict(at, bare)
    assert "3 unnamed numeric features" in texts(at.caption)
    at.radio(key=_state.PREDICT_MODE).set_value("Type one row").run()
    assert [w.label for w in at.number_input] == ["x0", "x1", "x2"]
    at.button[-1].click().run()
    no_trouble(at)
    predicted = at.dataframe[0].value["predicted target"].iloc[0]
    assert predicted == model.predict([[0.0, 0.0, 0.0]])[0]


def test_unexpected_failure_is_an_apology_with_a_reference(at, tips_model, tips_csv, monkeypatch):
    import lib.exploration

    def broken(*args, **kwargs):
        raise RuntimeError("internal detail that must stay on the server")

    monkeypatch.setattr(lib.exploration, "predict_aligned", broken)  # where the page predicts
    open_predict(at, tips_model)
    upload_rows(at, "tips.csv", tips_csv)
    message = texts(at.error)
    assert "Sorry, something went wrong while predicting" in message and "reference" in message
    assert "internal detail" not in message


def test_two_sessions_do_not_share_a_model(at, tips_model):
    from app_helpers import APP, TIMEOUT
    from streamlit.testing.v1 import AppTest

    open_predict(at, tips_model)
    other = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    other.switch_page("pages/predict.py").run()
    assert "No model yet" in texts(other.info)
    assert "current_model" not in other.session_state


def test_a_model_saved_elsewhere_can_be_scored_on_a_chosen_column(at):
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from lib.model_info import describe_model
    from lib.records import CurrentModel

    iris = load_iris(as_frame=True)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    model.fit(iris.data, iris.target)
    foreign = CurrentModel(
        model=model, info=describe_model(model), source="test", name="notebook iris"
    )
    open_predict(at, foreign)
    upload_rows(at, "iris.csv", iris.frame.to_csv(index=False).encode())
    assert not at.metric  # the file does not say which column holds the truth
    at.selectbox(key=_state.ACTUALS_COLUMN).set_value("target").run()
    no_trouble(at)
    assert {m.label for m in at.metric} >= {"Accuracy", "Balanced accuracy"}
    at.selectbox(key=_state.ACTUALS_COLUMN).set_value("(none: only predict)").run()
    assert not at.metric


def test_predicting_the_training_rows_warns_that_the_figures_flatter(at, tips_csv):
    from lib.data import read_table
    from lib.model_info import describe_model
    from lib.records import CurrentModel
    from lib.training import Options, train

    rows = read_table(tips_csv, "tips.csv")
    result = train(rows, "tip", model="ridge", options=Options(cv_folds=0))
    current = CurrentModel(
        model=result.pipeline, info=describe_model(result.pipeline), source="test", name="tips"
    )
    open_predict(at, current)
    upload_rows(at, "tips.csv", tips_csv)
    assert "rows the model was trained on" in texts(at.warning)
    upload_rows(at, "some.csv", rows.head(100).to_csv(index=False).encode())
    assert "rows the model was trained on" not in texts(at.warning)
