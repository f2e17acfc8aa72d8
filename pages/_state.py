"""Every ``st.session_state`` key of the app, and the per-session records and caches.

Pages and tests name keys through this module only. What a session holds:

- its current table (``TABLE``) and current model (``MODEL``), shown in the sidebar;
- the uploads it parsed, one per slot, kept by content hash (``uploaded_table``);
- one ``lib.exploration.Exploration`` (``EXPLORATION``): everything computed for the current
  (model, rows) pair;
- the current model's file bytes per compression (``MODEL_FILE``), built on first download
  (a model from outside keeps its file as it came, in the record);
- why the last model was unloaded (``UNLOADED``), when its worker stopped;
- its workspace id (``WORKSPACE``, also in the URL) and the finished jobs it took in
  (``SEEN_JOBS``; ``pages._jobs``);
- two library versions opened to compare, with their scores (``COMPARE``);
- small page memories: a flash message, the leaderboard, the last search (``TUNING``), a
  pending delete, the page asked for before the app frame ran.
Widget keys that must be the same in a page and its tests are here too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from lib.data import read_upload
from lib.exploration import Exploration, exploration_for
from lib.persistence import dump_model
from lib.records import CurrentModel, TableData, sha256

# --- records and caches -------------------------------------------------------------------------
TABLE = "table"
MODEL = "current_model"
EXPLORATION = "_exploration"
MODEL_FILE = "_model_file"
TRAIN_UPLOAD_SLOT = "_train_upload"
PREDICT_UPLOAD_SLOT = "_predict_upload"
TYPED_ROW_SLOT = "_predict_row"
LAST_MODEL_UPLOAD = "_last_model_upload"
LEADERBOARD = "leaderboard"
TUNING = "tuning"
WORKSPACE = "_workspace"
SEEN_JOBS = "_seen_jobs"
PENDING_JOB = "_pending_job"
CONFIRM_DELETE = "confirm_delete"
FLASH = "_flash"
UNLOADED = "_unloaded"
APP_FRAME = "_app_frame"
WANTED_PAGE = "_wanted_page"
PERSON = "_person"  # the signed-in lib.access.Person; None when sign-in is off
COMPARE = "_compare"  # two library versions opened to score side by side

# --- widgets whose keys tests drive -----------------------------------------------------------
TRAIN_SOURCE = "train_source"
TRAIN_UPLOAD = "train_upload"
TRAIN_SAMPLE = "train_sample"
TRAIN_BUTTON = "train_button"
TRAIN_BEST = "train_best"
COMPARE_BUTTON = "compare_button"
TUNE_BUTTON = "tune_button"
TIME_BUDGET = "time_budget"
START_ANYWAY = "start_anyway"
DONT_START = "dont_start"
MODEL_UPLOAD = "model_upload"
LOAD_SOURCE = "load_source"
LOAD_LIBRARY_CHOICE = "load_library_choice"
LOAD_LIBRARY_BUTTON = "load_library_button"
SAVE_BUTTON = "save_button"
DOWNLOAD_MODEL = "download_model"
DOWNLOAD_CARD = "download_card"
LIBRARY_CHOICE = "library_choice"
LIBRARY_LOAD = "library_load"
LIBRARY_DOWNLOAD = "library_download"
LIBRARY_DELETE = "library_delete"
LIBRARY_VERSION = "library_version"
LIBRARY_DELETE_NAME = "library_delete_name"
LOAD_LIBRARY_VERSION = "load_library_version"
CONFIRM_DELETE_YES = "confirm_delete_yes"
CONFIRM_DELETE_NO = "confirm_delete_no"
LIBRARY_VISIBILITY = "library_visibility"
SAVE_VISIBILITY = "save_visibility"
TRASH_CHOICE = "trash_choice"
TRASH_RESTORE = "trash_restore"
COMPARE_FIRST = "compare_first"
COMPARE_SECOND = "compare_second"
COMPARE_TABLE = "compare_table"
COMPARE_SCORE = "compare_score"
PREDICT_MODE = "predict_mode"
PREDICT_UPLOAD = "predict_upload"
ACTUALS_COLUMN = "actuals_column"
ONLY_UNUSUAL = "only_unusual"
DOWNLOAD_PREDICTIONS_RAW = "download_predictions_raw"
DOWNLOAD_PREDICTIONS = "download_predictions"
EXPLORE_TAB = "explore_tab"
INTERVAL_LEVEL = "interval_level"  # + the exploration's tag: the prediction interval level


def chosen_model_key(task: str) -> str:
    """The Train page's model select for ``task``."""
    return f"model::{task}"


# --- the current table and model ----------------------------------------------------------------


def get_table() -> TableData | None:
    """The session's current table, or None."""
    return st.session_state.get(TABLE)


def set_table(table: TableData) -> None:
    st.session_state[TABLE] = table


def get_model() -> CurrentModel | None:
    """The session's current model, or None. A model whose worker stopped (crash, cap,
    timeout) is unloaded here, and why is kept for ``take_unloaded``."""
    current = st.session_state.get(MODEL)
    failure = getattr(current.runner, "failure", None) if current is not None else None
    if failure is not None:
        st.session_state[UNLOADED] = (current.name, failure)
        _drop_model()
        return None
    return current


def set_model(current: CurrentModel) -> None:
    """Make ``current`` the session's model; what was derived from the previous one goes,
    and so does the previous model's worker process."""
    previous = st.session_state.get(MODEL)
    if previous is not None and previous is not current:
        previous.runner.close()
    st.session_state.pop(UNLOADED, None)
    _drop_model()
    st.session_state[MODEL] = current


def _drop_model() -> None:
    for key in (MODEL, EXPLORATION, MODEL_FILE):
        st.session_state.pop(key, None)


def take_unloaded() -> tuple[str, str] | None:
    """(name, why) of the model unloaded since the last call, or None."""
    return st.session_state.pop(UNLOADED, None)


# --- caches ---------------------------------------------------------------------------------


def uploaded_table(uploaded: Any, slot: str, *, min_columns: int = 1,
                   profile: bool = True) -> TableData:  # fmt: skip
    """Parse an uploaded table once per content, in a separate capped process
    (``lib.data.read_upload``): the parsed frame is kept in ``slot``."""
    data = uploaded.getvalue()
    digest = sha256(data)
    cached = st.session_state.get(slot)
    if cached is not None and cached.sha == digest and cached.name == uploaded.name:
        return cached
    read = read_upload(data, uploaded.name, min_columns=min_columns, profile=profile)
    table = TableData(uploaded.name, read.frame, digest, read.profiles)
    st.session_state[slot] = table
    return table


def exploration(current: CurrentModel, rows: TableData, target: str | None) -> Exploration:
    """The session's exploration of ``current`` on ``rows``, kept across reruns and pages."""
    kept = exploration_for(st.session_state.get(EXPLORATION), current, rows, target)
    st.session_state[EXPLORATION] = kept
    return kept


def model_file(current: CurrentModel, compression: str) -> Callable[[], bytes]:
    """A no-argument callable giving the model's .joblib bytes, built once per model and
    compression (one file kept per session).

    It may run on Streamlit's download thread, so it touches only what it captured.
    """
    if current.file_bytes is not None:  # a model from outside is handed back as it came
        data = current.file_bytes
        return lambda: data
    cache: dict[tuple[str, str], bytes] = st.session_state.setdefault(MODEL_FILE, {})
    key = (current.id, compression)
    model = current.model

    def build() -> bytes:
        if key not in cache:
            data = dump_model(model, compression=compression)
            cache.clear()
            cache[key] = data
        return cache[key]

    return build


def flash(message: str) -> None:
    """Keep a success message to show after the next rerun."""
    st.session_state[FLASH] = message


def take_flash() -> str | None:
    return st.session_state.pop(FLASH, None)
