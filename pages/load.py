"""Upload model: load a saved scikit-learn model safely and make it the current model."""

import streamlit as st

from lib.display import version_label
from lib.literal import literal
from lib.records import sha256
from pages import _state, _ui
from pages._model_view import current_model_section

_ui.require_app_frame(__file__)

MODEL_TYPES = ["joblib", "pkl", "pickle"]
UPLOAD, LIBRARY = "Upload a file", "Load from library"

st.title("Upload a model")
st.caption(
    "Load a scikit-learn model saved with `joblib.dump`, from this app or anywhere else. A safe "
    "loader reads the file in a separate, locked-down process: it only rebuilds known "
    "scikit-learn objects and never runs code from the file. The model then runs only in that "
    "process, so a damaged or hostile model cannot take the app down."
)
_ui.show_flash()

source = st.radio("Where is the model?", [UPLOAD, LIBRARY], horizontal=True, key=_state.LOAD_SOURCE)
if source == UPLOAD:
    uploaded = st.file_uploader("Model file", type=MODEL_TYPES, key=_state.MODEL_UPLOAD)
    if uploaded is not None:
        data = uploaded.getvalue()
        digest = sha256(data)
        last = st.session_state.get(_state.LAST_MODEL_UPLOAD)
        if last is None or last["sha"] != digest:  # each file is loaded once, not on every rerun
            with (
                _ui.guard("loading the model file", show=False) as outcome,
                st.spinner("Checking and opening the model in its own process…"),
            ):
                stem = uploaded.name.rsplit(".", 1)[0]
                _ui.set_model(_ui.load_model_bytes(data, f"uploaded file {uploaded.name}", stem))
            current = _state.get_model()
            last = {
                "sha": digest,
                "error": outcome.error,
                "model_id": current.id if outcome.ok else None,
                "name": uploaded.name,
            }
            st.session_state[_state.LAST_MODEL_UPLOAD] = last
        if last["error"]:
            st.error(
                f"'{literal(last['name'])}' was not loaded. {last['error']}",
                icon=":material/block:",
            )
            if _state.get_model() is not None:
                st.caption("The current model is unchanged.")
        elif _state.get_model() is not None and _state.get_model().id == last["model_id"]:
            st.success(
                f"Loaded '{literal(last['name'])}'. It is now the current model.",
                icon=":material/check_circle:",
            )
else:
    with _ui.guard("reading the model library") as outcome:
        store = _ui.library()
        names = store.names(viewer=_ui.person())
    if outcome.ok and not names:
        st.info(
            "No saved model is shared with you yet. Save one on **Save & download** first."
            if _ui.sign_in_is_on()
            else "The model library is empty. Save a model on **Save & download** first."
        )
    elif outcome.ok:
        chosen = st.selectbox(
            "Saved model", [s.name for s in names], key=_state.LOAD_LIBRARY_CHOICE
        )
        with _ui.guard("reading the versions of the saved model") as outcome:
            records = store.versions(chosen, viewer=_ui.person())
        if outcome.ok and records:
            by_version = {record.version: record for record in records}
            latest = records[-1].version
            version = st.selectbox(
                "Version",
                sorted(by_version, reverse=True),
                format_func=lambda number: version_label(by_version[number], latest),
                key=f"{_state.LOAD_LIBRARY_VERSION}::{chosen}::{latest}",
            )
            if st.button("Load", type="primary", key=_state.LOAD_LIBRARY_BUTTON):
                with _ui.guard("loading the saved model") as outcome:
                    _ui.load_from_library(chosen, version)
                if outcome.ok:
                    st.success(
                        f"Loaded version {version} of '{literal(chosen)}'. It is now the "
                        "current model.",
                        icon=":material/check_circle:",
                    )

if current_model_section() is not None:
    st.page_link("pages/predict.py", label="Predict with this model", icon=":material/insights:")
