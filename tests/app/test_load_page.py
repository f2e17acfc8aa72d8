"""Upload model: every file goes through the safe loader; refusals leave the model as it was."""

import io

import joblib
from app_helpers import by_label, malicious_pickle, no_trouble, texts, with_model

from lib.display import store_metadata
from lib.library import open_library
from lib.persistence import dump_model
from lib.store import ModelStore
from pages import _state


def open_load(at):
    at.switch_page("pages/load.py").run()
    no_trouble(at)
    return at


def upload(at, name, data):
    at.file_uploader(key=_state.MODEL_UPLOAD).set_value(
        (name, data, "application/octet-stream")
    ).run()
    no_trouble(at)


def test_empty_state(at):
    open_load(at)
    assert "No model yet" in texts(at.info)


def test_app_model_round_trip(at, tips_model):
    open_load(at)
    upload(at, "tips.joblib", dump_model(tips_model.model))
    current = at.session_state[_state.MODEL]
    assert current.info.target == "tip"
    assert current.info.n_features == tips_model.info.n_features
    assert "It is now the current model" in texts(at.success)
    assert "This model expects 6 columns" in texts(at.markdown)


def test_bare_tutorial_model_shows_unnamed_features(at, bare_model_bytes):
    open_load(at)
    upload(at, "model.pkl", bare_model_bytes)
    assert "3 unnamed numeric features, taken in order" in texts(at.markdown)
    assert at.session_state[_state.MODEL].info.estimator == "LinearRegression"


def test_malicious_file_is_refused_and_the_model_stays(at, tips_model, tmp_path):
    marker = tmp_path / "pwned"
    with_model(at, tips_model)
    open_load(at)
    upload(at, "evil.joblib", malicious_pickle(marker))
    message = texts(at.error)
    assert "evil.joblib' was not loaded" in message and "os" in message and "system" in message
    assert not marker.exists()
    assert at.session_state[_state.MODEL] is tips_model
    assert "current model is unchanged" in texts(at.caption)


def test_not_a_model_is_a_clear_error(at):
    open_load(at)
    upload(at, "notes.pkl", b"hello, this is not a pickle")
    assert "not loaded" in texts(at.error)
    assert "current_model" not in at.session_state


def test_version_warning_for_a_model_from_another_sklearn(at, bare_model_bytes, monkeypatch):
    import sklearn.base

    model = joblib.load(io.BytesIO(bare_model_bytes))  # made by this test suite
    buffer = io.BytesIO()
    with monkeypatch.context() as patch:
        patch.setattr(sklearn.base, "__version__", "1.8.0")  # as if saved by 1.8.0
        joblib.dump(model, buffer)
    open_load(at)
    upload(at, "old.joblib", buffer.getvalue())
    assert "saved with scikit-learn 1.8.0" in texts(at.warning)
    assert at.session_state[_state.MODEL].info.file_sklearn_version == "1.8.0"


def test_load_from_library_any_version(at, tips_model, iris_model, library_dir):
    library = open_library(library_dir)
    library.save("shared", dump_model(tips_model.model), store_metadata(tips_model.info))
    library.save("shared", dump_model(iris_model.model), store_metadata(iris_model.info))
    open_load(at)
    at.radio(key=_state.LOAD_SOURCE).set_value("Load from library").run()
    assert by_label(at.selectbox, "Saved model").value == "shared"
    versions = by_label(at.selectbox, "Version")
    assert versions.value == 2 and versions.options[0].startswith("version 2 (latest), saved ")
    at.button(key=_state.LOAD_LIBRARY_BUTTON).click().run()
    no_trouble(at)
    assert at.session_state[_state.MODEL].info.target == "species"

    by_label(at.selectbox, "Version").set_value(1).run()
    at.button(key=_state.LOAD_LIBRARY_BUTTON).click().run()
    no_trouble(at)
    current = at.session_state[_state.MODEL]
    assert current.name == "shared" and current.info.target == "tip"
    assert current.file_bytes == library.read("shared", 1)
    assert "Loaded version 1 of 'shared'" in texts(at.success)


def test_load_from_an_old_library_folder(at, tips_model, library_dir):
    ModelStore(library_dir).save("old", dump_model(tips_model.model))
    open_load(at)
    at.radio(key=_state.LOAD_SOURCE).set_value("Load from library").run()
    assert by_label(at.selectbox, "Version").value == 1
    at.button(key=_state.LOAD_LIBRARY_BUTTON).click().run()
    no_trouble(at)
    assert at.session_state[_state.MODEL].source == "model library: old, version 1"


def test_an_unusable_library_address_is_a_plain_error(at, monkeypatch):
    monkeypatch.setenv("MODEL_STUDIO_LIBRARY", "ftp://example.org/models")
    open_load(at)
    at.radio(key=_state.LOAD_SOURCE).set_value("Load from library").run()
    no_trouble(at)
    assert "does not support" in texts(at.error) and "s3://" in texts(at.error)


def test_an_uploaded_model_runs_in_a_worker_that_goes_when_it_is_replaced(at, tips_model):
    open_load(at)
    data = dump_model(tips_model.model)
    upload(at, "first.joblib", data)
    first = at.session_state[_state.MODEL]
    assert first.sandboxed and first.model is None and first.file_bytes == data
    pid = first.runner.pid
    assert _alive(pid)
    upload(at, "second.joblib", dump_model(tips_model.model, compression="none"))
    second = at.session_state[_state.MODEL]
    assert second.id != first.id and second.runner.pid != pid
    assert not _alive(pid)  # replacing the model stopped its worker
    assert "runs in a sandboxed worker process" in texts(at.caption)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_an_app_file_passes_its_self_check(at, tips_model):
    open_load(at)
    upload(at, "tips.joblib", dump_model(tips_model.model))
    assert at.session_state[_state.MODEL].self_check.status == "passed"
    assert (
        "Self-check passed: it predicts its 20 check rows here exactly as where it was saved."
        in texts(at.success)
    )
    assert "Self-check failed" not in texts(at.error)


def test_a_file_changed_after_saving_fails_its_self_check(at, tips_model):
    model = joblib.load(io.BytesIO(dump_model(tips_model.model)))  # made by this test suite
    model[-1].intercept_ += 0.5
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    open_load(at)
    upload(at, "changed.joblib", buffer.getvalue())
    shown = texts(at.error)
    assert "Self-check failed: this model does not predict its 20 check rows here" in shown
    assert "0 of 20 check rows agree." in shown
    assert "Largest difference in a prediction: 0.5." in shown
    assert "the file was changed after it was saved, or it was made by different code" in shown
    assert at.session_state[_state.MODEL].name == "changed"  # loaded, with the warning shown


def test_a_model_from_elsewhere_says_it_has_no_self_check(at, bare_model_bytes):
    open_load(at)
    upload(at, "model.pkl", bare_model_bytes)
    assert "No self-check: this file carries no check rows" in texts(at.caption)
    assert "Self-check" not in texts(at.success) + texts(at.error)


def test_a_model_trained_in_the_session_shows_no_self_check(at, tips_model):
    with_model(at, tips_model)
    open_load(at)
    assert "elf-check" not in texts(at.success) + texts(at.error) + texts(at.caption)
