"""Upload model: load a saved scikit-learn model safely and make it the current model."""

import streamlit as st

from lib.session import sha256
from pages import _ui

_ui.require_app_frame(__file__)

MODEL_TYPES = ["joblib", "pkl", "pickle"]
UPLOAD, LIBRARY = "Upload a file", "Load from library"
LAST_UPLOAD = "_last_model_upload"

st.title("Upload a model")
st.caption(
    "Load a scikit-learn model saved with `joblib.dump`, from this app or anywhere else. A safe "
    "loader reads the file: it only rebuilds known scikit-learn objects and never runs code "
    "from the file."
)
_ui.show_flash()

source = st.radio("Where is the model?", [UPLOAD, LIBRARY], horizontal=True, key="load_source")
if source == UPLOAD:
    uploaded = st.file_uploader("Model file", type=MODEL_TYPES, key="model_upload")
    if uploaded is not None:
        data = uploaded.getvalue()
        digest = sha256(data)
        last = st.session_state.get(LAST_UPLOAD)
        if last is None or last["sha"] != digest:  # each file is loaded once, not on every rerun
            with _ui.guard("loading the model file", show=False) as outcome:
                stem = uploaded.name.rsplit(".", 1)[0]
                _ui.set_model(_ui.load_model_bytes(data, f"uploaded file {uploaded.name}", stem))
            current = _ui.get_model()
            last = {
                "sha": digest,
                "error": outcome.error,
                "model_id": current.id if outcome.ok else None,
                "name": uploaded.name,
            }
            st.session_state[LAST_UPLOAD] = last
        if last["error"]:
            st.error(f"'{last['name']}' was not loaded. {last['error']}", icon=":material/block:")
            if _ui.get_model() is not None:
                st.caption("The current model is unchanged.")
        elif _ui.get_model() is not None and _ui.get_model().id == last["model_id"]:
            st.success(
                f"Loaded '{last['name']}'. It is now the current model.",
                icon=":material/check_circle:",
            )
else:
    entries = _ui.library().list()
    if not entries:
        st.info("The model library is empty. Save a model on **Save & download** first.")
    else:
        chosen = st.selectbox("Saved model", [e.name for e in entries], key="load_library_choice")
        if st.button("Load", type="primary", key="load_library_button"):
            with _ui.guard("loading the saved model") as outcome:
                _ui.load_from_library(chosen)
            if outcome.ok:
                st.success(
                    f"Loaded '{chosen}'. It is now the current model.",
                    icon=":material/check_circle:",
                )

st.header("Current model")
current = _ui.get_model()
if current is None:
    st.info(_ui.NO_MODEL, icon=":material/info:")
else:
    _ui.render_model_summary(current)
    st.page_link("pages/predict.py", label="Predict with this model", icon=":material/insights:")
