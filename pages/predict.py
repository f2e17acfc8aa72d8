"""Predict & plot: predictions for uploaded or typed-in rows, with metrics and charts."""

import datetime

import streamlit as st

from lib import plots
from lib.data import TABLE_EXTENSIONS
from lib.metrics import score
from lib.model_info import Feature
from lib.predict import predict
from lib.session import (
    TableData,
    file_stem,
    format_metric,
    metric_label,
    one_row_frame,
    predictions_csv,
    sha256,
)
from pages import _ui

UPLOAD, ONE_ROW = "Upload rows", "Type one row"
ROWS_SLOT, ROW_SLOT, PREDICTIONS = "_predict_upload", "_predict_row", "_predictions"
MAX_SHOWN_ROWS = 10_000


def feature_input(feature: Feature, key: str):
    """One form widget for ``feature``, starting at a typical training value."""
    spec = feature.spec or {}
    if feature.kind == "categorical" and spec.get("categories"):
        values = [value for value, _ in spec["categories"]]
        return st.selectbox(feature.name, values, key=key, help="Most frequent first.")
    if feature.kind == "datetime":
        start = (spec.get("max") or "")[:10]
        value = datetime.date.fromisoformat(start) if start else datetime.date.today()
        return st.date_input(feature.name, value=value, key=key)
    if "median" in spec:
        seen = f"In training: {spec['min']:g} to {spec['max']:g}, median {spec['median']:g}."
        if spec.get("integer"):
            return st.number_input(
                feature.name, value=round(spec["median"]), step=1, key=key, help=seen
            )
        return st.number_input(
            feature.name, value=float(spec["median"]), format="%g", key=key, help=seen
        )
    return st.number_input(feature.name, value=0.0, format="%g", key=key)


def cached_predict(current, rows: TableData):
    """Predict once per (model, rows); reruns reuse the result."""
    key = (current.id, rows.sha)
    cached = st.session_state.get(PREDICTIONS)
    if cached is None or cached[0] != key:
        cached = (key, predict(current.model, rows.df, current.info))
        st.session_state[PREDICTIONS] = cached
    return cached[1]


st.title("Predict & plot")
current = _ui.get_model()
if current is None:
    st.info(_ui.NO_MODEL, icon=":material/info:")
    st.stop()
info = current.info
st.markdown(f"**{current.name}** — {_ui.model_caption(current)}")
st.caption(info.expectation)

mode = st.radio(
    "Rows to predict",
    [UPLOAD, ONE_ROW],
    horizontal=True,
    key="predict_mode",
    persist_state="session",
)
rows = None
if mode == UPLOAD:
    uploaded = st.file_uploader(
        "Rows file",
        type=list(TABLE_EXTENSIONS),
        key="predict_upload",
        help="A table with the columns the model expects. Extra columns are kept in the output; "
        "include the target column to see how well the model does on these rows.",
    )
    if uploaded is not None:
        with _ui.guard("reading the rows") as outcome:
            _ui.read_uploaded_table(uploaded, ROWS_SLOT, profile=False)
        if not outcome.ok:
            st.stop()
    rows = st.session_state.get(ROWS_SLOT)
    if rows is not None and uploaded is None:
        st.caption(f"Using the rows uploaded earlier: **{rows.name}**.")
else:
    features = info.features or []
    if not features:
        st.warning(
            "This model does not say which columns it expects, so a form cannot be built."
            " Upload rows instead."
        )
    else:
        with st.form("one_row_form"):
            st.caption("Numbers start at the training median; hover the ? for the training range.")
            values = {}
            grid = st.columns(3)
            for i, feature in enumerate(features):
                with grid[i % 3]:
                    values[feature.name] = feature_input(feature, key=f"row::{current.id}::{i}")
            submitted = st.form_submit_button("Predict this row", type="primary")
        if submitted:
            kinds = {feature.name: feature.kind for feature in features}
            frame = one_row_frame(values, kinds)
            digest = sha256(repr(sorted(values.items(), key=str)).encode())
            st.session_state[ROW_SLOT] = TableData("typed row", frame, digest, [])
        rows = st.session_state.get(ROW_SLOT)

if rows is None:
    st.info("Upload a table of rows, or type one row, to see predictions.", icon=":material/info:")
    st.stop()

with _ui.guard("predicting") as outcome:
    result = cached_predict(current, rows)
if not outcome.ok:
    st.stop()

for notice in result.notices:
    st.info(notice, icon=":material/info:")
st.header("Predictions")
frame = result.frame
shown = frame.head(MAX_SHOWN_ROWS)
st.dataframe(
    shown,
    height=min(400, 38 + 35 * len(shown)),
    column_config={result.prediction_column: st.column_config.Column(pinned=True)}
    | {name: st.column_config.NumberColumn(format="%.3f") for name in result.probability_columns},
)
if len(frame) > MAX_SHOWN_ROWS:
    st.caption(f"The first {MAX_SHOWN_ROWS:,} of {len(frame):,} rows; the download has them all.")
st.download_button(
    "Download predictions (CSV)",
    data=lambda frame=frame: predictions_csv(frame),
    file_name=f"{file_stem(rows.name.rsplit('.', 1)[0])}_predictions.csv",
    mime="text/csv",
    on_click="ignore",
    type="primary",
    key="download_predictions",
)

task = info.task or "regression"
predictions = frame[result.prediction_column]
has_actuals = bool(info.target) and info.target in rows.df.columns
if has_actuals:
    known = rows.df[info.target].notna().to_numpy()
    with _ui.guard("scoring the predictions") as outcome:
        proba = (
            frame.loc[known, result.probability_columns].to_numpy()
            if result.probability_columns
            else None
        )
        figures = score(
            task,
            rows.df[info.target][known].to_numpy(),
            predictions[known].to_numpy(),
            proba,
            info.classes if proba is not None else None,
        )
    if outcome.ok and figures:
        st.subheader(f"How it did on these rows ({int(known.sum()):,} with a known {info.target})")
        shown_metrics = list(figures.items())[:5]
        for column, (name, value) in zip(
            st.columns(len(shown_metrics)), shown_metrics, strict=True
        ):
            column.metric(metric_label(name), format_metric(value))

st.header("Plots")
left, right = st.columns(2)
with left:
    st.plotly_chart(
        plots.prediction_distribution(
            predictions.to_numpy(), task=task, name=result.prediction_column
        ),
        key="pred_dist",
    )
with right:
    if has_actuals:
        actual = rows.df[info.target][known].to_numpy()
        if task == "classification":
            fig = plots.confusion_matrix(
                actual, predictions[known].to_numpy(), labels=info.classes, target=info.target
            )
        else:
            fig = plots.predicted_vs_actual(
                actual, predictions[known].to_numpy(), target=info.target
            )
        st.plotly_chart(fig, key="pred_vs_actual")
    else:
        st.caption(
            f"Include the '{info.target or 'target'}' column in the rows to compare the "
            "predictions with the actual values."
        )
