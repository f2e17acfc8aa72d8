"""Predict & plot: predictions for uploaded or typed-in rows, then an exploration of them.

Everything derived from the (model, rows) pair comes from one ``lib.exploration.Exploration``
kept in the session: each result is computed the first time something asks for it, and only
the open tab draws, so a rerun costs little even on 300,000 rows.
"""

import streamlit as st

from lib.conformal import DEFAULT_LEVEL
from lib.data import TABLE_EXTENSIONS
from lib.display import (
    file_stem,
    format_metric,
    level_label,
    metric_label,
    predictions_csv,
    spreadsheet_csv,
    with_flag_column,
)
from lib.exploration import Exploration
from lib.literal import literal, literal_lines
from lib.records import TableData, sha256
from lib.rows import one_row_frame, unused_columns
from pages import _state, _ui
from pages._explore_data import FLAG_COLUMN, distribution, drift
from pages._explore_drivers import drivers, what_if
from pages._explore_performance import MAX_SHOWN_ROWS, interval_level_key, performance
from pages._explore_slices import slices
from pages._inputs import feature_inputs
from pages._model_view import NO_MODEL, model_caption

_ui.require_app_frame(__file__)

UPLOAD, ONE_ROW = "Upload rows", "Type one row"
NO_ACTUALS = "(none: only predict)"
PERFORMANCE, SLICES, DRIVERS, WHAT_IF, DRIFT, DISTRIBUTION = (
    "Performance", "Slices", "Drivers", "What-if", "Drift", "Distribution"
)  # fmt: skip
TAB_VIEWS = {
    PERFORMANCE: ("plotting how the model did", performance),
    SLICES: ("slicing the rows", slices),
    DRIVERS: ("explaining the predictions", drivers),
    WHAT_IF: ("predicting changed rows", what_if),
    DRIFT: ("comparing the rows with the training data", drift),
    DISTRIBUTION: ("plotting the predictions", distribution),
}


def uploaded_rows() -> TableData | None:
    uploaded = st.file_uploader(
        "Rows file",
        type=list(TABLE_EXTENSIONS),
        key=_state.PREDICT_UPLOAD,
        help="A table with the columns the model expects. Extra columns are kept in the output; "
        "include the target column to see how well the model does on these rows.",
    )
    if uploaded is not None:
        with (
            _ui.guard("reading the rows") as outcome,
            st.spinner(f"Reading {literal(uploaded.name)} in its own process…"),
        ):
            _state.uploaded_table(uploaded, _state.PREDICT_UPLOAD_SLOT, profile=False)
        if not outcome.ok:
            st.stop()
    rows = st.session_state.get(_state.PREDICT_UPLOAD_SLOT)
    if rows is not None and uploaded is None:
        st.caption(f"Using the rows uploaded earlier: **{literal(rows.name)}**.")
    return rows


def typed_row() -> TableData | None:
    features = current.info.features or []
    if not features:
        st.warning(
            "This model does not say which columns it expects, so a form cannot be built."
            " Upload rows instead."
        )
        return None
    with st.form("one_row_form"):
        st.caption("Numbers start at the training median; hover the ? for the training range.")
        values = feature_inputs(features, f"row::{current.id}")
        submitted = st.form_submit_button("Predict this row", type="primary")
    if submitted:
        frame = one_row_frame(values, current.info.kinds())
        digest = sha256(repr(sorted(values.items(), key=str)).encode())
        st.session_state[_state.TYPED_ROW_SLOT] = TableData("typed row", frame, digest)
    return st.session_state.get(_state.TYPED_ROW_SLOT)


def actuals_column() -> str | None:
    """The target column: the model's own, or one the person names for a model saved elsewhere
    (its file does not say what it predicts)."""
    info = current.info
    candidates = unused_columns(rows.df, info)
    if info.target is not None or not info.task or not candidates:
        return info.target
    picked = st.selectbox(
        "Column with the actual values",
        [NO_ACTUALS, *candidates],
        key=_state.ACTUALS_COLUMN,
        help="This model's file does not say which column it predicts. Pick the column that "
        "holds the true values to see how well the model does on these rows.",
    )
    return None if picked == NO_ACTUALS else picked


def interval_level(ex: Exploration) -> float | None:
    """The level of the prediction intervals (or sets) to add; None when the model has none."""
    calibration = ex.calibration
    if calibration is None:
        st.caption(literal_lines(ex.why_no_intervals))
        return None
    levels = calibration.available
    default = min(range(len(levels)), key=lambda i: abs(levels[i] - DEFAULT_LEVEL))
    if ex.task == "classification":
        label = "Prediction set level"
        help_text = (
            "Each row gets the set of classes that holds its true class this often. "
            "Calibrated by conformal prediction on rows the model had not seen in training "
            "(cross-validation folds and the held-out rows), per predicted class. An empty set "
            "means no class is probable enough at this level: the model is less sure of the "
            "row than usual."
        )
    else:
        label = "Prediction interval level"
        help_text = (
            "Each row gets a range that holds its true value this often. Calibrated by "
            "conformal prediction on the errors the model made on rows it had not seen in "
            "training (cross-validation folds and the held-out rows), wider where its "
            "predictions erred more. The model was then refitted on every row, so the ranges "
            "tend to be a little wide."
        )
    return st.selectbox(
        label, levels, index=default, format_func=level_label, key=interval_level_key(ex),
        help=help_text,
    )  # fmt: skip


def predictions_table(ex: Exploration) -> None:
    level = interval_level(ex)
    result = ex.predictions_at(level)
    frame = result.frame
    report = None
    with _ui.guard("comparing the rows with the training data"):
        report = ex.drift
    view = frame
    if (
        report is not None
        and report.n_flagged_rows
        and st.toggle(
            f"Only the {report.n_flagged_rows:,} row(s) with unusual inputs",
            key=_state.ONLY_UNUSUAL,
            help="Rows with a value outside the training range or a category never seen in "
            "training. The Drift tab below says which columns.",
        )
    ):
        view = frame[report.row_flags.to_numpy() > 0]
    shown = view.head(MAX_SHOWN_ROWS)
    # The prediction and its interval (or set) stay in view at the left, beside each other.
    pinned = [result.prediction_column, *result.interval_columns]
    column_config = {name: st.column_config.Column(pinned=True) for name in pinned} | {
        name: st.column_config.NumberColumn(format="%.3f") for name in result.probability_columns
    }
    if report is not None:
        shown = with_flag_column(shown, report.row_flags, FLAG_COLUMN)
        column_config[FLAG_COLUMN] = st.column_config.NumberColumn(
            help="How many of the row's values lie outside the training range or are "
            "categories never seen in training (see the Drift tab)."
        )
    st.dataframe(shown, height=min(400, 38 + 35 * len(shown)), column_config=column_config)
    if len(view) > MAX_SHOWN_ROWS:
        st.caption(
            f"The first {MAX_SHOWN_ROWS:,} of {len(view):,} rows; the download has them all."
        )
    stem = file_stem(ex.rows.name.rsplit(".", 1)[0])
    spreadsheet, raw, _ = st.columns([1, 1, 2])
    spreadsheet.download_button(
        "Download predictions (CSV)",
        data=lambda frame=frame: spreadsheet_csv(frame),
        file_name=f"{stem}_predictions.csv",
        mime="text/csv",
        on_click="ignore",
        type="primary",
        key=_state.DOWNLOAD_PREDICTIONS,
        help="For a spreadsheet: a text value or column name that a spreadsheet would run as "
        "a formula (starting with =, +, -, @, a tab or a carriage return) starts with ' here, "
        "so it shows as text. Numbers are unchanged.",
    )
    raw.download_button(
        "Download raw CSV (for code)",
        data=lambda frame=frame: predictions_csv(frame),
        file_name=f"{stem}_predictions_raw.csv",
        mime="text/csv",
        on_click="ignore",
        key=_state.DOWNLOAD_PREDICTIONS_RAW,
        help="Every value exactly as predicted, for pandas or R (pd.read_csv). Do not open it "
        "in a spreadsheet if the rows came from someone you do not trust.",
    )


def scores(ex: Exploration) -> None:
    labelled = ex.labelled
    if labelled is not None and labelled.unknown_labels:
        known = ", ".join(literal(repr(c)) for c in (ex.info.classes or [])[:10])
        unknown = ", ".join(literal(repr(v)) for v in labelled.unknown_labels)
        st.warning(
            f"Some values in '{literal(ex.target)}' are not classes the model knows: "
            f"{unknown} (it knows {known}). Those "
            "rows are left out of the scores below; check their spelling and case.",
            icon=":material/warning:",
        )
    if not ex.has_labels:
        return
    assert labelled is not None
    if ex.are_training_rows:
        st.warning(
            "These are the rows the model was trained on, so the figures below flatter it. Its "
            "honest figures are the ones on held-out rows (Train page, or the model's details).",
            icon=":material/warning:",
        )
    with _ui.guard("scoring the predictions") as outcome:
        figures = ex.scores
    if outcome.ok and figures:
        st.subheader(
            f"How it did on these rows ({len(labelled):,} with a known {literal(ex.target)})"
        )
        shown = list(figures.items())[:5]
        for column, (name, value) in zip(st.columns(len(shown)), shown, strict=True):
            column.metric(metric_label(name), format_metric(value, name))


def explore(ex: Exploration) -> None:
    st.header("Explore")
    if not ex.has_labels:
        st.caption(
            f"Include the '{literal(ex.target or 'target')}' column in the rows to see how well "
            "the model does on them (the Performance and Slices tabs) and to rank the columns by "
            "shuffling them."
        )
    labelled = [PERFORMANCE, SLICES] if ex.has_labels else []
    labels = [*labelled, DRIVERS, WHAT_IF, DRIFT, DISTRIBUTION]
    tabs = st.tabs(labels, key=_state.EXPLORE_TAB, on_change="rerun")
    # Only the open tab runs: switching tabs reruns the page, which reuses everything computed.
    for label, tab in zip(labels, tabs, strict=True):
        if tab.open:
            action, view = TAB_VIEWS[label]
            with tab, _ui.guard(action):
                view(ex)


# --- the page ---------------------------------------------------------------------------------

st.title("Predict & plot")
current = _state.get_model()
if current is None:
    _ui.info(NO_MODEL)
    st.stop()
st.markdown(f"**{literal(current.name)}** — {model_caption(current)}")
st.caption(literal_lines(current.info.expectation))

mode = st.radio("Rows to predict", [UPLOAD, ONE_ROW], horizontal=True,
                key=_state.PREDICT_MODE, persist_state="session")  # fmt: skip
rows = uploaded_rows() if mode == UPLOAD else typed_row()
if rows is None:
    _ui.info("Upload a table of rows, or type one row, to see predictions.")
    st.stop()

ex = _state.exploration(current, rows, actuals_column())
with _ui.guard("predicting") as outcome:
    notices = ex.predictions.notices
if not outcome.ok:
    st.stop()
for notice in notices:
    _ui.info(literal_lines(notice))
st.header("Predictions")
with _ui.guard("showing the predictions"):
    predictions_table(ex)
with _ui.guard("scoring the predictions"):
    scores(ex)
explore(ex)
