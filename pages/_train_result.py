"""What the Train page shows after training: figures beside the baseline, the
cross-validation spread, warnings and a first plot of the held-out rows."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lib import catalog, plots, training
from lib.display import (
    CV_INTERVAL,
    cv_table,
    duration,
    format_metric,
    interval_note,
    intervals_caption,
    metric_label,
    tuning_frame,
)
from lib.literal import literal, literal_lines
from lib.metrics import LOWER_IS_BETTER
from lib.schema import CLASSIFICATION
from pages._train_decision import show_decision


def show_result(result: training.TrainingResult) -> None:
    """Metrics beside the baseline, cross-validation spread, warnings and a first plot."""
    label = catalog.get_model(result.task, result.model_key).label
    st.success(
        f"**{label}** predicts **{literal(result.target)}** ({result.task}), trained on "
        f"{result.n_rows:,} rows in {result.seconds:.1f} s. It is now the current model.",
        icon=":material/check_circle:",
    )
    for note in result.warnings:
        st.warning(literal_lines(note))
    links = st.columns(3)
    links[0].page_link("pages/save.py", label="Save or download it", icon=":material/save:")
    links[1].page_link("pages/predict.py", label="Predict with it", icon=":material/insights:")

    intervals = result.metric_intervals
    if result.metrics:
        st.subheader("On held-out rows, against always guessing")
        shown = list(result.metrics.items())[:5]
        for column, (name, value) in zip(st.columns(len(shown)), shown, strict=True):
            base = result.baseline_metrics.get(name)
            column.metric(
                metric_label(name),
                format_metric(value, name),
                delta=None if base is None else f"{value - base:+.3f} vs baseline",
                delta_color="inverse" if name in LOWER_IS_BETTER else "normal",
                help=" ".join(
                    [
                        f"Baseline (always guessing): {format_metric(base, name)}.",
                        "Lower is better." if name in LOWER_IS_BETTER else "Higher is better.",
                        interval_note(intervals.get(name), name),
                    ]
                ).strip(),
            )
        caption = intervals_caption(intervals, [name for name, _ in shown])
        if caption:
            st.caption(caption)
    else:
        st.info("No rows were held out (test share 0), so there are no holdout figures.")

    left, right = st.columns(2)
    with left:
        if result.cv_scores:
            st.subheader("Cross-validation")
            # With no holdout the intervals are the folds' own (lib.uncertainty.cv_interval).
            fold_intervals = intervals if not result.metrics else None
            st.dataframe(cv_table(result.cv_scores, fold_intervals), hide_index=True)
            if fold_intervals:
                st.caption(f"{CV_INTERVAL}.")
            labels = {name: metric_label(name) for name in result.cv_scores}
            st.plotly_chart(plots.cv_spread(result.cv_scores, labels), key="train_cv")
        else:
            st.info("Cross-validation was skipped (0 folds).")
    with right:
        holdout = result.holdout
        if holdout is not None:
            st.subheader("Held-out rows")
            if result.task == CLASSIFICATION:
                fig = plots.confusion_matrix(
                    holdout.y_true, holdout.y_pred, labels=holdout.classes, target=result.target
                )
            else:
                fig = plots.predicted_vs_actual(
                    holdout.y_true, holdout.y_pred, target=result.target
                )
            st.plotly_chart(fig, key="train_first_plot")
    if result.metadata.decision is not None:
        show_decision(result.metadata.decision)
    if result.left_out:
        with st.expander(f"{len(result.left_out)} column(s) not used"):
            for name, reason in result.left_out.items():
                st.markdown(f"- **{literal(name)}**: {literal(reason)}")


def show_search(board: pd.DataFrame, found: dict) -> None:
    """A hyperparameter search: the best settings, every candidate ranked, score vs settings."""
    primary = found["primary"]
    st.subheader("Hyperparameter search")
    best = ", ".join(f"{name} = {value}" for name, value in found["best_params"].items())
    ended = (
        "The time budget ended the search before its last round; these are the best "
        "settings it had found." if found["stopped_early"] else "The search ran every round."
    )  # fmt: skip
    st.markdown(
        f"Best settings: **{best}**. {len(board)} candidates scored by cross-validated "
        f"{metric_label(primary)} on rows the final holdout does not include, in "
        f"{duration(found['seconds'])}. {ended}"
    )
    st.dataframe(tuning_frame(board), hide_index=True, height=min(38 + 35 * len(board), 320))
    fig = plots.tuning_scores(board, list(found["best_params"]), f"{primary} mean",
                              metric_label(primary))  # fmt: skip
    st.plotly_chart(fig, key="train_tuning")
