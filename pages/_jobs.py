"""Jobs as the pages see them: the session's workspace, starting a job, the job list with live
progress and Cancel, and taking in what finished jobs made.

A workspace id (``?ws=`` in the URL, unguessable) names a person's jobs: a reload or a new
tab with the same URL finds them again, and takes in the newest finished results as the
current table and model. Jobs run outside the web process (``lib.jobs``); this module only
reads their records, a few times a second while one is unfinished.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

from lib import budget, catalog, jobs, parallel
from lib.display import duration
from lib.errors import UserError
from lib.jobs import JobRecord, JobStore
from lib.literal import literal, literal_lines
from lib.model_info import describe_model
from lib.records import CurrentModel, TableData
from lib.schema import CLASSIFICATION
from pages import _state, _ui

log = logging.getLogger("model_studio")
WORKSPACE_PARAM = "ws"
JOBS_DIR_VARIABLE = "MODEL_STUDIO_JOBS_DIR"
KEEP_JOBS = 10  # finished jobs kept per workspace, with their inputs and results
SIDEBAR_JOBS = 4
POLL_S = 1.0
_REPO = Path(__file__).resolve().parents[1]


@st.cache_resource(show_spinner=False)
def _interrupt_unfinished(root: str) -> int:
    """Once per jobs folder and server: a server starting finds no process for a job left
    unfinished by the previous one, so those are marked interrupted, never silently gone."""
    return len(JobStore(root).interrupt_unfinished())


@st.cache_resource(show_spinner=False)
def _executor(root: str) -> Any:
    _interrupt_unfinished(root)
    return jobs.executor_for(JobStore(root))


def executor() -> Any:
    """The server's job executor: a Dask cluster's when ``MODEL_STUDIO_DASK_SCHEDULER`` is set
    and it answers, else this server's processes. Jobs live in ``MODEL_STUDIO_JOBS_DIR``
    (default jobs/ in the checkout). A cluster that stopped answering is asked again (and
    this server used meanwhile)."""
    root = os.environ.get(JOBS_DIR_VARIABLE) or str(_REPO / "jobs")
    current = _executor(root)
    if not getattr(current, "answering", lambda: True)():
        _executor.clear()
        current = _executor(root)
    return current


def store() -> JobStore:
    return executor().store


# --- the workspace --------------------------------------------------------------------------


def workspace() -> str:
    """This session's workspace id, kept in the URL so that a reload finds its jobs.

    A session without one takes the URL's (when it is a valid id) or makes a new one, and
    then takes in what that workspace's finished jobs made. Switching pages clears the query
    string, so it is written back on every run.
    """
    current = st.session_state.get(_state.WORKSPACE)
    if current is None:
        asked = st.query_params.get(WORKSPACE_PARAM, "")
        current = asked if jobs.valid_id(asked) else jobs.new_id()
        st.session_state[_state.WORKSPACE] = current
        _restore(current)
    if st.query_params.get(WORKSPACE_PARAM) != current:
        st.query_params[WORKSPACE_PARAM] = current
    return current


def _restore(workspace_id: str) -> None:
    """A new session on an existing workspace: the newest job's table becomes current, the
    newest finished model, leaderboard and search too."""
    records = store().jobs(workspace_id)
    _seen().update(r.id for r in records if r.finished_or_stopped)
    for record in records:
        if _take_table(record):
            break
    done = [r for r in records if r.status == jobs.DONE]
    for kinds in (("train", "tune"), ("compare",)):
        newest = next((r for r in done if r.kind in kinds), None)
        if newest is not None:
            _take_in(newest)


# --- starting jobs ----------------------------------------------------------------------------


def start(kind: str, title: str, params: dict[str, Any], table: TableData, *,
          anyway: bool = False) -> None:  # fmt: skip
    """Start a job of ``kind`` on ``table`` (``params``: plain JSON values). When its memory
    estimate does not fit in what is free here, it waits for the person to say "Start
    anyway" (``pending_prompt``), unless ``anyway``."""
    advice = None if anyway else _memory_advice(kind, params, table)
    if advice is not None:
        st.session_state[_state.PENDING_JOB] = (kind, title, params, table.sha, advice)
        return
    st.session_state.pop(_state.PENDING_JOB, None)
    workspace_id = workspace()
    about = {"name": table.name, "sha": table.sha, "suggested_target": table.suggested_target}
    record = store().create(workspace_id, kind, title, params | {"table": about})
    executor().submit(record, table.df, table.profiles)
    store().prune(workspace_id, keep=KEEP_JOBS)


def pending_prompt(table: TableData) -> None:
    """The job held back by its memory estimate, with "Start anyway" and "Don't start"."""
    pending = st.session_state.get(_state.PENDING_JOB)
    if pending is None or pending[3] != table.sha:
        return
    kind, title, params, _, advice = pending
    st.warning(
        f"**{literal(title)}** was not started. {literal_lines(advice)}", icon=":material/memory:"
    )
    go, drop, _ = st.columns([1, 1, 4])
    if go.button("Start anyway", key=_state.START_ANYWAY):
        start(kind, title, params, table, anyway=True)
        st.rerun()
    if drop.button("Don't start", key=_state.DONT_START):
        st.session_state.pop(_state.PENDING_JOB, None)
        st.rerun()


def _memory_advice(kind: str, params: dict[str, Any], table: TableData) -> str | None:
    """What to say when the job's estimated memory does not fit here (None when it does, or
    when jobs run on a cluster, whose workers have their own memory)."""
    if not isinstance(executor(), jobs.LocalExecutor):
        return None
    task, target = params["task"], params["target"]
    keys = ([spec.key for spec in catalog.models_for(task)] if kind == "compare"
            else [params["model"]])  # fmt: skip
    classes = int(table.df[target].nunique()) if task == CLASSIFICATION else 1
    return budget.job_advice(
        len(table.df), budget.table_shape(table.profiles, params["features"]), task, keys,
        kind=kind, n_jobs=parallel.n_jobs(), n_classes=classes,
        params=params["options"].get("params"),
    )  # fmt: skip


def cancel(record: JobRecord) -> None:
    executor().cancel(record)


# --- taking in finished jobs --------------------------------------------------------------------


def take_in_finished(records: list[JobRecord] | None = None) -> bool:
    """Take in every job finished since this session last looked (oldest first, so the
    newest model wins): a train or tune job's model becomes current, a compare job's
    leaderboard is kept for the Train page. Failures are shown by the job lists. True when
    there was any."""
    records = store().jobs(workspace()) if records is None else records
    fresh = [r for r in records if r.finished_or_stopped and r.id not in _seen()]
    for record in reversed(fresh):
        _seen().add(record.id)
        if record.status == jobs.DONE:
            _take_in(record)
    return bool(fresh)


def _seen() -> set[str]:
    return st.session_state.setdefault(_state.SEEN_JOBS, set())


def _take_in(record: JobRecord) -> None:
    """Take in what a done job made; one whose files cannot be read is marked failed."""
    try:
        _take_in_results(record)
    except (OSError, ValueError, KeyError, UserError) as error:
        log.warning("Job %s's results could not be read: %r", record.id, error)
        store().write(record.with_(status=jobs.FAILED, error=(
            "The job finished, but its results could not be read back (its files are "
            "damaged or gone). Start it again."
        )))  # fmt: skip


def _take_in_results(record: JobRecord) -> None:
    if record.kind == "compare":
        board = jobs.leaderboard(store(), record)
        st.session_state[_state.LEADERBOARD] = (record.params["signature"], board)
        return
    result = jobs.training_result(store(), record)
    current = CurrentModel(
        model=result.pipeline, info=describe_model(result.pipeline),
        source=f"trained here on {record.params['table']['name']}",
        name=record.params.get("model_name", record.title), result=result,
    )  # fmt: skip
    _state.set_model(current)
    if record.kind == "tune":
        board, found = jobs.tuning_leaderboard(store(), record)
        st.session_state[_state.TUNING] = (current.id, board, found)


def _take_table(record: JobRecord) -> bool:
    """Make the job's input table the current one (unless it already is); False when its
    files are gone."""
    about = record.params.get("table", {})
    current = _state.get_table()
    if current is not None and current.sha == about.get("sha"):
        return True
    found = jobs.job_table(store(), record)
    if found is None:
        return False
    frame, profiles = found
    _state.set_table(TableData(about.get("name", "table"), frame, about.get("sha", ""), profiles,
                               about.get("suggested_target")))  # fmt: skip
    return True


# --- showing jobs -----------------------------------------------------------------------------


def job_list(*, limit: int, key: str, attention_only: bool = False) -> None:
    """The workspace's newest ``limit`` jobs with progress and Cancel (when
    ``attention_only``: the unfinished ones, and the newest when it failed), redrawn every
    second while one is unfinished; when one finishes, the whole app reruns to take in its
    result."""
    unfinished = any(not r.finished_or_stopped for r in store().jobs(workspace()))
    panel: Callable[..., None] = st.fragment(_job_list, run_every=POLL_S if unfinished else None)
    panel(limit=limit, key=key, attention_only=attention_only, was_unfinished=unfinished)


def _job_list(*, limit: int, key: str, attention_only: bool, was_unfinished: bool) -> None:
    # A fragment rerun runs this alone, outside the page's guard.
    with _ui.guard("showing your jobs"):
        _draw_jobs(limit=limit, key=key, attention_only=attention_only,
                   was_unfinished=was_unfinished)  # fmt: skip


def _draw_jobs(*, limit: int, key: str, attention_only: bool, was_unfinished: bool) -> None:
    records = store().jobs(workspace())
    if take_in_finished(records):
        st.rerun(scope="app")  # redraw every part with what it made
    if was_unfinished and all(r.finished_or_stopped for r in records):
        st.rerun(scope="app")  # stop polling
    shown = records[:limit]
    if attention_only:
        shown = [r for i, r in enumerate(shown) if not r.finished_or_stopped
                 or (i == 0 and r.status in (jobs.FAILED, jobs.INTERRUPTED))]  # fmt: skip
    if not attention_only:
        place = executor()
        st.caption(f"Run on {place.describe()}.")
        if getattr(place, "note", ""):
            st.caption(f":orange[{place.note}]")
    if not shown and not attention_only:
        st.caption("No jobs yet. Training, comparing and tuning run here, whichever page is open.")
    for record in shown:
        _draw(record, key)


def _draw(record: JobRecord, key: str) -> None:
    now = time.time()
    title = literal(record.title)  # job records are read back from disk: plain text
    with st.container(border=True):
        if record.status in (jobs.QUEUED, jobs.RUNNING):
            st.markdown(f"**{title}**")
            st.progress(record.fraction, text=literal(record.step))
            left = record.seconds_left(now)
            timing = "waiting for a free worker" if record.status == jobs.QUEUED else (
                f"{duration(record.elapsed(now))} so far"
                + (f", about {duration(left)} left" if left is not None else "")
            )  # fmt: skip
            st.caption(timing)
            st.button("Cancel", key=f"{key}::cancel::{record.id}", on_click=cancel,
                      args=(record,), icon=":material/cancel:")  # fmt: skip
        elif record.status == jobs.DONE:
            st.markdown(f"**{title}**  \n:green[Done] in {duration(record.elapsed(now))}")
        elif record.status == jobs.CANCELLED:
            st.markdown(f"**{title}**  \n:grey[Cancelled]")
        else:
            label = "Interrupted" if record.status == jobs.INTERRUPTED else "Failed"
            st.markdown(f"**{title}**  \n:red[{label}]")
            st.caption(literal_lines(record.error))
