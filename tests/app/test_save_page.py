"""Save & download: the model summary, the download, and the shared library."""

import hashlib

from app_helpers import by_label, downloaded, no_trouble, table_with, texts, with_model

from lib.library import open_library
from lib.persistence import dump_model
from lib.store import ModelStore
from pages import _state, _ui


def open_save(at, current):
    with_model(at, current)
    at.switch_page("pages/save.py").run()
    no_trouble(at)
    return at


def save(at, name):
    by_label(at.text_input, "Model name").set_value(name)
    at.button(key=_state.SAVE_BUTTON).click().run()
    no_trouble(at)


def choose_version(at, version):
    by_label(at.selectbox, "Version").set_value(version).run()
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


def test_saving_twice_under_one_name_keeps_both_versions(at, tips_model, iris_model, library_dir):
    open_save(at, tips_model)
    assert "adds a new version; older versions stay" in texts(at.caption)
    assert not [c for c in at.checkbox if c.label == "Overwrite"]
    save(at, "my model")
    assert "Saved 'my model' as version 1." in texts(at.success)
    with_model(at, iris_model).run()
    save(at, "my model")
    assert "Saved 'my model' as version 2." in texts(at.success)

    library = open_library(library_dir)
    first, second = library.versions("my model")
    assert (first.metadata["target"], second.metadata["target"]) == ("tip", "species")
    workspace = at.session_state[_state.WORKSPACE]
    # Only a prefix: the whole id opens the workspace, and the library is shown to everyone.
    assert first.saved_by == second.saved_by == f"workspace {workspace[:8]}"
    assert workspace not in (library_dir / "records").rglob("*.json").__next__().read_text()
    names = table_with(at, "latest version")
    assert names[["name", "latest version", "versions"]].values.tolist() == [["my model", 2, 2]]
    history = table_with(at, "saved by")
    assert history["version"].tolist() == [2, 1]
    assert history["saved by"].tolist() == [f"workspace {workspace[:8]}"] * 2
    assert history["data fingerprint"].str.len().tolist() == [12, 12]
    assert by_label(at.selectbox, "Version").value == 2  # the latest by default


def test_each_version_loads_its_own_bytes(at, tips_model, iris_model, library_dir):
    open_save(at, tips_model)
    save(at, "m")
    with_model(at, iris_model).run()
    save(at, "m")
    library = open_library(library_dir)
    for version, target in [(1, "tip"), (2, "species"), (1, "tip")]:
        choose_version(at, version)
        at.button(key=_state.LIBRARY_LOAD).click().run()
        no_trouble(at)
        current = at.session_state[_state.MODEL]
        assert current.file_bytes == library.read("m", version)
        assert current.info.target == target
        assert current.source == f"model library: m, version {version}"
        assert f"Loaded version {version} of 'm'" in texts(at.success)
        assert current.self_check.status == "passed"


def test_each_version_downloads_its_own_bytes(
    at, tips_model, iris_model, library_dir, media_managers
):
    open_save(at, tips_model)
    save(at, "m")
    with_model(at, iris_model).run()
    save(at, "m")
    library = open_library(library_dir)
    for version in (1, 2):
        choose_version(at, version)
        button = at.download_button(key=_state.LIBRARY_DOWNLOAD)
        assert downloaded(media_managers[-1], button) == library.read("m", version)


def test_delete_a_version_then_the_name(at, tips_model, iris_model, library_dir):
    open_save(at, tips_model)
    save(at, "my model")
    with_model(at, iris_model).run()
    save(at, "my model")
    library = open_library(library_dir)

    choose_version(at, 1)
    at.button(key=_state.LIBRARY_DELETE).click().run()
    assert "Delete version 1 of 'my model'" in texts(at.warning)
    at.button(key=_state.CONFIRM_DELETE_NO).click().run()
    assert [r.version for r in library.versions("my model")] == [1, 2]
    choose_version(at, 1)
    at.button(key=_state.LIBRARY_DELETE).click().run()
    at.button(key=_state.CONFIRM_DELETE_YES).click().run()
    no_trouble(at)
    assert "Moved version 1 of 'my model' to the trash." in texts(at.success)
    assert [r.version for r in library.versions("my model")] == [2]
    assert table_with(at, "saved by")["version"].tolist() == [2]

    save(at, "my model")  # a deleted number is never given out again
    assert "Saved 'my model' as version 3." in texts(at.success)
    third = library.record("my model", 3).sha256

    at.button(key=_state.LIBRARY_DELETE_NAME).click().run()
    assert "Delete 'my model' with all its 2 versions" in texts(at.warning)
    at.button(key=_state.CONFIRM_DELETE_YES).click().run()
    no_trouble(at)
    assert library.names() == [] and library.versions("my model") == []
    assert "Moved 'my model' with all its 2 versions to the trash." in texts(at.success)
    assert "library is empty" in texts(at.info)

    # Deleted versions wait in the trash, where they can be restored.
    trash = table_with(at, "gone for good after")
    assert sorted(trash["version"].tolist()) == [1, 2, 3]
    by_label(at.selectbox, "Deleted version").set_value("my model, version 3").run()
    at.button(key=_state.TRASH_RESTORE).click().run()
    no_trouble(at)
    assert "Restored my model, version 3." in texts(at.success)
    assert [r.version for r in library.versions("my model")] == [3]
    assert hashlib.sha256(library.read("my model", 3)).hexdigest() == third


def test_an_old_library_folder_is_listed_as_version_1_and_loads(at, tips_model, library_dir):
    ModelStore(library_dir).save("old one", dump_model(tips_model.model), {"target": "tip"})
    at.switch_page("pages/save.py").run()
    no_trouble(at)
    assert table_with(at, "latest version")[["name", "latest version"]].values.tolist() == [
        ["old one", 1]
    ]
    at.button(key=_state.LIBRARY_LOAD).click().run()
    no_trouble(at)
    current = at.session_state[_state.MODEL]
    assert current.info.target == "tip" and current.source == "model library: old one, version 1"
    with_model(at, tips_model).run()
    save(at, "old one")
    assert "Saved 'old one' as version 2." in texts(at.success)


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
    assert current.info.target == "tip" and current.source == "model library: tips, version 1"
    assert "Loaded version 1 of 'tips'" in texts(at.success)


def rerun_a_minute_later(at):
    """Rerun as a minute later: the page checks a chosen version at most once a minute."""
    _ui._version_damage.clear()
    at.run()
    no_trouble(at)


def offered(at) -> set[str]:
    """The keys of the library's version buttons on the page."""
    keys = {b.key for b in at.button} | {b.key for b in at.download_button}
    version_keys = {_state.LIBRARY_DOWNLOAD, _state.LIBRARY_LOAD, _state.LIBRARY_DELETE}
    return keys & version_keys


def test_a_damaged_version_says_so_and_offers_only_its_delete(
    at, tips_model, iris_model, library_dir, media_managers
):
    open_save(at, tips_model)
    save(at, "tips")
    with_model(at, iris_model).run()
    save(at, "tips")
    first, second = open_library(library_dir).versions("tips")
    (library_dir / first.object_key).write_bytes(b"not the model")
    rerun_a_minute_later(at)
    assert offered(at) == {_state.LIBRARY_DOWNLOAD, _state.LIBRARY_LOAD, _state.LIBRARY_DELETE}
    assert not at.error  # version 2, the latest, is fine and chosen

    choose_version(at, 1)
    assert texts(at.error) == (
        "Version 1 of the saved model 'tips' is damaged: its contents no longer match its "
        "checksum. Delete this version and save the model again."
    )
    assert offered(at) == {_state.LIBRARY_DELETE}  # no "Failed to generate file" download
    choose_version(at, 2)
    assert not at.error
    button = at.download_button(key=_state.LIBRARY_DOWNLOAD)
    assert downloaded(media_managers[-1], button) == (library_dir / second.object_key).read_bytes()
    assert at.session_state[_state.MODEL].name == "iris logistic"

    choose_version(at, 1)
    at.button(key=_state.LIBRARY_DELETE).click().run()
    at.button(key=_state.CONFIRM_DELETE_YES).click().run()
    no_trouble(at)
    assert [r.version for r in open_library(library_dir).versions("tips")] == [2]


def test_a_missing_version_file_spoils_only_that_version(at, tips_model, iris_model, library_dir):
    open_save(at, tips_model)
    save(at, "m")
    with_model(at, iris_model).run()
    save(at, "m")
    first, _ = open_library(library_dir).versions("m")
    (library_dir / first.object_key).unlink()
    _ui._version_damage.clear()  # as a minute later: checked at most once a minute
    choose_version(at, 1)
    assert "Version 1 of the saved model 'm' is damaged" in texts(at.error)
    assert "missing" in texts(at.error)
    assert offered(at) == {_state.LIBRARY_DELETE}
    choose_version(at, 2)
    at.button(key=_state.LIBRARY_LOAD).click().run()
    no_trouble(at)
    assert at.session_state[_state.MODEL].source == "model library: m, version 2"


def test_versions_sharing_damaged_bytes_are_named(at, tips_model, library_dir):
    library = open_library(library_dir)
    data = dump_model(tips_model.model)
    for model in (data, b"other bytes", data):
        library.save("m", model)
    (library_dir / library.record("m", 1).object_key).unlink()
    open_save(at, tips_model)
    message = texts(at.error)  # version 3, the latest, is chosen
    assert "Version 3 of the saved model 'm' is damaged" in message
    assert "Version 1 shares this file and is damaged too" in message
    assert "delete versions 1 and 3, then save the model again" in message
    assert offered(at) == {_state.LIBRARY_DELETE}
    choose_version(at, 2)
    assert not at.error and _state.LIBRARY_DOWNLOAD in offered(at)


def test_an_unreadable_record_is_listed_as_a_problem(at, tips_model, library_dir):
    open_save(at, tips_model)
    save(at, "m")
    save(at, "m")
    (record,) = [p for p in (library_dir / "records").rglob("00000002.json")]
    record.write_text("{not json")
    _ui._library_problems.clear()  # as 30 s later: the page re-reads them at most that often
    at.run()
    no_trouble(at)
    assert "can't be read" in texts(at.warning) and "00000002.json" in texts(at.warning)
    assert table_with(at, "saved by")["version"].tolist() == [1]


def test_an_unreachable_store_is_a_plain_error(at, tips_model, monkeypatch):
    monkeypatch.setenv("MODEL_STUDIO_LIBRARY", "s3://no-such-bucket/models")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    open_save(at, tips_model)
    assert "Could not list the model library at s3://no-such-bucket/models" in texts(at.error)
