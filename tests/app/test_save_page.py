"""Save & download: the model summary, the download, and the shared library."""

from app_helpers import by_label, no_trouble, texts, with_model

from lib.store import ModelStore
from pages import _state


def open_save(at, current):
    with_model(at, current)
    at.switch_page("pages/save.py").run()
    no_trouble(at)
    return at


def save(at, name, overwrite=False):
    by_label(at.text_input, "Model name").set_value(name)
    by_label(at.checkbox, "Overwrite").set_value(overwrite)
    at.button(key=_state.SAVE_BUTTON).click().run()
    no_trouble(at)


def test_without_a_model_says_where_to_get_one(at):
    at.switch_page("pages/save.py").run()
    no_trouble(at)
    assert "No model yet" in texts(at.info)
    assert "library is empty" in texts(at.info)


def test_summary_and_download(at, tips_model):
    open_save(at, tips_model)
    assert "tips ridge" in texts(at.markdown)
    summary = texts(at.markdown)
    assert "**Headline metric:** R²" in summary and "**Target:** tip" in summary
    assert "sk-" in at.get("html")[0].proto.body  # scikit-learn's pipeline diagram
    assert at.download_button(key=_state.DOWNLOAD_MODEL).label == "Download model (.joblib)"
    assert at.session_state[_state.MODEL_FILE] == {}  # bytes are built on click, not per rerun
    card = at.download_button(key=_state.DOWNLOAD_CARD)
    assert card.label == "Download model card (.md)"
    assert "# Model card: tips ridge" in texts(at.markdown)  # shown in its expander too


def test_a_model_without_a_training_record_has_no_card(at, bare_model_bytes):
    at.switch_page("pages/load.py").run()
    at.file_uploader(key=_state.MODEL_UPLOAD).set_value(
        ("bare.joblib", bare_model_bytes, "application/octet-stream")
    ).run()
    assert _state.MODEL in at.session_state
    at.switch_page("pages/save.py").run()
    no_trouble(at)
    assert not [b for b in at.download_button if b.key == _state.DOWNLOAD_CARD]
    assert "no model card" in texts(at.caption)


def test_save_refuse_existing_overwrite_and_delete(at, tips_model, iris_model, library_dir):
    open_save(at, tips_model)
    save(at, "my model")
    assert "Saved 'my model'" in texts(at.success)
    assert ModelStore(library_dir).exists("my model")
    assert at.dataframe[-1].value["name"].tolist() == ["my model"]

    with_model(at, iris_model).run()
    save(at, "my model")
    assert "already exists" in texts(at.error)
    assert ModelStore(library_dir).entry("my model").metadata["target"] == "tip"

    save(at, "my model", overwrite=True)
    assert "Saved 'my model'" in texts(at.success)
    assert ModelStore(library_dir).entry("my model").metadata["target"] == "species"

    at.button(key=_state.LIBRARY_DELETE).click().run()
    assert "cannot be undone" in texts(at.warning)
    at.button(key=_state.CONFIRM_DELETE_NO).click().run()
    assert ModelStore(library_dir).exists("my model")
    at.button(key=_state.LIBRARY_DELETE).click().run()
    at.button(key=_state.CONFIRM_DELETE_YES).click().run()
    no_trouble(at)
    assert not ModelStore(library_dir).exists("my model")
    assert "Deleted 'my model'" in texts(at.success)
    assert "library is empty" in texts(at.info)


def test_bad_name_is_refused_with_the_reason(at, tips_model):
    open_save(at, tips_model)
    save(at, "../escape")
    assert "can't contain a slash" in texts(at.error)


def test_load_from_the_library_goes_through_the_safe_loader(at, tips_model, iris_model):
    open_save(at, tips_model)
    save(at, "tips")
    with_model(at, iris_model).run()
    at.button(key=_state.LIBRARY_LOAD).click().run()
    no_trouble(at)
    current = at.session_state[_state.MODEL]
    assert current.info.target == "tip" and current.source == "model library: tips"
    assert "Loaded 'tips'" in texts(at.success)


def test_damaged_library_file_is_refused(at, tips_model, iris_model, library_dir):
    open_save(at, tips_model)
    save(at, "tips")
    (library_dir / "tips.joblib").write_bytes(b"not the model")
    with_model(at, iris_model).run()
    at.button(key=_state.LIBRARY_LOAD).click().run()
    no_trouble(at)
    assert at.error
    assert at.session_state[_state.MODEL].name == "iris logistic"
