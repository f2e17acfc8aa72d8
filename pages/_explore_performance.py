"""The Performance tab: how the model did on the rows whose target is known.

Every figure comes from the page's ``Exploration``, built once per (model, rows, what it
shows); controls that change one chart live in ``st.fragment``s and rerun only that chart.
"""

from __future__ import annotations

import streamlit as st

from lib import plots
from lib.display import coverage_sentence, format_metric, level_label
from lib.exploration import Exploration, Labelled
from lib.literal import literal
from lib.rows import rows_from_selection, top_input_feature
from pages import _state, _ui

MAX_SHOWN_ROWS = 10_000
SELECTABLE = {"on_select": "rerun", "selection_mode": ("box", "lasso")}


def interval_level_key(ex: Exploration) -> str:
    """The key of the predictions' level select (``pages/predict.py``), per model and rows."""
    return f"{_state.INTERVAL_LEVEL}_{ex.tag}"


def chosen_level(ex: Exploration) -> float | None:
    """The prediction interval level picked above the predictions, when the model has them."""
    return st.session_state.get(interval_level_key(ex)) if ex.calibration is not None else None


def coverage_line(ex: Exploration, level: float | None) -> None:
    """How often the intervals or sets held the truth on these rows, next to the nominal."""
    if level is None:
        return
    with _ui.guard("measuring the prediction intervals"):
        found = ex.interval_coverage(level)
        if found is not None:
            st.markdown(coverage_sentence(found, ex.task))


def performance(ex: Exploration) -> None:
    labelled = ex.labelled
    assert labelled is not None  # the tab is offered only with labelled rows
    coverage_line(ex, chosen_level(ex))
    if ex.task == "classification":
        classification_performance(ex, labelled)
    else:
        regression_performance(ex, labelled)


def feature_select(ex: Exploration, label: str, key: str,
                   names: list[str] | None = None) -> str | None:  # fmt: skip
    """A select of input columns, starting at the most important one known so far."""
    names = ex.input_names if names is None else names
    if not names:
        return None
    top = default_feature(ex)
    return st.selectbox(
        label, names, index=names.index(top) if top in names else 0,
        key=f"{key}_{ex.tag}", persist_state="session",
    )  # fmt: skip


def default_feature(ex: Exploration) -> str | None:
    """The most important input column as far as is known without computing anything costly:
    the permutation ranking once the Drivers tab has computed it, else the model's own
    importances, else the first column. (Ranking by permutation only to pick a default cost
    seconds on every upload at 300,000 rows.)"""
    found = None
    with _ui.guard("ranking the features", show=False):
        found = ex.importance if ex.has_importance else ex.own_importance
    ranked = found.table["feature"].tolist() if found is not None else []
    return top_input_feature(ranked, ex.input_names)


# --- regression --------------------------------------------------------------------------------


def regression_performance(ex: Exploration, labelled: Labelled) -> None:
    selectable_fit_plots(ex, labelled)
    left, right = st.columns(2, vertical_alignment="bottom")  # the charts level, under a select
    with left:
        fig = ex.figure(("residual_dist",), plots.residual_distribution,
                        labelled.y_true, labelled.y_pred)  # fmt: skip
        st.plotly_chart(fig, key=f"residual_dist_{ex.tag}")
    with right:
        error_by_feature_plot(ex, labelled)


@st.fragment
def selectable_fit_plots(ex: Exploration, labelled: Labelled) -> None:
    """Predicted vs actual and residuals; rows selected on either are listed below them.

    A selection reruns only this fragment: the figures come from the exploration's memory.
    """
    target = ex.target
    level = chosen_level(ex)
    band = ex.interval_bounds(level) if level is not None else None
    band_name = f"{level_label(level)} prediction interval" if level is not None else ""
    left, right = st.columns(2)
    with left, _ui.guard("plotting predicted against actual values"):
        fig = ex.figure(("pred_vs_actual", level), plots.predicted_vs_actual, labelled.y_true,
                        labelled.y_pred, target=target, row_ids=labelled.row_ids, band=band,
                        band_name=band_name)  # fmt: skip
        first = st.plotly_chart(fig, key=f"pred_vs_actual_{ex.tag}", **SELECTABLE)
    with right, _ui.guard("plotting the residuals"):
        fig = ex.figure(("residuals",), plots.residuals_vs_predicted, labelled.y_true,
                        labelled.y_pred, target=target, row_ids=labelled.row_ids)  # fmt: skip
        second = st.plotly_chart(fig, key=f"residuals_{ex.tag}", **SELECTABLE)
    frame = ex.predictions.frame
    chosen = sorted(
        set(rows_from_selection(first.selection, ex.n_rows))
        | set(rows_from_selection(second.selection, ex.n_rows))
    )
    if not chosen:
        st.caption("Drag a box or a lasso over points on either plot to list those rows here.")
        return
    st.markdown(f"**{len(chosen):,} selected row(s)**")
    st.dataframe(frame.iloc[chosen[:MAX_SHOWN_ROWS]], height=min(400, 38 + 35 * len(chosen)))
    if len(chosen) > MAX_SHOWN_ROWS:
        st.caption(f"The first {MAX_SHOWN_ROWS:,} of {len(chosen):,} selected rows.")


@st.fragment
def error_by_feature_plot(ex: Exploration, labelled: Labelled) -> None:
    feature = feature_select(ex, "Error by", "error_feature")
    if feature is None:
        return
    with _ui.guard("plotting the error by feature"):
        values = ex.rows.df[feature].iloc[labelled.row_ids].reset_index(drop=True)
        errors = abs(labelled.y_true - labelled.y_pred)
        fig = ex.figure(("error_by", feature), plots.error_by_feature, values, errors,
                        feature=feature)  # fmt: skip
        st.plotly_chart(fig, key=f"error_by_{ex.tag}")


# --- classification ----------------------------------------------------------------------------


def classification_performance(ex: Exploration, labelled: Labelled) -> None:
    classes = ex.info.classes or []
    left, right = st.columns(2, vertical_alignment="bottom")
    with left:
        confusion_plot(ex, labelled)
    proba = labelled.proba
    if proba is None:
        return
    curves = [
        ("roc", plots.roc_curves),
        ("pr", plots.precision_recall_curves),
        ("calibration", plots.calibration),
    ]
    slots = [right, *st.columns(2)]
    for (name, build), slot in zip(curves, slots, strict=True):
        with slot:
            fig = ex.figure((name,), build, labelled.y_true, proba, classes)
            st.plotly_chart(fig, key=f"{name}_{ex.tag}")
    left, right = st.columns(2)
    with left:
        fig = ex.figure(("proba_dist",), plots.probability_distributions, proba, classes)
        st.plotly_chart(fig, key=f"proba_dist_{ex.tag}")
    if len(classes) == 2:
        with right:
            threshold_panel(ex, labelled)


@st.fragment
def confusion_plot(ex: Exploration, labelled: Labelled) -> None:
    shares = st.toggle(
        "Shares per actual class", key=f"confusion_shares_{ex.tag}", persist_state="session",
        help="Off: row counts. On: each actual class's rows split by predicted class.",
    )  # fmt: skip
    with _ui.guard("plotting the confusion matrix"):
        fig = ex.figure(
            ("confusion", shares), plots.confusion_matrix, labelled.y_true, labelled.y_pred,
            labels=ex.info.classes, target=ex.target, normalize=shares,
        )  # fmt: skip
        st.plotly_chart(fig, key=f"confusion_{ex.tag}")


@st.fragment
def threshold_panel(ex: Exploration, labelled: Labelled) -> None:
    """Binary models: precision, recall and F1 when a row counts as positive above a threshold."""
    positive = (ex.info.classes or [None, None])[1]
    shown = literal(positive)
    st.markdown(f"**Decision threshold for '{shown}'**")
    tuned = ex.info.metadata.decision if ex.info.metadata else None
    start = 0.5
    if tuned is not None:  # the model's own threshold, tuned on the Train page
        start = tuned.threshold if tuned.positive == positive else 1 - tuned.threshold
        st.caption(
            f"The model itself says {literal(repr(tuned.positive))} when "
            f"P({literal(tuned.positive)}) is at least "
            f"{tuned.threshold:.3g} (tuned on the Train page); the slider starts there."
        )
    threshold = st.slider(
        f"Call a row '{shown}' when P({shown}) is at least", 0.0, 1.0, round(start, 2),
        0.01, key=f"threshold_{ex.tag}", persist_state="session",
    )  # fmt: skip
    threshold = round(threshold, 2)
    with _ui.guard("measuring the threshold"):
        figures = ex.at_threshold(threshold)
        names = {"precision": "Precision", "recall": "Recall", "f1": "F1"}
        for column, (name, label) in zip(st.columns(3), names.items(), strict=True):
            column.metric(label, format_metric(figures[name]))
        st.caption(
            f"{figures['tp']:,} true and {figures['fp']:,} false positives; "
            f"{figures['fn']:,} missed, {figures['tn']:,} true negatives."
        )
        assert labelled.proba is not None
        fig = ex.figure(("threshold", threshold), plots.threshold_curve, labelled.y_true,
                        labelled.proba[:, 1], pos_label=positive, threshold=threshold)  # fmt: skip
        st.plotly_chart(fig, key=f"threshold_curve_{ex.tag}")
