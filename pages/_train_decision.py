"""The Train page's "Decision threshold" choices (binary classification) and what tuning it
found, shown with the results."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from lib import plots, threshold
from lib.decision_record import DecisionRecord
from lib.literal import literal

DEFAULT = "Default (0.5)"
COST = "Minimise the cost of mistakes"
PRECISION = "At least this precision"
RECALL = "At least this recall"
_GOALS = {COST: "cost", PRECISION: "min_precision", RECALL: "min_recall"}


def decision_widgets(target: pd.Series, key: str) -> dict[str, Any] | None:
    """The decision goal as plain data (``lib.threshold.Decision``), None for the default.

    ``target`` is the target column; the choices show only when it has two classes.
    """
    classes = pd.unique(target.dropna())
    if len(classes) != 2:
        return None
    with st.expander("Decision threshold", expanded=False):
        choice = st.radio(
            "How the model decides",
            [DEFAULT, COST, PRECISION, RECALL],
            key=f"decision::{key}",
            persist_state="session",
            help="A yes/no model says 'positive' when that class's probability reaches a "
            "threshold. The app can tune it by cross-validation to your costs or a minimum, "
            "and the saved model keeps it.",
        )
        if choice == DEFAULT:
            return None
        labels = [threshold.plain_label(c) for c in classes]
        rarer = threshold.positive_default(target.dropna())
        positive = st.selectbox(
            "Positive class",
            labels,
            index=labels.index(rarer),
            key=f"decision_positive::{key}",
            persist_state="session",
            help="The class a 'positive' decision means (by default the less frequent one).",
        )
        goal: dict[str, Any] = {"goal": _GOALS[choice], "positive": positive}
        if choice == COST:
            left, right = st.columns(2)
            goal["fp_cost"] = left.number_input(
                "Cost of a false positive", 0.0, threshold.MAX_COST, 1.0,
                key=f"decision_fp::{key}", persist_state="session",
                help=f"What it costs to say {literal(repr(positive))} when it is not.",
            )  # fmt: skip
            goal["fn_cost"] = right.number_input(
                "Cost of a false negative", 0.0, threshold.MAX_COST, 5.0,
                key=f"decision_fn::{key}", persist_state="session",
                help=f"What it costs to miss a real {literal(repr(positive))}.",
            )  # fmt: skip
        else:
            measure, other = ("precision", "recall")[:: 1 if choice == PRECISION else -1]
            goal["value"] = st.number_input(
                f"Minimum {measure}", 0.01, 1.0, 0.9, 0.01,
                key=f"decision_value::{key}", persist_state="session",
                help=f"The threshold giving the best {other} while the {measure} of "
                f"{literal(repr(positive))} stays at least this in every fold.",
            )  # fmt: skip
        return goal


def show_decision(record: DecisionRecord) -> None:
    """The tuned threshold: what it achieves in words, and the objective against the threshold."""
    st.subheader("Decision threshold")
    for line in threshold.summary_lines(record):
        st.markdown(line)
    st.plotly_chart(
        plots.decision_threshold_curve(
            record.curve_thresholds, record.curve_objective, label=record.curve_label,
            tuned=record.threshold, default=threshold.DEFAULT_THRESHOLD,
            positive=record.positive,
        ),
        key="train_decision_curve",
    )  # fmt: skip
    st.caption(
        "The held-out figures above are this threshold's decisions; the cross-validation "
        f"figures are at the default {threshold.DEFAULT_THRESHOLD:g}."
    )
