"""Save & download's model library: the names one may see, a name's versions and what one may
do with each (download, load, delete, change who sees it), the trash, and the audit log.

With sign-in off everyone may do everything (a single-user tool); with it on, ``lib.access``
decides, the library enforces it, and this page offers only the buttons one may use.
"""

from __future__ import annotations

import streamlit as st

from lib.access import PRIVATE, SHARED, Person, can_manage, can_read_audit, is_signed_in_id
from lib.display import (
    audit_frame,
    file_stem,
    library_frame,
    trash_frame,
    version_history_frame,
    version_label,
)
from lib.library import Library, VersionRecord, trash_retention_s
from lib.literal import literal
from pages import _state, _ui
from pages._compare_versions import compare_versions

AUDIT_ROWS = 500


def library_section() -> None:
    st.header("Model library")
    person = _ui.person()
    signed_in = _ui.sign_in_is_on()
    st.caption(
        "Shared models are seen by everyone signed in; private ones only by their owner and "
        "the administrators. Each name keeps every version saved under it."
        if signed_in
        else "Sign-in is off, so this is a single-user tool: anyone who can open this app can "
        "see, load and delete every model here. To share the app with a team, turn sign-in "
        "on (README: Deploying for a team). Each name keeps every version saved under it."
    )
    with _ui.guard("reading the model library") as outcome:
        store = _ui.library()
        _ui.purge_expired_trash()
        names = store.names(viewer=person)
        problems = _ui.library_problems()
    if not outcome.ok:
        return
    if problems:
        st.warning(
            "Some saved versions can't be read and are left out of the lists below:\n"
            + "\n".join(f"- {literal(p.key)}: {literal(p.reason)}" for p in problems),
            icon=":material/warning:",
        )
    if names:
        _name_and_versions(store, person, names)
    else:
        _ui.info(
            "No saved model is shared with you yet. Save one above and it will be listed here."
            if signed_in
            else "The library is empty. Save a model above and it will be listed here."
        )
    _trash(store, person)
    if can_read_audit(person):
        _audit_log(store)


def _name_and_versions(store: Library, person: Person, names: list) -> None:
    st.dataframe(library_frame(names), hide_index=True)
    chosen = st.selectbox("Saved model", [s.name for s in names], key=_state.LIBRARY_CHOICE)
    with _ui.guard("reading the versions of the saved model") as outcome:
        records = store.versions(chosen, viewer=person)
    if not outcome.ok:
        return
    if not records:  # deleted by someone else since the list above was read
        _ui.info(f"'{literal(chosen)}' is no longer in the library. Pick another saved model.")
        return
    st.subheader(f"Versions of '{literal(chosen)}'")
    st.dataframe(version_history_frame(records), hide_index=True)
    latest = records[-1].version
    by_version = {record.version: record for record in records}
    version = st.selectbox(
        "Version",
        sorted(by_version, reverse=True),
        format_func=lambda number: version_label(by_version[number], latest),
        key=f"{_state.LIBRARY_VERSION}::{chosen}::{latest}",  # a new version: latest again
    )
    _version_actions(store, person, by_version[version], records)
    compare_versions(store, chosen, records)


def _version_actions(
    store: Library, person: Person, record: VersionRecord, records: list[VersionRecord]
) -> None:
    """Download, load, delete, visibility and delete-all for the chosen version."""
    name, version = record.name, record.version
    damage = None  # checked when chosen (cached): a damaged version offers only its delete
    with _ui.guard("checking the chosen version") as checked:
        damage = _ui.version_damage(name, version, record.sha256)
    if damage is not None:
        st.error(damage, icon=":material/broken_image:")
    readable = checked.ok and damage is None
    manages = can_manage(person, record)
    manages_some = any(can_manage(person, r) for r in records)
    row = st.container(horizontal=True)  # the buttons one may use, side by side
    if readable:
        address = _ui.client_address()
        row.download_button(
            "Download this version",
            data=lambda: _ui.read_for_download(store, name, version, person, address),
            file_name=f"{file_stem(name)} v{version}.joblib",
            mime="application/octet-stream",
            on_click="ignore",
            key=_state.LIBRARY_DOWNLOAD,
            icon=":material/download:",
        )
    if readable and row.button(
        "Load as current model", key=_state.LIBRARY_LOAD, icon=":material/upload_file:"
    ):
        with _ui.guard("loading the saved model") as outcome:
            _ui.load_from_library(name, version)
        if outcome.ok:
            _state.flash(
                f"Loaded version {version} of '{literal(name)}' from the library; it is now the "
                "current model."
            )
            st.rerun()
    if manages and row.button(
        "Delete this version…", key=_state.LIBRARY_DELETE, icon=":material/delete:"
    ):
        st.session_state[_state.CONFIRM_DELETE] = (name, version)
    if manages and _ui.sign_in_is_on() and person.signed_in:
        _visibility_button(row, store, person, record)
    if manages_some and row.button(
        f"Delete all versions of '{literal(name)}'…"
        if all(can_manage(person, r) for r in records)
        else f"Delete your versions of '{literal(name)}'…",
        key=_state.LIBRARY_DELETE_NAME,
        icon=":material/delete_forever:",
    ):
        st.session_state[_state.CONFIRM_DELETE] = (name, None)
    if not manages:
        owner = f"its owner ({literal(record.owner)}) or " if is_signed_in_id(record.owner) else ""
        st.caption(f"Only {owner}an administrator can delete this version or change who sees it.")
    _confirm_delete(store, person, record, records)


def _visibility_button(column, store: Library, person: Person, record: VersionRecord) -> None:
    private = record.visibility == PRIVATE
    label = "Share with everyone" if private else "Make private"
    if not is_signed_in_id(record.owner):
        return  # saved before sign-in: it stays shared
    if column.button(
        label,
        key=_state.LIBRARY_VISIBILITY,
        icon=":material/group:" if private else ":material/lock:",
        help="Private: only its owner and the administrators see it.",
    ):
        with _ui.guard("changing who sees the version") as outcome:
            store.set_visibility(
                record.name,
                record.version,
                SHARED if private else PRIVATE,
                by=person,
                address=_ui.client_address(),
            )
        if outcome.ok:
            seen_by = "everyone signed in" if private else "its owner and the administrators"
            _state.flash(
                f"Version {record.version} of '{literal(record.name)}' is now seen by {seen_by}."
            )
            st.rerun()


def _confirm_delete(
    store: Library, person: Person, record: VersionRecord, records: list[VersionRecord]
) -> None:
    name = record.name
    pending = st.session_state.get(_state.CONFIRM_DELETE)
    if pending not in {(name, record.version), (name, None)}:
        return
    days = trash_retention_s() / 86_400
    if pending[1] is not None:
        what = f"version {record.version} of '{literal(name)}'"
    else:
        mine = [r for r in records if can_manage(person, r)]
        count = f"{len(mine)} version{'s' if len(mine) != 1 else ''}"
        whose = "all its" if len(mine) == len(records) else "your"
        what = f"'{literal(name)}' with {whose} {count}"
    st.warning(
        f"Delete {what}? It moves to the trash below, where its owner can restore it for "
        f"{days:g} day{'s' if days != 1 else ''}; then it is gone for good.",
        icon=":material/delete:",
    )
    yes_col, no_col, _ = st.columns([1, 1, 4])
    if yes_col.button("Yes, delete it", type="primary", key=_state.CONFIRM_DELETE_YES):
        st.session_state.pop(_state.CONFIRM_DELETE, None)
        left = 0
        with _ui.guard("deleting from the library") as outcome:
            address = _ui.client_address()
            if pending[1] is None:
                left = store.delete_name(name, by=person, address=address)
            else:
                store.delete_version(name, pending[1], by=person, address=address)
        if outcome.ok:
            kept = f" {left} version(s) of others were kept." if left else ""
            _state.flash(f"Moved {what} to the trash.{kept}")
            st.rerun()
    if no_col.button("Cancel", key=_state.CONFIRM_DELETE_NO):
        st.session_state.pop(_state.CONFIRM_DELETE, None)
        st.rerun()


def _trash(store: Library, person: Person) -> None:
    """Deleted versions this person may restore, with a restore button for one of them."""
    with _ui.guard("reading the trash") as outcome:
        entries = store.trashed(viewer=person)
    if not outcome.ok or not entries:
        return
    retention = trash_retention_s()
    with st.expander(f"Trash: {len(entries)} deleted version{'s' if len(entries) > 1 else ''}"):
        st.dataframe(trash_frame(entries, retention), hide_index=True)
        labels = {f"{e.record.name}, version {e.record.version}": e for e in entries}
        chosen = st.selectbox("Deleted version", list(labels), key=_state.TRASH_CHOICE)
        if st.button("Restore", key=_state.TRASH_RESTORE, icon=":material/restore_from_trash:"):
            entry = labels[chosen]
            with _ui.guard("restoring the version") as restored:
                store.restore_version(
                    entry.record.name,
                    entry.record.version,
                    by=person,
                    address=_ui.client_address(),
                )
            if restored.ok:
                _state.flash(f"Restored {literal(chosen)}.")
                st.rerun()


def _audit_log(store: Library) -> None:
    with st.expander("Audit log (administrators)"):
        with _ui.guard("reading the audit log") as outcome:
            events = store.audit.events(limit=AUDIT_ROWS)
        if outcome.ok:
            st.caption(
                f"The newest {AUDIT_ROWS} saves, loads, downloads, deletions, restores and "
                "visibility changes of the last 30 days, kept with the library (audit/)."
            )
            st.dataframe(audit_frame(events), hide_index=True)
