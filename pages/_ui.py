"""Shared view helpers for the pages: error display, session state, model summary, library.

Streamlit code only; anything clever lives in ``lib``.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st
from sklearn.utils import estimator_html_repr

from lib.data import read_table
from lib.errors import UserError
from lib.model_info import describe_model
from lib.persistence import COMPRESSIONS, DEFAULT_COMPRESSION, dump_model
from lib.profile import profile_table
from lib.session import CurrentModel, TableData, headline_metric, sha256
from lib.store import ModelStore

log = logging.getLogger("model_studio")

NO_MODEL = "No model yet: train one on the **Train** page or upload one on **Upload model**."
# Each session's script runs in its own thread: the sidebar slot of the current run lives here.
_this_run = threading.local()
TABLE_KEY, MODEL_KEY, FILE_CACHE_KEY = "table", "current_model", "_model_file_cache"
FRAME_KEY, WANTED_PAGE_KEY = "_app_frame", "_wanted_page"


# --- navigation -------------------------------------------------------------------------------


def require_app_frame(page_file: str) -> None:
    """Make sure this page runs inside app.py's frame (navigation, sidebar, error guard).

    When the first visitor of a freshly started server opens a page URL such as /predict,
    Streamlit runs ``pages/predict.py`` on its own (its legacy multipage mode, chosen because a
    ``pages/`` folder exists) until app.py has called ``st.navigation`` once. Such a run goes
    through app.py first and then on to the page that was asked for.
    """
    if not st.session_state.get(FRAME_KEY):
        st.session_state[WANTED_PAGE_KEY] = f"pages/{Path(page_file).name}"
        st.switch_page("app.py")


def mark_app_frame() -> None:
    """Called by app.py after ``st.navigation``: resume a page asked for before the frame ran."""
    st.session_state[FRAME_KEY] = True
    wanted = st.session_state.pop(WANTED_PAGE_KEY, None)
    if wanted:
        st.switch_page(wanted)


# --- errors -----------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What happened inside a ``guard``: ``error`` is the message shown (or to show), or None."""

    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@contextlib.contextmanager
def guard(action: str, *, show: bool = True) -> Iterator[Outcome]:
    """Show a ``UserError`` as ``st.error``; anything else as an apology with a reference id.

    The full traceback of an unexpected error goes to the server log, never to the page.
    Streamlit's own rerun/stop signals are ``BaseException``s and pass straight through. With
    ``show=False`` the message is only kept in the yielded ``Outcome`` for the caller to show.
    """
    outcome = Outcome()
    try:
        yield outcome
    except UserError as error:
        outcome.error = str(error)
    except Exception:
        reference = uuid.uuid4().hex[:8]
        log.exception("Unexpected error while %s (reference %s)", action, reference)
        outcome.error = (
            f"Sorry, something went wrong while {action}. Nothing was changed. If it happens "
            f"again, tell the people who run this app the reference **{reference}**."
        )
    if outcome.error and show:
        st.error(outcome.error, icon=":material/error:")


def flash(message: str) -> None:
    """Keep a success message to show after the next rerun."""
    st.session_state["_flash"] = message


def show_flash() -> None:
    message = st.session_state.pop("_flash", None)
    if message:
        st.success(message, icon=":material/check_circle:")


# --- session state ----------------------------------------------------------------------------


def get_table() -> TableData | None:
    """The session's current table, or None."""
    return st.session_state.get(TABLE_KEY)


def set_table(table: TableData) -> None:
    st.session_state[TABLE_KEY] = table
    _draw_sidebar()


def get_model() -> CurrentModel | None:
    """The session's current model, or None."""
    return st.session_state.get(MODEL_KEY)


def set_model(current: CurrentModel) -> None:
    """Make ``current`` the session's model (per-model caches are keyed on its id)."""
    st.session_state[MODEL_KEY] = current
    _draw_sidebar()


def read_uploaded_table(
    uploaded, slot: str, *, min_columns: int = 1, profile: bool = True
) -> TableData:
    """Parse an uploaded table once per content: the parsed frame is kept in ``slot`` by hash."""
    data = uploaded.getvalue()
    digest = sha256(data)
    cached = st.session_state.get(slot)
    if cached is not None and cached.sha == digest and cached.name == uploaded.name:
        return cached
    df = read_table(data, uploaded.name, min_columns=min_columns)
    table = TableData(
        name=uploaded.name, df=df, sha=digest, profiles=profile_table(df) if profile else []
    )
    st.session_state[slot] = table
    return table


def library() -> ModelStore:
    """The shared model library (``MODEL_STUDIO_LIBRARY``, default saved_models/)."""
    return ModelStore()


def load_model_bytes(data: bytes, source: str, name: str) -> CurrentModel:
    """Load model file bytes through the safe loader; raises a ``UserError`` on refusal."""
    from lib.safe_load import load_model  # the only way model bytes become objects

    loaded = load_model(data)
    info = describe_model(loaded.model, loaded.file_sklearn_version)
    return CurrentModel(
        model=loaded.model, info=info, source=source, name=name,
        load_warnings=list(loaded.warnings),
    )  # fmt: skip


def file_builder(current: CurrentModel, compression: str):
    """A no-argument callable giving the model's .joblib bytes, built once per model+compression.

    It runs on the download thread, so it touches only what it captured, never session state.
    """
    cache: dict = st.session_state.setdefault(FILE_CACHE_KEY, {})
    key = (current.id, compression)
    model = current.model

    def build() -> bytes:
        if key not in cache:
            data = dump_model(model, compression=compression)
            cache.clear()  # keep one file per session
            cache[key] = data
        return cache[key]

    return build


def compression_choice(key: str) -> str:
    """The compression select shared by every model download."""
    names = list(COMPRESSIONS)
    return st.selectbox(
        "Compression",
        names,
        index=names.index(DEFAULT_COMPRESSION),
        key=key,
        help="zlib: small and quick (default). none: largest, fastest to load. "
        "lzma/xz: smallest, slowest. Every choice opens with plain joblib.load. "
        "Saving to the library uses the same choice.",
    )


# --- model summary ----------------------------------------------------------------------------


def model_caption(current: CurrentModel) -> str:
    """One line: estimator, task, target."""
    info = current.info
    parts = [info.estimator, info.task or "task unknown"]
    if info.target:
        parts.append(f"predicts '{info.target}'")
    return " · ".join(parts)


def render_model_summary(current: CurrentModel, *, diagram: bool = True) -> None:
    """What the current model is and what it expects."""
    info = current.info
    st.markdown(f"**{current.name}** — {model_caption(current)}")
    st.caption(f"Source: {current.source}")
    if info.version_warning:
        st.warning(info.version_warning)
    for note in current.load_warnings:
        st.warning(note)

    left, right = st.columns(2)
    with left:
        st.markdown("**Expects**")
        st.write(info.expectation)
        if info.features and info.named_features:
            n_rows = len(info.features)
            st.dataframe(
                features_frame(current), hide_index=True, height=min(38 + 35 * n_rows, 320)
            )
        if info.classes is not None:
            st.markdown("**Classes:** " + ", ".join(f"`{c}`" for c in info.classes))
    with right:
        st.markdown("**Details**")
        st.markdown(
            "\n".join(f"- **{label}:** {value}" for label, value in details(current).items())
        )
    if diagram:
        with st.expander("Pipeline diagram (scikit-learn)", expanded=False):
            st.html(estimator_html_repr(current.model))


def features_frame(current: CurrentModel) -> pd.DataFrame:
    rows = []
    for feature in current.info.features or []:
        spec = feature.spec or {}
        if "median" in spec:
            seen = f"{spec['min']:.4g} to {spec['max']:.4g} (median {spec['median']:.4g})"
        elif spec.get("categories"):
            seen = ", ".join(str(v) for v, _ in spec["categories"][:5])
            seen += " …" if spec.get("n_distinct", 0) > 5 else ""
        elif spec.get("min"):
            seen = f"{spec['min'][:10]} to {(spec.get('max') or '')[:10]}"
        else:
            seen = ""
        rows.append({"column": feature.name, "kind": feature.kind, "seen in training": seen})
    return pd.DataFrame(rows, columns=["column", "kind", "seen in training"])


def details(current: CurrentModel) -> dict[str, str]:
    """Label -> text about the model, for the summary."""
    info = current.info
    meta = info.metadata or {}
    return {
        "Steps": " → ".join(info.steps),
        "Task": info.task or "unknown",
        "Target": info.target or "unknown",
        "Headline metric": headline_metric(meta) or "not recorded",
        "Trained on": _training_data(meta),
        "Created": (meta.get("created_at") or "not recorded").replace("T", " "),
        "scikit-learn": f"{info.file_sklearn_version or 'unknown'} in the file, "
        f"{info.running_sklearn_version} running",
    }


def _training_data(meta: dict) -> str:
    data = meta.get("training_data") or {}
    if not data:
        return "not recorded"
    return f"{data.get('name') or 'a table'}, {data.get('rows', 0):,} rows"


# --- sidebar ----------------------------------------------------------------------------------


def sidebar(slot) -> None:
    """Draw the current model and table into a sidebar ``st.empty`` slot; redrawn on change."""
    _this_run.sidebar_slot = slot
    _draw_sidebar()


def _draw_sidebar() -> None:
    slot = getattr(_this_run, "sidebar_slot", None)
    if slot is None:
        return
    with slot.container():
        st.divider()
        st.markdown("#### Current model")
        current = get_model()
        if current is None:
            st.caption("None yet.")
        else:
            info = current.info
            st.markdown(f"**{current.name}**")
            lines = [f"Task: {info.task or 'unknown'}"]
            if info.target:
                lines.append(f"Target: {info.target}")
            headline = headline_metric(info.metadata)
            if headline:
                lines.append(headline)
            st.caption("  \n".join(lines))
        st.markdown("#### Current table")
        table = get_table()
        if table is None:
            st.caption("None yet.")
        else:
            rows, cols = table.df.shape
            st.caption(f"**{table.name}**  \n{rows:,} rows × {cols} columns")


def load_from_library(name: str) -> None:
    """Read ``name`` from the library (SHA-256 checked), load it safely, make it current."""
    data = library().read(name)
    set_model(load_model_bytes(data, f"model library: {name}", name))
