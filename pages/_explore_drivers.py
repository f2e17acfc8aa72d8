"""The Drivers and What-if tabs: which columns move the predictions, and how one row's
prediction follows its values."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from lib import plots
from lib.exploration import Exploration
from lib.literal import literal
from lib.predict import PredictionResult
from lib.rows import row_values
from pages import _ui
from pages._explore_performance import feature_select
from pages._inputs import feature_inputs


def drivers(ex: Exploration) -> None:
    left, right = st.columns(2)
    with left, _ui.guard("ranking the features"):
        found = ex.importance
        if found is None:
            _ui.info(
                "This model has no importances of its own; include the target column in the "
                "rows to measure them by shuffling each column."
            )
        else:
            fig = ex.figure(("importance",), plots.importance_bars, found)
            st.plotly_chart(fig, key=f"importance_{ex.tag}")
    with right:
        partial_dependence_panel(ex)


@st.fragment
def partial_dependence_panel(ex: Exploration) -> None:
    kinds = ex.info.kinds()
    # Partial dependence varies one column over a grid of values: numbers and categories.
    names = [name for name in ex.input_names if kinds.get(name) != "datetime"]
    feature = feature_select(ex, "How the prediction moves with", "pdp_feature", names)
    if feature is None:
        _ui.info("The model does not say which columns it uses.")
        return
    classes = ex.info.classes or []
    chosen = None
    if ex.task == "classification" and len(classes) > 2:
        chosen = st.selectbox(
            "Probability of class", classes, key=f"pdp_class_{ex.tag}", persist_state="session"
        )
    class_label = ex.probability_class(chosen)
    with _ui.guard("computing the partial dependence"):
        data = ex.partial_dependence(feature, class_label)
        fig = ex.figure(("pdp", feature, class_label), plots.partial_dependence_plot, data,
                        target=ex.target or "target")  # fmt: skip
        st.plotly_chart(fig, key=f"pdp_{ex.tag}")


@st.fragment
def what_if(ex: Exploration) -> None:
    """Change one row's values and see its prediction move; reruns only this part."""
    features = ex.info.features
    if not features:
        _ui.info(
            "The model does not say which columns it expects, so its inputs cannot be changed here."
        )
        return
    result = ex.predictions
    position = st.number_input(
        f"Row (1 to {ex.n_rows:,})", min_value=1, max_value=ex.n_rows, value=1, step=1,
        key=f"whatif_row_{ex.tag}", persist_state="session",
    )  # fmt: skip
    start = row_values(ex.rows.df.iloc[position - 1], features)
    original = result.frame[result.prediction_column].iloc[position - 1]
    inputs, outcome_column = st.columns([2, 1])
    with inputs:
        st.caption("Change any value: the prediction on the right follows.")
        values = feature_inputs(features, f"whatif::{ex.tag}::{position}", start)
    with outcome_column, _ui.guard("predicting the changed row"):
        show_what_if(ex, ex.what_if(values), original)


def show_what_if(ex: Exploration, changed: PredictionResult, original: Any) -> None:
    value = changed.frame[changed.prediction_column].iloc[0]
    label = literal(changed.prediction_column)
    if ex.task == "classification" or isinstance(value, str):
        # A metric's value and delta are Markdown too, and a class is a stranger's name.
        moved = None if value == original else f"was {literal(original)}"
        st.metric(label, literal(value), delta=moved, delta_color="off")
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
