"""Save & download: keep the current model in the shared library or download it as .joblib."""

import streamlit as st

from lib.session import file_stem, human_size, library_frame, store_metadata
from pages import _ui

_ui.require_app_frame(__file__)

st.title("Save & download")
_ui.show_flash()

st.header("Current model")
current = _ui.get_model()
if current is None:
    st.info(_ui.NO_MODEL, icon=":material/info:")
else:
    _ui.render_model_summary(current)
    save_col, download_col = st.columns(2, gap="large")
    with download_col:  # the compression, chosen on the right, applies to saving too
        st.subheader("Download")
        compression = _ui.compression_choice(key="compression")
    with save_col:
        st.subheader("Save to the library")
        name = st.text_input(
            "Model name", value=current.name, key=f"save_name::{current.id}", max_chars=100
        )
        overwrite = st.checkbox(
            "Overwrite", key="save_overwrite", help="Replace a saved model that has this name."
        )
        if st.button("Save to library", type="primary", key="save_button"):
            with _ui.guard("saving the model") as outcome:
                model_bytes = _ui.file_builder(current, compression)()
                entry = _ui.library().save(
                    name, model_bytes, store_metadata(current.info), overwrite=overwrite
                )
            if outcome.ok:
                st.success(
                    f"Saved '{entry.name}' ({human_size(entry.size_bytes)}).",
                    icon=":material/check_circle:",
                )
    with download_col:
        st.download_button(
            "Download model (.joblib)",
            data=_ui.file_builder(current, compression),
            file_name=f"{file_stem(current.name)}.joblib",
            mime="application/octet-stream",
            on_click="ignore",
            type="primary",
            key="download_model",
        )
        st.caption(
            "The file is the fitted scikit-learn pipeline itself. In a notebook:  \n"
            "`model = joblib.load(path)` then `model.predict(df)`."
        )

st.header("Model library")
st.caption("Models saved here are shared by everyone who uses this app.")
store = _ui.library()
entries = store.list()
if not entries:
    st.info(
        "The library is empty. Save a model above and it will be listed here.",
        icon=":material/info:",
    )
    st.stop()

st.dataframe(library_frame(entries), hide_index=True)
chosen = st.selectbox("Saved model", [entry.name for entry in entries], key="library_choice")
download_col, load_col, delete_col, _ = st.columns([1, 1.4, 1, 2.6])
download_col.download_button(
    "Download",
    data=lambda name=chosen: store.read(name),
    file_name=f"{file_stem(chosen)}.joblib",
    mime="application/octet-stream",
    on_click="ignore",
    key="library_download",
    icon=":material/download:",
)
if load_col.button("Load as current model", key="library_load", icon=":material/upload_file:"):
    with _ui.guard("loading the saved model") as outcome:
        _ui.load_from_library(chosen)
    if outcome.ok:
        _ui.flash(f"Loaded '{chosen}' from the library; it is now the current model.")
        st.rerun()
if delete_col.button("Delete…", key="library_delete", icon=":material/delete:"):
    st.session_state["confirm_delete"] = chosen

if st.session_state.get("confirm_delete") == chosen:
    st.warning(f"Delete '{chosen}' from the library, for everyone? This cannot be undone.")
    yes_col, no_col, _ = st.columns([1, 1, 4])
    if yes_col.button("Yes, delete it", type="primary", key="confirm_delete_yes"):
        st.session_state.pop("confirm_delete", None)
        with _ui.guard("deleting the saved model") as outcome:
            store.delete(chosen)
        if outcome.ok:
            _ui.flash(f"Deleted '{chosen}' from the library.")
            st.rerun()
    if no_col.button("Cancel", key="confirm_delete_no"):
        st.session_state.pop("confirm_delete", None)
        st.rerun()
