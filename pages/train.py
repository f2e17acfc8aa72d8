"""Train: pick a table, choose what to predict and how, train a model, see how good it is."""

import streamlit as st

from lib import catalog
from lib.data import TABLE_EXTENSIONS
from lib.display import default_target, leaderboard_frame, metric_label
from lib.literal import literal
from lib.profile import profile_table, profiles_frame
from lib.records import TableData, sha256
from lib.samples import SAMPLES
from lib.schema import CLASSIFICATION, TASKS
from pages import _jobs, _state, _ui
from pages._train_decision import decision_widgets
from pages._train_params import param_widget
from pages._train_result import show_result, show_search

_ui.require_app_frame(__file__)

PREVIEW_ROWS = 100
UPLOAD, SAMPLE = "Upload a file", "Use a sample"


def start_training(table: TableData, setup: dict, model_key: str, params: dict) -> None:
    """Start a job training ``model_key``; when it is done its model becomes the current one."""
    label = catalog.get_model(setup["task"], model_key).label
    options = _options(table, setup) | {"params": params}
    _jobs.start("train", f"Train {label}", _job_params(table, setup, model_key, options), table)


def start_tuning(table: TableData, setup: dict, model_key: str) -> None:
    """Start a job searching ``model_key``'s settings; the best ones train the final model."""
    label = catalog.get_model(setup["task"], model_key).label
    params = _job_params(table, setup, model_key, _options(table, setup))
    _jobs.start("tune", f"Tune {label}", params, table)


def start_comparing(table: TableData, setup: dict, signature: list) -> None:
    options = {"cv_folds": setup["cv_folds"] or 5, "random_state": setup["seed"]}
    params = _job_params(table, setup, "", options) | {"signature": signature}
    _jobs.start("compare", "Compare models", params, table)


def _options(table: TableData, setup: dict) -> dict:
    """``lib.training.Options`` as plain values (a job's parameters are JSON)."""
    return {"test_size": setup["test_size"], "cv_folds": setup["cv_folds"],
            "random_state": setup["seed"], "source_name": table.name,
            "decision": setup["decision"]}  # fmt: skip


def _job_params(table: TableData, setup: dict, model_key: str, options: dict) -> dict:
    stem = table.name.rsplit(".", 1)[0].removeprefix("sample: ")
    return {
        "target": setup["target"], "task": setup["task"], "features": setup["features"],
        "model": model_key, "options": options,
        "model_name": f"{stem} {model_key}".replace("_", " "),
        "budget_s": setup["budget_s"],
        # A fit cannot be stopped midway: the job is stopped well past its budget.
        "time_limit_s": 2 * setup["budget_s"] + 120,
    }  # fmt: skip


# --- the page ---------------------------------------------------------------------------------

st.title("Train a model")
st.caption("Pick a table, choose the column to predict, and train. No code needed.")

st.header("1 · Data")
source = st.radio(
    "Where is your table?",
    [UPLOAD, SAMPLE],
    horizontal=True,
    key=_state.TRAIN_SOURCE,
    persist_state="session",
)
if source == UPLOAD:
    uploaded = st.file_uploader(
        "Table file",
        type=list(TABLE_EXTENSIONS),
        key=_state.TRAIN_UPLOAD,
        help="CSV, TSV, TXT, Excel (.xlsx), Parquet, JSON or JSON lines. One header row.",
    )
    if uploaded is not None:
        with (
            _ui.guard("reading the table") as outcome,
            st.spinner(f"Reading {literal(uploaded.name)} in its own process…"),
        ):
            _ui.set_table(_state.uploaded_table(uploaded, _state.TRAIN_UPLOAD_SLOT, min_columns=2))
        if not outcome.ok:
            st.stop()
else:
    sample_key = st.selectbox(
        "Sample table",
        list(SAMPLES),
        format_func=lambda key: SAMPLES[key].title,
        key=_state.TRAIN_SAMPLE,
        persist_state="session",
    )
    sample = SAMPLES[sample_key]
    st.caption(sample.description)
    current_table = _state.get_table()
    if current_table is None or current_table.sha != sha256(f"sample:{sample_key}".encode()):
        with _ui.guard("loading the sample"):
            df = sample.load()
            _ui.set_table(
                TableData(
                    name=f"sample: {sample.title}",
                    df=df,
                    sha=sha256(f"sample:{sample_key}".encode()),
                    profiles=profile_table(df),
                    suggested_target=sample.target,
                )
            )

table = _state.get_table()
if table is None:
    st.info("Upload a table above, or pick one of the samples to try the app.")
    st.stop()

df = table.df
st.markdown(f"Using **{literal(table.name)}**: {len(df):,} rows × {df.shape[1]} columns.")
preview_tab, profile_tab = st.tabs(["Preview", "Column profile"])
with preview_tab:
    st.dataframe(df.head(PREVIEW_ROWS), height=210)
    if len(df) > PREVIEW_ROWS:
        st.caption(f"The first {PREVIEW_ROWS} of {len(df):,} rows.")
with profile_tab:
    profile = profiles_frame(table.profiles)
    st.dataframe(profile, hide_index=True, height=min(38 + 35 * len(profile), 420))

columns = list(df.columns)
ident = table.sha[:12]
predict_col, model_col = st.columns(2, gap="large")
with predict_col:
    st.header("2 · What to predict")
    target_col, task_col = st.columns(2)
    with target_col:
        target = st.selectbox(
            "Target column",
            columns,
            index=columns.index(default_target(columns, table.suggested_target)),
            key=f"target::{ident}",
            persist_state="session",
            help="The column the model learns to predict.",
        )
    with task_col:
        detected = catalog.infer_task(df[target])
        task = st.radio(
            "Task",
            TASKS,
            index=TASKS.index(detected),
            horizontal=True,
            key=f"task::{ident}::{target}",
            persist_state="session",
            help=f"Detected from '{literal(target)}': {detected}. Classification predicts a label; "
            "regression predicts a number.",
        )
    usable = [p.name for p in table.profiles if p.usable and p.name != target]
    left_out = {p.name: p.reason for p in table.profiles if not p.usable and p.name != target}
    features = st.multiselect(
        "Feature columns",
        usable,
        default=usable,
        key=f"features::{ident}::{target}",
        persist_state="session",
        help="The columns the model learns from. Untick any not known at prediction time.",
    )
    if left_out:
        st.caption(
            "Left out: "
            + "; ".join(
                f"**{literal(name)}** ({literal(reason)})" for name, reason in left_out.items()
            )
        )
with model_col:
    st.header("3 · Model")
    specs = {spec.key: spec for spec in catalog.models_for(task)}
    keys = list(specs)
    model_key = st.selectbox(
        "Model",
        keys,
        index=keys.index(catalog.DEFAULT_MODEL),
        format_func=lambda key: specs[key].label,
        key=_state.chosen_model_key(task),
        persist_state="session",
    )
    st.caption(specs[model_key].description)
    with st.expander("Hyperparameters", expanded=False):
        if not specs[model_key].params:
            st.caption("This model has no settings to tune.")
        params = {
            p.name: param_widget(p, key=f"param::{task}::{model_key}::{p.name}")
            for p in specs[model_key].params
        }
    with st.expander("Validation", expanded=False):
        test_size = st.slider(
            "Test share",
            0.0,
            0.5,
            0.2,
            0.05,
            key="test_size",
            persist_state="session",
            help="Rows held out to score the model on data it never saw. 0 skips it.",
        )
        cv_folds = st.number_input(
            "Cross-validation folds",
            0,
            20,
            5,
            key="cv_folds",
            persist_state="session",
            help="How many times to re-train on part of the rest and score on the other part. "
            "0 skips it.",
        )
        seed = st.number_input(
            "Random seed",
            0,
            2**31 - 1,
            0,
            key="seed",
            persist_state="session",
            help="The same seed gives the same split and the same model.",
        )
    # Binary classification only: a threshold tuned to costs or a minimum precision/recall.
    decision = (
        decision_widgets(df[target], key=f"{ident}::{target}") if task == CLASSIFICATION else None
    )
    budget_minutes = st.number_input(
        "Time budget (minutes)",
        0.5,
        24 * 60.0,
        10.0,
        0.5,
        key=_state.TIME_BUDGET,
        persist_state="session",
        help="Tuning searches until it is spent. Training and comparing start no new fold or "
        "model once it is spent, and keep what finished.",
    )
setup = {
    "target": target,
    "task": task,
    "features": features,
    "test_size": test_size,
    "cv_folds": int(cv_folds),
    "seed": int(seed),
    "budget_s": float(budget_minutes) * 60,
    "decision": decision,
}
signature = [table.sha, target, task, list(features), int(cv_folds), int(seed)]

train_col, compare_col, tune_col, _ = st.columns([1, 1, 1.3, 2.7])
if train_col.button("Train model", type="primary", key=_state.TRAIN_BUTTON):
    with _ui.guard("starting the training"):
        start_training(table, setup, model_key, params)
        st.rerun()
if compare_col.button(
    "Compare models",
    key=_state.COMPARE_BUTTON,
    help="Cross-validate every model with default settings.",
):
    with _ui.guard("starting the comparison"):
        start_comparing(table, setup, signature)
        st.rerun()
if tune_col.button(
    "Tune hyperparameters",
    key=_state.TUNE_BUTTON,
    disabled=not specs[model_key].params,
    help="Search this model's settings within the time budget (successive halving); the best "
    "settings then train the final model, scored on rows the search never saw.",
):
    with _ui.guard("starting the search"):
        start_tuning(table, setup, model_key)
        st.rerun()
st.caption(
    "Jobs run on their own, outside this page: switch pages or reload, and follow them in "
    "the sidebar."
)
_jobs.pending_prompt(table)
_jobs.job_list(limit=3, key="train", attention_only=True)

saved_board = st.session_state.get(_state.LEADERBOARD)
if saved_board is not None and saved_board[0] == signature:
    board = saved_board[1]
    primary = board.attrs.get("primary", "")
    st.subheader("Leaderboard")
    sampled = board.attrs.get("sampled")
    note = f" on a random sample of {sampled:,} rows" if sampled else ""
    st.caption(
        f"Ranked by {metric_label(primary)} cross-validated on all rows{note}, default "
        "settings. Training a model then scores it on held-out rows, so its figures differ a "
        "little from these."
    )
    st.dataframe(leaderboard_frame(board), hide_index=True)
    best_key, best_name = board.iloc[0]["model"], board.iloc[0]["name"]
    if st.button(
        f"Train the best model ({best_name})",
        key=_state.TRAIN_BEST,
        # Before the rerun draws it, the Model select switches to the model being trained.
        on_click=lambda: st.session_state.update({_state.chosen_model_key(task): best_key}),
    ):
        with _ui.guard("starting the training"):
            start_training(table, setup, best_key, {})
            st.rerun()

current = _state.get_model()
if current is not None and current.result is not None:
    st.header("Results")
    show_result(current.result)
    tuning = st.session_state.get(_state.TUNING)
    if tuning is not None and tuning[0] == current.id:
        show_search(*tuning[1:])
