"""Shared view helpers: the app frame, error display, the sidebar and the model library.

Streamlit code only; anything clever lives in ``lib``. Session keys live in ``pages._state``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from lib import self_check
from lib.access import Person, workspace_person
from lib.display import headline_metric
from lib.errors import DamagedModelError, UserError
from lib.library import AuditEvent, Library, LibraryProblem, open_library, trash_retention_s
from lib.literal import literal, literal_lines
from lib.records import CurrentModel, TableData
from lib.store import default_root
from lib.worker import ModelStopped, SandboxedRunner
from pages import _state

log = logging.getLogger("model_studio")
SKIP_CHECKS_FOR_TESTS = "MODEL_STUDIO_TESTS_SKIP_MODEL_CHECKS"

# Each session's script runs in its own thread: the sidebar slot of the current run lives here.
_this_run = threading.local()


# --- navigation -------------------------------------------------------------------------------


def require_app_frame(page_file: str) -> None:
    """Make sure this page runs inside app.py's frame (navigation, sidebar, error guard).

    When the first visitor of a freshly started server opens a page URL such as /predict,
    Streamlit runs ``pages/predict.py`` on its own (its legacy multipage mode, chosen because a
    ``pages/`` folder exists) until app.py has called ``st.navigation`` once. Such a run goes
    through app.py first and then on to the page that was asked for.
    """
    if not st.session_state.get(_state.APP_FRAME):
        st.session_state[_state.WANTED_PAGE] = f"pages/{Path(page_file).name}"
        st.switch_page("app.py")


def mark_app_frame() -> None:
    """Called by app.py after ``st.navigation``: resume a page asked for before the frame ran."""
    st.session_state[_state.APP_FRAME] = True
    wanted = st.session_state.pop(_state.WANTED_PAGE, None)
    if wanted:
        st.switch_page(wanted)


# --- errors -----------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What happened inside a ``guard``: ``error`` is the message shown (or to show) as
    Markdown, the error's own text escaped by ``literal_lines``; or None."""

    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@contextlib.contextmanager
def guard(action: str, *, show: bool = True) -> Iterator[Outcome]:
    """Show a ``UserError`` as ``st.error``; anything else as an apology with a reference id.

    A ``UserError``'s text is plain (it may quote a stranger's column or file name) and is shown
    literally, escaped by ``lib.literal.literal_lines``: messages need no formatting.

    The full traceback of an unexpected error goes to the server log, never to the page.
    Streamlit's own rerun/stop signals are ``BaseException``s and pass straight through. With
    ``show=False`` the message is only kept in the yielded ``Outcome`` for the caller to show.
    """
    outcome = Outcome()
    try:
        yield outcome
    except UserError as error:
        outcome.error = literal_lines(error)
        if isinstance(error, ModelStopped):
            _state.get_model()  # unloads it
            _state.take_unloaded()  # this message says it already
            _draw_sidebar()
    except Exception:
        reference = uuid.uuid4().hex[:8]
        log.exception("Unexpected error while %s (reference %s)", action, reference)
        outcome.error = (
            f"Sorry, something went wrong while {action}. Nothing was changed. If it happens "
            f"again, tell the people who run this app the reference **{reference}**."
        )
    if outcome.error and show:
        st.error(outcome.error, icon=":material/error:")


def show_unloaded() -> None:
    """Say once that the model was unloaded because its worker stopped, and why."""
    unloaded = _state.take_unloaded()
    if unloaded:
        name, why = unloaded
        st.warning(
            f"The model '{literal(name)}' was unloaded. {literal_lines(why)}",
            icon=":material/warning:",
        )


def show_flash() -> None:
    """Show the success message kept by ``_state.flash`` before the last rerun."""
    message = _state.take_flash()
    if message:
        st.success(message, icon=":material/check_circle:")


def info(message: str) -> None:
    st.info(message, icon=":material/info:")


# --- the current table and model, with the sidebar that shows them -----------------------------


def set_table(table: TableData) -> None:
    _state.set_table(table)
    _draw_sidebar()


def set_model(current: CurrentModel) -> None:
    """Make ``current`` the session's model and show it in the sidebar."""
    _state.set_model(current)
    _draw_sidebar()


def sidebar(slot: Any) -> None:
    """Draw the current model and table into a sidebar ``st.empty`` slot; redrawn on change."""
    _this_run.sidebar_slot = slot
    _draw_sidebar()


def _draw_sidebar() -> None:
    """Each section is one element whatever it shows. A redraw in the same run (a model
    unloaded by a crash) replaces the slot's elements one by one, and Streamlit leaves any
    element of the first drawing beyond the new count on the page until the next run
    (streamlit#12069): a model shown as two elements left a stray "None yet." below."""
    slot = getattr(_this_run, "sidebar_slot", None)
    if slot is None:
        return
    with slot.container():
        st.divider()
        st.markdown("#### Current model")
        current = _state.get_model()
        if current is None:
            st.caption("None yet.")
        else:
            info = current.info
            lines = [f"**{literal(current.name)}**", f"Task: {literal(info.task or 'unknown')}"]
            if info.target:
                lines.append(f"Target: {literal(info.target)}")
            headline = headline_metric(info.metadata)
            if headline:
                lines.append(literal(headline))
            st.caption("  \n".join(lines))
        st.markdown("#### Current table")
        table = _state.get_table()
        if table is None:
            st.caption("None yet.")
        else:
            rows, cols = table.df.shape
            st.caption(f"**{literal(table.name)}**  \n{rows:,} rows × {cols} columns")


# --- the model library ------------------------------------------------------------------------


def library() -> Library:
    """The shared model library at ``MODEL_STUDIO_LIBRARY`` (a folder or ``s3://`` URL; default
    saved_models/). Opening one never touches the store, so an unreachable one is noticed by the
    first listing or save, inside a ``guard``.

    :raises StoreError: an address the library cannot use (say, an unsupported protocol).
    """
    return _open_library(library_address())


def library_address() -> str:
    """``MODEL_STUDIO_LIBRARY`` (a folder or URL), or the default folder."""
    return os.environ.get("MODEL_STUDIO_LIBRARY", "").strip() or str(default_root())


@st.cache_resource(show_spinner=False, max_entries=8)
def _open_library(address: str) -> Library:
    """One ``Library`` per address for the server (an S3 client is costly to set up)."""
    return open_library(address)


def library_problems() -> list[LibraryProblem]:
    """The library's unreadable records, for a warning; re-read at most every 30 s, because
    finding them reads every record (cheap on a folder, one request each on S3).

    :raises StoreError: the store cannot be reached.
    """
    return _library_problems(library_address())


@st.cache_data(ttl=30, show_spinner=False, max_entries=8)
def _library_problems(address: str) -> list[LibraryProblem]:
    return _open_library(address).problems()


PURGE_EVERY_S = 600


def purge_expired_trash() -> None:
    """Purge the trash's versions past their retention (``MODEL_STUDIO_TRASH_DAYS``), at most
    once every 10 minutes per server and library. A failure is logged, not shown: nobody asked
    for it, and the next slot tries again."""
    _purge_expired(library_address(), int(time.time() // PURGE_EVERY_S))


@st.cache_data(max_entries=4, show_spinner=False)
def _purge_expired(address: str, slot: int) -> int:
    try:
        return _open_library(address).purge_expired(trash_retention_s())
    except Exception:
        log.exception("Purging the model library's trash failed (slot %d)", slot)
        return 0


def version_damage(name: str, version: int, sha256: str) -> str | None:
    """Why ``version`` of ``name`` can't be read (bytes missing or not matching their SHA-256),
    or None when it reads. Reads the whole model but keeps only this answer, for 10 minutes per
    version (``sha256`` tells a reused number apart), so reruns do not read it again.

    :raises StoreError: no such version now, or the store cannot be reached (not cached).
    """
    return _version_damage(library_address(), name, version, sha256)


@st.cache_data(ttl=600, show_spinner=False, max_entries=64)
def _version_damage(address: str, name: str, version: int, sha256: str) -> str | None:
    try:
        _open_library(address).read(name, version)
    except DamagedModelError as error:
        return str(error)
    return None


def load_model_bytes(data: bytes, source: str, name: str) -> CurrentModel:
    """Open model file bytes in a sandboxed worker (through the safe loader there); raises a
    ``UserError`` on refusal."""
    # It lives and runs only in its own sandboxed process. The browser tests switch the
    # loader's model checks off to show that a model which crashes is contained there.
    checks = os.environ.get(SKIP_CHECKS_FOR_TESTS) != "1"
    runner = SandboxedRunner(data, checks=checks)
    return CurrentModel(
        model=None, info=runner.info, source=source, name=name,
        load_warnings=list(runner.warnings), runner=runner, file_bytes=data,
        self_check=self_check.verify(runner, runner.info),
    )  # fmt: skip


def load_from_library(name: str, version: int | None = None) -> str:
    """Read ``version`` of ``name`` (newest when None; SHA-256 checked) as this person may,
    load it through the safe loader in its own worker, make it current, and note the load in
    the audit log; return its source text ("model library: tips, version 2").

    :raises UserError: no such version (for this person), damaged bytes, or a refused file.
    """
    store = library()
    record = store.record(name, version, viewer=person())
    data = store.read(record.name, record.version, viewer=person())
    source = f"model library: {record.name}, version {record.version}"
    set_model(load_model_bytes(data, source, record.name))
    audit("load", record.name, record.version)
    return source


def read_for_download(store: Library, name: str, version: int, who: Person,
                      address: str | None) -> bytes:  # fmt: skip
    """The bytes of a version for a download button, noting the download in the audit log.
    Runs on Streamlit's download thread when clicked: it uses only what it is given."""
    data = store.read(name, version, viewer=who)
    _append_audit(store, "download", who, name, version, address)
    return data


def audit(action: str, name: str | None = None, version: int | None = None,
          detail: str | None = None) -> None:  # fmt: skip
    """Note an action of this session's person in the library's audit log (loads, downloads;
    the library notes saves and deletions itself). A failure is logged, never shown."""
    _append_audit(library(), action, person(), name, version, client_address(), detail)


def _append_audit(
    store: Library,
    action: str,
    who: Person,
    name: str | None,
    version: int | None,
    address: str | None,
    detail: str | None = None,
) -> None:
    try:
        store.audit.append(AuditEvent(action=action, who=who.id, name=name, version=version,
                                      address=address, detail=detail))  # fmt: skip
    except Exception:
        log.exception("Could not note %s of %s v%s in the audit log", action, name, version)


# --- who is using the app ---------------------------------------------------------------------


def set_person(signed_in: Person | None) -> None:
    """Called by app.py each run with the signed-in person (None: sign-in is off)."""
    st.session_state[_state.PERSON] = signed_in


def person() -> Person:
    """Who is using the app: the signed-in person, or (sign-in off) this browser's workspace,
    by the first 8 digits of its id (the whole id opens the workspace's jobs)."""
    signed_in = st.session_state.get(_state.PERSON)
    if signed_in is not None:
        return signed_in
    from pages import _jobs  # _jobs imports this module

    return workspace_person(_jobs.workspace()[:8])


def sign_in_is_on() -> bool:
    return st.session_state.get(_state.PERSON) is not None


def client_address() -> str | None:
    """The browser's IP address as the server sees it (None on localhost); behind a proxy,
    the address the proxy says it forwarded for, then the proxy's."""
    try:
        address = st.context.ip_address
        forwarded = st.context.headers.get("X-Forwarded-For")
    except Exception:  # no browser connection (AppTest)
        return None
    address = address if isinstance(address, str) else None
    if isinstance(forwarded, str) and forwarded.strip():
        return f"{forwarded.split(',')[0].strip()} via {address or 'localhost'}"
    return address
