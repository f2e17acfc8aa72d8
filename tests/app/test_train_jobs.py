"""Training as jobs, seen from the Train page: tuning, cancel, a reload finding its work again,
and one person's jobs invisible to another."""

import numpy as np
import pandas as pd
import pytest
from app_helpers import APP, TIMEOUT, by_label, finish_jobs, no_trouble, texts
from streamlit.testing.v1 import AppTest

from lib.jobs import JobStore
from pages import _state


def use_sample(at, sample: str) -> AppTest:
    at.radio(key=_state.TRAIN_SOURCE).set_value("Use a sample").run()
    return by_label(at.selectbox, "Sample table").set_value(sample).run()


def reopened(at: AppTest) -> AppTest:
    """A new session (a browser reload) on the same URL, query string included."""
    again = AppTest.from_file(APP, default_timeout=TIMEOUT)
    again.query_params.update(at.query_params)
    return again.run()


def test_the_workspace_is_in_the_url_and_a_reload_finds_the_model_and_table(at):
    use_sample(at, "tips")
    by_label(at.selectbox, "Model").set_value("ridge").run()
    finish_jobs(at.button(key=_state.TRAIN_BUTTON).click().run())
    workspace = at.query_params["ws"]
    assert len(workspace) == 32
    model = at.session_state[_state.MODEL]

    again = reopened(at)
    no_trouble(again)
    assert again.session_state[_state.MODEL].name == model.name == "Restaurant tips ridge"
    assert again.session_state[_state.MODEL].result.metrics == model.result.metrics
    assert again.session_state[_state.TABLE].sha == at.session_state[_state.TABLE].sha
    assert again.header[-1].value == "Results"

    stranger = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert stranger.query_params["ws"] != workspace
    assert _state.MODEL not in stranger.session_state and _state.TABLE not in stranger.session_state


def test_a_made_up_workspace_in_the_url_is_replaced_by_a_new_one(at):
    again = AppTest.from_file(APP, default_timeout=TIMEOUT)
    again.query_params["ws"] = "../../etc"
    again.run()
    no_trouble(again)
    assert again.query_params["ws"] != "../../etc" and len(again.query_params["ws"]) == 32


@pytest.mark.slow
def test_tuning_shows_its_candidates_and_makes_the_final_model_current(at):
    use_sample(at, "tips")
    by_label(at.selectbox, "Model").set_value("ridge").run()
    by_label(at.number_input, "Cross-validation folds").set_value(2).run()
    finish_jobs(at.button(key=_state.TUNE_BUTTON).click().run())
    no_trouble(at)
    current = at.session_state[_state.MODEL]
    assert current.result.model_key == "ridge"
    assert "Best settings: **alpha = " in texts(at.markdown)
    board = at.dataframe[-1].value
    assert "alpha" in board.columns and len(board) >= 5
    figures = [chart.proto.spec for chart in at.get("plotly_chart")]
    assert any("against its settings" in spec for spec in figures)


def test_tuning_needs_a_model_with_settings(at):
    use_sample(at, "tips")
    by_label(at.selectbox, "Model").set_value("linear_regression").run()
    assert at.button(key=_state.TUNE_BUTTON).disabled


def test_cancel_stops_a_job_and_no_model_comes_of_it(at, jobs_dir):
    rng = np.random.default_rng(0)
    rows = pd.DataFrame(rng.normal(size=(20_000, 8)), columns=[f"x{i}" for i in range(8)])
    rows["y"] = rows.sum(axis=1) + rng.normal(size=len(rows))
    at.file_uploader(key=_state.TRAIN_UPLOAD).set_value(
        ("big.csv", rows.to_csv(index=False).encode(), "text/csv")
    ).run()
    by_label(at.selectbox, "Model").set_value("random_forest").run()
    by_label(at.number_input, "Number of trees").set_value(1000).run()
    at.button(key=_state.TRAIN_BUTTON).click().run()
    cancel = [b for b in at.button if "::cancel::" in (b.key or "")]
    assert len(cancel) == 1
    cancel[0].click().run()
    finish_jobs(at)
    no_trouble(at)
    assert _state.MODEL not in at.session_state
    (record,) = JobStore(jobs_dir).jobs(at.query_params["ws"])
    assert record.status == "cancelled" and record.title == "Train Random forest"


def test_a_job_whose_results_are_damaged_is_shown_as_failed_not_as_a_crash(at, jobs_dir):
    use_sample(at, "tips")
    by_label(at.selectbox, "Model").set_value("ridge").run()
    finish_jobs(at.button(key=_state.TRAIN_BUTTON).click().run())
    store = JobStore(jobs_dir)
    (record,) = store.jobs(at.query_params["ws"])
    (store.folder(record) / "model.joblib").write_bytes(b"not a model")

    again = reopened(at)
    no_trouble(again)
    assert not again.error
    (failed,) = store.jobs(at.query_params["ws"])
    assert failed.status == "failed" and "could not be read back" in failed.error
    assert "could not be read back" in texts(again.caption)


def test_a_job_that_will_not_fit_in_memory_waits_for_start_anyway(at, monkeypatch):
    monkeypatch.setenv("MODEL_STUDIO_JOB_MEMORY_MB", "50")  # less than any job needs
    use_sample(at, "tips")
    by_label(at.selectbox, "Model").set_value("ridge").run()
    at.button(key=_state.TRAIN_BUTTON).click().run()
    no_trouble(at)
    warning = texts(at.warning)
    assert "Train Ridge** was not started" in warning
    assert "This job needs about" in warning and "50.0 MB is free" in warning
    assert not [b for b in at.button if "::cancel::" in (b.key or "")]  # nothing started

    at.button(key=_state.DONT_START).click().run()
    assert "was not started" not in texts(at.warning)

    at.button(key=_state.TRAIN_BUTTON).click().run()
    finish_jobs(at.button(key=_state.START_ANYWAY).click().run())
    no_trouble(at)
    assert at.session_state[_state.MODEL].name == "Restaurant tips ridge"
    assert "was not started" not in texts(at.warning)
