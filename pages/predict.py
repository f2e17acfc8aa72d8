"""Predict & plot: predictions for uploaded or typed-in rows, then an exploration of them.

Everything derived from one (model, rows) pair (scores, drift, importance, partial dependence,
the figures) is computed once and kept in ``st.session_state`` (``lib.session.Derived``), and
the exploration tabs run only while open, so a rerun costs little even on 300,000 rows.
Controls that change one chart live in ``st.fragment``s and rerun only that chart.
"""

import dataclasses
import datetime
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from lib import plots
from lib.data import TABLE_EXTENSIONS
from lib.drift import DriftReport, drift_report
from lib.explain import feature_importance, partial_dependence_data
from lib.metrics import at_threshold, score
from lib.model_info import Feature
from lib.predict import PredictionResult, align, predict
from lib.session import (
    CurrentModel,
    Derived,
    TableData,
    actual_values,
    derived_for,
    drift_table,
    file_stem,
    format_metric,
    metric_label,
    one_row_frame,
    predictions_csv,
    row_values,
    rows_from_selection,
    sha256,
    top_input_feature,
    unused_columns,
    with_flag_column,
)
from lib.training import is_training_data
from pages import _ui

_ui.require_app_frame(__file__)

UPLOAD, ONE_ROW = "Upload rows", "Type one row"
NO_ACTUALS = "(none: only predict)"
ROWS_SLOT, ROW_SLOT, PREDICTIONS = "_predict_upload", "_predict_row", "_predictions"
DERIVED = "_explore"
MAX_SHOWN_ROWS = 10_000
PERFORMANCE, DRIVERS, WHAT_IF, DRIFT, DISTRIBUTION = (
    "Performance", "Drivers", "What-if", "Drift", "Distribution"
)  # fmt: skip
FLAG_COLUMN = "unusual inputs"
SELECTABLE = {"on_select": "rerun", "selection_mode": ("box", "lasso")}


@dataclass(frozen=True)
class Explore:
    """What the exploration tabs work from. The ``y_*``/``proba`` arrays hold the rows with a
    known target only (``row_ids``: their positions in ``result.frame``)."""

    current: CurrentModel
    rows: TableData
    result: PredictionResult
    derived: Derived
    tag: str  # short id of the (model, rows) pair, for widget keys
    task: str
    row_ids: np.ndarray | None = None
    y_true: np.ndarray | None = None
    y_pred: np.ndarray | None = None
    proba: np.ndarray | None = None

    @property
    def labelled(self) -> bool:
        return self.row_ids is not None and len(self.row_ids) > 0

    @property
    def info(self):
        return self.current.info

    def figure(self, key: tuple, build, /, *args, **kwargs):
        """``build(*args, **kwargs)``, once per ``key`` (a tuple of what the figure shows)."""
        return self.derived.get(("figure", *key), build, *args, **kwargs)


# --- model inputs -----------------------------------------------------------------------------


def feature_input(feature: Feature, key: str, value=None):
    """One form widget for ``feature``, starting at ``value`` or a typical training value."""
    spec = feature.spec or {}
    if feature.kind == "categorical" and spec.get("categories"):
        options = [category for category, _ in spec["categories"]]
        if value is not None and str(value) not in map(str, options):
            options = [value, *options]  # a value training never saw stays choosable
        index = [str(o) for o in options].index(str(value)) if value is not None else 0
        return st.selectbox(
            feature.name, options, index=index, key=key, help="Most frequent first."
        )
    if feature.kind == "datetime":
        if value is not None:
            start = pd.Timestamp(value).date()
        elif spec.get("max"):
            start = datetime.date.fromisoformat(spec["max"][:10])
        else:
            start = datetime.date.today()
        return st.date_input(feature.name, value=start, key=key)
    if isinstance(value, str):
        return st.text_input(feature.name, value=value, key=key)
    if "median" in spec:
        seen = f"In training: {spec['min']:g} to {spec['max']:g}, median {spec['median']:g}."
        start = spec["median"] if value is None else value
        if spec.get("integer") and float(start).is_integer():
            return st.number_input(feature.name, value=round(start), step=1, key=key, help=seen)
        return st.number_input(feature.name, value=float(start), format="%g", key=key, help=seen)
    start = 0.0 if value is None else float(value)
    return st.number_input(feature.name, value=start, format="%g", key=key)


def cached_predict(current, rows: TableData):
    """Predict once per (model, rows); reruns reuse the result."""
    key = (current.id, rows.sha)
    cached = st.session_state.get(PREDICTIONS)
    if cached is None or cached[0] != key:
        cached = (key, predict(current.model, rows.df, current.info))
        st.session_state[PREDICTIONS] = cached
    return cached[1]


def model_input(ex: Explore) -> pd.DataFrame:
    """The rows as the model sees them (its columns, in order, coerced), as a frame."""

    def build():
        X, _ = align(ex.rows.df, ex.info)
        if isinstance(X, np.ndarray):
            X = pd.DataFrame(X, columns=[f.name for f in ex.info.features], index=ex.rows.df.index)
        return X

    return ex.derived.get("X", build)


def importance(ex: Explore):
    """Permutation importance on the labelled rows, else the model's own (None: unknown)."""

    def build():
        X = model_input(ex)
        if ex.labelled:
            X = X.iloc[ex.row_ids]
            if not ex.info.named_features:
                X = X.to_numpy()
            return feature_importance(ex.current.model, X, ex.y_true, ex.task)
        return feature_importance(ex.current.model, X)

    return ex.derived.get("importance", build)


def input_names(ex: Explore) -> list[str]:
    return [f.name for f in ex.info.features or []]


def default_feature(ex: Explore) -> str | None:
    """The most important input column (the first one when importance is unknown)."""
    found = None
    with _ui.guard("ranking the features", show=False):
        found = importance(ex)
    ranked = found.table["feature"].tolist() if found is not None else []
    return top_input_feature(ranked, input_names(ex))


def feature_select(ex: Explore, label: str, key: str, names: list[str] | None = None) -> str | None:
    names = input_names(ex) if names is None else names
    if not names:
        return None
    top = default_feature(ex)
    return st.selectbox(
        label, names, index=names.index(top) if top in names else 0,
        key=f"{key}_{ex.tag}", persist_state="session",
    )  # fmt: skip


# --- Performance ------------------------------------------------------------------------------


@st.fragment
def selectable_fit_plots(ex: Explore) -> None:
    """Predicted vs actual and residuals; rows selected on either are listed below them.

    A selection reruns only this fragment: the figures come from the cache, nothing else runs.
    """
    with _ui.guard("plotting predicted against actual values"):
        fit_plots(ex)


def fit_plots(ex: Explore) -> None:
    target = ex.info.target
    left, right = st.columns(2)
    with left:
        fig = ex.figure(
            ("pred_vs_actual",), plots.predicted_vs_actual,
            ex.y_true, ex.y_pred, target=target, row_ids=ex.row_ids,
        )  # fmt: skip
        first = st.plotly_chart(fig, key=f"pred_vs_actual_{ex.tag}", **SELECTABLE)
    with right:
        fig = ex.figure(
            ("residuals",), plots.residuals_vs_predicted,
            ex.y_true, ex.y_pred, target=target, row_ids=ex.row_ids,
        )  # fmt: skip
        second = st.plotly_chart(fig, key=f"residuals_{ex.tag}", **SELECTABLE)
    n_rows = len(ex.result.frame)
    chosen = sorted(
        set(rows_from_selection(first.selection, n_rows))
        | set(rows_from_selection(second.selection, n_rows))
    )
    if not chosen:
        st.caption("Drag a box or a lasso over points on either plot to list those rows here.")
        return
    st.markdown(f"**{len(chosen):,} selected row(s)**")
    st.dataframe(
        ex.result.frame.iloc[chosen[:MAX_SHOWN_ROWS]], height=min(400, 38 + 35 * len(chosen))
    )
    if len(chosen) > MAX_SHOWN_ROWS:
        st.caption(f"The first {MAX_SHOWN_ROWS:,} of {len(chosen):,} selected rows.")


@st.fragment
def error_by_feature_plot(ex: Explore) -> None:
    feature = feature_select(ex, "Error by", "error_feature")
    if feature is None:
        return
    with _ui.guard("plotting the error by feature"):
        error_by_feature(ex, feature)


def error_by_feature(ex: Explore, feature: str) -> None:
    values = ex.rows.df[feature].iloc[ex.row_ids].reset_index(drop=True)
    errors = np.abs(ex.y_true - ex.y_pred)
    fig = ex.figure(("error_by", feature), plots.error_by_feature, values, errors, feature=feature)
    st.plotly_chart(fig, key=f"error_by_{ex.tag}")


def regression_performance(ex: Explore) -> None:
    selectable_fit_plots(ex)
    left, right = st.columns(2, vertical_alignment="bottom")  # the charts level, under a select
    with left:
        fig = ex.figure(("residual_dist",), plots.residual_distribution, ex.y_true, ex.y_pred)
        st.plotly_chart(fig, key=f"residual_dist_{ex.tag}")
    with right:
        error_by_feature_plot(ex)


@st.fragment
def confusion_plot(ex: Explore) -> None:
    shares = st.toggle(
        "Shares per actual class", key=f"confusion_shares_{ex.tag}", persist_state="session",
        help="Off: row counts. On: each actual class's rows split by predicted class.",
    )  # fmt: skip
    with _ui.guard("plotting the confusion matrix"):
        fig = ex.figure(
            ("confusion", shares), plots.confusion_matrix, ex.y_true, ex.y_pred,
            labels=ex.info.classes, target=ex.info.target, normalize=shares,
        )  # fmt: skip
        st.plotly_chart(fig, key=f"confusion_{ex.tag}")


@st.fragment
def threshold_panel(ex: Explore) -> None:
    """Binary models: precision, recall and F1 when a row counts as positive above a threshold."""
    positive = ex.info.classes[1]
    st.markdown(f"**Decision threshold for '{positive}'**")
    threshold = st.slider(
        f"Call a row '{positive}' when P({positive}) is at least", 0.0, 1.0, 0.5, 0.01,
        key=f"threshold_{ex.tag}", persist_state="session",
    )  # fmt: skip
    with _ui.guard("measuring the threshold"):
        threshold_figures(ex, positive, round(threshold, 2))


def threshold_figures(ex: Explore, positive, threshold: float) -> None:
    # Kept per threshold (the slider moves in steps of 0.01): going back to one is free.
    proba = ex.proba[:, 1]
    figures = ex.derived.get(("at_threshold", threshold), at_threshold, ex.y_true, proba,
                             positive, threshold)  # fmt: skip
    for column, name in zip(st.columns(3), ("precision", "recall", "f1"), strict=True):
        column.metric(name.capitalize() if name != "f1" else "F1", format_metric(figures[name]))
    st.caption(
        f"{figures['tp']:,} true and {figures['fp']:,} false positives; "
        f"{figures['fn']:,} missed, {figures['tn']:,} true negatives."
    )
    fig = ex.figure(("threshold", threshold), plots.threshold_curve, ex.y_true, proba,
                    pos_label=positive, threshold=threshold)  # fmt: skip
    st.plotly_chart(fig, key=f"threshold_curve_{ex.tag}")


def classification_performance(ex: Explore) -> None:
    classes = ex.info.classes
    left, right = st.columns(2, vertical_alignment="bottom")
    with left:
        confusion_plot(ex)
    if ex.proba is None:
        return
    with right:
        fig = ex.figure(("roc",), plots.roc_curves, ex.y_true, ex.proba, classes)
        st.plotly_chart(fig, key=f"roc_{ex.tag}")
    left, right = st.columns(2)
    with left:
        fig = ex.figure(("pr",), plots.precision_recall_curves, ex.y_true, ex.proba, classes)
        st.plotly_chart(fig, key=f"pr_{ex.tag}")
    with right:
        fig = ex.figure(("calibration",), plots.calibration, ex.y_true, ex.proba, classes)
        st.plotly_chart(fig, key=f"calibration_{ex.tag}")
    left, right = st.columns(2)
    with left:
        fig = ex.figure(("proba_dist",), plots.probability_distributions, ex.proba, classes)
        st.plotly_chart(fig, key=f"proba_dist_{ex.tag}")
    if len(classes) == 2:
        with right:
            threshold_panel(ex)


# --- Drivers ----------------------------------------------------------------------------------


@st.fragment
def partial_dependence_panel(ex: Explore) -> None:
    kinds = {f.name: f.kind for f in ex.info.features or []}
    # Partial dependence varies one column over a grid of values: numbers and categories.
    names = [name for name in input_names(ex) if kinds.get(name) != "datetime"]
    feature = feature_select(ex, "How the prediction moves with", "pdp_feature", names)
    if feature is None:
        st.info("The model does not say which columns it uses.", icon=":material/info:")
        return
    class_label = None
    classes = ex.info.classes
    if ex.task == "classification" and classes and len(classes) > 2:
        class_label = st.selectbox(
            "Probability of class", classes, key=f"pdp_class_{ex.tag}", persist_state="session"
        )
    elif ex.task == "classification" and classes:
        class_label = classes[-1]
    categorical = kinds.get(feature) == "categorical"
    with _ui.guard("computing the partial dependence"):
        data = ex.derived.get(
            ("pdp", feature, class_label), partial_dependence_data, ex.current.model,
            model_input(ex), feature, categorical=categorical, class_label=class_label,
        )  # fmt: skip
        target = ex.info.target or "target"
        fig = ex.figure(
            ("pdp", feature, class_label), plots.partial_dependence_plot, data, target=target
        )
        st.plotly_chart(fig, key=f"pdp_{ex.tag}")


def drivers(ex: Explore) -> None:
    left, right = st.columns(2)
    with left, _ui.guard("ranking the features"):
        found = importance(ex)
        if found is None:
            st.info(
                "This model has no importances of its own; include the target column in the "
                "rows to measure them by shuffling each column.",
                icon=":material/info:",
            )
        else:
            st.plotly_chart(
                ex.figure(("importance",), plots.importance_bars, found), key=f"importance_{ex.tag}"
            )
    with right:
        partial_dependence_panel(ex)


# --- What-if ----------------------------------------------------------------------------------


@st.fragment
def what_if(ex: Explore) -> None:
    """Change one row's values and see its prediction move; reruns only this part."""
    features = ex.info.features
    if not features:
        st.info(
            "The model does not say which columns it expects, so its inputs cannot be changed "
            "here.",
            icon=":material/info:",
        )
        return
    frame = ex.result.frame
    position = st.number_input(
        f"Row (1 to {len(frame):,})", min_value=1, max_value=len(frame), value=1, step=1,
        key=f"whatif_row_{ex.tag}", persist_state="session",
    )  # fmt: skip
    start = row_values(ex.rows.df.iloc[position - 1], features)
    original = frame[ex.result.prediction_column].iloc[position - 1]
    inputs, outcome_column = st.columns([2, 1])
    values = {}
    with inputs:
        st.caption("Change any value: the prediction on the right follows.")
        grid = st.columns(3)
        for i, feature in enumerate(features):
            with grid[i % 3]:
                key = f"whatif::{ex.tag}::{position}::{i}"
                values[feature.name] = feature_input(feature, key, start[feature.name])
    with outcome_column, _ui.guard("predicting the changed row"):
        kinds = {feature.name: feature.kind for feature in features}
        changed = predict(ex.current.model, one_row_frame(values, kinds), ex.info)
        show_what_if(ex, changed, original)


def show_what_if(ex: Explore, changed: PredictionResult, original) -> None:
    value = changed.frame[changed.prediction_column].iloc[0]
    label = changed.prediction_column
    if ex.task == "classification" or isinstance(value, str):
        moved = None if value == original else f"was {original}"
        st.metric(label, str(value), delta=moved, delta_color="off")
    else:
        delta = float(value) - float(original)
        st.metric(label, f"{float(value):.4g}", delta=f"{delta:+.4g} from {float(original):.4g}"
                  if delta else None, delta_color="off")  # fmt: skip
    if changed.probability_columns:
        shares = changed.frame[changed.probability_columns].iloc[0]
        st.bar_chart(
            pd.DataFrame({"class": ex.info.classes, "probability": shares.to_numpy()}),
            x="class", y="probability", horizontal=True, height=40 + 36 * len(shares),
        )  # fmt: skip


# --- Drift ------------------------------------------------------------------------------------


def schema_of(current: CurrentModel) -> list[dict]:
    return list((current.info.metadata or {}).get("features") or [])


@st.fragment
def drift_overlay_panel(ex: Explore, report: DriftReport) -> None:
    schema = {spec["name"]: spec for spec in schema_of(ex.current)}
    names = [name for name in report.columns["feature"] if name in schema]
    if not names:
        return
    flagged = report.columns.loc[report.columns["flagged"], "feature"].tolist()
    default = flagged[0] if flagged else names[0]
    name = st.selectbox(
        "Compare the distributions of", names, index=names.index(default),
        key=f"drift_column_{ex.tag}", persist_state="session",
    )  # fmt: skip
    with _ui.guard("comparing the distributions"):
        fig = ex.figure(("drift", name), plots.drift_overlay, schema[name], ex.rows.df[name])
        st.plotly_chart(fig, key=f"drift_{ex.tag}")


def drift(ex: Explore, report: DriftReport | None) -> None:
    if not schema_of(ex.current):
        st.info(
            "Drift is not available for this model: its file carries no profile of the rows it "
            "was trained on (models trained in Model Studio do), so there is nothing to compare "
            "these rows with.",
            icon=":material/info:",
        )
        return
    if report is None:
        return
    n_flagged = int(report.columns["flagged"].sum())
    n_rows = len(ex.result.frame)
    st.markdown(
        f"**{n_flagged} of {len(report.columns)} columns** differ from training; "
        f"**{report.n_flagged_rows:,} of {n_rows:,} rows** have at least one value outside the "
        "training range or a category never seen in training (the "
        f"'{FLAG_COLUMN}' column of the predictions table)."
    )
    table = drift_table(report.columns)
    st.dataframe(
        table,
        hide_index=True,
        height=min(400, 38 + 35 * len(table)),
        column_config={
            "missing in training": st.column_config.NumberColumn(format="percent"),
            "missing here": st.column_config.NumberColumn(format="percent"),
            "PSI": st.column_config.TextColumn(
                help="Population stability index (numeric columns with 100+ values): above "
                "0.2 reads as a shift.",
            ),
            "note": st.column_config.TextColumn(width="large"),
        },
    )
    drift_overlay_panel(ex, report)


# --- Distribution -----------------------------------------------------------------------------


def distribution(ex: Explore) -> None:
    result = ex.result
    left, right = st.columns(2)
    with left:
        predictions = result.frame[result.prediction_column].to_numpy()
        fig = ex.figure(
            ("pred_dist",), plots.prediction_distribution, predictions, task=ex.task,
            name=result.prediction_column,
        )  # fmt: skip
        st.plotly_chart(fig, key=f"pred_dist_{ex.tag}")
    if result.probability_columns and not ex.labelled:
        with right:
            proba = result.frame[result.probability_columns].to_numpy()
            fig = ex.figure(
                ("proba_dist_all",), plots.probability_distributions, proba, ex.info.classes
            )
            st.plotly_chart(fig, key=f"proba_dist_{ex.tag}")


# --- the page ---------------------------------------------------------------------------------

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
if info.target is None and info.task and (candidates := unused_columns(rows.df, info)):
    # A model saved elsewhere does not say what it predicts: let the person name the column
    # with the true values, so the rows can score it.
    picked = st.selectbox(
        "Column with the actual values",
        [NO_ACTUALS, *candidates],
        key="actuals_column",
        help="This model's file does not say which column it predicts. Pick the column that "
        "holds the true values to see how well the model does on these rows.",
    )
    if picked != NO_ACTUALS:
        info = dataclasses.replace(info, target=picked)
        current = dataclasses.replace(current, info=info)
derived = derived_for(st.session_state, DERIVED, (current.id, rows.sha, info.target))
frame = result.frame
task = info.task or "regression"

report = None
if schema_of(current):
    with _ui.guard("comparing the rows with the training data"):
        report = derived.get("drift", drift_report, schema_of(current), rows.df)

for notice in result.notices:
    st.info(notice, icon=":material/info:")
st.header("Predictions")
view = frame
if (
    report is not None
    and report.n_flagged_rows
    and st.toggle(
        f"Only the {report.n_flagged_rows:,} row(s) with unusual inputs",
        key="only_unusual",
        help="Rows with a value outside the training range or a category never seen in "
        "training. The Drift tab below says which columns.",
    )
):
    view = frame[report.row_flags.to_numpy() > 0]
shown = view.head(MAX_SHOWN_ROWS)
column_config = {result.prediction_column: st.column_config.Column(pinned=True)} | {
    name: st.column_config.NumberColumn(format="%.3f") for name in result.probability_columns
}
if report is not None:
    shown = with_flag_column(shown, report.row_flags, FLAG_COLUMN)
    column_config[FLAG_COLUMN] = st.column_config.NumberColumn(
        help="How many of the row's values lie outside the training range or are categories "
        "never seen in training (see the Drift tab)."
    )
st.dataframe(shown, height=min(400, 38 + 35 * len(shown)), column_config=column_config)
if len(view) > MAX_SHOWN_ROWS:
    st.caption(f"The first {MAX_SHOWN_ROWS:,} of {len(view):,} rows; the download has them all.")
st.download_button(
    "Download predictions (CSV)",
    data=lambda frame=frame: predictions_csv(frame),
    file_name=f"{file_stem(rows.name.rsplit('.', 1)[0])}_predictions.csv",
    mime="text/csv",
    on_click="ignore",
    type="primary",
    key="download_predictions",
)

ex = Explore(current, rows, result, derived, f"{current.id[:8]}{rows.sha[:8]}", task)
target_column = rows.df[info.target] if info.target and info.target in rows.df.columns else None
if target_column is not None:
    actual, known, unknown = actual_values(target_column, task, info.classes)
    if unknown:
        st.warning(
            f"Some values in '{info.target}' are not classes the model knows: "
            f"{', '.join(repr(v) for v in unknown)} (it knows "
            f"{', '.join(repr(c) for c in info.classes[:10])}). Those rows are left out of the "
            "scores below; check their spelling and case.",
            icon=":material/warning:",
        )
    row_ids = np.flatnonzero(known)
    ex = Explore(
        current, rows, result, derived, ex.tag, task, row_ids=row_ids,
        y_true=actual[known],
        y_pred=frame[result.prediction_column].to_numpy()[known],
        proba=frame[result.probability_columns].to_numpy()[known]
        if result.probability_columns else None,
    )  # fmt: skip

if ex.labelled and derived.get("seen", is_training_data, rows.df, info.metadata):
    st.warning(
        "These are the rows the model was trained on, so the figures below flatter it. Its "
        "honest figures are the ones on held-out rows (Train page, or the model's details).",
        icon=":material/warning:",
    )
if ex.labelled:
    with _ui.guard("scoring the predictions") as outcome:
        classes = info.classes if ex.proba is not None else None
        figures = derived.get("scores", score, task, ex.y_true, ex.y_pred, ex.proba, classes)
    if outcome.ok and figures:
        st.subheader(f"How it did on these rows ({len(ex.row_ids):,} with a known {info.target})")
        shown_metrics = list(figures.items())[:5]
        for column, (name, value) in zip(
            st.columns(len(shown_metrics)), shown_metrics, strict=True
        ):
            column.metric(metric_label(name), format_metric(value, name))

st.header("Explore")
if not ex.labelled:
    st.caption(
        f"Include the '{info.target or 'target'}' column in the rows to see how well the model "
        "does on them (the Performance tab) and to rank the columns by shuffling them."
    )
labels = ([PERFORMANCE] if ex.labelled else []) + [DRIVERS, WHAT_IF, DRIFT, DISTRIBUTION]
tabs = dict(zip(labels, st.tabs(labels, key="explore_tab", on_change="rerun"), strict=True))
# Only the open tab runs: switching tabs reruns the page, which reuses everything computed.
if PERFORMANCE in tabs and tabs[PERFORMANCE].open:
    with tabs[PERFORMANCE], _ui.guard("plotting how the model did"):
        if task == "classification":
            classification_performance(ex)
        else:
            regression_performance(ex)
if tabs[DRIVERS].open:
    with tabs[DRIVERS]:
        drivers(ex)
if tabs[WHAT_IF].open:
    with tabs[WHAT_IF]:
        what_if(ex)
if tabs[DRIFT].open:
    with tabs[DRIFT]:
        drift(ex, report)
if tabs[DISTRIBUTION].open:
    with tabs[DISTRIBUTION], _ui.guard("plotting the predictions"):
        distribution(ex)
