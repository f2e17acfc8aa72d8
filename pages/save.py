"""Save & download: keep the current model in the shared library or download it as .joblib."""

import streamlit as st

from lib.access import PRIVATE, SHARED
from lib.display import demote_headings, file_stem, store_metadata
from lib.literal import literal
from lib.model_card import model_card
from lib.persistence import NOTEBOOK_USE
from pages import _state, _ui
from pages._library_section import library_section
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
        person = _ui.person()
        visibility = SHARED
        if _ui.sign_in_is_on():
            visibility = st.radio(
                "Who can see it",
                [SHARED, PRIVATE],
                format_func=lambda v: "Everyone signed in" if v == SHARED else "Only me",
                horizontal=True,
                key=_state.SAVE_VISIBILITY,
                help="Administrators see every model. You can change this later below.",
            )
        if st.button("Save to library", type="primary", key=_state.SAVE_BUTTON):
            with _ui.guard("saving the model") as outcome:
                model_bytes = _state.model_file(current, compression)()
                record = _ui.library().save(
                    name,
                    model_bytes,
                    store_metadata(current.info),
                    saved_by=person.name,
                    visibility=visibility,
                    by=person,
                    address=_ui.client_address(),
                )
            if outcome.ok:
                st.success(
                    f"Saved '{literal(record.name)}' as version {record.version}.",
                    icon=":material/check_circle:",
                )
        st.caption("Saving under an existing name adds a new version; older versions stay.")
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

library_section()
