"""The Drift and Distribution tabs: how the rows compare with training, and what the model
predicted for them."""

from __future__ import annotations

import streamlit as st

from lib import plots
from lib.display import drift_table
from lib.drift import DriftReport
from lib.exploration import Exploration
from pages import _ui

FLAG_COLUMN = "unusual inputs"


def drift(ex: Exploration) -> None:
    report = ex.drift
    if report is None:
        _ui.info(
            "Drift is not available for this model: its file carries no summary of the rows it "
            "was trained on (models trained in Model Studio do), so there is nothing to compare "
            "these rows with."
        )
        return
    n_flagged = int(report.columns["flagged"].sum())
    st.markdown(
        f"**{n_flagged} of {len(report.columns)} columns** differ from training; "
        f"**{report.n_flagged_rows:,} of {ex.n_rows:,} rows** have at least one value outside "
        "the training range or a category never seen in training (the "
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


@st.fragment
def drift_overlay_panel(ex: Exploration, report: DriftReport) -> None:
    summaries = {summary.name: summary for summary in ex.info.summaries}
    names = [name for name in report.columns["feature"] if name in summaries]
    if not names:
        return
    flagged = report.columns.loc[report.columns["flagged"], "feature"].tolist()
    default = flagged[0] if flagged else names[0]
    name = st.selectbox(
        "Compare the distributions of", names, index=names.index(default),
        key=f"drift_column_{ex.tag}", persist_state="session",
    )  # fmt: skip
    with _ui.guard("comparing the distributions"):
        fig = ex.figure(("drift", name), plots.drift_overlay, summaries[name], ex.rows.df[name])
        st.plotly_chart(fig, key=f"drift_{ex.tag}")


def distribution(ex: Exploration) -> None:
    result = ex.predictions
    left, right = st.columns(2)
    with left:
        predictions = result.frame[result.prediction_column].to_numpy()
        fig = ex.figure(("pred_dist",), plots.prediction_distribution, predictions,
                        task=ex.task, name=result.prediction_column)  # fmt: skip
        st.plotly_chart(fig, key=f"pred_dist_{ex.tag}")
    if result.probability_columns and not ex.has_labels:
        with right:
            proba = result.frame[result.probability_columns].to_numpy()
            fig = ex.figure(("proba_dist_all",), plots.probability_distributions, proba,
                            ex.info.classes)  # fmt: skip
            st.plotly_chart(fig, key=f"proba_dist_{ex.tag}")
