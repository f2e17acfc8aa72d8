"""Save & download: keep the current model in the shared library or download it as .joblib."""

import streamlit as st

from lib.display import (
    demote_headings,
    file_stem,
    library_frame,
    store_metadata,
    version_history_frame,
    version_label,
    workspace_label,
)
from lib.literal import literal, literal_lines
from lib.model_card import model_card
from lib.persistence import NOTEBOOK_USE
from pages import _jobs, _state, _ui
from pages._compare_versions import compare_versions
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
        if st.button("Save to library", type="primary", key=_state.SAVE_BUTTON):
            with _ui.guard("saving the model") as outcome:
                model_bytes = _state.model_file(current, compression)()
                record = _ui.library().save(
                    name,
                    model_bytes,
                    store_metadata(current.info),
                    saved_by=workspace_label(_jobs.workspace()),  # until people sign in
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

st.header("Model library")
st.caption(
    "Models saved here are shared by everyone who uses this app. Each name keeps every "
    "version saved under it."
)
with _ui.guard("reading the model library") as outcome:
    store = _ui.library()
    names = store.names()
    problems = _ui.library_problems()
if not outcome.ok:
    st.stop()
if problems:
    st.warning(
        "Some saved versions can't be read and are left out of the lists below:\n"
        + "\n".join(f"- {literal(problem.key)}: {literal(problem.reason)}" for problem in problems),
        icon=":material/warning:",
    )
if not names:
    _ui.info("The library is empty. Save a model above and it will be listed here.")
    st.stop()

st.dataframe(library_frame(names), hide_index=True)
chosen = st.selectbox("Saved model", [s.name for s in names], key=_state.LIBRARY_CHOICE)
with _ui.guard("reading the versions of the saved model") as outcome:
    records = store.versions(chosen)
if not outcome.ok:
    st.stop()
if not records:  # deleted by someone else since the list above was read
    _ui.info(f"'{literal(chosen)}' is no longer in the library. Pick another saved model.")
    st.stop()

st.subheader(f"Versions of '{literal(chosen)}'")
st.dataframe(version_history_frame(records), hide_index=True)
latest = records[-1].version
by_version = {record.version: record for record in records}
version = st.selectbox(
    "Version",
    sorted(by_version, reverse=True),
    format_func=lambda number: version_label(by_version[number], latest),
    key=f"{_state.LIBRARY_VERSION}::{chosen}::{latest}",  # a new name or version: latest again
)
damage = None  # checked when chosen (cached): a damaged version offers only its delete
with _ui.guard("checking the chosen version") as checked:
    damage = _ui.version_damage(chosen, version, by_version[version].sha256)
if damage is not None:
    st.error(literal_lines(damage), icon=":material/broken_image:")
readable = checked.ok and damage is None
download_col, load_col, delete_col, delete_name_col = st.columns([1.3, 1.3, 1.3, 1.7])
if readable:
    download_col.download_button(
        "Download this version",
        data=lambda name=chosen, number=version: store.read(name, number),
        file_name=f"{file_stem(chosen)} v{version}.joblib",
        mime="application/octet-stream",
        on_click="ignore",
        key=_state.LIBRARY_DOWNLOAD,
        icon=":material/download:",
    )
if readable and load_col.button(
    "Load as current model", key=_state.LIBRARY_LOAD, icon=":material/upload_file:"
):
    with _ui.guard("loading the saved model") as outcome:
        _ui.load_from_library(chosen, version)
    if outcome.ok:
        _state.flash(
            f"Loaded version {version} of '{literal(chosen)}' from the library; it is now the "
            "current model."
        )
        st.rerun()
if delete_col.button("Delete this version…", key=_state.LIBRARY_DELETE, icon=":material/delete:"):
    st.session_state[_state.CONFIRM_DELETE] = (chosen, version)
if delete_name_col.button(
    f"Delete all versions of '{literal(chosen)}'…",
    key=_state.LIBRARY_DELETE_NAME,
    icon=":material/delete_forever:",
):
    st.session_state[_state.CONFIRM_DELETE] = (chosen, None)

pending = st.session_state.get(_state.CONFIRM_DELETE)
if pending in {(chosen, version), (chosen, None)}:
    what = (
        f"version {version} of '{literal(chosen)}'"
        if pending[1] is not None
        else f"'{literal(chosen)}' with all its {len(records)} "
        f"version{'s' if len(records) > 1 else ''}"
    )
    st.warning(f"Delete {what} from the library, for everyone? This cannot be undone.")
    yes_col, no_col, _ = st.columns([1, 1, 4])
    if yes_col.button("Yes, delete it", type="primary", key=_state.CONFIRM_DELETE_YES):
        st.session_state.pop(_state.CONFIRM_DELETE, None)
        with _ui.guard("deleting from the library") as outcome:
            if pending[1] is None:
                store.delete_name(chosen)
            else:
                store.delete_version(chosen, pending[1])
        if outcome.ok:
            _state.flash(f"Deleted {what} from the library.")
            st.rerun()
    if no_col.button("Cancel", key=_state.CONFIRM_DELETE_NO):
        st.session_state.pop(_state.CONFIRM_DELETE, None)
        st.rerun()

compare_versions(store, chosen, records)
