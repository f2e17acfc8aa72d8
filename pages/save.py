"""Save & download: keep the current model in the shared library or download it as .joblib."""

import streamlit as st

from lib.display import demote_headings, file_stem, human_size, library_frame, store_metadata
from lib.model_card import model_card
from lib.persistence import NOTEBOOK_USE
from pages import _state, _ui
from pages._model_view import compression_choice, current_model_section

_ui.require_app_frame(__file__)

st.title("Save & download")
_ui.show_flash()

current = current_model_section()
if current is not None:
    save_col, download_col = st.columns(2, gap="large")
    with download_col:  # the compression, chosen on the right, applies to saving too
        st.subheader("Download")
        if current.sandboxed:  # the app never re-writes a model it did not build
            compression = "as uploaded"
            st.caption(
                "This model came from a file, so it is saved and downloaded exactly as "
                "that file was: the app never re-writes a model it did not train."
            )
        else:
            compression = compression_choice(key="compression")
    with save_col:
        st.subheader("Save to the library")
        name = st.text_input(
            "Model name", value=current.name, key=f"save_name::{current.id}", max_chars=100
        )
        overwrite = st.checkbox(
            "Overwrite", key="save_overwrite", help="Replace a saved model that has this name."
        )
        if st.button("Save to library", type="primary", key=_state.SAVE_BUTTON):
            with _ui.guard("saving the model") as outcome:
                model_bytes = _state.model_file(current, compression)()
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
            data=_state.model_file(current, compression),
            file_name=f"{file_stem(current.name)}.joblib",
            mime="application/octet-stream",
            on_click="ignore",
            type="primary",
            key=_state.DOWNLOAD_MODEL,
        )
        st.caption(NOTEBOOK_USE)
        card = model_card(current.name, current.info.metadata) if current.info.metadata else None
        if card is not None:
            st.download_button(
                "Download model card (.md)",
                data=card,
                file_name=f"{file_stem(current.name)} model card.md",
                mime="text/markdown",
                on_click="ignore",
                key=_state.DOWNLOAD_CARD,
                icon=":material/description:",
            )
        else:
            st.caption("This file carries no training record, so there is no model card.")
    if card is not None:
        with st.expander("Model card: one page to send with the model"):
            st.markdown(demote_headings(card, 2))

st.header("Model library")
st.caption("Models saved here are shared by everyone who uses this app.")
store = _ui.library()
entries = store.list()
if not entries:
    _ui.info("The library is empty. Save a model above and it will be listed here.")
    st.stop()

st.dataframe(library_frame(entries), hide_index=True)
chosen = st.selectbox("Saved model", [entry.name for entry in entries], key=_state.LIBRARY_CHOICE)
download_col, load_col, delete_col, _ = st.columns([1, 1.4, 1, 2.6])
download_col.download_button(
    "Download",
    data=lambda name=chosen: store.read(name),
    file_name=f"{file_stem(chosen)}.joblib",
    mime="application/octet-stream",
    on_click="ignore",
    key=_state.LIBRARY_DOWNLOAD,
    icon=":material/download:",
)
if load_col.button("Load as current model", key=_state.LIBRARY_LOAD, icon=":material/upload_file:"):
    with _ui.guard("loading the saved model") as outcome:
        _ui.load_from_library(chosen)
    if outcome.ok:
        _state.flash(f"Loaded '{chosen}' from the library; it is now the current model.")
        st.rerun()
if delete_col.button("Delete…", key=_state.LIBRARY_DELETE, icon=":material/delete:"):
    st.session_state[_state.CONFIRM_DELETE] = chosen

if st.session_state.get(_state.CONFIRM_DELETE) == chosen:
    st.warning(f"Delete '{chosen}' from the library, for everyone? This cannot be undone.")
    yes_col, no_col, _ = st.columns([1, 1, 4])
    if yes_col.button("Yes, delete it", type="primary", key=_state.CONFIRM_DELETE_YES):
        st.session_state.pop(_state.CONFIRM_DELETE, None)
        with _ui.guard("deleting the saved model") as outcome:
            store.delete(chosen)
        if outcome.ok:
            _state.flash(f"Deleted '{chosen}' from the library.")
            st.rerun()
    if no_col.button("Cancel", key=_state.CONFIRM_DELETE_NO):
        st.session_state.pop(_state.CONFIRM_DELETE, None)
        st.rerun()
