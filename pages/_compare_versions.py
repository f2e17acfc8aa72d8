"""Save & download's "Compare two versions": what differs between two saved versions of a
name (from their records), and both scored on the same labelled table."""

from __future__ import annotations

from dataclasses import dataclass, field

import streamlit as st

from lib import plots
from lib.display import version_label
from lib.exploration import Exploration
from lib.library import Library, VersionRecord
from lib.literal import literal
from lib.records import CurrentModel, TableData
from lib.version_compare import (
    PairScore,
    RecordComparison,
    compare_records,
    score_pair,
    version_heading,
)
from pages import _state, _ui


@dataclass
class _LoadedPair:
    """The two versions' models, opened in their own sandboxed workers, and their scores on
    each table tried (by table hash). One pair is kept per session."""

    key: tuple[str, ...]
    models: tuple[CurrentModel, CurrentModel]
    scores: dict[str, PairScore] = field(default_factory=dict)

    def close(self) -> None:
        for model in self.models:
            model.runner.close()


def compare_versions(store: Library, name: str, records: list[VersionRecord]) -> None:
    """Two selects (an older version and the latest by default) and what differs."""
    st.subheader(f"Compare two versions of '{literal(name)}'")
    if len(records) < 2:
        st.caption(
            f"'{literal(name)}' has one version so far. Save under the same name again (after "
            "retraining, say) to compare two versions here."
        )
        return
    by_version = {record.version: record for record in records}
    numbers = sorted(by_version, reverse=True)
    latest = numbers[0]
    left, right = st.columns(2)
    first = left.selectbox(
        "Compare version",
        numbers,
        index=1,
        format_func=lambda number: version_label(by_version[number], latest),
        key=f"{_state.COMPARE_FIRST}::{name}::{latest}",
    )
    second = right.selectbox(
        "with version",
        numbers,
        index=0,
        format_func=lambda number: version_label(by_version[number], latest),
        key=f"{_state.COMPARE_SECOND}::{name}::{latest}",
    )
    if first == second:
        _ui.info("Pick two different versions to compare.")
        return
    comparison = compare_records(by_version[first], by_version[second])
    _record_differences(comparison)
    _scored_on_the_same_rows(store, by_version[first], by_version[second])


def _record_differences(comparison: RecordComparison) -> None:
    if comparison.same_file:
        _ui.info(
            "Both versions hold the very same model file (identical bytes): they make the same "
            "predictions."
        )
    st.markdown("**Validation figures**")
    if comparison.figures.empty:
        st.caption("Neither version carries validation figures (made outside this app).")
    else:
        st.dataframe(comparison.figures, hide_index=True)
        st.caption(
            "In brackets: 95 % intervals (or the spread over the cross-validation folds). Each "
            "version was scored on rows held out from its own training, so with different "
            "training data these are different rows: where the intervals overlap, the change "
            "may be chance. Scoring both on the same labelled table (below) is the fair test."
        )
    st.markdown("**Settings that differ**")
    if comparison.settings.empty:
        st.caption("None: the same kind of model with the same settings and library versions.")
    else:
        st.dataframe(comparison.settings, hide_index=True)
        if comparison.same_settings:
            st.caption(f"The other {comparison.same_settings} recorded settings are the same.")
    st.markdown("**Saved and trained on**")
    st.dataframe(comparison.facts, hide_index=True)
    st.markdown("**Training columns whose values differ**")
    if comparison.same_data:
        st.caption("Both were trained on the same data (same fingerprint).")
    elif comparison.columns.empty:
        st.caption("No column's training summary differs (or one version records none).")
    else:
        st.dataframe(comparison.columns, hide_index=True)
        st.caption(
            "From the training summaries each version keeps: missing values, means (in "
            "standard deviations, sd) and ranges of numbers, shares of categories."
        )


def _scored_on_the_same_rows(store: Library, first: VersionRecord, second: VersionRecord) -> None:
    st.markdown("**Both scored on the same rows**")
    targets = {str(record.metadata.get("target") or "") for record in (first, second)} - {""}
    tables = _labelled_tables(targets)
    if not tables:
        wanted = " or ".join(f"'{literal(target)}'" for target in sorted(targets)) or "the target"
        _ui.info(
            f"Load a table that holds the actual values ({wanted}) on Train or Predict & plot, "
            "and both versions can be scored on its rows here."
        )
        return
    names = list(tables)
    chosen = st.selectbox(
        "Labelled table", names, key=_state.COMPARE_TABLE, help="Tables of this session."
    )
    table = tables[chosen]
    heads = [version_heading(first.version), version_heading(second.version)]
    key = (_ui.library_address(), first.name, first.sha256, second.sha256)
    pair: _LoadedPair | None = st.session_state.get(_state.COMPARE)
    scored = pair.scores.get(table.sha) if pair is not None and pair.key == key else None
    if scored is None:
        offer = st.empty()  # the button goes once both are scored
        with offer.container():
            clicked = st.button(
                f"Score both versions on '{literal(table.name)}'",
                key=_state.COMPARE_SCORE,
                icon=":material/compare_arrows:",
            )
            st.caption(
                "Each version is opened through the safe loader in its own process and "
                "predicts every row of the table."
            )
        if not clicked:
            return
        with (
            _ui.guard("scoring both versions") as outcome,
            st.spinner("Opening both versions and predicting…"),
        ):
            pair = _loaded_pair(store, key, first, second)
            scored = score_pair(
                Exploration(pair.models[0], table), Exploration(pair.models[1], table), heads
            )
            pair.scores[table.sha] = scored
        if not outcome.ok or scored is None:
            return
        offer.empty()
    _show_pair(scored, heads, first)


def _labelled_tables(targets: set[str]) -> dict[str, TableData]:
    """This session's tables (the current one, the last one uploaded to predict on) that hold
    a target column of the versions, by a label naming each."""
    found: dict[str, TableData] = {}
    for where, table in (
        ("current table", _state.get_table()),
        ("uploaded on Predict & plot", st.session_state.get(_state.PREDICT_UPLOAD_SLOT)),
    ):
        if table is not None and targets & set(map(str, table.df.columns)):
            found.setdefault(f"{table.name} ({where})", table)
    return found


def _loaded_pair(
    store: Library, key: tuple[str, ...], first: VersionRecord, second: VersionRecord
) -> _LoadedPair:
    """Both versions opened in their own workers, or the pair already open for ``key``."""
    pair: _LoadedPair | None = st.session_state.get(_state.COMPARE)
    if pair is not None and pair.key == key:
        return pair
    if pair is not None:
        pair.close()
        st.session_state.pop(_state.COMPARE, None)
    models = tuple(
        _ui.load_model_bytes(
            store.read(record.name, record.version, viewer=_ui.person()),
            f"model library: {record.name}, version {record.version}",
            record.name,
        )
        for record in (first, second)
    )
    for record in (first, second):
        _ui.audit("load", record.name, record.version, detail="to compare versions")
    pair = _LoadedPair(key, (models[0], models[1]))
    st.session_state[_state.COMPARE] = pair
    return pair


def _show_pair(scored: PairScore, heads: list[str], first: VersionRecord) -> None:
    st.dataframe(scored.figures, hide_index=True)
    st.caption(
        f"On the {scored.rows:,} rows of the table with a known actual value. The change is "
        f"{heads[1]} minus {heads[0]}, with a 95 % interval from resampling these rows (both "
        "versions on the same resamples); a verdict needs the whole interval on one side of 0."
    )
    if scored.trained_on:
        trained = " and ".join(scored.trained_on)
        st.warning(
            f"This table is the training data of {trained}: figures on rows a model was "
            "trained on flatter it. Score both on rows neither has seen for a fair comparison.",
            icon=":material/warning:",
        )
    st.write(scored.agreement)
    target = str(first.metadata.get("target") or "target")
    names = (heads[0], heads[1])
    if scored.task == "classification":
        fig = plots.class_agreement(
            scored.pred_a, scored.pred_b, names=names, labels=scored.labels, target=target
        )
    else:
        fig = plots.predictions_against_predictions(
            scored.y_true, scored.pred_a, scored.pred_b, names=names, target=target
        )
    st.plotly_chart(fig, key="compare_versions_plot")
