"""The Slices tab: how the model does on each group of the labelled rows, worst first.

The table and figure come from ``Exploration.slices``, computed once per (column, bins,
figure); the controls live in an ``st.fragment`` and rerun only this tab.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lib import plots
from lib.display import metric_label, slices_frame
from lib.exploration import Exploration
from lib.slices import BINS, HEADLINE, MIN_SLICE_ROWS, SLICE_METRIC
from pages import _ui
from pages._explore_performance import default_feature

TOO_FEW = (
    f"Grey, with a note: fewer than {MIN_SLICE_ROWS} rows, too few to judge (or no interval on "
    "them, e.g. one class only); they are listed after the others. Gap: the group's figure "
    "against all labelled rows, as worse or better. Intervals: 95 %, bootstrap over the "
    "group's rows."
)


@st.fragment
def slices(ex: Exploration) -> None:
    columns = ex.slice_columns
    if not columns:
        _ui.info("The rows have no column to slice by.")
        return
    top = default_feature(ex)
    left, middle, right = st.columns([2, 1, 1], vertical_alignment="bottom")
    column = left.selectbox(
        "Slice by", columns, index=columns.index(top) if top in columns else 0,
        key=f"slice_column_{ex.tag}", persist_state="session",
        help="The model's input columns first, then the other columns of the rows.",
    )  # fmt: skip
    names = list(HEADLINE[ex.task])
    metric = right.selectbox(
        "Compare on", names, index=names.index(SLICE_METRIC[ex.task]),
        format_func=metric_label, key=f"slice_metric_{ex.tag}", persist_state="session",
    )  # fmt: skip
    bins = BINS
    values = ex.rows.df[column]
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        bins = int(
            middle.number_input(
                "Bins", min_value=2, max_value=20, value=BINS, step=1,
                key=f"slice_bins_{ex.tag}", persist_state="session",
                help="Quantile bins: each holds about the same number of rows.",
            )
        )  # fmt: skip
    with _ui.guard("slicing the rows"):
        table = ex.slices(column, bins, metric)
        st.dataframe(slices_frame(table), hide_index=True,
                     height=min(480, 38 + 35 * len(table)))  # fmt: skip
        st.caption(TOO_FEW)
        fig = ex.figure(("slices", column, bins, metric), plots.slice_metrics, table,
                        column=column)  # fmt: skip
        st.plotly_chart(fig, key=f"slices_{ex.tag}")
