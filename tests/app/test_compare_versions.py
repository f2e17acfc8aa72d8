"""Save & download's "Compare two versions": from the records, and both on the same rows."""

import pytest
from app_helpers import by_label, no_trouble, table_with, texts, with_model
from test_save_page import open_save, save

from lib import training
from lib.model_info import describe_model
from lib.records import CurrentModel, TableData, sha256
from pages import _state


@pytest.fixture(scope="module")
def tips_tree(tips) -> CurrentModel:
    result = training.train(
        tips, "tip", model="decision_tree",
        options=training.Options(cv_folds=0, source_name="tips.csv", params={"max_depth": 2}),
    )  # fmt: skip
    return CurrentModel(result.pipeline, describe_model(result.pipeline), "test", "tips tree")


def two_versions(at, first, second):
    open_save(at, first)
    save(at, "tips")
    with_model(at, second).run()
    save(at, "tips")


def test_one_version_says_how_to_get_two(at, tips_model):
    open_save(at, tips_model)
    save(at, "tips")
    assert "'tips' has one version so far" in texts(at.caption)


def test_two_versions_show_what_differs(at, tips_model, tips_tree):
    two_versions(at, tips_model, tips_tree)
    assert "Compare two versions of 'tips'" in texts(at.subheader)
    assert by_label(at.selectbox, "Compare version").value == 1
    assert by_label(at.selectbox, "with version").value == 2
    settings = table_with(at, "setting").set_index("setting")
    assert settings.loc["model"].tolist() == ["Ridge", "Decision tree"]
    assert settings.loc["parameter max_depth"].tolist() == ["default", "2"]
    figures = table_with(at, "scored on")
    assert set(figures["scored on"]) == {"held out"}  # both trained without cross-validation
    assert "Both were trained on the same data (same fingerprint)." in texts(at.caption)

    by_label(at.selectbox, "with version").set_value(1).run()
    no_trouble(at)
    assert "Pick two different versions to compare." in texts(at.info)


def test_without_a_labelled_table_it_says_what_to_load(at, tips_model, tips_tree):
    two_versions(at, tips_model, tips_tree)
    assert "Load a table that holds the actual values ('tip')" in texts(at.info)
    assert not [b for b in at.button if b.key == _state.COMPARE_SCORE]


def test_both_scored_on_the_current_table(at, tips, tips_model, tips_tree):
    two_versions(at, tips_model, tips_tree)
    rows = tips.iloc[:100]
    at.session_state[_state.TABLE] = TableData("first rows.csv", rows, sha256(b"first rows"))
    at.run()
    at.button(key=_state.COMPARE_SCORE).click().run()
    no_trouble(at)
    scored = table_with(at, "verdict").set_index("figure")
    assert list(scored.index[:2]) == ["R²", "MAE"]
    assert scored.loc["R²", "version 1"].startswith(
        f"{_r2(tips_model, rows):.3f} ("
    )  # each version's figure on these rows, with its interval
    assert "on average over these 100 rows" in texts(at.markdown)
    assert len(at.get("plotly_chart")) == 1
    pair = at.session_state[_state.COMPARE]
    assert all(model.sandboxed for model in pair.models)  # opened through the safe loader
    assert not [b for b in at.button if b.key == _state.COMPARE_SCORE]  # scored: no button

    at.run()  # a rerun shows the kept scores without opening the models again
    assert at.session_state[_state.COMPARE] is pair
    assert "verdict" in table_with(at, "verdict").columns


def _r2(current: CurrentModel, rows) -> float:
    from sklearn.metrics import r2_score

    return r2_score(rows["tip"], current.model.predict(rows))
